"""The staff side of tickets in Telegram: rounds of posting to each staff chat at the pace its
limit allows (new tickets' cards, a digest of those that must wait, customers' further
messages); the cards themselves are drawn by ``cards``."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest

from bot.core.process import process_identity
from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.domain.answers import waiting_offers
from bot.staff_chat.cards import PRIORITY_ICONS, TicketCards
from bot.staff_chat.incidents import IncidentDesk
from bot.telegram.text import escape, join_lines, shorten
from storage.customers import get_customer
from storage.incidents import open_incidents
from storage.models import Ticket, TicketMessage
from storage.staff_queue import (
    clear_due,
    digest_entries,
    due_follow_ups,
    follow_up_feedback,
    give_chat_turn_back,
    mark_digested,
    pending_tickets,
    sends_since,
    take_chat_turn,
)
from storage.tickets import record_staff_copy

log = logging.getLogger(__name__)

# How long a process may hold a staff chat for one round of posting (a round under the
# group's 20-a-minute limit takes up to a minute); a crashed holder's turn runs out.
_CHAT_TURN = timedelta(minutes=2)
# Tickets that cannot get their card at once wait this long before they are announced in a
# digest, so that the tickets of one burst share one digest.
DIGEST_AFTER = timedelta(seconds=15)
# Telegram's limit for one group: messages (and topics opened) a minute.
GROUP_LIMIT_PER_MINUTE = 20


class StaffDesk(TicketCards):
    """Posts tickets and their messages to the staff chat and keeps the card current."""

    def __init__(self, services: Services, messenger: Messenger, bot: Bot) -> None:
        super().__init__(services, messenger, bot)
        self.owner = process_identity()
        self.incidents = IncidentDesk(services, messenger, bot)

    async def flush_backlog(self) -> tuple[int, int]:
        """One round of posting to the staff chats, each at its own pace: the cards of new
        tickets as the chat's per-minute budget allows (those that cannot open now announced
        together in one digest), then customers' further messages. Returns (tickets
        announced in a digest, cards opened)."""
        settings = self.services.settings
        async with self.services.db.session() as session:
            waiting = await pending_tickets(session=session)
            due = await due_follow_ups(session=session)
            incidents = await open_incidents(session=session)
        chats: dict[int, tuple[list[Ticket], list[tuple[Ticket, TicketMessage]]]] = {}
        for incident in incidents:
            chat_id = settings.staff_chat_for(incident.topic)
            if chat_id is not None:
                chats.setdefault(chat_id, ([], []))
        for ticket in waiting:
            chat_id = settings.staff_chat_for(ticket.topic)
            if chat_id is not None:
                chats.setdefault(chat_id, ([], []))[0].append(ticket)
        for ticket, message in due:
            chat_id = ticket.staff_chat_id or settings.staff_chat_for(ticket.topic)
            if chat_id is not None:
                chats.setdefault(chat_id, ([], []))[1].append((ticket, message))
        # A ticket whose customer is reading suggested answers waits for their answer (or the
        # end of SELF_SERVICE_WAIT_MINUTES): no card, no digest.
        held = await waiting_offers(self.services, [t.id or 0 for t in waiting])
        for chat_work in chats.values():
            chat_work[0][:] = [t for t in chat_work[0] if t.id not in held]
        if not chats and waiting:
            log.warning("STAFF_CHAT_ID is not set; %d tickets are not routed", len(waiting))
        done = await asyncio.gather(
            *(self._flush_chat(chat_id, *work) for chat_id, work in chats.items())
        )
        return sum(d for d, _ in done), sum(o for _, o in done)

    async def _flush_chat(
        self,
        chat_id: int,
        waiting: list[Ticket],
        due: list[tuple[Ticket, TicketMessage]],
    ) -> tuple[int, int]:
        db, clock, settings = self.services.db, self.services.clock, self.services.settings
        async with db.session() as session:
            mine = await take_chat_turn(
                session=session,
                chat_id=chat_id,
                owner=self.owner,
                now=clock.now(),
                until=clock.now() + _CHAT_TURN,
            )
        if not mine:
            return 0, 0  # another process is posting to this chat
        try:
            # An incident's card comes first and may use the chat's whole limit: it stands for
            # every ticket of the fault. Tickets' cards keep within the budget.
            room = await self._room(chat_id)
            spare = GROUP_LIMIT_PER_MINUTE - (settings.staff_burst_per_minute - room)
            room -= await self.incidents.draw_cards(chat_id, max(0, spare))
            cards_now = max(0, room // 2)  # a card may take two calls: its topic and itself
            # Announced together once they have waited a moment: a burst is one digest.
            settled = clock.now() - DIGEST_AFTER
            later = [
                tk
                for tk in waiting[cards_now:]
                if tk.staff_digested_at is None
                and tk.staff_pending_since is not None
                and tk.staff_pending_since <= settled
            ]
            digested = await self._digest(chat_id, later) if later else 0
            opened = 0
            for ticket in waiting[:cards_now]:
                opened += await self.open_waiting(ticket)
            await self._post_due(chat_id, due)
            return digested, opened
        finally:
            async with db.session() as session:
                await give_chat_turn_back(session=session, chat_id=chat_id, owner=self.owner)

    async def _room(self, chat_id: int) -> int:
        """Calls the chat can take this minute within the budget."""
        since = self.services.clock.now() - timedelta(minutes=1)
        async with self.services.db.session() as session:
            sent = await sends_since(session=session, chat_id=chat_id, since=since)
        return self.services.settings.staff_burst_per_minute - sent

    async def _digest(self, chat_id: int, tickets: list[Ticket]) -> int:
        """One message announcing tickets whose cards must wait for the chat's limit."""
        t = self.services.catalog.t
        now = self.services.clock.now()
        lines = [t("staff.backlog_digest", self.language, count=len(tickets))]
        ids = [ticket.id or 0 for ticket in tickets]
        async with self.services.db.read() as session:
            entries = await digest_entries(session=session, ticket_ids=ids)
        for ticket in tickets:
            customer, text = entries.get(ticket.id or 0, (None, ""))
            who = customer.display_name if customer is not None else "—"
            lines.append(
                f"{PRIORITY_ICONS.get(ticket.priority, '')} <b>{ticket.reference}</b>"
                f" · {escape(ticket.topic)} · {escape(who)}: {escape(shorten(text, 80))}"
            )
        async with self.services.db.session() as session:
            await mark_digested(session=session, ticket_ids=ids, now=now)
        for piece in join_lines(lines):
            await self.messenger.send(chat_id, piece)
        return len(tickets)

    async def _post_due(self, chat_id: int, due: list[tuple[Ticket, TicketMessage]]) -> None:
        """Customers' further messages, one staff message per ticket, as the budget allows."""
        by_ticket: dict[int, tuple[Ticket, list[TicketMessage]]] = {}
        for ticket, message in due:
            by_ticket.setdefault(ticket.id or 0, (ticket, []))[1].append(message)
        room = await self._room(chat_id)
        for ticket, messages in by_ticket.values():
            if ticket.staff_card_message_id is None and ticket.staff_thread_id is None:
                continue  # its card is not up yet: they follow it
            if room <= 0:
                return
            await self.post_follow_ups(ticket, messages)
            room -= 1

    async def post_follow_ups(self, ticket: Ticket, messages: list[TicketMessage]) -> None:
        """Further customer messages of an open ticket, in one staff message."""
        if ticket.staff_chat_id is None or not messages:
            return
        t = self.services.catalog.t
        async with self.services.db.session() as session:
            customer = await get_customer(session=session, customer_id=ticket.customer_id)
            feedback = await follow_up_feedback(session=session, messages=messages)
        name = customer.display_name if customer is not None else "—"
        header = t(
            "staff.card_more",
            self.language,
            reference=ticket.reference,
            customer=escape(name),
            count=len(messages),
        )
        body = "\n\n".join(m.text for m in messages if m.text)
        try:
            sent = await self.messenger.send_with_body(
                ticket.staff_chat_id,
                header,
                body,
                thread_id=ticket.staff_thread_id,
                reply_to=self._reply_to(ticket),
                key=f"more:{messages[-1].id}",
            )
        except BadRequest as exc:
            if "thread not found" not in str(exc).lower():
                raise
            await self._draw_again(ticket)
            return
        for item in feedback:
            if item is not None and item.media_type is not None:
                await self._copy_feedback_media(
                    item, ticket.staff_chat_id, ticket.staff_thread_id, reply_to=sent.message_id
                )
        async with self.services.db.session() as session:
            await clear_due(session=session, message_ids=[m.id or 0 for m in messages])
            for message in messages:
                await record_staff_copy(
                    session=session,
                    message_id=message.id or 0,
                    chat_id=ticket.staff_chat_id,
                    staff_message_id=sent.message_id,
                )
