"""The database: one async engine and its sessions, the same code on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.urls import is_sqlite, redact

log = logging.getLogger(__name__)


# The session the current task is inside, and its database (see Database.session).
_current: ContextVar[tuple[Database, AsyncSession] | None] = ContextVar(
    "current_session", default=None
)


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
        # SQLite has one writer. A transaction that read and then wants to write fails at once
        # (SQLITE_BUSY, no waiting) if another connection wrote in between, so the tasks of
        # this process take turns; other processes wait on SQLite's own lock (busy_timeout).
        self._writer = asyncio.Lock() if self.is_sqlite else None
        log.debug("database %s", redact(url))

    def holds_writer_turn(self) -> bool:
        """Whether the current task has SQLite's turn (inside a session): work it waits for
        must be done in that turn, not by another task."""
        return self._writer is not None and self._outer() is not None

    def _outer(self) -> AsyncSession | None:
        current = _current.get()
        return current[1] if current is not None and current[0] is self else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends, rolled back if it raises.

        Inside another unit of work of this database (a function that opens a session,
        called from a block that has one), it is that same session: a second transaction
        would wait for the first on SQLite, and could not see its writes on either.
        """
        outer = self._outer()
        if outer is not None:
            yield outer
            return
        if self._writer is None:
            async with self._unit_of_work() as session:
                yield session
            return
        async with self._writer, self._unit_of_work() as session:
            yield session

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            token = _current.set((self, session))
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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (reports, the scheduler) run while the bot writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
