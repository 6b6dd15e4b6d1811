"""Access through the real Application: manager commands only in private chats, strangers'
groups left and never answered, staff rights following chat_member updates at once."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlmodel import select
from telegram import Bot

from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from bot.telegram.staff_access import StaffAccess
from storage.models import Idea
from tests.support import BOT_TOKEN, MANAGER_ID, MANAGERS_ONLY, STAFF_CHAT_ID, send

STRANGERS_CHAT_ID = -1002000000009
IDEA = "You should offer a family plan sharing data across 4 SIMs"
FILE_METHODS = ("sendDocument", "sendPhoto", "sendMediaGroup")


def staff_group(fake_api: FakeBotApi, *members: dict[str, Any]) -> None:
    fake_api.add_supergroup(
        STAFF_CHAT_ID, title="Care", is_forum=True, members=[m["id"] for m in members]
    )


def files_sent(fake_api: FakeBotApi) -> list[Any]:
    return [call for method in FILE_METHODS for call in fake_api.calls_to(method)]


async def idea_status(services: Services) -> str:
    async with services.db.session() as session:
        return (await session.exec(select(Idea))).one().status


async def an_idea(fake_api: FakeBotApi, bot: LocalBot, services: Services) -> None:
    await send(bot, fake_api.send_text(fake_api.new_user("Tom"), IDEA))
    assert await idea_status(services) == "new"


# 3. Manager commands only in a private chat ---------------------------------------------------


async def test_manager_commands_in_the_staff_chat_get_one_line_and_nothing_else(
    fake_api: FakeBotApi, services: Services
) -> None:
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    sara = fake_api.new_user("Sara")
    staff_group(fake_api, manager, sara)
    async with LocalBot(services) as bot:
        await an_idea(fake_api, bot, services)
        before = len(fake_api.messages_to(STAFF_CHAT_ID))
        for command in MANAGERS_ONLY:
            await send(bot, fake_api.send_text(manager, command, chat=STAFF_CHAT_ID))
        await send(bot, fake_api.send_text(sara, "/export", chat=STAFF_CHAT_ID))
        # Still served in the private chat.
        await send(bot, fake_api.send_text(manager, "/summary"))
    answers = fake_api.messages_to(STAFF_CHAT_ID)[before:]
    assert len(answers) == len(MANAGERS_ONLY) + 1
    assert all("private chat" in m["text"] for m in answers)
    assert not any("dashboard" in m["text"].lower() or "<pre>" in m["text"] for m in answers)
    assert not files_sent(fake_api)
    private = fake_api.messages_to(MANAGER_ID)
    assert len(private) == 1 and "tickets opened" in private[0]["text"]


# 4. Strangers' groups --------------------------------------------------------------------------


async def test_the_bot_leaves_a_group_that_is_not_a_staff_chat(
    fake_api: FakeBotApi, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = fake_api.new_user("Mallory")
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    async with LocalBot(services) as bot:
        with caplog.at_level(logging.INFO, logger="bot.handlers.membership"):
            await send(bot, fake_api.add_bot_to_group(STRANGERS_CHAT_ID, stranger))
            # Added to the staff chat, it stays.
            await send(bot, fake_api.add_bot_to_group(STAFF_CHAT_ID, manager, title="Care"))
    leaves = [c for c in fake_api.calls_to("leaveChat") if c.ok]
    assert [c.params["chat_id"] for c in leaves] == [STRANGERS_CHAT_ID]
    lines = [r.getMessage() for r in caplog.records if "leaving" in r.getMessage()]
    assert len(lines) == 1
    assert str(stranger["id"]) in lines[0] and str(STRANGERS_CHAT_ID) in lines[0]
    assert not fake_api.messages_to(STRANGERS_CHAT_ID)


async def test_nothing_said_in_a_strangers_group_is_answered(
    fake_api: FakeBotApi, services: Services
) -> None:
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    mallory = fake_api.new_user("Mallory")
    staff_group(fake_api)
    # A group the bot is already in (e.g. joined before this version).
    fake_api.add_supergroup(
        STRANGERS_CHAT_ID, title="Friends", is_forum=False, members=[manager["id"], mallory["id"]]
    )
    said = [
        (mallory, "/start"),
        (mallory, "/summary"),
        (mallory, "/status 1 planned"),
        (mallory, "My internet has been down since this morning"),
        (manager, "/export"),
        (manager, "/dashboard"),
        (manager, "/summary"),
        (manager, "/frobnicate"),
    ]
    async with LocalBot(services) as bot:
        for who, text in said:
            await send(bot, fake_api.send_text(who, text, chat=STRANGERS_CHAT_ID))
    assert not fake_api.messages_to(STRANGERS_CHAT_ID)
    assert not fake_api.calls_to("sendMessage") and not files_sent(fake_api)
    assert not fake_api.messages_to(STAFF_CHAT_ID)


# 5. Staff rights follow chat_member updates ---------------------------------------------------


@pytest.mark.parametrize("how", ["left", "kicked", "restricted"])
async def test_removed_staff_lose_their_rights_at_once(
    fake_api: FakeBotApi, services: Services, how: str
) -> None:
    sara = fake_api.new_user("Sara")
    admin = fake_api.new_user("Boss")
    staff_group(fake_api, sara, admin)
    async with LocalBot(services) as bot:
        await an_idea(fake_api, bot, services)
        await send(bot, fake_api.send_text(sara, "/status 1 planned"))
        assert await idea_status(services) == "planned"  # staff: allowed, and cached
        if how == "restricted":
            update = fake_api.restrict_member(STAFF_CHAT_ID, sara, by=admin)
        else:
            update = fake_api.remove_member(
                STAFF_CHAT_ID, sara, kicked=how == "kicked", by=None if how == "left" else admin
            )
        assert update is not None
        await send(bot, update)
        await send(bot, fake_api.send_text(sara, "/status 1 done"))
    assert await idea_status(services) == "planned"
    assert "Only staff and managers" in fake_api.messages_to(sara["id"])[-1]["text"]


async def test_new_staff_get_their_rights_at_once(fake_api: FakeBotApi, services: Services) -> None:
    bob = fake_api.new_user("Bob")
    staff_group(fake_api)
    async with LocalBot(services) as bot:
        await an_idea(fake_api, bot, services)
        await send(bot, fake_api.send_text(bob, "/status 1 planned"))
        assert await idea_status(services) == "new"  # not staff yet: refused, and cached
        update = fake_api.add_member(STAFF_CHAT_ID, bob)
        assert update is not None
        await send(bot, update)
        await send(bot, fake_api.send_text(bob, "/status 1 planned"))
    assert await idea_status(services) == "planned"


async def test_without_updates_a_removal_counts_within_a_minute(fake_api: FakeBotApi) -> None:
    sara = fake_api.new_user("Sara")
    staff_group(fake_api, sara)
    now = [1000.0]
    async with Bot(BOT_TOKEN, base_url=fake_api.base_url) as bot:
        assert StaffAccess(bot, frozenset({STAFF_CHAT_ID})).ttl <= 60
        access = StaffAccess(bot, frozenset({STAFF_CHAT_ID}), monotonic=lambda: now[0])
        assert await access.is_staff(sara["id"])
        # The bot is not told (not an administrator, or another instance got the update).
        assert fake_api.remove_member(STAFF_CHAT_ID, sara, kicked=True, announce=False) is None
        assert (await bot.get_chat_member(STAFF_CHAT_ID, sara["id"])).status == "kicked"
        now[0] += 59
        assert await access.is_staff(sara["id"])  # still the cached answer
        now[0] += 2
        assert not await access.is_staff(sara["id"])


async def test_the_fake_server_reports_restricted_members(fake_api: FakeBotApi) -> None:
    sara = fake_api.new_user("Sara")
    staff_group(fake_api, sara)
    update = fake_api.restrict_member(STAFF_CHAT_ID, sara)
    assert update is not None
    assert update["chat_member"]["old_chat_member"]["status"] == "member"
    assert update["chat_member"]["new_chat_member"]["status"] == "restricted"
    async with Bot(BOT_TOKEN, base_url=fake_api.base_url) as bot:
        member = await bot.get_chat_member(STAFF_CHAT_ID, sara["id"])
    assert member.status == "restricted"
