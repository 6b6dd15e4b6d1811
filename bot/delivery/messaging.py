"""Outgoing calls: the one place that talks to the Bot API for anything the bot says or changes.

Every call (a message, a photo or document, a copy of a customer's media, a forum topic opened,
renamed, closed or reopened, a card edited) is a row of the outbox before it is made, and the
row records what Telegram returned. Made again under the same dedupe key (an update processed
again after a crash or after its lease ran out, a posting round run twice), a call is answered
from its row: one topic per ticket, one card. Telegram busy, a 5xx, a timeout or the network:
the row is retried with backoff by the OutboxWorker, files included.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from telegram import Bot, InlineKeyboardMarkup, InputFile, Message, ReplyParameters
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
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from bot.core.services import Services

from bot.telegram.errors import retry_after_seconds
from bot.telegram.text import MESSAGE_LIMIT, escape, split_plain, utf16_len

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Called:
    """What a Bot API call came to.

    `done`: Telegram took it, now or earlier under the same key; `result` holds the ids it
    returned (message_id, message_thread_id). Not done: it waits in the outbox for a retry or
    is being made by another round or process (`refused` False), or Telegram refused it
    (`refused` True, recorded with its reason). `notes` are what the caller stored with the
    call (parameters starting with "_", never sent), as stored when it was first made.
    """

    done: bool
    result: Mapping[str, int] = field(default_factory=dict)
    refused: bool = False
    notes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def message_id(self) -> int | None:
        """The message the call sent (or copied), when Telegram has it."""
        return self.result.get("message_id")

    @property
    def thread_id(self) -> int | None:
        """The forum topic it opened (or the message's thread)."""
        return self.result.get("message_thread_id")


@dataclass(frozen=True, slots=True)
class Sent:
    """Where a message landed; no message_id while it waits in the outbox for a retry (or
    when Telegram refused it: `refused`)."""

    chat_id: int
    message_id: int | None
    refused: bool = False
    notes: Mapping[str, Any] = field(default_factory=dict)


# The Bot API methods the bot calls, and python-telegram-bot's names for them.
_METHODS = {
    "sendMessage": "send_message",
    "sendPhoto": "send_photo",
    "sendDocument": "send_document",
    "copyMessage": "copy_message",
    "createForumTopic": "create_forum_topic",
    "editForumTopic": "edit_forum_topic",
    "closeForumTopic": "close_forum_topic",
    "reopenForumTopic": "reopen_forum_topic",
    "editMessageText": "edit_message_text",
    "editMessageReplyMarkup": "edit_message_reply_markup",
}
# Calls that change something already there: "not modified" means it is as asked, done.
_CHANGES = frozenset(
    {
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "editMessageText",
        "editMessageReplyMarkup",
    }
)
_FILE_PARAMS = ("photo", "document")
_HTML = frozenset({"sendMessage", "editMessageText"})


# The update being processed and how many calls of each method its handlers made so far:
# the n-th message sent for update U has the dedupe key "u<U>:<n>" (another method's n-th call
# "u<U>:<method>:<n>"), so processing U again after a crash does not repeat what was done.
@dataclass(slots=True)
class _UpdateCalls:
    update_id: int
    counts: dict[str, int] = field(default_factory=dict)


_update_calls: ContextVar[_UpdateCalls | None] = ContextVar("update_calls", default=None)

# Rows this process is sending now (waiting for the rate limiter, or on the wire): their lease
# is renewed every few seconds while the process lives, so that the outbox worker never takes a
# message that is only waiting its turn for a second send; a dead process's rows are taken over
# once the lease runs out, 20 s after its last renewal (an outage's customers are not kept
# waiting a minute for the messages a killed process held).
_LEASE = timedelta(seconds=20)
_SENDING: set[int] = set()
_RENEW_EVERY = 5.0
_MAX_BACKOFF = timedelta(minutes=10)
# Due calls the outbox worker takes in one round (as many as the inbox keeps in flight).
DUE_PER_ROUND = 300


@contextmanager
def sending_for_update(update_id: int) -> Iterator[None]:
    """Key the calls made while processing this update."""
    token = _update_calls.set(_UpdateCalls(update_id))
    try:
        yield
    finally:
        _update_calls.reset(token)


def _next_key(method: str) -> str | None:
    state = _update_calls.get()
    if state is None:
        return None
    n = state.counts[method] = state.counts.get(method, 0) + 1
    if method == "sendMessage":
        return f"u{state.update_id}:{n}"
    return f"u{state.update_id}:{method}:{n}"


def backoff(attempts: int) -> timedelta:
    """Seconds to wait after the n-th failed attempt: 1, 2, 4 … up to ten minutes."""
    return min(timedelta(seconds=2 ** max(0, attempts - 1)), _MAX_BACKOFF)


def upload(data: bytes, filename: str) -> dict[str, Any]:
    """A file as a parameter of a stored call: its text when it is UTF-8 (a CSV, a JSON
    export: /forget finds the names in it like in any payload), else its bytes in base64."""
    try:
        return {"upload": {"filename": filename, "text": data.decode("utf-8")}}
    except UnicodeDecodeError:
        return {"upload": {"filename": filename, "base64": base64.b64encode(data).decode()}}


def _input_file(value: Any) -> Any:
    if not isinstance(value, dict) or "upload" not in value:
        return value  # a file_id
    spec = value["upload"]
    data = spec["text"].encode("utf-8") if "text" in spec else base64.b64decode(spec["base64"])
    return InputFile(data, filename=spec["filename"])


def _without_files(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as a dead letter keeps them: a file by its name and size only."""
    kept = dict(params)
    for name in _FILE_PARAMS:
        value = kept.get(name)
        if isinstance(value, dict) and "upload" in value:
            spec = value["upload"]
            size = len(spec.get("text", "")) or len(spec.get("base64", "")) * 3 // 4
            kept[name] = {"filename": spec["filename"], "bytes": size}
    return kept


def _notes(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if k.startswith("_")}


def _ids(result: object) -> dict[str, int]:
    """The ids Telegram returned (a Message, a MessageId, a ForumTopic; True has none)."""
    ids: dict[str, int] = {}
    for name in ("message_id", "message_thread_id"):
        value = getattr(result, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            ids[name] = value
    return ids


def _not_modified(exc: TelegramError) -> bool:
    text = str(exc).lower().replace("_", " ")
    return "not modified" in text


class Messenger:
    """Makes Bot API calls through the outbox; user text is escaped by the caller through
    `body` arguments.

    Each call is stored before it is made. Done: marked sent with what Telegram returned.
    Telegram busy (429 after the rate limiter's own retries), a 5xx, a timeout or the
    network: kept and retried with backoff by the OutboxWorker. 403 (the customer blocked the
    bot): the customer is marked unreachable and the call is not retried. Any other refusal
    (a 400) is recorded with its reason, kept aside as a dead letter, and raised.
    """

    def __init__(self, bot: Bot, services: Services) -> None:
        self._bot = bot
        self._services = services
        # The calls of concurrent conversations are stored, and marked sent, together.
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

    async def _mark_sent_many(self, sent: list[tuple[int, dict[str, Any]]]) -> list[None]:
        async with self._services.db.session() as session:
            await outbox.mark_sent_many(session=session, sent=sent, now=self._services.clock.now())
        return [None] * len(sent)

    # The one path ---------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        params: dict[str, Any],
        *,
        key: str | None = None,
        target: str | None = None,
        raise_errors: bool = True,
        refusal_expected: bool = False,
    ) -> Called:
        """Make one Bot API call durably.

        `key`: made at most once under it (within an update, calls are keyed by the update
        unless given one); a repeat is answered from the row: done (with what Telegram
        returned), refused, or still waiting (a retry, or another round making it now, which
        this one does not disturb). `target`: what the call changes; an older call on it that
        still waits is superseded. Parameters starting with "_" are kept with the row and
        never sent. `refusal_expected`: a 400 is an answer (no forum here), not a dead letter.
        """
        if method not in _METHODS:
            raise ValueError(f"unknown Bot API method {method!r}")
        queued_call = outbox.Queued(
            method=method,
            chat_id=int(params["chat_id"]),
            params=params,
            key=key if key is not None else _next_key(method),
            target=target,
        )
        try:
            queued = await self._enqueue(queued_call)
        except IntegrityError:
            if queued_call.key is None:
                raise
            # Another round or process queued the same key this very moment: now it is known.
            queued = await self._enqueue(queued_call)
        if not queued.new:
            stored = queued.params or {}
            if queued.status == outbox.SENT:
                return Called(True, queued.result or _legacy_result(queued), notes=_notes(stored))
            if queued.status == outbox.FAILED:
                return Called(False, refused=True, notes=_notes(stored))
            # Queued before and not sent yet: made here only if its retry is due or its
            # sender's lease ran out (a crash); else whoever holds it makes it.
            db, clock = self._services.db, self._services.clock
            async with db.session() as session:
                mine = await outbox.claim(
                    session=session, row_id=queued.row_id, now=clock.now(), lease=_LEASE
                )
            if not mine:
                return Called(False, notes=_notes(stored))
            if stored:  # the call as first decided (a pruned payload: as asked now)
                params = stored
        row_id = queued.row_id
        _SENDING.add(row_id)
        try:
            return await self.deliver(
                row_id,
                params,
                method=method,
                attempts=queued.attempts,
                raise_errors=raise_errors,
                refusal_expected=refusal_expected,
            )
        finally:
            _SENDING.discard(row_id)

    async def recorded(self, key: str) -> Called | None:
        """What the call under this key came to so far, without making it; None if unknown."""
        async with self._services.db.session() as session:
            row = await outbox.recorded(session=session, key=key)
        if row is None:
            return None
        notes = _notes(row.params)
        if row.status == outbox.SENT:
            return Called(True, row.result or _legacy_result(row), notes=notes)
        return Called(False, refused=row.status == outbox.FAILED, notes=notes)

    async def release(self, key: str) -> None:
        """What was made under this key is gone (a deleted topic): the next call under it is
        made afresh."""
        async with self._services.db.session() as session:
            await outbox.release_key(session=session, key=key)

    async def deliver(
        self,
        row_id: int,
        params: dict[str, Any],
        *,
        attempts: int,
        raise_errors: bool,
        method: str = "sendMessage",
        refusal_expected: bool = False,
    ) -> Called:
        """One attempt to make a stored call; records the outcome on its row."""
        db, clock = self._services.db, self._services.clock
        notes = _notes(params)
        try:
            result = await self._perform(method, params)
        except Forbidden as exc:
            async with db.session() as session:
                await outbox.mark_failed(session=session, row_id=row_id, error=str(exc))
                await outbox.mark_chat_unreachable(session=session, chat_id=params["chat_id"])
            MESSAGES_SENT.labels("blocked").inc()
            log.info("chat %s blocked the bot; call %s dropped", params["chat_id"], row_id)
            if raise_errors:
                raise
            return Called(False, refused=True, notes=notes)
        except BadRequest as exc:
            # A subclass of NetworkError in python-telegram-bot, but Telegram refused the call
            # itself ("chat not found", "message thread not found"): making it again cannot
            # help. An edit that changes nothing is as asked: done.
            if method in _CHANGES and _not_modified(exc):
                await self._record_sent(row_id, {})
                return Called(True, notes=notes)
            await self._refused(row_id, method, params, exc, quietly=refusal_expected)
            if raise_errors:
                raise
            return Called(False, refused=True, notes=notes)
        except (RetryAfter, TimedOut, NetworkError) as exc:
            wait = backoff(attempts + 1)
            if isinstance(exc, RetryAfter):
                wait = max(wait, timedelta(seconds=retry_after_seconds(exc)))
            async with db.session() as session:
                await outbox.mark_retry(
                    session=session, row_id=row_id, error=str(exc), at=clock.now() + wait
                )
            MESSAGES_SENT.labels("retry").inc()
            log.warning("%s %s not made yet (%s); retry in %s", method, row_id, exc, wait)
            return Called(False, notes=notes)
        except TelegramError as exc:
            await self._refused(row_id, method, params, exc, quietly=False)
            if raise_errors:
                raise
            return Called(False, refused=True, notes=notes)
        MESSAGES_SENT.labels("sent").inc()
        ids = _ids(result)
        await self._record_sent(row_id, ids)
        return Called(True, ids, notes=notes)

    async def _perform(self, method: str, params: Mapping[str, Any]) -> object:
        """The call itself, through python-telegram-bot (and its rate limiter)."""
        name = _METHODS.get(method)
        if name is None:
            raise BadRequest(f"unknown method {method}")
        kwargs: dict[str, Any] = {
            k: v
            for k, v in params.items()
            if not k.startswith("_") and k not in {"reply_to", "reply_markup"}
        }
        for file_param in _FILE_PARAMS:
            if file_param in kwargs:
                kwargs[file_param] = _input_file(kwargs[file_param])
        if params.get("reply_to"):
            kwargs["reply_parameters"] = ReplyParameters(
                message_id=params["reply_to"], allow_sending_without_reply=True
            )
        if "reply_markup" in params:
            markup = params["reply_markup"]
            kwargs["reply_markup"] = (
                InlineKeyboardMarkup.de_json(markup, self._bot) if markup else None
            )
        if method in _HTML:
            kwargs["parse_mode"] = ParseMode.HTML
        if method == "sendMessage":
            kwargs["disable_web_page_preview"] = True
        result: object = await getattr(self._bot, name)(**kwargs)
        return result

    async def _refused(
        self,
        row_id: int,
        method: str,
        params: Mapping[str, Any],
        exc: TelegramError,
        *,
        quietly: bool,
    ) -> None:
        """Telegram will not take this call: it is failed for good and kept aside (unless the
        refusal is an answer the caller expects, as "not a forum")."""
        async with self._services.db.session() as session:
            await outbox.mark_failed(session=session, row_id=row_id, error=str(exc))
            if not quietly:
                await record_dead_letter(
                    session=session,
                    kind="message",
                    item_id=row_id,
                    error=exc,
                    payload=_without_files(params),
                    now=self._services.clock.now(),
                )
        if quietly:
            log.info("%s %s refused by Telegram: %s", method, row_id, exc)
            return
        MESSAGES_SENT.labels("refused").inc()
        log.warning("%s %s refused by Telegram: %s", method, row_id, exc)

    async def _record_sent(self, row_id: int, result: dict[str, Any]) -> None:
        """Telegram has it: record it, waiting out a database outage for up to the row's
        lease, since a row left "sending" is made again when its update is retried."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _LEASE.total_seconds() / 2
        delay = 0.5
        while True:
            try:
                await self._mark_sent((row_id, result))
                return
            except Exception as exc:
                if not is_transient(exc) or loop.time() + delay > deadline:
                    raise
                log.warning("call %s made; recording it waits for the database (%s)", row_id, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8.0)

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


def _legacy_result(row: outbox.QueuedRow) -> dict[str, int]:
    """A row sent before results were recorded: its message id is all there is."""
    return {} if row.message_id is None else {"message_id": row.message_id}


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
        """Make due calls every `every` seconds until stopped."""
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
        """One round: claim and make each due call; how many Telegram took.

        Chats are served side by side (each chat's calls in order), so that what a dead
        process left (an outage's acknowledgements, say) queues for Telegram's limit all at
        once, beside the live traffic, rather than one call at a time behind it."""
        db, clock = self.services.db, self.services.clock
        async with db.session() as session:
            rows = await outbox.due(session=session, now=clock.now(), limit=DUE_PER_ROUND)
        chats: dict[int, list[OutboxMessage]] = {}
        for row in rows:
            chats.setdefault(row.chat_id, []).append(row)
        delivered = await asyncio.gather(*(self._send_in_order(chat) for chat in chats.values()))
        return sum(delivered)

    async def _send_in_order(self, rows: list[OutboxMessage]) -> int:
        db, clock = self.services.db, self.services.clock
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
                called = await self.messenger.deliver(
                    row.id,
                    json.loads(row.payload),
                    method=row.method,
                    attempts=row.attempts,
                    raise_errors=False,
                )
            finally:
                _SENDING.discard(row.id)
            delivered += called.done
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
