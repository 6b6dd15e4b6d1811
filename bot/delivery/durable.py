"""Durable Bot API calls: every call is a row of the outbox before it is made, and the row
records what Telegram returned.

Made again under the same dedupe key (an update processed again after a crash or after its
lease ran out, a posting round run twice), a call is answered from its row: one topic per
ticket, one card. Telegram busy, a 5xx, a timeout or the network: the row is retried with
backoff by the OutboxWorker (`bot.delivery.worker`), files included.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.core.batching import Batcher
from bot.core.observability import MESSAGES_SENT
from bot.delivery import wire
from bot.telegram.bot import FeedbackBot
from bot.telegram.errors import retry_after_seconds
from bot.telegram.pacing import queued_at, queued_since
from storage import outbox
from storage.db import is_transient
from storage.dead_letters import record_dead_letter

if TYPE_CHECKING:
    from bot.core.services import Services

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
# once the lease runs out, 10 s after its last renewal (an outage's customers are not kept
# waiting a minute for the messages a killed process held).
LEASE = timedelta(seconds=10)
# The time a call counts as queued at, when it was made for a customer's message: when they
# wrote (a parameter kept with the row, never sent).
QUEUED_AT = "_queued_at"
SENDING: set[int] = set()
RENEW_EVERY = 2.5
_MAX_BACKOFF = timedelta(minutes=10)


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


def _notes(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if k.startswith("_") and k != QUEUED_AT}


def _legacy_result(row: outbox.QueuedRow) -> dict[str, int]:
    """A row sent before results were recorded: its message id is all there is."""
    return {} if row.message_id is None else {"message_id": row.message_id}


class DurableCalls:
    """Makes Bot API calls through the outbox.

    Each call is stored before it is made. Done: marked sent with what Telegram returned.
    Telegram busy (429 after the rate limiter's own retries), a 5xx, a timeout or the
    network: kept and retried with backoff by the OutboxWorker. 403 (the customer blocked the
    bot): the customer is marked unreachable and the call is not retried. Any other refusal
    (a 400) is recorded with its reason, kept aside as a dead letter, and raised.

    When calls wait for Telegram's pace, the one first queued goes first (a call the outbox
    took over from a dead process, or retries, before live traffic queued after it).
    """

    def __init__(self, bot: FeedbackBot, services: Services) -> None:
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
                session=session, messages=messages, now=self._services.clock.now(), lease=LEASE
            )

    async def _mark_sent_many(self, sent: list[tuple[int, dict[str, Any]]]) -> list[None]:
        async with self._services.db.session() as session:
            await outbox.mark_sent_many(session=session, sent=sent, now=self._services.clock.now())
        return [None] * len(sent)

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
        if method not in wire.METHODS:
            raise ValueError(f"unknown Bot API method {method!r}")
        since = queued_since()
        if since is not None:
            # Kept with the row: taken over after a crash, the call still goes in this order.
            params = {**params, QUEUED_AT: since}
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
                    session=session, row_id=queued.row_id, now=clock.now(), lease=LEASE
                )
            if not mine:
                return Called(False, notes=_notes(stored))
            if stored:  # the call as first decided (a pruned payload: as asked now)
                params = stored
        row_id = queued.row_id
        SENDING.add(row_id)
        try:
            return await self.deliver(
                row_id,
                params,
                method=method,
                attempts=queued.attempts,
                queued=queued.created_at,
                raise_errors=raise_errors,
                refusal_expected=refusal_expected,
            )
        finally:
            SENDING.discard(row_id)

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
        queued: datetime | None = None,
        refusal_expected: bool = False,
    ) -> Called:
        """One attempt to make a stored call (first queued at `queued`, now if not given);
        records the outcome on its row."""
        db, clock = self._services.db, self._services.clock
        notes = _notes(params)
        try:
            since = params.get(QUEUED_AT)
            if not isinstance(since, int | float):
                since = (queued or clock.now()).timestamp()
            with queued_at(since):
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
            if method in wire.CHANGES and wire.not_modified(exc):
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
        ids = wire.ids(result)
        await self._record_sent(row_id, ids)
        return Called(True, ids, notes=notes)

    async def _perform(self, method: str, params: Mapping[str, Any]) -> object:
        """The call itself, through python-telegram-bot's request class and rate limiter;
        Telegram's answer as JSON."""
        if method not in wire.METHODS:
            raise BadRequest(f"unknown method {method}")
        return await self._bot.call_json(method, wire.api_params(method, params))

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
                    payload=wire.without_files(params),
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
        deadline = loop.time() + LEASE.total_seconds() / 2
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
