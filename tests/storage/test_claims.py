"""Two processes and one chat: a chat's updates go to one process at a time, and the database
refuses a second open ticket for one customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.inbox import claim_pending, renew_claims, store_updates
from storage.models import Customer, Ticket, TicketStatus
from storage.tickets import reopen_ticket, resolve_ticket
from tests.support import private_text_update as update

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=15)


async def test_a_chat_held_by_one_process_is_not_claimed_by_another(db: Database) -> None:
    async with db.session() as session:
        await store_updates(
            session=session,
            updates=[update(1, 701), update(2, 701), update(3, 702), update(4, 701)],
            now=NOW,
        )
    async with db.session() as session:
        first = await claim_pending(session=session, owner="a", now=NOW, lease=LEASE, limit=1)
    assert [u.update_id for u in first] == [1]
    async with db.session() as session:
        second = await claim_pending(session=session, owner="b", now=NOW, lease=LEASE, limit=10)
    # Chat 701 is being worked on by "a": "b" takes only the other chat.
    assert [u.update_id for u in second] == [3]
    async with db.session() as session:
        more = await claim_pending(session=session, owner="a", now=NOW, lease=LEASE, limit=10)
    assert [u.update_id for u in more] == [2, 4]
    # "a" dies: once its lease runs out, "b" takes its chat over (and its own, run out too).
    later = NOW + LEASE + timedelta(seconds=1)
    async with db.session() as session:
        taken = await claim_pending(session=session, owner="b", now=later, lease=LEASE, limit=10)
    assert [u.update_id for u in taken] == [1, 2, 3, 4]


async def test_a_live_process_keeps_its_claims_by_renewing_them(db: Database) -> None:
    async with db.session() as session:
        await store_updates(session=session, updates=[update(1, 801)], now=NOW)
        await claim_pending(session=session, owner="a", now=NOW, lease=LEASE)
    almost = NOW + LEASE - timedelta(seconds=1)
    async with db.session() as session:
        assert await renew_claims(session=session, owner="a", now=almost, lease=LEASE) == 1
    async with db.session() as session:
        stolen = await claim_pending(
            session=session, owner="b", now=NOW + LEASE + timedelta(seconds=1), lease=LEASE
        )
    assert stolen == []


async def test_one_open_ticket_per_customer(db: Database) -> None:
    async with db.session() as session:
        session.add(Customer(id=1, telegram_user_id=901, created_at=NOW, last_seen_at=NOW))
        first = Ticket(customer_id=1, topic="x", sentiment="neutral", language="en", opened_at=NOW)
        session.add(first)
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(
                Ticket(customer_id=1, topic="x", sentiment="neutral", language="en", opened_at=NOW)
            )
    async with db.session() as session:
        ticket = await session.get(Ticket, first.id)
        assert ticket is not None
        assert await resolve_ticket(session=session, ticket=ticket, user_id=None, now=NOW)
        assert not await resolve_ticket(session=session, ticket=ticket, user_id=None, now=NOW)
        newer = Ticket(customer_id=1, topic="y", sentiment="neutral", language="en", opened_at=NOW)
        session.add(newer)
        await session.flush()
        # The customer wrote again since: the old ticket is not reopened beside the new one.
        assert not await reopen_ticket(session=session, ticket=ticket, now=NOW)
        assert ticket.status == TicketStatus.RESOLVED
