"""Helpers for tests: constants, empty databases of the run's kind, settings for the fake API."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from bot.core.settings import Settings, load_settings
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.db import Database
from storage.urls import normalise_database_url

STAFF_CHAT_ID = -1001000000001
MANAGER_ID = 900001
BOT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
# The commands only managers may use (everyone else is told so, and gets no file).
MANAGERS_ONLY = (
    "/summary",
    "/involvement",
    "/topics",
    "/ideas_report",
    "/report",
    "/export",
    "/tickets breached",
    "/dashboard",
)


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


def staff_member(fake_api: FakeBotApi, name: str = "Sara") -> dict[str, Any]:
    """A staff member, in the staff chat (a forum supergroup) that this opens with them."""
    staff = fake_api.new_user(name)
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"]])
    return staff


async def send(bot: LocalBot, update: dict[str, Any]) -> None:
    """Wait until the bot has stored and handled an update the fake server queued."""
    await bot.processed(update["update_id"])


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Button text → callback data of a sent message."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}


def button_with(message: dict[str, Any], data_prefix: str) -> str:
    """The callback data of the button whose data starts with a prefix."""
    found = [d for d in buttons(message).values() if d.startswith(data_prefix)]
    assert found, f"no button {data_prefix!r} in {buttons(message)}"
    return found[0]


COMMAND = str(Path(sys.executable).parent / "feedbackbot")


def feedbackbot(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the console script with a clean configuration."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WEBHOOK_", "STAFF_", "MANAGER_")) and k != "DATABASE_URL"
    }
    clean.update(env or {})
    return subprocess.run(
        [COMMAND, *args],
        capture_output=True,
        text=True,
        env=clean,
        cwd=cwd,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def private_text_update(update_id: int, chat: int) -> dict[str, object]:
    """A Bot API update: customer `chat` writes "message <update_id>" in their private chat."""
    person = {"id": chat, "is_bot": False, "first_name": f"C{chat}"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat, "type": "private", "first_name": f"C{chat}"},
            "from": person,
            "text": f"message {update_id}",
        },
    }


# One outage, as five customers report it (the incident tests' fibre cut).
OUTAGE = [
    "No internet since 9am, the fibre is down",
    "My internet is not working since this morning",
    "Internet down at home since 9, fibre light off",
    "Still no internet here, fibre not working",
    "The internet is not working at all since the morning",
]


async def empty_tables(db: Database) -> None:
    """Every table emptied (the schema stays), as before each test."""
    async with db.engine.begin() as conn:
        tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
        if db.is_sqlite:
            for name in tables:
                await conn.execute(text(f'DELETE FROM "{name}"'))
        else:
            joined = ", ".join(f'"{name}"' for name in tables)
            await conn.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
