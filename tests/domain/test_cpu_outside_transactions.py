"""CPU work never runs inside a transaction: comparing an idea with the board (48 ms over 1,000
ideas, on the event loop, in the SQLite writer turn), drawing charts, and the triage model.
Each is watched where it runs, through the real Application and the fake Bot API."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest

import bot.domain.similar
import bot.reports.charts
import nlp.similarity
from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.jobs.context import JobContext
from bot.jobs.managers import weekly_report
from bot.jobs.staff import flood_release
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.db import Database, in_transaction
from tests.support import MANAGER_ID, button_with, make_settings, send, staff_member

PAUSE_WIFI = "It would be great if the app let me pause the wifi for the kids at dinner time"
PAUSE_WIFI_AGAIN = "Please add a way to pause the wifi for my kids from the app"
WIFI_SCHEDULE = "Could the app pause the wifi for the kids on a schedule at dinner?"


@dataclass
class Watch:
    """Where each call of the watched work ran: (in the writer turn, in a session, on the
    event loop's thread)."""

    db: Database
    calls: dict[str, list[tuple[bool, bool, bool]]] = field(default_factory=dict)

    def spy(self, name: str, work: Callable[..., Any]) -> Callable[..., Any]:
        def watched(*args: Any, **kwargs: Any) -> Any:
            self.calls.setdefault(name, []).append(
                (
                    self.db.holds_writer_turn(),
                    in_transaction(),
                    threading.current_thread() is threading.main_thread(),
                )
            )
            return work(*args, **kwargs)

        return watched

    def assert_outside(self, name: str, *, off_the_loop: bool) -> None:
        calls = self.calls.get(name, [])
        assert calls, f"{name} never ran: the watch is in the wrong place"
        assert not any(turn for turn, _, _ in calls), f"{name} ran in the writer turn: {calls}"
        assert not any(session for _, session, _ in calls), f"{name} ran in a session: {calls}"
        if off_the_loop:
            assert not any(loop for _, _, loop in calls), f"{name} ran on the event loop: {calls}"


@pytest.fixture
def watch(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Watch]:
    watching = Watch(services.db)
    # The words of a text: what every idea comparison spends its time on, wherever it runs.
    words = watching.spy("similarity", nlp.similarity.terms)
    monkeypatch.setattr(nlp.similarity, "terms", words)
    monkeypatch.setattr(bot.domain.similar, "terms", words, raising=False)
    # One chart drawn.
    monkeypatch.setattr(bot.reports.charts, "_png", watching.spy("chart", bot.reports.charts._png))
    # The model asked, by whoever asks it.
    triage = services.triage
    monkeypatch.setattr(triage, "triage", watching.spy("triage", triage.triage))
    monkeypatch.setattr(triage, "triage_many", watching.spy("triage", triage.triage_many))
    yield watching


def _staff_chat(fake_api: FakeBotApi) -> None:
    staff_member(fake_api)


async def test_ideas_are_compared_off_the_loop_and_outside_transactions(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock, watch: Watch
) -> None:
    _staff_chat(fake_api)
    anna, ben, carla, dario = (fake_api.new_user(n) for n in ("Anna", "Ben", "Carla", "Dario"))
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(anna, PAUSE_WIFI))
        # Ben's idea is like Anna's: he is shown it first, and posts his own anyway.
        await send(bot, fake_api.send_text(ben, PAUSE_WIFI_AGAIN))
        offer = fake_api.messages_to(ben["id"])[-1]
        assert "#1" in offer["text"], offer["text"]
        as_new = button_with(offer, "ix:").rsplit(":", 1)[0] + ":new"
        await send(bot, fake_api.press_button(ben, offer, as_new))
        assert "number 2" in fake_api.messages_to(ben["id"])[-1]["text"]
        # Carla writes faster than the flood limit: her ideas are compared when released.
        limit = services.settings.flood_limit_per_minute
        for n in range(limit + 2):
            await send(bot, fake_api.send_text(carla, f"{WIFI_SCHEDULE} ({n})"))
        clock.advance(timedelta(minutes=2))
        assert await flood_release(JobContext.for_bot(services, bot.application.bot)) == 2
    # Dario's message is unclear to the model: he says it is an idea.
    unsure = replace(
        services, settings=make_settings(fake_api, services.db.url, triage_min_confidence=1.0)
    )
    async with LocalBot(unsure) as bot:
        await send(bot, fake_api.send_text(dario, "pause wifi kids dinner"))
        question = fake_api.messages_to(dario["id"])[-1]
        await send(bot, fake_api.press_button(dario, question, button_with(question, "k:idea:")))
        assert "#1" in fake_api.messages_to(dario["id"])[-1]["text"]
    watch.assert_outside("similarity", off_the_loop=True)
    watch.assert_outside("triage", off_the_loop=False)


async def test_charts_are_drawn_off_the_loop_and_outside_transactions(
    fake_api: FakeBotApi, services: Services, watch: Watch
) -> None:
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    customer = fake_api.new_user("Tom")
    _staff_chat(fake_api)
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(manager, "/start"))
        await send(bot, fake_api.send_text(customer, "My internet has been down since noon"))
        await send(bot, fake_api.send_text(manager, "/report week"))
        assert await weekly_report(JobContext.for_bot(services, bot.application.bot)) == 1
    photos = [c for c in fake_api.calls_to("sendPhoto") if c.ok]
    assert len(photos) == 10
    watch.assert_outside("chart", off_the_loop=True)
