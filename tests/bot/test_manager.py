"""Manager commands through the real Application: refused to others; summaries, charts,
CSV exports that match the database, drill-downs and the dashboard link."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.clock import FrozenClock
from bot.fake_api import FakeBotApi
from bot.harness import LocalBot
from bot.services import Services
from storage.models import Idea, Ticket
from tests.support import MANAGER_ID, STAFF_CHAT_ID, send

COMMANDS = (
    "/summary",
    "/involvement",
    "/topics",
    "/ideas_report",
    "/report",
    "/export",
    "/tickets breached",
    "/dashboard",
)


async def a_day(fake_api: FakeBotApi, bot: LocalBot, clock: FrozenClock) -> dict[str, Any]:
    """Two tickets (one answered in 10 minutes, one never), an idea with a vote; a manager."""
    staff = fake_api.new_user("Sara")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"]])
    tom, ann = fake_api.new_user("Tom"), fake_api.new_user("Ann")
    await send(bot, fake_api.send_text(tom, "My bill is wrong, I was charged twice this month"))
    await send(bot, fake_api.send_text(ann, "No signal at home since yesterday, calls drop"))
    clock.advance(timedelta(minutes=10))
    thread = fake_api.messages_to(STAFF_CHAT_ID)[0]["message_thread_id"]
    await send(
        bot,
        fake_api.send_text(
            staff, "Refund on its way", chat=STAFF_CHAT_ID, message_thread_id=thread
        ),
    )
    await send(
        bot, fake_api.send_text(tom, "You should offer a family plan sharing data across 4 SIMs")
    )
    await send(bot, fake_api.send_text(ann, "/ideas"))
    listing = fake_api.messages_to(ann["id"])[-1]
    await send(bot, fake_api.press_button(ann, listing, "iv:1:0"))
    clock.advance(timedelta(hours=3))
    return fake_api.new_user("Elena", user_id=MANAGER_ID)


@pytest.mark.parametrize("command", COMMANDS)
async def test_manager_commands_are_refused_to_others(
    fake_api: FakeBotApi, services: Services, command: str
) -> None:
    customer = fake_api.new_user("Mallory")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, command))
    replies = fake_api.messages_to(customer["id"])
    assert len(replies) == 1 and "managers only" in replies[0]["text"]
    assert not fake_api.calls_to("sendPhoto") and not fake_api.calls_to("sendDocument")


async def test_summary_report_export_and_drill_down(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    async with LocalBot(services) as bot:
        manager = await a_day(fake_api, bot, clock)
        await send(bot, fake_api.send_text(manager, "/summary today"))
        summary = fake_api.messages_to(MANAGER_ID)[-1]["text"]
        assert "tickets opened 2" in summary and "first response p50 10m 00s" in summary
        assert "ideas 1, votes 1" in summary

        await send(bot, fake_api.send_text(manager, "/summary someday"))
        assert "someday" in fake_api.messages_to(MANAGER_ID)[-1]["text"]

        await send(bot, fake_api.send_text(manager, "/topics"))
        topics = fake_api.messages_to(MANAGER_ID)[-1]["text"]
        assert "billing" in topics and "network" in topics

        await send(bot, fake_api.send_text(manager, "/report week"))
        photos = [c for c in fake_api.calls_to("sendPhoto") if c.ok]
        assert len(photos) == 5
        for call in photos:
            assert fake_api.file_content(call).startswith(b"\x89PNG\r\n\x1a\n")

        await send(bot, fake_api.send_text(manager, "/export week"))
        documents = [c for c in fake_api.calls_to("sendDocument") if c.ok]
        files = {
            c.uploads["document"].filename.split("-")[0]: list(
                csv.DictReader(io.StringIO(fake_api.file_content(c).decode()))
            )
            for c in documents
        }

        await send(bot, fake_api.send_text(manager, "/tickets breached week"))
        breached = fake_api.messages_to(MANAGER_ID)[-1]["text"]

        await send(bot, fake_api.send_text(manager, "/dashboard"))
        link = fake_api.messages_to(MANAGER_ID)[-1]
        assert any(
            e.get("url", "").startswith(f"{services.settings.public_base_url}/dashboard?token=")
            for e in link.get("entities", [])
        )

    async with services.db.session() as session:
        tickets = (await session.exec(select(Ticket).order_by(col(Ticket.id)))).all()
        ideas = (await session.exec(select(Idea))).all()
    assert [row["reference"] for row in files["tickets"]] == [t.reference for t in tickets]
    assert [row["first_response_seconds"] for row in files["tickets"]] == ["600", ""]
    assert [row["sla_met"] for row in files["tickets"]] == ["true", ""]
    assert [(row["idea"], row["votes"]) for row in files["ideas"]] == [(str(ideas[0].id), "1")]
    # Ann's ticket has waited 3 h 10 min, past the 60-minute SLA; Tom's was answered in time.
    assert "1 breached" in breached and "T-00002" in breached and "T-00001" not in breached
