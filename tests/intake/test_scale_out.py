"""Scaling out: two real `feedbackbot web` processes on one database, the updates of the same
few chats posted to them alternately, fast, so that each chat's consecutive updates reach
different processes. A chat is worked on by one process at a time: every message is stored
once, joins its customer's one open ticket in the order it was sent, and is acknowledged once;
a staff "Resolve" and a "Reopen" racing the customer's next messages leave one open ticket."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiohttp
from sqlmodel import col, func, select

from bot.sandbox.fake_api import FakeBotApi
from storage.db import Database
from storage.models import (
    Customer,
    DeadLetter,
    Feedback,
    InboxUpdate,
    MessageAuthor,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from tests.support import BOT_TOKEN, STAFF_CHAT_ID, buttons, staff_member
from tests.support.processes import Processes, free_port, healthy

SECRET = "scale-out-secret"
# An odd number of chats posted round-robin to two processes: each chat's next update goes to
# the other process.
CUSTOMERS = 5
FIRST_ROUNDS = 6
LATER_ROUNDS = 4
CARE = [
    "My internet has been down since this morning and the modem light is red",
    "I was charged twice on my last bill, please refund me",
    "The app crashes every time I open my invoices",
    "My mobile data stopped working after the update",
    "I can't log in to my account, the password reset email never arrives",
    "Still no connection, I restarted the router again",
    "It is still broken, please help me",
    "Any news? I still cannot use the service",
    "The technician never came for the appointment",
]


async def scalar(db: Database, statement: Any) -> Any:
    async with db.read() as session:
        return (await session.exec(statement)).one()


async def all_processed(db: Database) -> bool:
    pending = select(func.count()).select_from(InboxUpdate)
    return int(await scalar(db, pending.where(col(InboxUpdate.processed_at).is_(None)))) == 0


def acknowledged(fake_api: FakeBotApi, customer: dict[str, Any]) -> Counter[int]:
    """How many answers each of the customer's messages got (answers reply to it)."""
    return Counter(
        m["reply_to_message"]["message_id"]
        for m in fake_api.messages_to(customer["id"])
        if "reply_to_message" in m
    )


async def test_two_web_processes_keep_each_chat_in_order(
    fake_api: FakeBotApi, db: Database, processes: Processes
) -> None:
    staff = staff_member(fake_api)
    env = {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": fake_api.base_url,
        "DATABASE_URL": db.url,
        "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
        # Telegram would deliver to one URL; here nothing listens there and the test posts
        # each update itself, to one process or the other, as a load balancer would.
        "WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/tg/hook",
        "WEBHOOK_SECRET": SECRET,
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT": "false",
        "STAFF_BURST_PER_MINUTE": "1000",
        "FLOOD_LIMIT_PER_MINUTE": "1000",
        "INCIDENT_MIN_REPORTS": "0",  # alike reports from many customers stay tickets apart
    }
    for _ in range(2):
        processes.start_web(env)
    async with aiohttp.ClientSession() as http:
        await processes.until(
            lambda: healthy(http, processes.ports), "both web processes healthy", 60
        )
        posted = 0

        async def post(raw: dict[str, Any]) -> None:
            nonlocal posted
            port = processes.ports[posted % 2]
            posted += 1
            async with http.post(
                f"http://127.0.0.1:{port}/tg/hook",
                json=raw,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            ) as response:
                assert response.status == 200, await response.text()

        customers = [fake_api.new_user(f"Customer {n}") for n in range(CUSTOMERS)]
        sent: dict[int, list[dict[str, Any]]] = {c["id"]: [] for c in customers}

        async def rounds(first: int, count: int, also: list[dict[str, Any]] | None = None) -> None:
            # A round is one message from every customer, posted together (the processes
            # store and claim them at the same moments); rounds follow each other as fast as
            # the webhook answers, without waiting for anything to be processed.
            for r in range(first, first + count):
                batch = [
                    fake_api.send_text(c, f"{CARE[(n + r) % len(CARE)]} (message {r + 1})")
                    for n, c in enumerate(customers)
                ]
                for c, raw in zip(customers, batch, strict=True):
                    sent[c["id"]].append(raw)
                if also and r == first:
                    batch += also
                await asyncio.gather(*(post(raw) for raw in batch))

        # 1. Interleaved care requests: each customer's first message opens a ticket, the
        #    others join it.
        await rounds(0, FIRST_ROUNDS)
        await processes.until(lambda: all_processed(db), "every update processed")
        async with db.read() as session:
            tickets = list((await session.exec(select(Ticket).order_by(col(Ticket.id)))).all())
        assert len(tickets) == CUSTOMERS, [(t.id, t.customer_id) for t in tickets]

        # 2. Staff resolve every ticket from its card (posted to either process).
        async def cards_up() -> bool:
            return all(card_of(fake_api, t.id or 0) is not None for t in tickets)

        await processes.until(cards_up, "a card for every ticket in the staff chat")
        cards: dict[int | None, dict[str, Any]] = {}
        for ticket in tickets:
            card = card_of(fake_api, ticket.id or 0)
            assert card is not None
            cards[ticket.id] = card
        for ticket in tickets:
            await post(fake_api.press_button(staff, cards[ticket.id], f"t:resolve:{ticket.id}"))
        await processes.until(lambda: all_processed(db), "the resolutions processed")
        resolved = select(func.count()).select_from(Ticket)
        resolved = resolved.where(col(Ticket.status) == TicketStatus.RESOLVED)
        assert await scalar(db, resolved) == CUSTOMERS

        # 3. The customers write again while staff press Reopen on their old tickets: each
        #    customer ends with one open ticket (the reopened one, or a new one), never two.
        reopen = [fake_api.press_button(staff, cards[t.id], f"t:reopen:{t.id}") for t in tickets]
        await rounds(FIRST_ROUNDS, LATER_ROUNDS, also=reopen)
        await processes.until(lambda: all_processed(db), "every update processed")

        async def all_acknowledged() -> bool:
            return all(
                len(acknowledged(fake_api, c)) == FIRST_ROUNDS + LATER_ROUNDS for c in customers
            )

        await processes.until(all_acknowledged, "an acknowledgement for every message")

    async with db.read() as session:
        dead = (await session.exec(select(DeadLetter))).all()
        assert dead == [], [(d.kind, d.item_id, d.error) for d in dead]
        for customer in customers:
            messages = sent[customer["id"]]
            row = (
                await session.exec(
                    select(Customer).where(Customer.telegram_user_id == customer["id"])
                )
            ).one()
            stored = list(
                (
                    await session.exec(
                        select(Feedback)
                        .where(Feedback.customer_id == row.id)
                        .order_by(col(Feedback.id))
                    )
                ).all()
            )
            # Stored once each, in the order sent.
            claims = (
                await session.exec(
                    select(InboxUpdate.update_id, InboxUpdate.claimed_by, InboxUpdate.processed_at)
                    .where(InboxUpdate.chat_id == customer["id"])
                    .order_by(col(InboxUpdate.update_id))
                )
            ).all()
            assert [f.message_id for f in stored] == [
                m["message"]["message_id"] for m in messages
            ], (claims, [(f.id, f.message_id, f.created_at) for f in stored])
            assert all(f.kind == "care" and f.routed_at is not None for f in stored)
            mine = list(
                (
                    await session.exec(
                        select(Ticket).where(Ticket.customer_id == row.id).order_by(col(Ticket.id))
                    )
                ).all()
            )
            still_open = [t for t in mine if t.status == TicketStatus.OPEN]
            assert len(still_open) == 1, [(t.id, t.status) for t in mine]
            # The first messages are in the first ticket; the later ones in the open one.
            first, now_open = mine[0], still_open[0]
            assert {f.ticket_id for f in stored[:FIRST_ROUNDS]} == {first.id}
            assert {f.ticket_id for f in stored[FIRST_ROUNDS:]} == {now_open.id}
            # Each appended to its ticket once, in the order sent.
            appended = list(
                (
                    await session.exec(
                        select(TicketMessage.feedback_id)
                        .where(
                            col(TicketMessage.ticket_id).in_([t.id for t in mine]),
                            TicketMessage.author == MessageAuthor.CUSTOMER,
                        )
                        .order_by(col(TicketMessage.id))
                    )
                ).all()
            )
            assert appended == [f.id for f in stored]
            # One acknowledgement per message: none missing, none twice.
            counts = acknowledged(fake_api, customer)
            assert counts == Counter(m["message"]["message_id"] for m in messages), counts


def card_of(fake_api: FakeBotApi, ticket_id: int) -> dict[str, Any] | None:
    """The ticket's card in the staff chat (the message with its Resolve button)."""
    for message in reversed(fake_api.messages_to(STAFF_CHAT_ID)):
        if f"t:resolve:{ticket_id}" in buttons(message).values():
            return message
    return None
