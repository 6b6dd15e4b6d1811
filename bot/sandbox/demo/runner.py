"""Plays the demo's month: the real bot, a fake Telegram, customers, staff and a manager."""

from __future__ import annotations

import html
import re
import sys
import time
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as Time
from importlib import resources
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.core.clock import Clock, FrozenClock, SystemClock
from bot.core.services import Services, open_services
from bot.core.settings import load_settings
from bot.sandbox.demo.month import STAFF, Month
from bot.sandbox.demo.stage import Person as Someone
from bot.sandbox.demo.stage import Stage
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import parse_ticket_reference
from storage.tickets import get_ticket

_TAG = re.compile(r"<[^>]+>")
DAYS = 30
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
    """Someone does something at a time of the day: writes a text (in their private chat, or,
    for staff, in a ticket's topic), presses a ticket's button, or rates the help."""

    at: Time
    who: str
    text: str = ""
    ticket: str | None = None  # staff: act on this ticket (reference, e.g. "T-00001")
    press: str | None = None  # staff: "claim" or "resolve" on the ticket's card
    rate: int | None = None  # customer: the score pressed under the last rating question
    vote: int | None = None  # customer: 👍 on this idea under the last board they were shown
    idea: int | None = None  # staff: act on this idea's card in the ideas topic ...
    status: str | None = None  # ... by pressing this status button


@dataclass(frozen=True, slots=True)
class Script:
    """The first day to play (its date is the run's: 29 days before today)."""

    zone: ZoneInfo
    staff_chat: dict[str, Any]
    people: dict[str, Person]
    events: list[Event]


def load_script(path: Path | None = None) -> Script:
    """The bundled day (or another TOML file of the same shape)."""
    raw = (
        path.read_bytes()
        if path is not None
        else resources.files("bot.sandbox.demo").joinpath("day.toml").read_bytes()
    )
    data = tomllib.loads(raw.decode("utf-8"))
    people = {p["key"]: Person(**p) for p in data["people"]}
    events = [Event(**{**e, "at": Time.fromisoformat(e["at"])}) for e in data["events"]]
    unknown = sorted({e.who for e in events} - set(people))
    if unknown:
        raise ValueError(f"events name people not in the cast: {unknown}")
    return Script(
        zone=ZoneInfo(data["timezone"]),
        staff_chat=data["staff_chat"],
        people=people,
        events=events,
    )


async def run_demo(
    *,
    output: str | Path,
    quiet: bool = False,
    out: TextIO = sys.stdout,
    today: Clock | None = None,
    days: int = DAYS,
) -> int:
    """Play a month ending now (the first day in full, then a line a day) and print what
    happened, ending with the manager's summary and charts of the default window."""
    started = time.monotonic()
    script = load_script()
    end = (today or SystemClock()).now().astimezone(script.zone).replace(second=0, microsecond=0)
    first_day = end.date() - timedelta(days=days - 1)
    database = _fresh_database_file(Path(output))
    clock = FrozenClock(datetime.combine(first_day, Time(7, 0), script.zone))

    def say(line: str = "") -> None:
        if not quiet:
            print(line, file=out)

    async with FakeBotApi(now=lambda: clock.now().timestamp()) as api:
        staff_chat_id = int(script.staff_chat["id"])
        users: dict[str, dict[str, Any]] = {}
        for person in script.people.values():
            users[person.key] = api.new_user(
                person.first_name,
                last_name=person.last_name,
                username=person.username,
                language_code=person.language,
            )
        month_staff = [
            Someone(api.new_user(name, language_code=language), language, "staff")
            for name, language in STAFF
        ]
        staff_ids = [users[k]["id"] for k, p in script.people.items() if p.role == "staff"]
        staff_ids += [p.id for p in month_staff]
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
            rate_limit=False,  # the local fake server has no limits to keep under
            _env_file=None,
        )
        say(
            f"Demo: {days} days at a telecom firm, {first_day} to {end.date()} "
            f"({script.zone.key}), the real bot against a local fake Telegram server."
        )
        say(f"The first day, {first_day:%A %d %B}, in full:")
        say()
        last_reply = ""
        async with (
            open_services(settings, clock=clock, migrate=True) as services,
            LocalBot(services) as bot,
        ):

            async def play(moment: datetime, event: Event) -> None:
                nonlocal last_reply
                clock.set(moment)
                person = script.people[event.who]
                before = len(api.calls)
                update, action = await _act(api, services, event, users[event.who], staff_chat_id)
                await bot.processed(update["update_id"])
                local = moment.astimezone(script.zone)
                say(f"{local:%H:%M} {_icon(person.role)} {person.first_name}: {action}")
                for call in api.calls[before:]:
                    if call.method not in _SENDING or not call.ok:
                        continue
                    chat = int(call.params.get("chat_id", 0))
                    text = _plain(str(call.params.get("text", "")))
                    if call.uploads:  # a chart or a file: kept beside the database
                        upload = next(iter(call.uploads.values()))
                        saved = Path(output) / upload.filename
                        saved.write_bytes(upload.data)
                        text = f"📎 {upload.filename} (saved to {saved})"
                    last_reply = text
                    say(f"        🤖 → {names.get(chat, chat)}: {_indent(text)}")
                say()

            for event in script.events:
                await play(datetime.combine(first_day, event.at, script.zone), event)

            stage = Stage(
                api=api, bot=bot, services=services, clock=clock, staff_chat_id=staff_chat_id
            )
            cast = [
                Someone(users[k], p.language, p.role)
                for k, p in script.people.items()
                if p.role != "manager"
            ]
            manager_key = next(k for k, p in script.people.items() if p.role == "manager")
            month = Month(
                stage,
                staff=[p for p in cast if p.role == "staff"] + month_staff,
                manager=Someone(users[manager_key], script.people[manager_key].language),
                known=[p for p in cast if p.role == "customer"],
                first_day=first_day,
                days=days,
            )
            say(f"Then the next {days - 1} days, a line a day:")
            for offset in range(1, days):
                day = first_day + timedelta(days=offset)
                await month.plan_day(day)
                midnight = datetime.combine(day + timedelta(days=1), Time(0), script.zone)
                await stage.play_until(min(midnight, end))
                for line in month.line(day, min(midnight, end)):
                    say(line)
            say()
            say(f"Today, {end:%H:%M}: the manager asks for the last 7 days.")
            say()
            for text in ("/summary", "/report"):
                clock.set(max(end, clock.now()))
                await play(clock.now(), Event(at=end.time(), who=manager_key, text=text))
                end += timedelta(minutes=1)
            played = len(script.events) + stage.updates + 2
            customers, batches = len(month.customers), stage.batches
    if quiet:
        print(last_reply, file=out)
    say(
        f"Database: {database} · {customers} customers, {played} updates played in "
        f"{batches} batches, {time.monotonic() - started:.1f} s"
    )
    return 0


async def _act(
    api: FakeBotApi,
    services: Services,
    event: Event,
    user: dict[str, Any],
    staff_chat_id: int,
) -> tuple[dict[str, Any], str]:
    """Play one event through the fake server; the update it made and how to print it."""
    if event.rate is not None:
        asked = [m for m in api.messages_to(user["id"]) if _buttons(m, "r:")]
        data = next(d for d in _buttons(asked[-1], "r:") if d.endswith(f":{event.rate}"))
        return api.press_button(user, asked[-1], data), f"[rates {event.rate}/5]"
    if event.vote is not None:
        data = f"iv:{event.vote}:"
        shown = [m for m in api.messages_to(user["id"]) if _buttons(m, data)]
        return api.press_button(user, shown[-1], _buttons(shown[-1], data)[0]), (
            f"[votes for idea #{event.vote}]"
        )
    if event.idea is not None and event.status is not None:
        data = f"is:{event.idea}:{event.status}"
        card = [m for m in api.messages_to(staff_chat_id) if _buttons(m, data)][-1]
        return api.press_button(user, card, data), (f"[sets idea #{event.idea} to {event.status}]")
    if event.ticket is None:
        return api.send_text(user, event.text), event.text
    async with services.db.session() as session:
        ticket = await get_ticket(
            session=session, ticket_id=parse_ticket_reference(event.ticket) or 0
        )
    assert ticket is not None, f"no ticket {event.ticket}"
    card = next(
        m
        for m in api.messages_to(ticket.staff_chat_id or staff_chat_id)
        if m["message_id"] == ticket.staff_card_message_id
    )
    if event.press is not None:
        data = f"t:{event.press}:{ticket.id}"
        return api.press_button(user, card, data), f"[presses {event.press} on {event.ticket}]"
    where: dict[str, Any] = (
        {"message_thread_id": ticket.staff_thread_id}
        if ticket.staff_thread_id
        else {"reply_to_message": card}
    )
    update = api.send_text(user, event.text, chat=ticket.staff_chat_id or staff_chat_id, **where)
    return update, f"(in {event.ticket}) {event.text}"


def _buttons(message: dict[str, Any], prefix: str) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [
        b["callback_data"]
        for row in rows
        for b in row
        if b.get("callback_data", "").startswith(prefix)
    ]


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
