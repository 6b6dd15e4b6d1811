"""Outputs people read: /topics with its real numbers, staff named as Telegram names them, texts
with counts in their plural forms, and `feedbackbot metrics` on a database never migrated."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import Feedback
from tests.support import (
    MANAGER_ID,
    STAFF_CHAT_ID,
    create_empty_database,
    feedbackbot,
    send,
    uses_postgres,
)


def staff_chat(fake_api: FakeBotApi, first_name: str = "Sara", **names: str) -> dict:
    staff = fake_api.new_user(first_name, **names)
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"]])
    return staff


async def test_topics_prints_strength_and_counts_by_kind_and_sentiment(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff_chat(fake_api)
    tom, ann = fake_api.new_user("Tom"), fake_api.new_user("Ann")
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(tom, "My bill is wrong, I was charged twice this month"))
        await send(bot, fake_api.send_text(ann, "No signal at home since yesterday, calls drop"))
        await send(bot, fake_api.send_text(tom, "Offer a family plan sharing data across 4 SIMs"))
        clock.advance(timedelta(hours=1))
        await send(bot, fake_api.send_text(manager, "/topics today"))
    text = fake_api.messages_to(MANAGER_ID)[-1]["text"]
    async with services.db.session() as session:
        rows = (await session.exec(select(Feedback))).all()
    assert len(rows) == 3
    for topic in {r.topic for r in rows}:
        mine = [r for r in rows if r.topic == topic]
        kinds = ", ".join(
            f"{k} {sum(r.kind == k for r in mine)}" for k in sorted({r.kind for r in mine})
        )
        moods = ", ".join(
            f"{s} {sum(r.sentiment == s for r in mine)}"
            for s in sorted({r.sentiment for r in mine})
        )
        share = f"{len(mine) / len(rows):.0%}"
        assert f"{topic} · strength 24 h {share}\n  {kinds} | {moods}" in text, text


async def test_staff_who_reply_without_claiming_are_named_in_the_summary(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff = staff_chat(fake_api, "Luca", username="luca_care")
    customer = fake_api.new_user("Tom")
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, "No signal at home since yesterday"))
        thread = fake_api.messages_to(STAFF_CHAT_ID)[0]["message_thread_id"]
        clock.advance(timedelta(minutes=5))
        await send(
            bot,
            fake_api.send_text(
                staff, "Checking the line now", chat=STAFF_CHAT_ID, message_thread_id=thread
            ),
        )
        clock.advance(timedelta(minutes=1))  # the window ends now: what happened is inside
        await send(bot, fake_api.send_text(manager, "/summary today"))
    summary = fake_api.messages_to(MANAGER_ID)[-1]["text"]
    assert "Luca" in summary and f"staff {staff['id']}" not in summary


async def test_a_wait_of_one_minute_is_told_in_the_singular(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff = staff_chat(fake_api)
    tom, ann = fake_api.new_user("Tom"), fake_api.new_user("Ann")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(tom, "My bill is wrong, I was charged twice this month"))
        thread = fake_api.messages_to(STAFF_CHAT_ID)[0]["message_thread_id"]
        clock.advance(timedelta(minutes=1))  # the recent median answer: one minute
        await send(
            bot,
            fake_api.send_text(
                staff, "Refund on its way", chat=STAFF_CHAT_ID, message_thread_id=thread
            ),
        )
        await send(bot, fake_api.send_text(ann, "No signal at home since yesterday, calls drop"))
    ack = fake_api.messages_to(ann["id"])[-1]["text"]
    assert "about 1 minute;" in ack, ack


async def test_one_reply_and_one_note_are_counted_in_the_singular(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff = staff_chat(fake_api)
    customer = fake_api.new_user("Tom")
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, "No signal at home since yesterday"))
        where = {"chat": STAFF_CHAT_ID, "message_thread_id": 0}
        where["message_thread_id"] = fake_api.messages_to(STAFF_CHAT_ID)[0]["message_thread_id"]
        clock.advance(timedelta(minutes=5))
        await send(bot, fake_api.send_text(staff, "Checking the line now", **where))
        await send(bot, fake_api.send_text(staff, "/note line test booked", **where))
        clock.advance(timedelta(minutes=1))  # the window ends now: what happened is inside
        await send(bot, fake_api.send_text(manager, "/summary today"))
    summary = fake_api.messages_to(MANAGER_ID)[-1]["text"]
    assert ": 1 reply on 1 ticket, 1 note, 1 first response (p50 5 minutes)" in summary, summary


@pytest.mark.parametrize(
    ("key", "language", "count", "expected"),
    [
        ("ack.care_new", "en", 1, "about 1 minute;"),
        ("ack.care_new", "en", 5, "about 5 minutes;"),
        ("ack.care_new", "it", 1, "circa 1 minuto;"),
        ("ack.care_new", "it", 5, "circa 5 minuti;"),
        ("staff.backlog_digest", "en", 1, "<b>1 new ticket</b>"),
        ("staff.backlog_digest", "en", 6, "<b>6 new tickets</b>"),
        ("staff.backlog_digest", "it", 1, "<b>1 nuovo ticket</b>"),
        ("ack.flood_released", "en", 1, "your last message"),
        ("ack.flood_released", "it", 1_000_000, "ultimi 1000000 messaggi"),  # Italian "many"
        ("manager.spike", "en", 1, "1 care request about"),
        ("manager.summary_volume", "en", 1, "from 1 customer ·"),
        ("manager.summary_volume", "it", 2, "da 2 clienti ·"),
    ],
)
def test_texts_with_a_count_have_plural_forms(
    services: Services, key: str, language: str, count: int, expected: str
) -> None:
    params = {
        "reference": "T-00001",
        "topic": "network",
        "sla": 60,
        "mean": "2.0",
        "threshold": "4.3",
        "feedback": 3,
        "care": 1,
        "ideas": 1,
        "other": 1,
    }
    text = services.catalog.t(key, language, count=count, **params)
    assert expected in text and "{" not in text


def test_a_plural_text_without_a_count_names_the_text(services: Services) -> None:
    with pytest.raises(TypeError, match=r"staff\.backlog_digest"):
        services.catalog.t("staff.backlog_digest", "en")


async def test_metrics_on_an_unmigrated_database_says_to_migrate(tmp_path: Path) -> None:
    url = await create_empty_database(tmp_path)
    plain = url.replace("+aiosqlite", "").replace("+asyncpg", "")
    database_file = None if uses_postgres() else Path(plain.split("///", 1)[1])
    metrics_refuses(tmp_path, plain, database_file)


def metrics_refuses(cwd: Path, url: str, database_file: Path | None) -> None:
    """One line saying to migrate, a failing exit code, nothing printed and no file made."""
    result = feedbackbot("metrics", env={"DATABASE_URL": url}, cwd=cwd)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "not migrated" in lines[0] and "feedbackbot migrate" in lines[0]
    assert result.stdout == ""
    if database_file is not None:
        assert not database_file.exists()  # no empty database left behind
        database_file.touch()  # an empty file is no better: there is no schema in it
        again = feedbackbot("metrics", env={"DATABASE_URL": url}, cwd=cwd)
        assert again.returncode != 0 and "not migrated" in again.stderr
        assert len(again.stderr.strip().splitlines()) == 1, again.stderr
    assert not [p for p in cwd.iterdir() if p != database_file]  # nor any other file
