"""Property-based fuzzing of what Telegram may send: any text, odd shapes, stray buttons.

Whatever arrives, the bot does not crash, every update is processed exactly once, and a
customer who wrote something gets an answer.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import InboxUpdate
from tests.support import STAFF_CHAT_ID

_message_ids = itertools.count(10_000)

texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=4096),
    st.sampled_from(
        [
            "",
            " ",
            "😀😀😀",
            "<b>bold</b> & <script>",
            "/start extra args",
            "/unknowncommand",
            "/idea 99999",
            "/comment x",
            "/rate",
            "‏مرحبا، الفاتورة خاطئة",
            "\u0000\u200b\ufeff",
            "a" * 4096,
        ]
    ),
)
callback_data = st.one_of(
    st.text(max_size=64),
    st.sampled_from(["r:0:5", "r:1:9", "t:claim:1", "is:1:done", "iv:1:0", "ix:1:new", "k:care:1"]),
)


@st.composite
def update(draw: st.DrawFn, user: dict[str, Any]) -> dict[str, Any]:
    """One raw update from this user, of a random shape."""
    chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": 1_790_000_000,
        "chat": chat,
        "from": user,
    }
    shape = draw(st.sampled_from(["text", "caption", "sticker", "edit", "button", "group", "odd"]))
    if shape == "text":
        text = draw(texts)
        if not text:
            text = "."
        message["text"] = text
        if text.startswith("/"):
            length = len(text.split()[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"message": message}
    if shape == "caption":
        message["photo"] = [{"file_id": "x", "file_unique_id": "x", "width": 1, "height": 1}]
        caption = draw(st.text(max_size=1024))
        if caption:
            message["caption"] = caption
        return {"message": message}
    if shape == "sticker":
        message["sticker"] = {
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return {"message": message}
    if shape == "edit":
        message["text"] = draw(texts) or "."
        message["edit_date"] = 1_790_000_100
        return {"edited_message": message}
    if shape == "button":
        message["from"] = {"id": 1, "is_bot": True, "first_name": "Bot"}
        message["text"] = "an old message"
        return {
            "callback_query": {
                "id": str(next(_message_ids)),
                "from": user,
                "chat_instance": "1",
                "message": message,
                "data": draw(callback_data),
            }
        }
    if shape == "group":
        message["chat"] = {"id": STAFF_CHAT_ID, "type": "supergroup", "title": "Care"}
        message["text"] = draw(texts) or "."
        return {"message": message}
    return {"message_reaction": {"chat": chat, "message_id": 1, "date": 0}}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_nothing_crashes_and_nothing_is_lost(
    data: st.DataObject, fake_api: FakeBotApi, services: Services
) -> None:
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
    user = fake_api.new_user(data.draw(st.text(min_size=1, max_size=64), label="first name"))
    start = fake_api.send_text(user, "/start")  # the chat exists and the bot may write to it
    raw = data.draw(st.lists(update(user), min_size=1, max_size=8), label="updates")
    pushed = [fake_api.push_update(u) for u in raw]  # ids in order, as Telegram gives them
    async with LocalBot(services) as bot:
        await bot.processed(start["update_id"])  # its greeting is counted below
        for update_ in pushed:
            if "message_reaction" in update_:
                continue  # not asked for: Telegram never delivers it
            await bot.processed(update_["update_id"])
    ids = [u["update_id"] for u in pushed if "message_reaction" not in u]
    async with services.db.session() as session:
        rows = (
            await session.exec(select(InboxUpdate).where(col(InboxUpdate.update_id).in_(ids)))
        ).all()
    assert len(rows) == len(ids)
    assert all(r.processed_at is not None and r.last_error is None for r in rows)
    wrote = [u for u in pushed if "message" in u and u["message"]["chat"]["type"] == "private"]
    if wrote:
        assert len(fake_api.messages_to(user["id"])) > 1, "a customer who wrote heard nothing"
