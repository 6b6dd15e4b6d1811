"""Helpers for tests: constants, empty databases of the run's kind, settings for the fake API."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.settings import Settings, load_settings
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.urls import normalise_database_url

STAFF_CHAT_ID = -1001000000001
MANAGER_ID = 900001
BOT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


def _base_url() -> str:
    return normalise_database_url(os.environ.get("DATABASE_URL") or "sqlite:///unused.db")


def uses_postgres() -> bool:
    """Whether this run's database is PostgreSQL (DATABASE_URL in the environment)."""
    return _base_url().startswith("postgresql")


async def create_empty_database(tmp: Path) -> str:
    """A URL to a new, empty database of this run's kind."""
    if not uses_postgres():
        return normalise_database_url(f"sqlite:///{tmp / f'db-{uuid.uuid4().hex[:8]}.sqlite3'}")
    base = _base_url()
    name = f"fbtest_{uuid.uuid4().hex[:12]}"
    engine = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return base.rsplit("/", 1)[0].split("?")[0] + f"/{name}"


def make_settings(fake_api: FakeBotApi, database_url: str, **overrides: Any) -> Settings:
    """Settings pointing at the fake server and the test database."""
    values: dict[str, Any] = {
        "telegram_bot_token": BOT_TOKEN,
        "telegram_api_base_url": fake_api.base_url,
        "database_url": database_url,
        "staff_chat_id": STAFF_CHAT_ID,
        "manager_ids": str(MANAGER_ID),
        "timezone": "Europe/Rome",
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


async def send(bot: LocalBot, update: dict[str, Any]) -> None:
    """Wait until the bot has stored and handled an update the fake server queued."""
    await bot.processed(update["update_id"])
