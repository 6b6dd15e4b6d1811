"""Plays the scripted day: the real bot, a fake Telegram, customers, staff and a manager."""

from __future__ import annotations

import html
import re
import sys
import time
import tomllib
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime
from datetime import time as Time
from importlib import resources
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.clock import FrozenClock
from bot.fake_api import FakeBotApi
from bot.harness import LocalBot
from bot.services import open_services
from bot.settings import load_settings

_TAG = re.compile(r"<[^>]+>")
_SENDING = {"sendMessage", "copyMessage", "forwardMessage", "sendPhoto", "sendDocument"}


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in the script."""

    key: str
    first_name: str
    role: str
    language: str
    last_name: str | None = None
    username: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """Someone writes something at a time of the day."""

    at: Time
    who: str
    text: str


@dataclass(frozen=True, slots=True)
class Script:
    """The day to play."""

    day: Date
    zone: ZoneInfo
    staff_chat: dict[str, Any]
    people: dict[str, Person]
    events: list[Event]


def load_script(path: Path | None = None) -> Script:
    """The bundled day (or another TOML file of the same shape)."""
    raw = (
        path.read_bytes()
        if path is not None
        else resources.files("bot.demo").joinpath("day.toml").read_bytes()
    )
    data = tomllib.loads(raw.decode("utf-8"))
    people = {p["key"]: Person(**p) for p in data["people"]}
    events = [
        Event(at=Time.fromisoformat(e["at"]), who=e["who"], text=e["text"]) for e in data["events"]
    ]
    unknown = sorted({e.who for e in events} - set(people))
    if unknown:
        raise ValueError(f"events name people not in the cast: {unknown}")
    return Script(
        day=Date.fromisoformat(data["date"]),
        zone=ZoneInfo(data["timezone"]),
        staff_chat=data["staff_chat"],
        people=people,
        events=events,
    )


async def run_demo(*, output: str | Path, quiet: bool = False, out: TextIO = sys.stdout) -> int:
    """Play the day and print what happened, ending with the manager's summary."""
    started = time.monotonic()
    script = load_script()
    database = _fresh_database_file(Path(output))
    clock = FrozenClock(datetime.combine(script.day, Time(7, 0), script.zone))

    def say(line: str = "") -> None:
        if not quiet:
            print(line, file=out)

    async with FakeBotApi() as api:
        staff_chat_id = int(script.staff_chat["id"])
        users: dict[str, dict[str, Any]] = {}
        for person in script.people.values():
            users[person.key] = api.new_user(
                person.first_name,
                last_name=person.last_name,
                username=person.username,
                language_code=person.language,
            )
        staff_ids = [users[k]["id"] for k, p in script.people.items() if p.role == "staff"]
        manager_ids = [users[k]["id"] for k, p in script.people.items() if p.role == "manager"]
        api.add_supergroup(
            staff_chat_id,
            title=str(script.staff_chat["title"]),
            is_forum=bool(script.staff_chat.get("forum", True)),
            members=staff_ids,
        )
        names = {u["id"]: u["first_name"] for u in users.values()}
        names[staff_chat_id] = f"staff chat «{script.staff_chat['title']}»"
        settings = load_settings(
            telegram_bot_token=api.token,
            telegram_api_base_url=api.base_url,
            database_url=f"sqlite:///{database}",
            staff_chat_id=staff_chat_id,
            manager_ids=",".join(str(i) for i in manager_ids),
            timezone=script.zone.key,
            _env_file=None,
        )
        say(
            f"Demo day {script.day} ({script.zone.key}): the real bot against a local fake "
            "Telegram server."
        )
        say()
        last_reply = ""
        async with (
            open_services(settings, clock=clock, migrate=True) as services,
            LocalBot(services) as bot,
        ):
            for event in script.events:
                clock.set(datetime.combine(script.day, event.at, script.zone))
                person = script.people[event.who]
                before = len(api.calls)
                update = api.send_text(users[event.who], event.text)
                await bot.processed(update["update_id"])
                say(f"{event.at:%H:%M} {_icon(person.role)} {person.first_name}: {event.text}")
                for call in api.calls[before:]:
                    if call.method not in _SENDING or not call.ok:
                        continue
                    chat = int(call.params.get("chat_id", 0))
                    text = _plain(str(call.params.get("text", "")))
                    last_reply = text
                    say(f"        🤖 → {names.get(chat, chat)}: {_indent(text)}")
                say()
    if quiet:
        print(last_reply, file=out)
    say(
        f"Database: {database} · {len(script.events)} messages played in "
        f"{time.monotonic() - started:.1f} s"
    )
    return 0


def _fresh_database_file(folder: Path) -> Path:
    """The demo's SQLite file, removed from any earlier run."""
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("demo.sqlite3*"):
        leftover.unlink()
    return folder / "demo.sqlite3"


def _icon(role: str) -> str:
    return {"customer": "👤", "staff": "🎧", "manager": "📊"}.get(role, "•")


def _plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def _indent(text: str) -> str:
    return text.replace("\n", "\n          ")
