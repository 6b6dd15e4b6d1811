"""Many rows in one INSERT, with the ids the database gave them, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_ids(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
) -> list[int]:
    """Insert the rows; their new ids, in the order of ``rows``.

    The ids are matched to the rows by ``key``, columns that tell the rows of one call apart
    (a chat and a message, say). Asking SQLAlchemy for ids in parameter order instead
    (``sort_by_parameter_order``) makes it insert one row per statement on SQLite, which has
    no INSERT form that ties new rowids to the order of the parameter sets. Where two rows
    share a key, that slower ordered form is used.
    """
    if not rows:
        return []
    keys: list[Hashable] = [tuple(row[name] for name in key) for row in rows]
    if len(set(keys)) < len(keys):
        result = await connection.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows)
        )
        return [int(row[0]) for row in result.all()]
    columns = [table.c[name] for name in key]
    result = await connection.execute(insert(table).returning(table.c.id, *columns), list(rows))
    ids: dict[Hashable, int] = {tuple(row[1:]): int(row[0]) for row in result.all()}
    return [ids[k] for k in keys]
