"""Manager commands through the real Application: refused to others; summaries, charts,
CSV exports that match the database, drill-downs and the dashboard link."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.handlers.people import MANAGER_COMMANDS
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.customers import get_customer_by_telegram_id
from storage.metrics.definitions import DEFINITIONS
from storage.models import Idea, Ticket
from tests.support import MANAGER_ID, MANAGERS_ONLY, STAFF_CHAT_ID, send, staff_member


async def a_day(fake_api: FakeBotApi, bot: LocalBot, clock: FrozenClock) -> dict[str, Any]:
    """Two tickets (one answered in 10 minutes, one never), an idea with a vote; a manager."""
    staff = staff_member(fake_api)
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


@pytest.mark.parametrize("command", MANAGERS_ONLY)
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
        summary = await summary_today(fake_api, bot, manager)
        assert "2 tickets opened" in summary
        assert "first response: p50 10 minutes, p90 10 minutes (over 1 ticket first" in summary
        assert "1 idea proposed, 1 vote cast" in summary

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

    async with services.db.session() as session:
        tickets = (await session.exec(select(Ticket).order_by(col(Ticket.id)))).all()
        ideas = (await session.exec(select(Idea))).all()
    assert [row["reference"] for row in files["tickets"]] == [t.reference for t in tickets]
    assert [row["first_response_seconds"] for row in files["tickets"]] == ["600", ""]
    assert [row["sla_met"] for row in files["tickets"]] == ["true", ""]
    assert [(row["idea"], row["votes"]) for row in files["ideas"]] == [(str(ideas[0].id), "1")]
    # Ann's ticket has waited 3 h 10 min, past the 60-minute SLA; Tom's was answered in time.
    assert "1 breached" in breached and "T-00002" in breached and "T-00001" not in breached


async def test_ideas_report_gives_the_cocreation_numbers_and_the_most_voted_ideas(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    async with LocalBot(services) as bot:
        text = await answer_to(fake_api, bot, await a_day(fake_api, bot, clock), "/ideas_report")
    assert "1 idea proposed, 1 vote cast" in text
    assert "Most voted" in text and "#1 1 vote" in text and "family plan" in text
    assert "tickets opened" not in text  # only the co-creation section


async def summary_today(fake_api: FakeBotApi, bot: LocalBot, manager: dict[str, Any]) -> str:
    """What the bot answers the manager's /summary today."""
    return await answer_to(fake_api, bot, manager, "/summary")


async def answer_to(
    fake_api: FakeBotApi, bot: LocalBot, manager: dict[str, Any], command: str
) -> str:
    """What the bot answers the manager's command for today's window."""
    await send(bot, fake_api.send_text(manager, f"{command} today"))
    return str(fake_api.messages_to(MANAGER_ID)[-1]["text"])


def with_settings(services: Services, **changes: Any) -> Services:
    """The same services with some settings changed (as if set in the environment)."""
    return replace(services, settings=services.settings.model_copy(update=changes))


async def test_every_figure_says_what_it_counts_and_empty_ones_say_no_data(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    async with LocalBot(services) as bot:
        summary = await summary_today(fake_api, bot, await a_day(fake_api, bot, clock))
    # Both tickets fell due within the window (opened + 60 min); Tom's was answered in 10.
    assert "within the SLA of 1 hour: 1 of 2 tickets due (50%)" in summary, summary
    assert "2 tickets opened, 0 resolved; 2 still open at the end (the oldest open for 3 hours" in (
        summary
    )
    assert "adoption (reached planned or later): no data" in summary
    assert "CSAT: no data; NPS: no data" in summary
    assert "interaction: 0.5 staff replies per ticket (1 staff reply in 2 tickets)" in summary
    assert "sentiment 0.00 : 1 (0 positive to 2 negative), 1 neutral" in summary
    assert "passion (wrote twice or more): 1 of 2 active customers (50%)" in summary
    assert "–" not in summary.split("\n", 1)[1] and ": 1 positive" not in summary


async def test_an_italian_manager_reads_the_summary_in_italian_with_plural_forms(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    async with LocalBot(services) as bot:
        manager = await a_day(fake_api, bot, clock)
        await send(bot, fake_api.send_text(manager, "/language it"))
        assert "italiano" in fake_api.messages_to(MANAGER_ID)[-1]["text"]
        summary = await summary_today(fake_api, bot, manager)
        await send(bot, fake_api.send_text(manager, "/tickets open"))
        tickets = fake_api.messages_to(MANAGER_ID)[-1]["text"]
    assert summary.startswith("Metriche 20 nov 2026 00:00 – 20 nov 2026 13:10"), summary
    assert "Reattività" in summary and "Co-creazione" in summary
    assert "2 ticket aperti, 0 risolti; 2 ancora aperti alla fine" in summary  # other
    assert "1 idea proposta, 1 voto dato; voti per idea: 1,0" in summary  # one, and a comma
    assert "entro lo SLA di 1 ora: 1 su 2 ticket in scadenza (50%)" in summary
    assert "CSAT: nessun dato" in summary and "no data" not in summary
    assert "prima risposta: p50 10 minuti, p90 10 minuti" in summary
    assert tickets.startswith("2 ticket aperti") and "in attesa da 3 ore 10 minuti" in tickets


async def test_a_manager_starts_with_their_commands_and_help_explains_each_number(
    fake_api: FakeBotApi, services: Services
) -> None:
    customer = fake_api.new_user("Tom")
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(manager, "/start"))
        start = fake_api.messages_to(MANAGER_ID)[-1]["text"]
        await send(bot, fake_api.send_text(manager, "/help"))
        help_text = fake_api.messages_to(MANAGER_ID)[-1]["text"]
        await send(bot, fake_api.send_text(manager, "/language it"))
        await send(bot, fake_api.send_text(manager, "/help"))
        italian = fake_api.messages_to(MANAGER_ID)[-1]["text"]
        await send(bot, fake_api.send_text(customer, "/start"))
    for command in MANAGER_COMMANDS:
        assert f"/{command} — " in start, command
    assert "What the numbers count" not in start and "Hello" not in start
    assert "What the numbers count" in help_text
    for key, meaning in DEFINITIONS.items():
        assert meaning in help_text, key
    assert "Cosa contano i numeri" in italian and "ogni metrica di un periodo" in italian
    assert "le idee che hanno cambiato stato nel periodo" in italian
    assert "Hello Tom" in fake_api.messages_to(customer["id"])[-1]["text"]
    async with services.db.session() as session:  # a manager is not made a customer
        assert (
            await get_customer_by_telegram_id(session=session, telegram_user_id=MANAGER_ID) is None
        )


async def test_staff_get_their_commands_and_everyone_their_user_id(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff = fake_api.new_user("Sara")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", members=[staff["id"], MANAGER_ID])
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    customer = fake_api.new_user("Tom")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(staff, "/help", chat=STAFF_CHAT_ID))
        staff_help = fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]
        await send(bot, fake_api.send_text(staff, "/whoami", chat=STAFF_CHAT_ID))
        staff_whoami = fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]
        await send(bot, fake_api.send_text(manager, "/whoami", chat=STAFF_CHAT_ID))
        manager_in_staff = fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]
        await send(bot, fake_api.send_text(manager, "/whoami"))
        await send(bot, fake_api.send_text(customer, "/whoami"))
    for command in ("note", "canned", "status", "merge", "detach", "attach", "incidents"):
        assert f"/{command} — " in staff_help, command
    assert f"Sara, your Telegram user id is {staff['id']}. Here you are: staff." == staff_whoami
    assert f"{MANAGER_ID}" in manager_in_staff and "manager and staff" in manager_in_staff
    private = fake_api.messages_to(MANAGER_ID)[-1]["text"]
    assert f"user id is {MANAGER_ID}" in private and "You are a manager" in private
    told = fake_api.messages_to(customer["id"])[-1]["text"]
    assert f"user id is {customer['id']}" in told and "MANAGER_IDS" in told


async def test_a_dashboard_link_to_this_machine_is_replaced_by_what_to_set(
    fake_api: FakeBotApi, services: Services
) -> None:
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    async with LocalBot(services) as bot:  # no DASHBOARD_URL, no WEBHOOK_URL: 127.0.0.1
        await send(bot, fake_api.send_text(manager, "/dashboard"))
    told = fake_api.messages_to(MANAGER_ID)[-1]
    assert "DASHBOARD_URL" in told["text"] and "phone" in told["text"]
    assert not [e for e in told.get("entities", []) if e.get("url")]

    public = with_settings(services, dashboard_url="https://feedback.example.com")
    async with LocalBot(public) as bot:
        await send(bot, fake_api.send_text(manager, "/dashboard"))
    link = fake_api.messages_to(MANAGER_ID)[-1]
    assert any(
        e.get("url", "").startswith("https://feedback.example.com/dashboard?token=")
        for e in link.get("entities", [])
    )


def test_the_english_explanations_are_the_dashboards_definitions(services: Services) -> None:
    for key, meaning in DEFINITIONS.items():
        assert services.catalog.t(f"metric.{key}", "en") == meaning, key
        assert services.catalog.t(f"metric.{key}", "it") != meaning, key
