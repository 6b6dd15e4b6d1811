"""The bot's client: python-telegram-bot's ExtBot, plus calls made with JSON in and out."""

from __future__ import annotations

from typing import Any

from telegram.ext import ExtBot


class FeedbackBot(ExtBot[int]):
    """ExtBot (the request classes, the rate limiter, Telegram's errors as exceptions), and
    one more way in: `call_json`."""

    async def call_json(
        self,
        method: str,
        params: dict[str, Any],
        *,
        read_timeout: float | None = None,
    ) -> Any:
        """One Bot API call, its parameters as the Bot API names them, through the same
        request classes and rate limiter as every other call; Telegram's answer as it came,
        JSON (a dict, a list, or True).

        For what is kept as JSON: updates stored before they are handled, and the outbox's
        calls, which keep only the ids of what Telegram answers. The typed methods
        (``send_message`` and the rest) build a ``Message`` from every answer; for an
        acknowledgement that replies to the customer's message that is two messages, one
        inside the other, about 0.45 ms: as much as the rest of the call. In a burst of 2,000
        acknowledgements, a second of the event loop spent on objects nobody read.
        (``do_api_request`` does the same but warns for methods that have a typed one.)"""
        if read_timeout is None:
            return await self._post(method, api_kwargs=params)
        return await self._post(method, api_kwargs=params, read_timeout=read_timeout)
