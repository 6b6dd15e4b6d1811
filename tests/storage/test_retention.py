"""Raw payloads are pruned once processed or sent and past the retention; what exactly-once
needs stays (inbox update ids and processed times, outbox dedupe keys, statuses, message ids)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlmodel import col, select

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.jobs.context import JobContext, run_once
from bot.jobs.upkeep import payload_prune
from bot.sandbox.fake_api import FakeBotApi
from bot.telegram.bot import FeedbackBot
from storage import outbox
from storage.inbox import mark_processed, store_updates
from storage.models import InboxUpdate, OutboxMessage
from storage.retention import PRUNED
from tests.support import BOT_TOKEN, STAFF_CHAT_ID, make_settings

CUSTOMER = 700000042
LEASE = timedelta(seconds=60)


def _update(update_id: int, text: str) -> dict[str, object]:
    sender = {"id": CUSTOMER, "is_bot": False, "first_name": "Giulia"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": CUSTOMER, "type": "private", "first_name": "Giulia"},
            "from": sender,
            "text": text,
        },
    }


async def _inbox(services: Services) -> dict[int, InboxUpdate]:
    async with services.db.session() as session:
        rows = (await session.exec(select(InboxUpdate))).all()
    return {row.update_id: row for row in rows}


async def _outbox(services: Services) -> dict[str, OutboxMessage]:
    async with services.db.session() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    return {row.dedupe_key or "": row for row in rows}


async def _queue(services: Services, chat_id: int, key: str) -> int:
    async with services.db.session() as session:
        [row] = await outbox.enqueue_many(
            session=session,
            messages=[
                outbox.Queued(
                    "sendMessage", chat_id, {"chat_id": chat_id, "text": f"Hi {key}"}, key
                )
            ],
            now=services.clock.now(),
            lease=LEASE,
        )
    return row.row_id


async def test_the_job_prunes_handled_payloads_past_the_retention_only(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    assert services.settings.payload_retention_hours == 24
    start = clock.now()
    # Two days ago: an update processed, one never processed; a message sent to the customer,
    # one to the staff chat, one refused, one still pending.
    clock.set(start - timedelta(days=2))
    async with services.db.session() as session:
        await store_updates(
            session=session,
            updates=[_update(1, "old and done"), _update(2, "old, stuck")],
            now=clock.now(),
        )
        await mark_processed(session=session, update_id=1, now=clock.now())
    sent_private = await _queue(services, CUSTOMER, "old-private")
    sent_staff = await _queue(services, STAFF_CHAT_ID, "old-staff")
    refused = await _queue(services, CUSTOMER, "old-refused")
    await _queue(services, CUSTOMER, "old-pending")
    async with services.db.session() as session:
        await outbox.mark_sent_many(
            session=session,
            sent=[(sent_private, {"message_id": 11}), (sent_staff, {"message_id": 12})],
            now=clock.now(),
        )
        await outbox.mark_failed(session=session, row_id=refused, error="Bad Request")
    # An hour ago: an update processed and a message sent, within the retention.
    clock.set(start - timedelta(hours=1))
    async with services.db.session() as session:
        await store_updates(session=session, updates=[_update(3, "recent")], now=clock.now())
        await mark_processed(session=session, update_id=3, now=clock.now())
    recent = await _queue(services, CUSTOMER, "recent")
    async with services.db.session() as session:
        await outbox.mark_sent_many(
            session=session, sent=[(recent, {"message_id": 13})], now=clock.now()
        )
    clock.set(start)

    bot = FeedbackBot(BOT_TOKEN, base_url=fake_api.base_url)
    contexts = [JobContext.for_bot(services, bot) for _ in range(2)]
    ran = [
        await run_once(c, "payload_prune", timedelta(hours=1), lambda: payload_prune(services))
        for c in contexts
    ]
    assert ran == [True, False]  # one process prunes per hour

    inbox = await _inbox(services)
    assert inbox[1].payload == PRUNED and inbox[1].processed_at is not None
    assert "old, stuck" in inbox[2].payload  # not processed yet: still needed
    assert "recent" in inbox[3].payload
    rows = await _outbox(services)
    assert rows["old-private"].payload == PRUNED and rows["old-private"].chat_id == 0
    assert (rows["old-private"].status, rows["old-private"].result_message_id) == ("sent", 11)
    # A group's id is no one's personal data, and the staff chat's pace is counted by it.
    assert rows["old-staff"].payload == PRUNED and rows["old-staff"].chat_id == STAFF_CHAT_ID
    assert rows["old-refused"].payload == PRUNED and rows["old-refused"].status == "failed"
    assert "old-pending" in rows["old-pending"].payload
    assert rows["old-pending"].chat_id == CUSTOMER
    assert "recent" in rows["recent"].payload and rows["recent"].chat_id == CUSTOMER

    # Exactly-once survives the pruning: the update is not stored again, the message not sent.
    async with services.db.session() as session:
        assert await store_updates(session=session, updates=[_update(1, "again")], now=start) == []
        [again] = await outbox.enqueue_many(
            session=session,
            messages=[outbox.Queued("sendMessage", CUSTOMER, {"text": "again"}, "old-private")],
            now=start,
            lease=LEASE,
        )
    assert (again.status, again.message_id) == ("sent", 11)

    # A day later the recent ones are past the retention too; nothing pending is touched.
    clock.advance(hours=24)
    assert await payload_prune(services) == (1, 1)
    assert (await _inbox(services))[3].payload == PRUNED
    assert "old, stuck" in (await _inbox(services))[2].payload
    rows = await _outbox(services)
    assert rows["recent"].payload == PRUNED and "old-pending" in rows["old-pending"].payload


async def test_the_retention_is_a_setting(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    services = replace(
        services, settings=make_settings(fake_api, services.db.url, payload_retention_hours="2")
    )
    async with services.db.session() as session:
        await store_updates(
            session=session, updates=[_update(7, "three hours ago")], now=clock.now()
        )
        await mark_processed(session=session, update_id=7, now=clock.now())
    clock.advance(hours=1)
    assert await payload_prune(services) == (0, 0)
    clock.advance(hours=2)
    assert await payload_prune(services) == (1, 0)
    assert (await _inbox(services))[7].payload == PRUNED
