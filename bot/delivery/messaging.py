"""Outgoing messages: one place that talks to the Bot API for sending, splitting long texts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import Bot, InlineKeyboardMarkup, InputFile, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.core.batching import Batcher
from bot.core.observability import MESSAGES_SENT
from storage import outbox
from storage.db import is_transient
from storage.dead_letters import record_dead_letter

if TYPE_CHECKING:
    from bot.core.services import Services

from bot.telegram.errors import retry_after_seconds
from bot.telegram.text import MESSAGE_LIMIT, escape, split_plain, utf16_len

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sent:
    """Where a message landed; no message_id while it waits in the outbox for a retry."""

    chat_id: int
    message_id: int | None


# The update being processed and how many messages its handlers have sent so far: the n-th
# message sent for update U has the dedupe key "u<U>:<n>", so processing U again after a
# crash does not send what was already delivered.
_update_sends: ContextVar[list[int] | None] = ContextVar("update_sends", default=None)

_LEASE = timedelta(seconds=60)
# Rows this process is sending now (waiting for the rate limiter, or on the wire): their lease
# is renewed while the process lives, so that the outbox worker never takes a message that is
# only waiting its turn for a second send; a dead process's rows are taken over.
_SENDING: set[int] = set()
_RENEW_EVERY = 10.0
_MAX_BACKOFF = timedelta(minutes=10)


@contextmanager
def sending_for_update(update_id: int) -> Iterator[None]:
    """Key the messages sent while processing this update."""
    token = _update_sends.set([update_id, 0])
    try:
        yield
    finally:
        _update_sends.reset(token)


def _next_key() -> str | None:
    state = _update_sends.get()
    if state is None:
        return None
    state[1] += 1
    return f"u{state[0]}:{state[1]}"


def backoff(attempts: int) -> timedelta:
    """Seconds to wait after the n-th failed attempt: 1, 2, 4 … up to ten minutes."""
    return min(timedelta(seconds=2 ** max(0, attempts - 1)), _MAX_BACKOFF)


class Messenger:
    """Sends HTML messages through the outbox; user text is escaped by the caller through
    `body` arguments.

    Each message is stored before it is sent. Delivered: marked sent. Telegram busy (429 after
    the rate limiter's own retries), a 5xx or the network: kept and retried with backoff by the
    OutboxWorker. 403 (the customer blocked the bot): the customer is marked unreachable and
    the message is not retried. A 400 is a bug and raises.
    """

    def __init__(self, bot: Bot, services: Services) -> None:
        self._bot = bot
        self._services = services
        # The messages of concurrent conversations are stored, and marked sent, together.
        self._enqueue = Batcher(
            self._enqueue_many, name="outbox-enqueue", inline_when=services.db.holds_writer_turn
        )
        self._mark_sent = Batcher(
            self._mark_sent_many, name="outbox-sent", inline_when=services.db.holds_writer_turn
        )


    async def _enqueue_many(self, messages: list[outbox.Queued]) -> list[outbox.QueuedRow]:
        async with self._services.db.session() as session:
            return await outbox.enqueue_many(
                session=session, messages=messages, now=self._services.clock.now(), lease=_LEASE
            )

    async def _mark_sent_many(self, sent: list[tuple[int, int | None]]) -> list[None]:
        async with self._services.db.session() as session:
            await outbox.mark_sent_many(session=session, sent=sent, now=self._services.clock.now())
        return [None] * len(sent)

    @property
    def bot(self) -> Bot:
        """The bot, for calls other than text messages (photos, documents)."""
        return self._bot

    async def send(
        self,
        chat_id: int,
        html_text: str,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        buttons: InlineKeyboardMarkup | None = None,
        key: str | None = None,
    ) -> Sent:
        """Send one HTML message (the caller keeps it under the limit)."""
        params: dict[str, Any] = {"chat_id": chat_id, "text": html_text}
        if thread_id is not None:
            params["message_thread_id"] = thread_id
        if reply_to is not None:
            params["reply_to"] = reply_to
        if buttons is not None:
            params["reply_markup"] = buttons.to_dict()
        queued = await self._enqueue(
            outbox.Queued(
                method="sendMessage", chat_id=chat_id, params=params, key=key or _next_key()
            )
        )
        if queued.status == outbox.SENT:  # sent before this update was processed again
            return Sent(chat_id=chat_id, message_id=queued.message_id)
        row_id = queued.row_id  # new, or queued before a crash and maybe sent: send it (again)
        _SENDING.add(row_id)
        try:
            message_id = await self.deliver(row_id, params, attempts=0, raise_errors=True)
        finally:
            _SENDING.discard(row_id)
        return Sent(chat_id=chat_id, message_id=message_id)

    async def deliver(
        self, row_id: int, params: dict[str, Any], *, attempts: int, raise_errors: bool
    ) -> int | None:
        """One attempt to send a stored message; records the outcome on its row."""
        db, clock = self._services.db, self._services.clock
        try:
            message = await self._bot.send_message(
                chat_id=params["chat_id"],
                text=params["text"],
                parse_mode=ParseMode.HTML,
                message_thread_id=params.get("message_thread_id"),
                reply_parameters=(
                    ReplyParameters(message_id=params["reply_to"], allow_sending_without_reply=True)
                    if params.get("reply_to")
                    else None
                ),
                reply_markup=(
                    InlineKeyboardMarkup.de_json(params["reply_markup"], self._bot)
                    if params.get("reply_markup")
                    else None
                ),
                disable_web_page_preview=True,
            )
        except Forbidden as exc:
            async with db.session() as session:
                await outbox.mark_failed(session=session, row_id=row_id, error=str(exc))
                await outbox.mark_chat_unreachable(session=session, chat_id=params["chat_id"])
            MESSAGES_SENT.labels("blocked").inc()
            log.info("chat %s blocked the bot; message %s dropped", params["chat_id"], row_id)
            if raise_errors:
                raise
            return None
        except BadRequest as exc:
            # A subclass of NetworkError in python-telegram-bot, but Telegram refused the call
            # itself ("chat not found", "message thread not found"): sending it again cannot help.
            await self._refused(row_id, params, exc)
            if raise_errors:
                raise
            return None
        except (RetryAfter, TimedOut, NetworkError) as exc:
            wait = backoff(attempts + 1)
            if isinstance(exc, RetryAfter):
                wait = max(wait, timedelta(seconds=retry_after_seconds(exc)))
            async with db.session() as session:
                await outbox.mark_retry(
                    session=session, row_id=row_id, error=str(exc), at=clock.now() + wait
                )
            MESSAGES_SENT.labels("retry").inc()
            log.warning("message %s not sent yet (%s); retry in %s", row_id, exc, wait)
            return None
        except TelegramError as exc:
            await self._refused(row_id, params, exc)
            if raise_errors:
                raise
            return None
        MESSAGES_SENT.labels("sent").inc()
        await self._record_sent(row_id, message.message_id)
        return message.message_id

    async def _refused(self, row_id: int, params: dict[str, Any], exc: TelegramError) -> None:
        """Telegram will not take this message: it is failed for good and kept aside."""
        async with self._services.db.session() as session:
            await outbox.mark_failed(session=session, row_id=row_id, error=str(exc))
            await record_dead_letter(
                session=session,
                kind="message",
                item_id=row_id,
                error=exc,
                payload=params,
                now=self._services.clock.now(),
            )
        MESSAGES_SENT.labels("refused").inc()
        log.warning("message %s refused by Telegram: %s", row_id, exc)

    async def _record_sent(self, row_id: int, message_id: int) -> None:
        """Telegram has the message: record it, waiting out a database outage for up to the
        row's lease, since a row left "sending" is sent again when its update is retried."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _LEASE.total_seconds() / 2
        delay = 0.5
        while True:
            try:
                await self._mark_sent((row_id, message_id))
                return
            except Exception as exc:
                if not is_transient(exc) or loop.time() + delay > deadline:
                    raise
                log.warning(
                    "message %s sent; recording it waits for the database (%s)", row_id, exc
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8.0)

    async def send_charts(self, chat_id: int, charts: list[tuple[str, bytes]], note: str) -> None:
        """PNG charts as photos, each captioned with its name and a note (e.g. the window)."""
        for name, png in charts:
            await self._bot.send_photo(
                chat_id,
                InputFile(png, filename=name),
                caption=f"{name.removesuffix('.png').replace('_', ' ')} · {note}",
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
    ) -> Sent:
        """Send a header and a user's text; text too long for one message goes on in replies.

        Nothing is cut: the first message ends with a mark and the rest follows as replies to it.
        With a key, each piece is keyed by it: sending it again sends nothing twice.
        """
        pieces = compose(header_html, body)
        head = await self.send(
            chat_id, pieces[0], thread_id=thread_id, reply_to=reply_to, buttons=buttons, key=key
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


class OutboxWorker:
    """Retries what the outbox still holds, in every process that sends."""

    def __init__(self, messenger: Messenger, services: Services, *, every: float = 1.0) -> None:
        self.messenger = messenger
        self.services = services
        self.every = every
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """End the loop after the current round."""
        self._stopping.set()

    async def run(self) -> None:
        """Send due messages every `every` seconds until stopped."""
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while not self._stopping.is_set():
            try:
                if loop.time() - renewed >= _RENEW_EVERY:
                    renewed = loop.time()
                    await self.renew()
                await self.send_due()
            except Exception:  # the worker must outlive a database hiccup
                log.exception("outbox round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.every)

    async def renew(self) -> None:
        """Keep the rows this process is still sending its own."""
        if _SENDING:
            async with self.services.db.session() as session:
                await outbox.renew(
                    session=session,
                    row_ids=sorted(_SENDING),
                    until=self.services.clock.now() + _LEASE,
                )

    async def send_due(self) -> int:
        """One round: claim and send each due message; how many were delivered."""
        db, clock = self.services.db, self.services.clock
        async with db.session() as session:
            rows = await outbox.due(session=session, now=clock.now())
        delivered = 0
        for row in rows:
            assert row.id is not None
            async with db.session() as session:
                mine = await outbox.claim(
                    session=session, row_id=row.id, now=clock.now(), lease=_LEASE
                )
            if not mine:
                continue  # another process took it
            _SENDING.add(row.id)
            try:
                sent = await self.messenger.deliver(
                    row.id, json.loads(row.payload), attempts=row.attempts, raise_errors=False
                )
            finally:
                _SENDING.discard(row.id)
            delivered += sent is not None
        return delivered


CONTINUED = "[…]"


def compose(header_html: str, body: str) -> list[str]:
    """HTML messages for a header and a user's text, each within Telegram's limit."""
    whole = f"{header_html}\n\n{escape(body)}" if body else header_html
    if utf16_len(whole) <= MESSAGE_LIMIT:
        return [whole]
    mark = utf16_len(CONTINUED) + 2
    first_room = MESSAGE_LIMIT - utf16_len(header_html) - 2 - mark
    pieces = _split_escaped(body, first_room, MESSAGE_LIMIT - 2 * mark)
    messages = [f"{header_html}\n\n{escape(pieces[0])} {CONTINUED}"]
    for index, piece in enumerate(pieces[1:], start=1):
        tail = f" {CONTINUED}" if index < len(pieces) - 1 else ""
        messages.append(f"{CONTINUED} {escape(piece)}{tail}")
    return messages


def _split_escaped(text: str, first_room: int, room: int) -> list[str]:
    """Split raw text so that each piece, once escaped, fits its room."""
    pieces: list[str] = []
    rest = text
    limit = first_room
    while rest:
        candidate = split_plain(rest, limit)[0]
        while utf16_len(escape(candidate)) > limit:
            candidate = split_plain(candidate, max(1, utf16_len(candidate) * 4 // 5))[0]
        pieces.append(candidate)
        rest = rest[len(candidate) :]
        limit = room
    return pieces or [""]
