"""What the bot says and changes in Telegram: messages, files, copies, card edits and forum
topics, each one durable call of the outbox (`bot.delivery.durable`). User text is escaped by
the caller, or passed as a `body` that is escaped and split here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardMarkup, Message

from bot.delivery.compose import compose
from bot.delivery.durable import Called, DurableCalls
from bot.delivery.wire import upload


@dataclass(frozen=True, slots=True)
class Sent:
    """Where a message landed; no message_id while it waits in the outbox for a retry (or
    when Telegram refused it: `refused`)."""

    chat_id: int
    message_id: int | None
    refused: bool = False
    notes: Mapping[str, Any] = field(default_factory=dict)


class Messenger(DurableCalls):
    """The bot's calls by what they do; each is made durably (see DurableCalls)."""

    # Messages -------------------------------------------------------------------------------

    async def send(
        self,
        chat_id: int,
        html_text: str,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        buttons: InlineKeyboardMarkup | None = None,
        key: str | None = None,
        notes: Mapping[str, Any] | None = None,
    ) -> Sent:
        """Send one HTML message (the caller keeps it under the limit)."""
        params: dict[str, Any] = {"chat_id": chat_id, "text": html_text}
        if thread_id is not None:
            params["message_thread_id"] = thread_id
        if reply_to is not None:
            params["reply_to"] = reply_to
        if buttons is not None:
            params["reply_markup"] = buttons.to_dict()
        params.update({f"_{k.lstrip('_')}": v for k, v in (notes or {}).items()})
        called = await self.call("sendMessage", params, key=key)
        return Sent(
            chat_id=chat_id,
            message_id=called.message_id,
            refused=called.refused,
            notes={k.lstrip("_"): v for k, v in called.notes.items()},
        )

    async def send_with_body(
        self,
        chat_id: int,
        header_html: str,
        body: str,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        buttons: InlineKeyboardMarkup | None = None,
        key: str | None = None,
        notes: Mapping[str, Any] | None = None,
    ) -> Sent:
        """Send a header and a user's text; text too long for one message goes on in replies.

        Nothing is cut: the first message ends with a mark and the rest follows as replies to it.
        With a key, each piece is keyed by it: sending it again sends nothing twice. `notes`
        are kept with the first message (and come back with it when it is sent again).
        """
        pieces = compose(header_html, body)
        head = await self.send(
            chat_id,
            pieces[0],
            thread_id=thread_id,
            reply_to=reply_to,
            buttons=buttons,
            key=key,
            notes=notes,
        )
        for n, piece in enumerate(pieces[1:], start=1):
            await self.send(
                chat_id,
                piece,
                thread_id=thread_id,
                reply_to=head.message_id,
                key=None if key is None else f"{key}:{n}",
            )
        return head

    # Files and copies -----------------------------------------------------------------------

    async def send_charts(
        self, chat_id: int, charts: list[tuple[str, bytes]], note: str, *, key: str | None = None
    ) -> None:
        """PNG charts as photos, each captioned with its name and a note (e.g. the window).
        With a key, each chart is keyed by it and its name."""
        for name, png in charts:
            await self.send_photo(
                chat_id,
                png,
                filename=name,
                caption=f"{name.removesuffix('.png').replace('_', ' ')} · {note}",
                key=None if key is None else f"{key}:{name}",
            )

    async def send_photo(
        self,
        chat_id: int,
        data: bytes,
        *,
        filename: str,
        caption: str | None = None,
        key: str | None = None,
    ) -> Called:
        """A picture (plain-text caption)."""
        return await self._send_file("sendPhoto", "photo", chat_id, data, filename, caption, key)

    async def send_document(
        self,
        chat_id: int,
        data: bytes,
        *,
        filename: str,
        caption: str | None = None,
        key: str | None = None,
    ) -> Called:
        """A file (plain-text caption)."""
        return await self._send_file(
            "sendDocument", "document", chat_id, data, filename, caption, key
        )

    async def _send_file(
        self,
        method: str,
        field: str,
        chat_id: int,
        data: bytes,
        filename: str,
        caption: str | None,
        key: str | None,
    ) -> Called:
        params: dict[str, Any] = {"chat_id": chat_id, field: upload(data, filename)}
        if caption:
            params["caption"] = caption
        return await self.call(method, params, key=key)

    async def copy(
        self,
        chat_id: int,
        from_chat_id: int,
        message_id: int,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        key: str | None = None,
    ) -> Called:
        """A copy of a message (a customer's photo for staff, a staff file for a customer)."""
        params: dict[str, Any] = {
            "chat_id": chat_id,
            "from_chat_id": from_chat_id,
            "message_id": message_id,
        }
        if thread_id is not None:
            params["message_thread_id"] = thread_id
        if reply_to is not None:
            params["reply_to"] = reply_to
        return await self.call("copyMessage", params, key=key)

    # Edits and topics -----------------------------------------------------------------------

    async def edit_text(
        self,
        chat_id: int,
        message_id: int,
        html_text: str,
        *,
        buttons: InlineKeyboardMarkup | None = None,
        key: str | None = None,
    ) -> Called:
        """Redraw a message (a card) with its buttons; as it is already: done."""
        params: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id, "text": html_text}
        params["reply_markup"] = buttons.to_dict() if buttons is not None else None
        return await self.call(
            "editMessageText", params, key=key, target=f"text:{chat_id}:{message_id}"
        )

    async def edit_buttons(
        self,
        chat_id: int,
        message_id: int,
        buttons: InlineKeyboardMarkup | None,
        *,
        key: str | None = None,
    ) -> Called:
        """Change (or, with None, remove) a message's buttons."""
        params: dict[str, Any] = {
            "chat_id": chat_id,
            "message_id": message_id,
            "reply_markup": buttons.to_dict() if buttons is not None else None,
        }
        return await self.call(
            "editMessageReplyMarkup", params, key=key, target=f"markup:{chat_id}:{message_id}"
        )

    async def drop_buttons(self, message: object) -> None:
        """Take the buttons off a message someone answered, so a second press cannot count; a
        message Telegram will not edit any more (too old, deleted) is left as it is."""
        if isinstance(message, Message):
            await self.call(
                "editMessageReplyMarkup",
                {
                    "chat_id": message.chat_id,
                    "message_id": message.message_id,
                    "reply_markup": None,
                },
                target=f"markup:{message.chat_id}:{message.message_id}",
                raise_errors=False,
                refusal_expected=True,
            )

    async def create_topic(self, chat_id: int, name: str, *, key: str) -> Called:
        """Open a forum topic, once under `key`. Refused (the chat is no forum, or the bot may
        not manage topics): `refused`, not raised."""
        return await self.call(
            "createForumTopic",
            {"chat_id": chat_id, "name": name},
            key=key,
            raise_errors=False,
            refusal_expected=True,
        )

    async def rename_topic(self, chat_id: int, thread_id: int, name: str) -> Called:
        """Give a forum topic a new name."""
        return await self.call(
            "editForumTopic",
            {"chat_id": chat_id, "message_thread_id": thread_id, "name": name},
            target=f"name:{chat_id}:{thread_id}",
        )

    async def set_topic_open(self, chat_id: int, thread_id: int, is_open: bool) -> Called:
        """Reopen or close a forum topic; already so: done."""
        return await self.call(
            "reopenForumTopic" if is_open else "closeForumTopic",
            {"chat_id": chat_id, "message_thread_id": thread_id},
            target=f"open:{chat_id}:{thread_id}",
        )
