"""The database: one async engine and its sessions, the same code on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import event, make_url, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.urls import is_sqlite, redact

log = logging.getLogger(__name__)

# What code outside storage/ names, so that it needs no SQLAlchemy of its own: a session
# (for type hints) and the error a database or its driver raises.
Session: TypeAlias = AsyncSession
DatabaseError: TypeAlias = SQLAlchemyError


@dataclass(frozen=True, slots=True)
class _Unit:
    """The unit of work the current task is inside: its database, its session, and whether it
    may write (Database.session) or only read (Database.read)."""

    db: Database
    session: AsyncSession
    writes: bool


# The unit of work the current task is inside. A worker thread started with asyncio.to_thread
# inherits it, so the CPU work handed to one can tell that its caller holds a transaction.
_current: ContextVar[_Unit | None] = ContextVar("current_session", default=None)


class HeldTransaction(RuntimeError):
    """CPU work was started inside a unit of work: it would hold SQLite's writer turn (every
    other writer of the process waits) or a PostgreSQL transaction and its locks meanwhile."""


def in_transaction() -> bool:
    """Whether the current task, or the task that handed this thread its work, is inside a
    session of any database (read or write)."""
    return _current.get() is not None


def ensure_outside_transaction(what: str) -> None:
    """Refuse to start CPU work (similarity, charts, triage) inside a session: read what it
    needs first, close the session, compute, then write in a new one."""
    unit = _current.get()
    if unit is not None:
        kind = "write" if unit.writes else "read"
        raise HeldTransaction(f"{what} must run outside database sessions (inside a {kind} one)")


# SQLSTATE classes of errors that pass by themselves: 08 connection exception, 40 transaction
# rollback (serialization failure, deadlock), 57P operator intervention (the server is
# shutting down, restarting or starting up: "cannot connect now").
_TRANSIENT_SQLSTATES = ("08", "40", "57P")


def is_transient(error: BaseException | None) -> bool:
    """Whether an error will likely pass by itself: the database or the network went away."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if isinstance(code, str) and code.startswith(_TRANSIENT_SQLSTATES):
            return True
    return isinstance(error, OperationalError | InterfaceError | OSError | TimeoutError)


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or used; the message names it (without its password)."""


class Database:
    """Owns the engine; hands out sessions that commit on success and roll back on error."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = is_sqlite(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            # Waiting beats failing when the scheduler and the bot write at the same moment.
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._read_engine = self._make_read_engine(url, kwargs)
        self._read_sessions = async_sessionmaker(
            self._read_engine, class_=AsyncSession, expire_on_commit=False
        )
        # SQLite has one writer. A transaction that read and then wants to write fails at once
        # (SQLITE_BUSY, no waiting) if another connection wrote in between, so the tasks of
        # this process take turns; other processes wait on SQLite's own lock (busy_timeout).
        self._writer = asyncio.Lock() if self.is_sqlite else None
        log.debug("database %s", redact(url))

    @property
    def engines(self) -> list[AsyncEngine]:
        """The engines behind the sessions: the writers' and, on SQLite, the readers' own
        (on PostgreSQL read sessions use the one engine, read-only)."""
        if self.is_sqlite and self._read_engine is not self.engine:
            return [self.engine, self._read_engine]
        return [self.engine]

    def _make_read_engine(self, url: str, kwargs: dict[str, Any]) -> AsyncEngine:
        """What read sessions connect with: on PostgreSQL the same pool, in READ ONLY
        transactions; on SQLite connections of their own that refuse to write (query_only),
        so that a read never queues for the writer turn; an in-memory SQLite database has
        only the one engine."""
        if not self.is_sqlite:
            return self.engine.execution_options(postgresql_readonly=True)
        parsed = make_url(url)
        if parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory":
            return self.engine
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_read_pragmas)
        return engine

    def holds_writer_turn(self) -> bool:
        """Whether the current task has SQLite's turn (inside a write session): work it waits
        for must be done in that turn, not by another task. A read session holds no turn."""
        return self._writer is not None and self._outer_writer() is not None

    def _outer(self) -> _Unit | None:
        current = _current.get()
        return current if current is not None and current.db is self else None

    def _outer_writer(self) -> AsyncSession | None:
        outer = self._outer()
        return outer.session if outer is not None and outer.writes else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends, rolled back if it raises.

        Inside another unit of work of this database (a function that opens a session,
        called from a block that has one), it is that same session: a second transaction
        would wait for the first on SQLite, and could not see its writes on either.
        """
        outer = self._outer()
        if outer is not None:
            if not outer.writes:
                raise RuntimeError(
                    "a write session inside a read session: open the write session after the "
                    "read one ends, or make the outer one a write session"
                )
            yield outer.session
            return
        if self._writer is None:
            async with self._unit_of_work() as session:
                yield session
            return
        async with self._writer, self._unit_of_work() as session:
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only: it takes no writer turn, so on SQLite (in WAL mode,
        where readers and the writer do not wait for each other) it runs beside the writing
        tasks of this process and other processes; on PostgreSQL its transaction is READ
        ONLY. The database refuses a write in it; objects added to it and never flushed are
        refused when it ends. Nothing is committed.

        Inside a unit of work of this database (read or write) it is that same session, and
        sees its writes.
        """
        outer = self._outer()
        if outer is not None:
            yield outer.session
            return
        async with self._read_sessions() as session:
            token = _current.set(_Unit(self, session, writes=False))
            try:
                yield session
                if session.new or session.dirty or session.deleted:
                    raise RuntimeError("objects changed in a read session: use db.session()")
            finally:
                _current.reset(token)
                # Leaving the block closes the session: its transaction ends (rolled back,
                # nothing was written) and its objects stay loaded, detached.

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            token = _current.set(_Unit(self, session, writes=True))
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                _current.reset(token)

    async def check(self) -> None:
        """Connect once, or raise DatabaseUnavailable saying which database and why."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (OSError, SQLAlchemyError) as exc:
            root: BaseException = exc
            while getattr(root, "orig", None) is not None:
                root = root.orig  # type: ignore[attr-defined]
            reason = f"{type(root).__name__}: {root}".splitlines()[0]
            raise DatabaseUnavailable(
                f"cannot use the database {redact(self.url)} ({reason}); check DATABASE_URL "
                "and that the server is running"
            ) from exc

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self.is_sqlite and self._read_engine is not self.engine:
            await self._read_engine.dispose()


async def ping(*, session: AsyncSession) -> None:
    """Ask the database for nothing: it answers, or this raises."""
    await session.exec(text("SELECT 1"))  # type: ignore[call-overload]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (reports, the scheduler) run while the bot writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_read_pragmas(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    # A read session's connection: a write through it fails ("attempt to write a readonly
    # database") instead of taking SQLite's write lock behind the writer turn's back.
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()
