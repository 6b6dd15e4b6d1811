"""The fake Bot API answers python-telegram-bot as Telegram would: shapes, errors, faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter

from bot.sandbox.fake_api import FakeBotApi
from tests.support import BOT_TOKEN, STAFF_CHAT_ID


@pytest.fixture
async def bot(fake_api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(BOT_TOKEN, base_url=fake_api.base_url) as client:
        yield client


async def test_get_me_and_a_wrong_token(fake_api: FakeBotApi, bot: Bot) -> None:
    assert bot.username == fake_api.me["username"]
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with Bot("1:wrong", base_url=fake_api.base_url) as other:
            await other.get_me()


async def test_html_is_parsed_and_bad_html_refused(fake_api: FakeBotApi, bot: Bot) -> None:
    user = fake_api.new_user("Ann")
    fake_api.send_text(user, "hi")
    sent = await bot.send_message(
        user["id"], "<b>T-00001</b> &lt;ok&gt;", parse_mode=ParseMode.HTML
    )
    assert sent.text == "T-00001 <ok>"
    assert sent.entities[0].type == "bold" and sent.entities[0].length == 7
    with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
        await bot.send_message(user["id"], "<div>x</div>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can.t find end tag"):
        await bot.send_message(user["id"], "<b>x", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(user["id"], "😀" * 2049)  # 4,098 UTF-16 units
    assert await bot.send_message(user["id"], "😀" * 2048)


async def test_private_chats_need_a_start_and_blocking_forbids(
    fake_api: FakeBotApi, bot: Bot
) -> None:
    user = fake_api.new_user("Ben")
    with pytest.raises(Forbidden, match="initiate conversation"):
        await bot.send_message(user["id"], "hello")
    fake_api.send_text(user, "/start")
    await bot.send_message(user["id"], "hello")
    update = fake_api.block(user)
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(user["id"], "still there?")


async def test_updates_are_long_polled_and_confirmed_by_offset(
    fake_api: FakeBotApi, bot: Bot
) -> None:
    user = fake_api.new_user("Cleo")
    waiting = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    sent = fake_api.send_text(user, "/help")
    updates = await asyncio.wait_for(waiting, 3)
    assert [u.update_id for u in updates] == [sent["update_id"]]
    assert updates[0].message.text == "/help"
    assert updates[0].message.entities[0].type == "bot_command"
    again = await bot.get_updates(timeout=0)
    assert len(again) == 1  # not confirmed yet
    assert await bot.get_updates(offset=sent["update_id"] + 1, timeout=0) == ()
    assert fake_api.pending_updates == 0


async def test_forum_topics_and_plain_groups(fake_api: FakeBotApi, bot: Bot) -> None:
    fake_api.add_supergroup(STAFF_CHAT_ID, is_forum=True)
    topic = await bot.create_forum_topic(STAFF_CHAT_ID, "T-00001 · billing")
    card = await bot.send_message(
        STAFF_CHAT_ID,
        "card",
        message_thread_id=topic.message_thread_id,
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Claim", callback_data="t:1")]]),
    )
    assert card.message_thread_id == topic.message_thread_id and card.is_topic_message
    assert await bot.close_forum_topic(STAFF_CHAT_ID, topic.message_thread_id)
    assert fake_api.is_topic_closed(STAFF_CHAT_ID, topic.message_thread_id)
    assert await bot.reopen_forum_topic(STAFF_CHAT_ID, topic.message_thread_id)
    with pytest.raises(BadRequest, match="thread not found"):
        await bot.send_message(STAFF_CHAT_ID, "x", message_thread_id=9999)

    fake_api.add_supergroup(-1002, is_forum=False)
    with pytest.raises(BadRequest, match="not a forum"):
        await bot.create_forum_topic(-1002, "T-00002")


async def test_buttons_edits_and_copies(fake_api: FakeBotApi, bot: Bot) -> None:
    user = fake_api.new_user("Dora")
    fake_api.send_text(user, "hi")
    fake_api.add_supergroup(STAFF_CHAT_ID, is_forum=False, members=[user["id"]])
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("5", callback_data="r:1:5")]])
    asked = await bot.send_message(user["id"], "Rate us", reply_markup=markup)
    press = fake_api.press_button(user, fake_api.messages_to(user["id"])[-1], "r:1:5")
    assert press["callback_query"]["message"]["message_id"] == asked.message_id
    await bot.edit_message_text("Thanks!", chat_id=user["id"], message_id=asked.message_id)
    assert fake_api.messages_to(user["id"])[-1]["text"] == "Thanks!"
    assert "reply_markup" not in fake_api.messages_to(user["id"])[-1]
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Thanks!", chat_id=user["id"], message_id=asked.message_id)
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
        await bot.send_message(user["id"], "x", reply_markup=too_long)
    photo = fake_api.send_photo(user, caption="my router")
    copied = await bot.copy_message(STAFF_CHAT_ID, user["id"], photo["message"]["message_id"])
    staff_copy = fake_api.messages_to(STAFF_CHAT_ID)[-1]
    assert staff_copy["message_id"] == copied.message_id and staff_copy["caption"] == "my router"
    member = await bot.get_chat_member(STAFF_CHAT_ID, user["id"])
    assert member.status == "member"
    stranger = fake_api.new_user("Eve")
    assert (await bot.get_chat_member(STAFF_CHAT_ID, stranger["id"])).status == "left"


async def test_documents_are_kept(fake_api: FakeBotApi, bot: Bot) -> None:
    user = fake_api.new_user("Finn")
    fake_api.send_text(user, "/mydata")
    await bot.send_document(user["id"], b'{"a": 1}', filename="my-data.json", caption="Your data")
    call = fake_api.calls_to("sendDocument")[-1]
    assert fake_api.file_content(call) == b'{"a": 1}'
    assert fake_api.messages_to(user["id"])[-1]["document"]["file_name"] == "my-data.json"


async def test_faults_on_demand(fake_api: FakeBotApi, bot: Bot) -> None:
    user = fake_api.new_user("Gus")
    fake_api.send_text(user, "hi")
    fake_api.fail("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(user["id"], "one")
    assert caught.value.retry_after in (3, __import__("datetime").timedelta(seconds=3))
    fake_api.fail("sendMessage", status=502)
    with pytest.raises(NetworkError):
        await bot.send_message(user["id"], "two")
    await bot.send_message(user["id"], "three")
    assert [c.ok for c in fake_api.calls_to("sendMessage")] == [False, False, True]

    fake_api.enforce_limits()
    fake_api.add_supergroup(STAFF_CHAT_ID, is_forum=False)
    with pytest.raises(RetryAfter):
        for n in range(25):
            await bot.send_message(STAFF_CHAT_ID, f"burst {n}")
    assert len(fake_api.messages_to(STAFF_CHAT_ID)) == 20


async def test_a_second_poller_ends_the_first(fake_api: FakeBotApi, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    async with aiohttp.ClientSession() as http:  # another instance of the bot, elsewhere
        url = f"{fake_api.base_url}{BOT_TOKEN}/getUpdates"
        async with http.post(url, json={"timeout": 0}) as response:
            assert (await response.json()) == {"ok": True, "result": []}
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 3)
