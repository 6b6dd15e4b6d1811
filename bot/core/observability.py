"""Prometheus metrics of the running service: what came in, what went out, what waits."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from storage.db import Database
from storage.dead_letters import dead_letter_counts
from storage.inbox import pending_count
from storage.outbox import waiting_count

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES_STORED = Counter(
    "feedbackbot_updates_stored", "Updates stored in the inbox (new ones only)", registry=REGISTRY
)
UPDATES_PROCESSED = Counter(
    "feedbackbot_updates_processed",
    "Updates processed, by outcome",
    ["outcome"],
    registry=REGISTRY,
)
MESSAGES_SENT = Counter(
    "feedbackbot_messages",
    "Outgoing messages by what became of an attempt",
    ["outcome"],
    registry=REGISTRY,
)
INBOX_PENDING = Gauge(
    "feedbackbot_inbox_pending", "Stored updates not processed yet", registry=REGISTRY
)
OUTBOX_PENDING = Gauge(
    "feedbackbot_outbox_pending", "Outgoing messages waiting for a retry", registry=REGISTRY
)

DEAD_LETTERS = Gauge(
    "feedbackbot_dead_letters",
    "Updates and outgoing messages set aside for operators, by kind",
    ["kind"],
    registry=REGISTRY,
)

__all__ = ["CONTENT_TYPE", "render"]


async def render(db: Database) -> bytes:
    """The exposition text, with the queue gauges read from the database now (a read
    session: a scrape never waits for the writers)."""
    async with db.read() as session:
        inbox = await pending_count(session=session)
        outbox = await waiting_count(session=session)
        dead = await dead_letter_counts(session=session)
    INBOX_PENDING.set(inbox)
    for kind, n in dead.items():
        DEAD_LETTERS.labels(kind).set(n)
    OUTBOX_PENDING.set(outbox)
    return generate_latest(REGISTRY)
