"""Processes stored updates exactly once each, in update_id order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import Application

from bot.core.batching import Batcher
from bot.core.logging_setup import update_context
from bot.core.observability import UPDATES_PROCESSED, UPDATES_STORED
from bot.core.process import process_identity
from bot.core.services import Services
from bot.delivery.durable import sending_for_update
from bot.intake.dead_letters import set_aside
from bot.telegram.pacing import queued_at
from storage.db import is_transient
from storage.inbox import (
    claim_pending,
    mark_processed_many,
    release_claim,
    renew_claims,
    store_updates,
)

log = logging.getLogger(__name__)


# Set by the error handler when an update failed for a passing reason (the database went away):
# the update is then left unprocessed, to be tried again, instead of being marked done.
_retry_update: ContextVar[list[bool] | None] = ContextVar("retry_update", default=None)
RETRY_DELAY = timedelta(seconds=2)
# Updates claimed at once: a getUpdates page. Each chat among them is processed concurrently.
CLAIM_BATCH = 100
# Updates in flight at once, in batches of CLAIM_BATCH: while one batch's answers travel to
# Telegram, the next are triaged and stored. Counted by update, not by batch, so that a chat
# kept waiting (a staff chat at its limit) holds up only its own updates.
IN_FLIGHT = 3 * CLAIM_BATCH


def retry_later() -> bool:
    """Ask the inbox to process the current update again later; False outside the inbox."""
    flag = _retry_update.get()
    if flag is None:
        return False
    flag[0] = True
    return True


class Inbox:
    """Stores raw updates, then feeds them to the Application and marks them done."""

    def __init__(self, services: Services, application: Application) -> None:
        self.services = services
        self.application = application
        self.owner = process_identity()
        self.lease = timedelta(seconds=services.settings.inbox_lease_seconds)
        self._lock = asyncio.Lock()
        self._kicked = False
        self._drainer: asyncio.Task[None] | None = None
        self._in_flight = 0
        self._progress = asyncio.Event()  # an update finished, or new ones were stored
        self._mark_processed = Batcher(
            self._mark_processed_many,
            name="inbox-processed",
            inline_when=services.db.holds_writer_turn,
        )

    async def store(self, raw_updates: Sequence[dict[str, Any]]) -> list[int]:
        """Durably store updates; returns the ids not seen before."""
        async with self.services.db.session() as session:
            new = await store_updates(
                session=session, updates=raw_updates, now=self.services.clock.now()
            )
        UPDATES_STORED.inc(len(new))
        return new

    def kick(self) -> None:
        """Updates were stored: make sure a drain runs to process them, without waiting for it.

        One drainer task per inbox; a kick while it runs makes it drain once more after."""
        self._kicked = True
        self._progress.set()
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain_while_kicked(), name="inbox-drain")

    async def stop_draining(self) -> None:
        """Stop processing: what is claimed and unfinished is processed after its lease, here
        or by another process."""
        if self._drainer is not None:
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drainer
            self._drainer = None

    async def _drain_while_kicked(self) -> None:
        while self._kicked:
            self._kicked = False
            await self.drain_logged()

    async def drain(self) -> int:
        """Process every stored, unprocessed update; returns how many were processed.

        Updates of one chat are processed in order, one after another; different chats at
        the same time, so one slow conversation (or Telegram's wait on a busy group) does not
        hold up everyone else, and what the conversations of a round store, send and mark
        done goes to the database together (bot.core.batching). The next batch is claimed while
        the last one is still being processed, so that one batch's messages travel while the
        other's wait for the model or the database; a chat's updates in the newer batch wait
        for its updates in the older one.
        """
        async with self._lock:
            done = 0
            running: set[asyncio.Future[None]] = set()
            last_of_chat: dict[object, asyncio.Task[None]] = {}
            renewing = asyncio.create_task(self._renew_claims(), name="inbox-renew")
            try:
                while True:
                    self._progress.clear()  # before looking: what happens after wakes the wait
                    _collect_finished(running)
                    if self._in_flight >= IN_FLIGHT:
                        await self._wait_for_progress()
                        continue
                    # Claimed, not just read: other processes of the same bot skip these.
                    async with self.services.db.session() as session:
                        batch = await claim_pending(
                            session=session,
                            owner=self.owner,
                            now=self.services.clock.now(),
                            lease=self.lease,
                            limit=CLAIM_BATCH,
                        )
                    if not batch:
                        if not running:
                            return done
                        # Nothing to claim: wait for a batch to end or for new updates.
                        await self._wait_for_progress()
                        continue
                    chats: dict[object, list[tuple[int, dict[str, Any]]]] = {}
                    for row in batch:
                        try:
                            payload = json.loads(row.payload)
                            chat = _chat_of(payload, row.update_id)
                        except Exception as exc:  # one unreadable row must not stop the batch
                            error = await set_aside(
                                self.services,
                                update_id=row.update_id,
                                payload=row.payload,
                                error=exc,
                            )
                            await self._mark_processed((row.update_id, error))
                            UPDATES_PROCESSED.labels("error").inc()
                            continue
                        chats.setdefault(chat, []).append((row.update_id, payload))
                    self._in_flight += sum(len(rows) for rows in chats.values())
                    for chat in [c for c, task in last_of_chat.items() if task.done()]:
                        del last_of_chat[chat]
                    tasks = []
                    for chat, rows in chats.items():
                        task = asyncio.create_task(
                            self._process_in_order(rows, after=last_of_chat.get(chat))
                        )
                        last_of_chat[chat] = task
                        tasks.append(task)
                    running.add(asyncio.ensure_future(_all_of(tasks)))
                    done += len(batch)
            except asyncio.CancelledError:
                for future in running:
                    future.cancel()
                raise
            finally:
                # Stopping or failing: what was started is finished (or cancelled), not left.
                if running:
                    await asyncio.gather(*running, return_exceptions=True)
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing

    async def _process_in_order(
        self, rows: list[tuple[int, dict[str, Any]]], *, after: asyncio.Task[None] | None
    ) -> None:
        if after is not None:
            await asyncio.wait([after])  # the chat's earlier updates first, however they ended
        for update_id, payload in rows:
            try:
                chat = _chat_of(payload, update_id)  # logged with every record it causes
                with (
                    sending_for_update(update_id),
                    queued_at(_written_at(payload, update_id)),
                    update_context(update_id, chat if isinstance(chat, int) else None),
                ):
                    await self._process(update_id, payload)
            finally:
                self._in_flight -= 1
                self._progress.set()

    async def _renew_claims(self) -> None:
        """While this process drains, its claims stay its own; a process that dies stops
        renewing, and its updates are taken over once the short lease runs out."""
        every = max(0.5, self.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(every)
            try:
                async with self.services.db.session() as session:
                    await renew_claims(
                        session=session,
                        owner=self.owner,
                        now=self.services.clock.now(),
                        lease=self.lease,
                    )
            except (SQLAlchemyError, OSError) as exc:
                log.warning("could not renew the inbox claims (%s)", exc)

    async def _wait_for_progress(self, timeout: float = 2.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), timeout=timeout)

    async def drain_logged(self) -> int:
        """drain() for background tasks: a failure is logged, the next drain picks up."""
        try:
            return await self.drain()
        except (SQLAlchemyError, OSError) as exc:
            log.warning("inbox drain stopped: database unavailable (%s)", exc)
        except Exception:
            log.exception("inbox drain failed")
        return 0

    async def sweep(self, stopping: asyncio.Event, every: float = 2.0) -> None:
        """Drain now and then: updates given back for a retry, or left by a crashed process."""
        while not stopping.is_set():
            await self.drain_logged()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=every)

    async def _process(self, update_id: int, payload: dict[str, Any]) -> None:
        error: str | None = None
        retry = [False]
        token = _retry_update.set(retry)
        try:
            update = Update.de_json(payload, self.application.bot)
            await self.application.process_update(update)
        except Exception as exc:  # a malformed update must not block the ones behind it
            if is_transient(exc):
                retry[0] = True
            else:
                error = await set_aside(
                    self.services, update_id=update_id, payload=payload, error=exc
                )
        finally:
            _retry_update.reset(token)
        if retry[0]:
            log.warning("update %s will be tried again: the database or network failed", update_id)
            async with self.services.db.session() as session:
                await release_claim(
                    session=session,
                    update_id=update_id,
                    owner=self.owner,
                    until=self.services.clock.now() + RETRY_DELAY,
                )
            UPDATES_PROCESSED.labels("retry").inc()
            return
        kept = await self._mark_processed((update_id, error))
        UPDATES_PROCESSED.labels("error" if error else "ok").inc()
        if not kept:
            log.warning("update %s: the claim ran out before it was processed", update_id)

    async def _mark_processed_many(self, outcomes: list[tuple[int, str | None]]) -> list[bool]:
        async with self.services.db.session() as session:
            return await mark_processed_many(
                session=session, outcomes=outcomes, now=self.services.clock.now(), owner=self.owner
            )


async def _all_of(tasks: list[asyncio.Task[None]]) -> None:
    await asyncio.gather(*tasks)


def _collect_finished(running: set[asyncio.Future[None]]) -> None:
    """Forget the batches that are done; the error of one that failed is raised here."""
    for future in [f for f in running if f.done()]:
        running.discard(future)
        future.result()


def _written_at(payload: dict[str, Any], update_id: int) -> float:
    """When the customer wrote: their answers wait for Telegram's pace in this order, so that
    after a crash those who wrote first are not answered behind those who wrote later. Within
    a second (a message date's resolution) the earlier update goes first."""
    message = payload.get("message") or payload.get("edited_message") or {}
    written = message.get("edit_date") or message.get("date")
    if not isinstance(written, int | float):
        return time.time()
    return float(written) + (update_id % 1_000_000) / 1_000_000


def _chat_of(payload: dict[str, Any], update_id: int) -> object:
    """The conversation an update belongs to: its updates must be handled in order."""
    for key in ("message", "edited_message", "my_chat_member", "chat_member"):
        chat = (payload.get(key) or {}).get("chat") or {}
        if "id" in chat:
            return chat["id"]
    query = payload.get("callback_query") or {}
    chat = (query.get("message") or {}).get("chat") or {}
    if "id" in chat:
        return chat["id"]
    if "id" in (query.get("from") or {}):
        return query["from"]["id"]
    return ("update", update_id)
