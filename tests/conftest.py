"""Shared fixtures: a real database (SQLite, or PostgreSQL from DATABASE_URL), the fake Bot API
server, and the real Application wired to both."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.core.triage import TriageService
from bot.i18n import Catalog
from bot.sandbox.fake_api import FakeBotApi
from nlp import Triager, load_triager
from storage.db import Database
from storage.migrate import upgrade_to_head
from tests.support import BOT_TOKEN, create_empty_database, empty_tables, make_settings
from tests.support.processes import STOP_SECONDS, Processes


@pytest.fixture(scope="session")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated database for the run; tests empty its tables, not rebuild it."""

    async def make() -> str:
        url = await create_empty_database(tmp_path_factory.mktemp("db"))
        db = Database(url)
        await upgrade_to_head(db)
        await db.dispose()
        return url

    return asyncio.run(make())


@pytest.fixture
async def db(migrated_url: str) -> AsyncIterator[Database]:
    """The run's database, emptied before each test."""
    database = Database(migrated_url)
    await empty_tables(database)
    yield database
    await database.dispose()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    """Real `feedbackbot` processes the test starts, stopped when it ends."""
    running = Processes(tmp_path)
    yield running
    stuck = running.stop()
    assert not stuck, f"did not end on SIGTERM within {STOP_SECONDS} s: {stuck}"


@pytest.fixture(scope="session")
def triager() -> Triager:
    """The shipped model, loaded once."""
    return load_triager()


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock at a fixed moment."""
    return FrozenClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API server with a forum staff supergroup."""
    async with FakeBotApi(token=BOT_TOKEN) as server:
        yield server


@pytest.fixture
async def services(
    fake_api: FakeBotApi, db: Database, triager: Triager, clock: FrozenClock
) -> AsyncIterator[Services]:
    """Services over the test database, the shipped model and a frozen clock."""
    settings = make_settings(fake_api, db.url)
    triage = TriageService(triager)
    yield Services(
        settings=settings,
        db=db,
        triage=triage,
        clock=clock,
        catalog=Catalog(settings.default_language),
    )
    triage.close()


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No configuration leaks in from the developer's environment."""
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "WEBHOOK_", "STAFF_", "MANAGER_")) or name in {
            "DATABASE_URL",
            "SLA_MINUTES",
            "TIMEZONE",
            "DEFAULT_LANGUAGE",
            "PORT",
        }:
            monkeypatch.delenv(name, raising=False)
    yield
