"""Portable SQL pieces for the metrics: one expression, the same answer on SQLite and PostgreSQL.

Percentiles use the nearest-rank definition: the p-th percentile of n sorted values
x_1 <= ... <= x_n is x_k with k = ceil(p * n / 100). It is always one of the observed values,
and it is computed in SQL with ROW_NUMBER() over the window's rows, so only the chosen rows
leave the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Float,
    FromClause,
    Integer,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    collate,
    extract,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

#: A constant written into the SQL text, not bound: keeps UNION branches typed on PostgreSQL.
ONE = literal_column("1", Integer)
ZERO = literal_column("0", Integer)


def table(model: type[SQLModel]) -> Table:
    """The Core table of a model, for column expressions that type-check."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


def dialect_of(session: AsyncSession) -> str:
    """The database's dialect name: sqlite or postgresql."""
    bind = session.get_bind()
    return bind.dialect.name


async def fetch(session: AsyncSession, stmt: Executable) -> Sequence[Any]:
    """All rows (tuples) of a Core select, run on the session's connection and transaction."""
    connection = await session.connection()
    return (await connection.execute(stmt)).all()


def within(column: ColumnElement[Any], start: datetime, end: datetime) -> ColumnElement[bool]:
    """start <= column < end."""
    return and_(column >= start, column < end)


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where the condition holds, else 0 (so SUM counts it)."""
    return case((condition, ONE), else_=ZERO)


def count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows satisfy the condition; 0 (not NULL) over no rows."""
    return func.coalesce(func.sum(flag(condition)), ZERO)


def nearest_rank(p: int, n: int) -> int:
    """k = ceil(p * n / 100) in integers: the 1-based rank of the p-th percentile of n values."""
    return (p * n + 99) // 100


@dataclass
class Ranked:
    """How many values a group has, and its percentiles by p."""

    n: int = 0
    values: dict[int, float] = field(default_factory=dict)

    def get(self, p: int) -> float | None:
        """The p-th percentile, None without values."""
        return self.values.get(p)


NO_VALUES = Ranked()


async def percentiles(
    session: AsyncSession,
    value: ColumnElement[Any],
    *where: ColumnElement[bool],
    ps: Sequence[int] = (50, 90),
    group: ColumnElement[Any] | None = None,
    select_from: FromClause | None = None,
) -> dict[Any, Ranked]:
    """Nearest-rank percentiles of `value` over the rows matching `where`, per `group` value,
    with the number of rows.

    Without `group` the answer is keyed by None. Groups with no rows are absent.
    """
    partition = [group] if group is not None else None
    key = group if group is not None else literal_column("NULL")
    ranked_select = select(
        key.label("g"),
        value.label("v"),
        func.row_number().over(partition_by=partition, order_by=value).label("rn"),
        func.count().over(partition_by=partition).label("n"),
    )
    if select_from is not None:
        ranked_select = ranked_select.select_from(select_from)
    ranked = ranked_select.where(value.is_not(None), *where).subquery()
    # Keep the rank test in SQL so only the chosen rows come back.
    wanted = or_(*((ranked.c.rn == (ranked.c.n * p + 99) // 100) for p in ps))
    rows = await fetch(
        session, select(ranked.c.g, ranked.c.v, ranked.c.rn, ranked.c.n).where(wanted)
    )
    out: dict[Any, Ranked] = {}
    for g, v, rn, n in rows:
        slot = out.setdefault(g, Ranked(n=int(n)))
        for p in ps:
            if int(rn) == nearest_rank(p, int(n)):
                slot.values[p] = float(v)
    return out


def seconds_between(
    later: ColumnElement[Any], earlier: ColumnElement[Any], dialect: str
) -> ColumnElement[float]:
    """later - earlier in seconds (SQLite keeps time to the millisecond here)."""
    if dialect == "postgresql":
        return cast(extract("epoch", later - earlier), Float)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def period_index(column: ColumnElement[Any], bounds: Sequence[datetime]) -> ColumnElement[int]:
    """0 for column < bounds[0], 1 for < bounds[1], ...: which period a moment falls in.

    Compares moments instead of dividing epoch seconds, so a row exactly on a boundary lands
    in the same period on both databases.
    """
    if not bounds:
        return ZERO
    whens = [(column < bound, literal_column(str(i), Integer)) for i, bound in enumerate(bounds)]
    return case(*whens, else_=literal_column(str(len(bounds)), Integer))


def keyword_counts(
    keywords: ColumnElement[str], *where: ColumnElement[bool], dialect: str, limit: int
) -> Select[Any]:
    """The most frequent words of a space-separated keywords column: (word, count) rows,
    by count then word in code-point order."""
    if dialect == "postgresql":
        words = (
            select(func.unnest(func.string_to_array(keywords, " ")).label("word"))
            .where(*where)
            .subquery()
        )
        word = words.c.word
        n = func.count().label("n")
        return (
            select(word, n)
            .where(word != "")
            .group_by(word)
            .order_by(n.desc(), collate(word, "C"))
            .limit(limit)
        )
    # SQLite has no split function. json_quote escapes whatever the words hold and never
    # escapes a space, so '[' || json_quote('a b') with ' ' -> '","' is the array ["a","b"].
    quoted = func.json_quote(keywords)
    array = literal("[", String) + func.replace(quoted, " ", '","') + literal("]", String)
    items = func.json_each(array).table_valued("value").alias("kw")
    source = table_of_column(keywords)
    word = items.c.value
    n = func.count().label("n")
    return (
        select(word.label("word"), n)
        .select_from(source.join(items, true()))
        .where(*where, word != "")
        .group_by(word)
        .order_by(n.desc(), word)
        .limit(limit)
    )


def table_of_column(column: ColumnElement[Any]) -> Table:
    """The table a column belongs to."""
    owner = getattr(column, "table", None)
    if not isinstance(owner, Table):
        raise TypeError("keyword_counts needs a table column")
    return owner
