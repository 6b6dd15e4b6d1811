"""Inline buttons in: one CallbackQueryHandler per kind of payload, the payload decoded and the
presser's role checked in one place before the handler runs.

- A customer's button (``AUDIENCE == "customer"``) counts only in a private chat; whose ticket,
  idea or offer it is, the domain checks against the presser's own records.
- A staff button counts only for staff (the ``is_staff`` check it is registered with: a member
  of a staff chat, and for some buttons a manager); which ticket's chat they belong to, the
  handler checks against the database.

Data that no button of this version draws (an old button, a forged press) is answered with
nothing and logged once; a refused press gets one alert.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot.telegram.callbacks import P, decode, pattern

log = logging.getLogger(__name__)

# callback(update, context, payload); the context is the Application's own type
# (bot.handlers.context.UpdateContext), the payload one of the kinds it is registered for.
OnButton = Callable[[Update, Any, Any], Awaitable[None]]


class _Pressed(Generic[P]):
    def __init__(
        self,
        kinds: tuple[type[P], ...],
        callback: OnButton,
        is_staff: Callable[[int], Awaitable[bool]] | None,
        not_allowed: Callable[[Update], str],
    ) -> None:
        self.kinds = kinds
        self.callback = callback
        self.is_staff = is_staff
        self.not_allowed = not_allowed

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        payload = decode(query.data)
        if payload is None or not isinstance(payload, self.kinds):
            log.warning("button data %r from user %s: no button draws it", query.data, user.id)
            await query.answer()
            return
        if not await self._allowed(update, payload.AUDIENCE):
            log.warning("refused %r from user %s (not %s)", query.data, user.id, payload.AUDIENCE)
            await query.answer(self.not_allowed(update), show_alert=True)
            return
        await self.callback(update, context, payload)

    async def _allowed(self, update: Update, audience: str) -> bool:
        user = update.effective_user
        assert user is not None
        if audience == "customer":
            chat = update.effective_chat
            return chat is not None and chat.type == ChatType.PRIVATE
        return self.is_staff is not None and await self.is_staff(user.id)


def on_button(
    kinds: tuple[type[P], ...],
    callback: OnButton,
    *,
    not_allowed: Callable[[Update], str],
    is_staff: Callable[[int], Awaitable[bool]] | None = None,
) -> CallbackQueryHandler[Any, Any]:
    """A handler for buttons carrying these payloads: ``callback(update, context, payload)``
    runs only for a payload of these kinds, pressed by someone its audience allows."""
    if is_staff is None and any(kind.AUDIENCE == "staff" for kind in kinds):
        raise ValueError("staff buttons need a staff check")
    return CallbackQueryHandler(
        _Pressed(kinds, callback, is_staff, not_allowed), pattern=pattern(*kinds)
    )
