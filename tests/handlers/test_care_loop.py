"""The care loop through the real Application and the fake Bot API: ticket, reply, note,
resolution, rating, reopening; with forum topics and without."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import Label, Rating, Ticket, TicketMessage
from tests.support import STAFF_CHAT_ID, button_with, buttons, send, staff_member

ITALIAN_PROBLEM = (
    "Buongiorno, da tre giorni la fibra a casa non funziona e il modem ha la luce rossa fissa. "
    "Lavoro da casa, è urgente!"
)


@pytest.mark.parametrize("forum", [True, False], ids=["forum-topics", "plain-group"])
async def test_italian_problem_through_the_whole_loop(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock, forum: bool
) -> None:
    staff = fake_api.new_user("Sara", language_code="it")
    fake_api.add_supergroup(
        STAFF_CHAT_ID, title="Assistenza", is_forum=forum, members=[staff["id"]]
    )
    customer = fake_api.new_user("Giulia", last_name="Romano", language_code="it")

    async with LocalBot(services) as bot:
        # The customer reports a problem in Italian.
        await send(bot, fake_api.send_text(customer, ITALIAN_PROBLEM))
        ack = fake_api.messages_to(customer["id"])[-1]["text"]
        assert "T-00001" in ack and "minuti" in ack

        # A topic opens (or, without topics, a card is posted) with the card and its buttons.
        topics = fake_api.calls_to("createForumTopic")
        card = fake_api.messages_to(STAFF_CHAT_ID)[0]
        assert "T-00001" in card["text"] and ITALIAN_PROBLEM in card["text"]
        assert {"t:claim:1", "t:resolve:1", "t:relabel:1"} <= set(buttons(card).values())
        if forum:
            assert topics and topics[-1].ok
            thread = card["message_thread_id"]
            where: dict[str, Any] = {"message_thread_id": thread}
        else:
            assert topics and not topics[-1].ok  # "the chat is not a forum": fallback to a card
            assert "message_thread_id" not in card
            where = {"reply_to_message": card}

        # Staff reply; the customer receives it signed by the team, not by Sara.
        clock.advance(minutes=12)
        await send(
            bot,
            fake_api.send_text(
                staff,
                "Ciao Giulia, riavvia il modem tenendo premuto reset 10 secondi.",
                chat=STAFF_CHAT_ID,
                **where,
            ),
        )
        reply = fake_api.messages_to(customer["id"])[-1]["text"]
        assert "riavvia il modem" in reply
        assert services.settings.team_name in reply and "Sara" not in reply

        # An internal note is not relayed.
        sent_before = len(fake_api.messages_to(customer["id"]))
        await send(
            bot,
            fake_api.send_text(staff, "! cliente già chiamato ieri", chat=STAFF_CHAT_ID, **where),
        )
        await send(
            bot,
            fake_api.send_text(staff, "/note controllare la linea", chat=STAFF_CHAT_ID, **where),
        )
        assert len(fake_api.messages_to(customer["id"])) == sent_before

        # Staff resolve; the customer is asked to rate.
        clock.advance(minutes=30)
        await send(bot, fake_api.press_button(staff, card, "t:resolve:1"))
        if forum:
            assert fake_api.calls_to("closeForumTopic")
        ask = fake_api.messages_to(customer["id"])[-1]
        assert "T-00001" in ask["text"]
        two = button_with(ask, "r:1:2")

        # The customer rates 2: the ticket reopens and staff are told.
        await send(bot, fake_api.press_button(customer, ask, two))
        told = fake_api.messages_to(STAFF_CHAT_ID)[-1]
        assert "2/5" in told["text"]
        if forum:
            assert told.get("message_thread_id") == thread
            assert fake_api.calls_to("reopenForumTopic")

    async with services.db.session() as session:
        ticket = (await session.exec(select(Ticket))).one()
        notes = (
            await session.exec(select(TicketMessage).where(TicketMessage.author == "note"))
        ).all()
        rating = (await session.exec(select(Rating))).one()
    assert ticket.status == "open" and ticket.reopened_count == 1
    assert ticket.first_response_seconds == 12 * 60
    assert ticket.resolution_seconds == 42 * 60
    assert sorted(n.text for n in notes) == ["cliente già chiamato ieri", "controllare la linea"]
    assert rating.score == 2 and rating.ticket_id == ticket.id


async def test_response_and_resolution_times_are_exact(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff = fake_api.new_user("Dan")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"]])
    customer = fake_api.new_user("Tom")
    opened = clock.now()
    async with LocalBot(services) as bot:
        await send(
            bot,
            fake_api.send_text(
                customer, "I was charged twice for October, please refund one of the payments"
            ),
        )
        card = fake_api.messages_to(STAFF_CHAT_ID)[0]
        thread = card["message_thread_id"]
        clock.advance(seconds=437)
        await send(
            bot,
            fake_api.send_text(
                staff, "/note checking the ledger", chat=STAFF_CHAT_ID, message_thread_id=thread
            ),
        )
        clock.advance(seconds=100)
        await send(
            bot,
            fake_api.send_text(
                staff, "Refund issued.", chat=STAFF_CHAT_ID, message_thread_id=thread
            ),
        )
        clock.advance(seconds=50)
        await send(
            bot,
            fake_api.send_text(
                staff, "Anything else?", chat=STAFF_CHAT_ID, message_thread_id=thread
            ),
        )
        clock.advance(timedelta(hours=2))
        await send(bot, fake_api.press_button(staff, card, "t:resolve:1"))
    async with services.db.session() as session:
        ticket = (await session.exec(select(Ticket))).one()
    assert ticket.first_response_at == opened + timedelta(seconds=537)
    assert ticket.first_response_seconds == 537  # the note is not a response
    assert ticket.resolved_at == opened + timedelta(seconds=587, hours=2)
    assert ticket.resolution_seconds == 587 + 7200


async def test_forged_buttons_from_non_staff_change_nothing(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_member(fake_api)
    customer = fake_api.new_user("Marco", language_code="it")
    intruder = fake_api.new_user("Mallory")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, "Non ho segnale in casa da tre giorni!"))
        card = fake_api.messages_to(STAFF_CHAT_ID)[0]
        async with services.db.session() as session:
            topic_before = (await session.exec(select(Ticket))).one().topic
        for data in ("t:claim:1", "t:resolve:1", "t:kind:1:idea", "t:topic:1:billing"):
            await send(bot, fake_api.press_button(intruder, card, data))
            await send(bot, fake_api.press_button(customer, card, data))
    async with services.db.session() as session:
        ticket = (await session.exec(select(Ticket))).one()
        labels = (await session.exec(select(Label))).all()
    assert ticket.status == "open" and ticket.assignee_id is None
    assert ticket.topic == topic_before and labels == []
    answers = fake_api.calls_to("answerCallbackQuery")
    assert len(answers) == 8 and all(a.params.get("show_alert") for a in answers)
    assert fake_api.calls_to("closeForumTopic") == []


@pytest.mark.parametrize(
    "text",
    [
        "Bolletta <b>sbagliata</b> & doppio: 5 < 10 > 3 *grassetto* _corsivo_ `code` [x](y)",
        "I was charged twice: الفاتورة خاطئة، تم خصم المبلغ مرتين 😡🙏 please help",
        "My internet is down. " + "Still no connection after the restart, nothing works. " * 80,
    ],
    ids=["markup", "rtl-emoji", "4096"],
)
async def test_customer_text_reaches_staff_intact(
    fake_api: FakeBotApi, services: Services, text: str
) -> None:
    if len(text) > 4096:
        text = text[:4096]
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[])
    customer = fake_api.new_user("Aisha")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, text))
    sent = [m["text"] for m in fake_api.messages_to(STAFF_CHAT_ID)]
    assert [c for c in fake_api.calls if not c.ok and c.method == "sendMessage"] == []
    # Every character arrives; a long text goes on in replies, each piece marked as continued.
    parts = [sent[0].split("\n\n", 1)[1], *sent[1:]]
    body = "".join(p.removeprefix("[…] ").removesuffix(" […]") for p in parts)
    assert body == text
    if len(text) == 4096:
        assert len(sent) >= 2 and sent[0].endswith("[…]")
