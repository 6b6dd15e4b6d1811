"""Dead letters: updates and outgoing messages that failed for good, kept aside for operators.

Whatever lands here is text the rest of the system could not take (a lone surrogate, a payload
of the wrong shape), so it is made safe to store and to log before it goes anywhere.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DeadLetter

log = logging.getLogger(__name__)

DeadLetterKind = Literal["update", "message"]
# An error is a sentence, not a dump; a raw update is at most a few kilobytes from Telegram.
MAX_ERROR_CHARS = 2000
MAX_PAYLOAD_CHARS = 200_000


def safe_text(text: str, *, limit: int = MAX_ERROR_CHARS) -> str:
    """The text with what UTF-8 cannot carry (lone surrogates) escaped, cut to ``limit``."""
    cleaned = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def describe(error: BaseException | str) -> str:
    """An error as one storable line: its type and message, made safe."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return safe_text(text)


def safe_payload(payload: object) -> str:
    """The payload as ASCII JSON (lone surrogates become \\ud800 escapes), or a note of what
    it was when not even that works (too deep, not JSON at all)."""
    if isinstance(payload, str):
        return safe_text(payload, limit=MAX_PAYLOAD_CHARS)
    try:
        text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), default=repr)
    except (TypeError, ValueError, RecursionError) as exc:
        return f"<{type(payload).__name__} that cannot be written as JSON: {type(exc).__name__}>"
    return safe_text(text, limit=MAX_PAYLOAD_CHARS)


async def record_dead_letter(
    *,
    session: AsyncSession,
    kind: DeadLetterKind,
    item_id: int | None,
    error: BaseException | str,
    payload: Any,
    now: datetime,
) -> bool:
    """Keep an item aside with its error, once per (kind, item_id); True if it was new.

    Said once at ERROR, without a traceback: operators see it in the log and in /metrics.
    """
    text = describe(error)
    table = DeadLetter.__table__  # type: ignore[attr-defined]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .values(
            kind=kind, item_id=item_id, error=text, payload=safe_payload(payload), created_at=now
        )
        .on_conflict_do_nothing(index_elements=["kind", "item_id"])
        .returning(table.c.id)
    )
    connection = await session.connection()
    new = (await connection.execute(statement)).first() is not None
    if new:
        first_line = (text.splitlines() or [""])[0]
        log.error("%s %s set aside as a dead letter: %s", kind, item_id, first_line)
    return new


async def dead_letter_counts(*, session: AsyncSession) -> dict[str, int]:
    """How many dead letters there are, by kind (each kind present, zero or not)."""
    rows = await session.exec(
        select(col(DeadLetter.kind), func.count()).group_by(col(DeadLetter.kind))
    )
    counts = {"update": 0, "message": 0}
    counts.update({str(kind): int(n) for kind, n in rows.all()})
    return counts


async def dead_letters(*, session: AsyncSession, limit: int = 100) -> list[DeadLetter]:
    """The newest dead letters first."""
    result = await session.exec(select(DeadLetter).order_by(col(DeadLetter.id).desc()).limit(limit))
    return list(result.all())
