"""Inbox: raw updates stored before they are confirmed to Telegram, processed once each."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import false, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dead_letters import record_dead_letter
from storage.models import DeadLetter, InboxUpdate

# update_id is a BIGINT column: what does not fit is no Telegram update.
MAX_UPDATE_ID = (1 << 63) - 1
# The PostgreSQL advisory lock that makes claims take turns (storage.migrate's is 0x6662_6F74).
_CLAIM_LOCK_KEY = 0x6662_696E


def valid_update_id(value: object) -> int | None:
    """The update_id if it is one Telegram could send (an int, not a bool, 0 to 2^63-1)."""
    if type(value) is not int or not 0 <= value <= MAX_UPDATE_ID:
        return None
    return value


def update_id_of(update: object) -> int | None:
    """valid_update_id of a raw update, whatever its shape."""
    return valid_update_id(update.get("update_id")) if isinstance(update, dict) else None


def _inbox_row(update: object, now: datetime) -> dict[str, Any]:
    """The row to store for a raw update; ValueError (or RecursionError) if it cannot be."""
    update_id = update_id_of(update)
    if update_id is None:
        raise ValueError("no update_id between 0 and 2^63-1")
    payload = json.dumps(update, ensure_ascii=False, separators=(",", ":"))
    # A lone surrogate ("\ud800", valid as a JSON escape) is no UTF-8: the database would
    # refuse the whole page for it. Found here, it costs only its own update.
    payload.encode("utf-8")
    return {
        "update_id": update_id,
        "payload": payload,
        "received_at": now,
        "attempts": 0,
        "chat_id": chat_of_update(update),
    }


def chat_of_update(update: object) -> int | None:
    """The chat an update belongs to (its updates are processed in order, by one process at a
    time), or None when it has none."""
    if not isinstance(update, dict):
        return None
    for key in ("message", "edited_message", "my_chat_member", "chat_member"):
        part = update.get(key)
        chat = part.get("chat") if isinstance(part, dict) else None
        if isinstance(chat, dict) and _is_id(chat.get("id")):
            return int(chat["id"])
    query = update.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and _is_id(chat.get("id")):
            return int(chat["id"])
        sender = query.get("from")
        if isinstance(sender, dict) and _is_id(sender.get("id")):
            return int(sender["id"])
    return None


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


async def store_updates(
    *, session: AsyncSession, updates: Sequence[dict[str, Any]], now: datetime
) -> list[int]:
    """Store raw updates, ignoring ids already stored; return the ids that were new.

    An update that cannot be stored (no usable update_id, text UTF-8 cannot carry, nesting
    too deep to write) is set aside as a dead letter instead: the rest of the page is stored,
    and highest_update_id counts it, so polling moves past it.
    """
    rows = []
    for u in updates:
        try:
            rows.append(_inbox_row(u, now))
        except (TypeError, ValueError, RecursionError) as exc:
            await record_dead_letter(
                session=session,
                kind="update",
                item_id=update_id_of(u),
                error=exc,
                payload=u,
                now=now,
            )
    if not rows:
        return []
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = InboxUpdate.__table__  # type: ignore[attr-defined]
    # One statement for many rows, passed as parameter sets (not as a multi-row VALUES, which
    # SQLAlchemy would compile anew for each number of rows).
    statement = insert(table).on_conflict_do_nothing(index_elements=["update_id"])
    connection = await session.connection()
    result = await connection.execute(statement.returning(table.c.update_id), rows)
    return sorted(int(row[0]) for row in result.all())


async def claim_pending(
    *,
    session: AsyncSession,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int = 50,
) -> list[InboxUpdate]:
    """Claim unprocessed updates nobody holds (or whose holder's lease ran out), oldest first.

    The claim is one conditional UPDATE: when two processes race for a row, the database lets
    exactly one of them have it, so no update is processed twice while its lease holds.
    Claims also take turns across processes (an advisory lock on PostgreSQL, SQLite's write
    lock taken first): two processes claiming at the same instant each saw the other's chats
    as free, and one took a chat's later updates while the other held its earlier ones.
    """
    await _claims_take_turns(session)
    free = (col(InboxUpdate.claimed_until).is_(None)) | (col(InboxUpdate.claimed_until) < now)
    # A chat another live process is working on stays with it: its updates must be handled in
    # order, and by one process at a time (check-then-act code, such as "find the open ticket,
    # else open one", relies on it).
    held = select(col(InboxUpdate.chat_id)).where(
        col(InboxUpdate.processed_at).is_(None),
        col(InboxUpdate.claimed_until) >= now,
        col(InboxUpdate.claimed_by) != owner,
        col(InboxUpdate.chat_id).is_not(None),
    )
    candidates = (
        select(col(InboxUpdate.update_id))
        .where(
            col(InboxUpdate.processed_at).is_(None),
            free,
            col(InboxUpdate.chat_id).is_(None) | col(InboxUpdate.chat_id).not_in(held),
        )
        .order_by(col(InboxUpdate.update_id))
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Rows another process is claiming right now are skipped, not waited for.
        candidates = candidates.with_for_update(skip_locked=True)
    ids = [int(i) for i in (await session.exec(candidates)).all()]
    if not ids:
        return []
    claimed = await session.exec(
        update(InboxUpdate)
        .where(
            col(InboxUpdate.update_id).in_(ids),
            col(InboxUpdate.processed_at).is_(None),
            free,
        )
        .values(claimed_by=owner, claimed_until=now + lease)
        .returning(col(InboxUpdate.update_id))
    )
    mine = sorted(int(row[0]) for row in claimed.all())
    if not mine:
        return []
    rows = await session.exec(
        select(InboxUpdate)
        .where(col(InboxUpdate.update_id).in_(mine))
        .order_by(col(InboxUpdate.update_id))
    )
    return list(rows.all())


async def _claims_take_turns(session: AsyncSession) -> None:
    """Wait for the other processes' claims to end before looking at what they hold: the
    statements after this one see their claims committed."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.exec(select(func.pg_advisory_xact_lock(_CLAIM_LOCK_KEY)))
    else:
        # A write that changes nothing takes SQLite's write lock now (waiting for another
        # process's claim), before the reads below; other processes' reads go on meanwhile.
        await session.exec(
            update(InboxUpdate).where(false()).values(claimed_by=InboxUpdate.claimed_by)
        )


async def mark_processed(
    *,
    session: AsyncSession,
    update_id: int,
    now: datetime,
    error: str | None = None,
    owner: str | None = None,
) -> bool:
    """Record that an update was handled (with the error, if its handler failed).

    With an owner, only while that owner still holds the claim; False if it lost it.
    """
    condition = [col(InboxUpdate.update_id) == update_id, col(InboxUpdate.processed_at).is_(None)]
    if owner is not None:
        condition.append(col(InboxUpdate.claimed_by) == owner)
    result = await session.exec(
        update(InboxUpdate)
        .where(*condition)
        .values(processed_at=now, attempts=InboxUpdate.attempts + 1, last_error=error)
    )
    return bool(result.rowcount)


async def mark_processed_many(
    *,
    session: AsyncSession,
    outcomes: Sequence[tuple[int, str | None]],
    now: datetime,
    owner: str,
) -> list[bool]:
    """mark_processed for many (update_id, error) pairs held by one owner: one statement for
    those without an error. For each, whether the owner still held it."""
    clean = [update_id for update_id, error in outcomes if error is None]
    kept: set[int] = set()
    if clean:
        result = await session.exec(
            update(InboxUpdate)
            .where(
                col(InboxUpdate.update_id).in_(clean),
                col(InboxUpdate.processed_at).is_(None),
                col(InboxUpdate.claimed_by) == owner,
            )
            .values(processed_at=now, attempts=InboxUpdate.attempts + 1, last_error=None)
            .returning(col(InboxUpdate.update_id))
        )
        kept.update(int(row[0]) for row in result.all())
    for update_id, error in outcomes:
        if error is not None and await mark_processed(
            session=session, update_id=update_id, now=now, error=error, owner=owner
        ):
            kept.add(update_id)
    return [update_id in kept for update_id, _ in outcomes]


async def release_claim(
    *, session: AsyncSession, update_id: int, owner: str, until: datetime
) -> None:
    """Give an update back, to be claimed again (by anyone) from `until`."""
    await session.exec(
        update(InboxUpdate)
        .where(col(InboxUpdate.update_id) == update_id, col(InboxUpdate.claimed_by) == owner)
        .values(claimed_until=until)
    )


async def highest_update_id(*, session: AsyncSession) -> int | None:
    """The newest update id ever stored or set aside as a dead letter: polling resumes after
    it."""
    stored = select(col(InboxUpdate.update_id)).order_by(col(InboxUpdate.update_id).desc()).limit(1)
    aside = (
        select(col(DeadLetter.item_id))
        .where(col(DeadLetter.kind) == "update", col(DeadLetter.item_id).is_not(None))
        .order_by(col(DeadLetter.item_id).desc())
        .limit(1)
    )
    found = [(await session.exec(q)).first() for q in (stored, aside)]
    ids = [int(i) for i in found if i is not None]
    return max(ids) if ids else None


async def renew_claims(
    *, session: AsyncSession, owner: str, now: datetime, lease: timedelta
) -> int:
    """The owner is alive: extend the lease of every update it holds and has not finished."""
    result = await session.exec(
        update(InboxUpdate)
        .where(col(InboxUpdate.claimed_by) == owner, col(InboxUpdate.processed_at).is_(None))
        .where(col(InboxUpdate.claimed_until) >= now)
        .values(claimed_until=now + lease)
    )
    return int(result.rowcount or 0)


async def pending_count(*, session: AsyncSession) -> int:
    """How many stored updates are not processed yet."""
    return (
        await session.exec(
            select(func.count())
            .select_from(InboxUpdate)
            .where(col(InboxUpdate.processed_at).is_(None))
        )
    ).one()
