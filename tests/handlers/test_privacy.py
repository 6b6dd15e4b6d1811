"""Privacy through the real Application and the fake Bot API: /forget leaves nothing of the
customer in any table (raw inbox and outbox copies included) and renames their staff topic;
/mydata shows what is the customer's own, staff names only when they are shown anyway."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import inspect, text

from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from tests.support import STAFF_CHAT_ID, button_with, make_settings, send

PROBLEM = 'The invoice of October is wrong: you charged me 40 € more & "twice" <again>'
MORE = "Also the modem at Via Garibaldi 12 blinks red since yesterday and nothing works"
# Longer than one message: staff get it in two, the second a reply to the first.
LONG = MORE + ". " + "The line drops every few minutes, then comes back. " * 90 + "Zanzibar."
REPLY = "Hi Giulia, we refunded the 40 € and will send a technician"


async def until(condition: Callable[[], Any], *, timeout: float = 10.0) -> Any:
    """Wait for a condition on what the fake server saw; its value once true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := condition()):
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
    return value


async def dump(services: Services) -> list[tuple[str, str, str]]:
    """Every row of every table in the database, as (table, column, value as text)."""
    found: list[tuple[str, str, str]] = []
    async with services.db.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        assert {"customer", "inbox", "outbox", "feedback", "ticket"} <= set(names)
        for name in names:
            result = await conn.execute(text(f'SELECT * FROM "{name}"'))
            columns = list(result.keys())
            for row in result.all():
                found += [(name, c, str(v)) for c, v in zip(columns, row, strict=True)]
    return found


def staff_and_customer(
    fake_api: FakeBotApi, *, forum: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    staff = fake_api.new_user("Sara", last_name="Bianchi")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=forum, members=[staff["id"]])
    customer = fake_api.new_user(
        "Giulia", last_name="Romano", username="giuliar", language_code="en"
    )
    return staff, customer


async def open_and_answer(
    fake_api: FakeBotApi,
    bot: LocalBot,
    staff: dict[str, Any],
    customer: dict[str, Any],
    *,
    more: str = MORE,
) -> dict[str, Any]:
    """The customer reports a problem and adds to it, staff claim it and reply in its topic
    (or to its card); the staff card."""
    await send(bot, fake_api.send_text(customer, "/start"))
    await send(bot, fake_api.send_text(customer, PROBLEM))
    card = await until(
        lambda: next(
            (m for m in fake_api.messages_to(STAFF_CHAT_ID) if "T-00001" in m.get("text", "")),
            None,
        )
    )
    await send(bot, fake_api.send_text(customer, more))
    tail = more.split()[-1]
    await until(lambda: any(tail in m.get("text", "") for m in fake_api.messages_to(STAFF_CHAT_ID)))
    await send(bot, fake_api.press_button(staff, card, "t:claim:1"))
    where: dict[str, Any] = (
        {"message_thread_id": card["message_thread_id"]}
        if "message_thread_id" in card
        else {"reply_to_message": card}
    )
    await send(bot, fake_api.send_text(staff, REPLY, chat=STAFF_CHAT_ID, **where))
    await until(
        lambda: any("technician" in m["text"] for m in fake_api.messages_to(customer["id"]))
    )
    return card


@pytest.mark.parametrize("forum", [True, False], ids=["forum-topics", "plain-group"])
async def test_forget_leaves_nothing_of_the_customer_in_any_table(
    fake_api: FakeBotApi, services: Services, forum: bool
) -> None:
    staff, customer = staff_and_customer(fake_api, forum=forum)
    async with LocalBot(services) as bot:
        card = await open_and_answer(fake_api, bot, staff, customer, more=LONG)
        thread = card.get("message_thread_id")
        if forum:
            assert thread is not None
            assert "Giulia" in fake_api.topics(STAFF_CHAT_ID)[thread]["name"]

        before = await dump(services)
        personal = ["Giulia", "Romano", "giuliar", str(customer["id"]), "Garibaldi", "technician"]
        # The copies are there to be erased: raw updates, staff cards, greetings, the reply.
        assert {t for t, _, v in before if any(p in v for p in personal)} >= {
            "customer",
            "feedback",
            "inbox",
            "outbox",
            "ticketmessage",
        }

        # The long message reached staff in two pieces, the second without its beginning.
        pieces = [m for m in fake_api.messages_to(STAFF_CHAT_ID) if "comes back" in m["text"]]
        assert len(pieces) == 2 and "Zanzibar" in pieces[1]["text"]
        assert "Garibaldi" not in pieces[1]["text"]

        # Cancelled: nothing is erased, the topic keeps its name.
        await send(bot, fake_api.send_text(customer, "/forget"))
        confirm = fake_api.messages_to(customer["id"])[-1]
        await send(bot, fake_api.press_button(customer, confirm, "f:no"))
        assert not fake_api.calls_to("editForumTopic")
        assert any("Garibaldi" in v for t, _, v in await dump(services) if t == "feedback")

        await send(bot, fake_api.send_text(customer, "/forget"))
        confirm = fake_api.messages_to(customer["id"])[-1]
        await send(bot, fake_api.press_button(customer, confirm, button_with(confirm, "f:yes")))
        assert "erased" in fake_api.messages_to(customer["id"])[-1]["text"]

    after = await dump(services)
    needles = [
        *personal,
        "Zanzibar",
        "comes back",
        PROBLEM[:20],
        json.dumps(PROBLEM)[1:21],
        "40 € more",
        "€ more &amp;",
    ]
    leaks = [(t, c, v[:80]) for t, c, v in after if any(n in v for n in needles)]
    assert leaks == []
    renamed = [c for c in fake_api.calls_to("editForumTopic") if c.ok]
    if forum:
        assert [(c.params["message_thread_id"], c.params["name"]) for c in renamed] == [
            (thread, "T-00001")
        ]
        assert fake_api.topics(STAFF_CHAT_ID)[thread]["name"] == "T-00001"
    else:
        assert not fake_api.calls_to("editForumTopic")

    # Rows stay, so that counts and exactly-once stay true.
    assert (
        len([r for r in after if r[0] == "inbox" and r[1] == "update_id"])
        == len([r for r in before if r[0] == "inbox" and r[1] == "update_id"]) + 4
    )
    assert ("ticket", "id", "1") in after


@pytest.mark.parametrize("show_staff_names", [False, True], ids=["team-only", "staff-names"])
async def test_mydata_holds_only_what_is_the_customers_own(
    fake_api: FakeBotApi, services: Services, show_staff_names: bool
) -> None:
    settings = make_settings(fake_api, services.db.url, show_staff_names=show_staff_names)
    services = replace(services, settings=settings)
    staff, customer = staff_and_customer(fake_api)
    async with LocalBot(services) as bot:
        await open_and_answer(fake_api, bot, staff, customer)
        await send(bot, fake_api.send_text(customer, "/mydata"))
        document = await until(lambda: fake_api.calls_to("sendDocument"))
    raw = fake_api.file_content(document[-1]).decode("utf-8")
    data = json.loads(raw)

    # Their own: their names, their messages, their ticket and the answer they got.
    assert data["customer"]["first_name"] == "Giulia"
    assert [m["text"] for m in data["messages"]] == [PROBLEM, MORE]
    assert len(data["tickets"]) == 1
    assert any(m["text"] == REPLY for m in data["ticket_conversation"])
    # Not theirs: who on staff handled it and where staff work.
    assert str(staff["id"]) not in raw and str(STAFF_CHAT_ID) not in raw
    for field in ("assignee_id", "staff_chat_id", "staff_thread_id", "resolved_by"):
        assert field not in data["tickets"][0]
    assert all("author_user_id" not in m for m in data["ticket_conversation"])
    if show_staff_names:
        assert data["tickets"][0]["assignee_name"] == "Sara Bianchi"
    else:
        assert "assignee_name" not in data["tickets"][0] and "Sara" not in raw
