"""Incidents in the staff chat: one card (its own topic in a forum) kept current, one staff
reply broadcast to everyone affected, one resolution for all their tickets.

Broadcasts and resolution notices are queued in the outbox in one transaction and sent by the
outbox worker at the bot's 30 messages a second: each customer's message has its own key, so
a crash in the middle sends nobody's twice and skips nobody.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from babel.dates import format_time
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.core.services import Services
from bot.delivery.compose import compose
from bot.staff_chat.cards import rating_buttons
from bot.staff_chat.desk import Desk
from bot.telegram.callbacks import IncidentAction, encode
from bot.telegram.text import escape, shorten
from storage import outbox
from storage.incidents import (
    affected_count,
    affected_customers,
    attach_incident_card,
    get_incident,
    incident_card_drawn,
    managers_told,
    open_incidents,
    place_incident_topic,
    record_broadcast,
    resolve_incident,
    sample_texts,
)
from storage.models import Incident, IncidentStatus, Ticket, format_incident_reference
from storage.people import person_languages

log = logging.getLogger(__name__)

# A card is redrawn at most this often: edits count against the group's 20 a minute.
REDRAW_EVERY = timedelta(minutes=1)
_TOPIC_NAME_LIMIT = 128


def incident_buttons(incident: Incident, language: str, services: Services) -> InlineKeyboardMarkup:
    """Resolve, and the list of its tickets (to take one out)."""
    t = services.catalog.t
    if incident.status == IncidentStatus.RESOLVED:
        return InlineKeyboardMarkup([])
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("incident.button_resolve", language),
                    callback_data=encode(IncidentAction("resolve", incident.id or 0)),
                ),
                InlineKeyboardButton(
                    t("incident.button_tickets", language),
                    callback_data=encode(IncidentAction("tickets", incident.id or 0)),
                ),
            ]
        ]
    )


class IncidentDesk(Desk):
    """Draws incident cards and sends what staff say about an incident to its customers."""

    # Cards ----------------------------------------------------------------------------------

    async def draw_cards(self, chat_id: int, room: int) -> int:
        """Post the cards of new incidents routed to this chat and redraw those whose count
        changed (at most once a minute each), within `room` calls; the calls made."""
        settings = self.services.settings
        async with self.services.db.session() as session:
            incidents = [
                i
                for i in await open_incidents(session=session)
                if settings.staff_chat_for(i.topic) == chat_id
            ]
        used = 0
        now = self.services.clock.now()
        for incident in incidents:
            if used >= room:
                break
            if incident.staff_card_message_id is None:
                if incident.card_drawn_at is None:  # else drawn, and refused: a dead letter
                    used += await self._open_card(chat_id, incident)
                continue
            drawn = incident.card_drawn_at
            if drawn is not None and now - drawn < REDRAW_EVERY:
                continue
            async with self.services.db.session() as session:
                count = await affected_count(session=session, incident_id=incident.id or 0)
            if count != incident.card_customers:
                await self.redraw(incident.id or 0)
                used += 1
        return used

    async def _open_card(self, chat_id: int, incident: Incident) -> int:
        assert incident.id is not None
        calls = 1
        thread_id = incident.staff_thread_id
        if thread_id is None:
            name = f"🚨 {incident.reference} · {incident.topic} · {incident.summary}"
            # Opened once: a card drawn again gets the topic Telegram opened the first time.
            topic = await self.messenger.create_topic(
                chat_id, name[:_TOPIC_NAME_LIMIT], key=f"topic:incident:{incident.id}"
            )
            calls += 1
            if not topic.done and not topic.refused:
                return calls  # in the outbox for a retry: a later round draws the card
            if topic.refused:  # not a forum: the card in the group will do
                log.info("no forum topic for %s; posting a card", incident.reference)
            thread_id = topic.thread_id
            async with self.services.db.session() as session:
                await place_incident_topic(
                    session=session, incident_id=incident.id, chat_id=chat_id, thread_id=thread_id
                )
        text, count = await self._card_text(incident)
        sent = await self.messenger.send(
            chat_id,
            text,
            thread_id=thread_id,
            buttons=incident_buttons(incident, self.language, self.services),
            key=f"incident:{incident.id}",
        )
        if sent.message_id is None and not sent.refused:
            return calls  # in the outbox for a retry: a later round records it
        async with self.services.db.session() as session:
            await attach_incident_card(
                session=session,
                incident_id=incident.id,
                chat_id=chat_id,
                message_id=sent.message_id,
                customers=count,
                now=self.services.clock.now(),
            )
        await self._tell_managers(incident, count)
        return calls

    async def _card_text(self, incident: Incident) -> tuple[str, int]:
        t = self.services.catalog.t
        async with self.services.db.session() as session:
            count = await affected_count(session=session, incident_id=incident.id or 0)
            samples = await sample_texts(session=session, incident_id=incident.id or 0)
        lines = "\n".join(f"• {escape(shorten(s, 120))}" for s in samples) or "—"
        text = t(
            "incident.staff_card",
            self.language,
            incident=incident.reference,
            topic=escape(incident.topic),
            since=self._time(incident.first_report_at),
            count=count,
            samples=lines,
            prefix=escape(self.services.settings.note_prefix),
        )
        if incident.status == IncidentStatus.RESOLVED:
            text += "\n" + t("incident.staff_card_resolved", self.language)
        return compose(text, "")[0], count

    async def redraw(self, incident_id: int) -> None:
        """Redraw the card with the current count and status."""
        async with self.services.db.session() as session:
            incident = await get_incident(session=session, incident_id=incident_id)
        if incident is None or incident.staff_chat_id is None:
            return
        if incident.staff_card_message_id is None:
            return
        text, count = await self._card_text(incident)
        await self.messenger.edit_text(
            incident.staff_chat_id,
            incident.staff_card_message_id,
            text,
            buttons=incident_buttons(incident, self.language, self.services),
        )
        async with self.services.db.session() as session:
            await incident_card_drawn(
                session=session,
                incident_id=incident_id,
                customers=count,
                now=self.services.clock.now(),
            )

    async def _tell_managers(self, incident: Incident, count: int) -> None:
        t = self.services.catalog.t
        managers = sorted(self.services.settings.manager_ids)
        async with self.services.db.session() as session:
            chosen = await person_languages(session=session, telegram_user_ids=managers)
        for manager_id in managers:
            try:
                await self.messenger.send(
                    manager_id,
                    t(
                        "incident.manager_alert",
                        chosen.get(manager_id, self.language),
                        incident=incident.reference,
                        topic=escape(incident.topic),
                        count=count,
                        summary=escape(shorten(incident.summary, 120)),
                    ),
                    key=f"incident-alert:{incident.id}:{manager_id}",
                )
            except TelegramError as exc:  # a manager who never opened the bot's chat
                log.warning("manager %s not told of %s: %s", manager_id, incident.reference, exc)
        async with self.services.db.session() as session:
            await managers_told(
                session=session, incident_id=incident.id or 0, now=self.services.clock.now()
            )

    # Staff actions --------------------------------------------------------------------------

    async def broadcast(
        self,
        incident: Incident,
        *,
        text: str,
        staff_user_id: int,
        staff_message: tuple[int, int],
        staff_name: str | None = None,
    ) -> int:
        """A staff reply to everyone with an open ticket in the incident, each once; the
        first one is every ticket's first response. How many customers it goes to."""
        t = self.services.catalog.t
        settings = self.services.settings
        now = self.services.clock.now()
        chat_id, message_id = staff_message
        async with self.services.db.session() as session:
            affected = await affected_customers(session=session, incident_id=incident.id or 0)
            queued: list[outbox.Queued] = []
            for _, customer in affected:
                header = t(
                    "incident.reply_header",
                    customer.language,
                    team=escape(settings.team_name),
                    incident=incident.reference,
                )
                for n, piece in enumerate(compose(header, text)):
                    queued.append(
                        outbox.Queued(
                            method="sendMessage",
                            chat_id=customer.telegram_user_id,
                            params={"chat_id": customer.telegram_user_id, "text": piece},
                            key=f"n{incident.id}:{chat_id}:{message_id}:{customer.id}:{n}",
                        )
                    )
            await record_broadcast(
                session=session,
                incident_id=incident.id or 0,
                tickets=[ticket for ticket, _ in affected],
                text=text,
                staff_user_id=staff_user_id,
                staff_name=staff_name,
                staff_message=staff_message,
                now=now,
            )
            await outbox.queue_many(session=session, messages=queued, now=now)
        return len(affected)

    async def resolve(self, incident_id: int, *, user_id: int) -> int | None:
        """Resolve the incident and its open tickets; tell each customer and ask for a
        rating. None when it was resolved already; else how many customers are told."""
        now = self.services.clock.now()
        async with self.services.db.session() as session:
            incident = await get_incident(session=session, incident_id=incident_id)
            if incident is None or incident.status != IncidentStatus.OPEN:
                return None
            affected = await affected_customers(session=session, incident_id=incident_id)
            queued = [
                self._resolved_notice(
                    incident, ticket, customer.language, customer.telegram_user_id
                )
                for ticket, customer in affected
            ]
            await resolve_incident(
                session=session,
                incident=incident,
                tickets=[ticket for ticket, _ in affected],
                user_id=user_id,
                now=now,
            )
            await outbox.queue_many(session=session, messages=queued, now=now)
        await self.redraw(incident_id)
        return len(affected)

    def _resolved_notice(
        self, incident: Incident, ticket: Ticket, language: str, chat_id: int
    ) -> outbox.Queued:
        t = self.services.catalog.t
        text = t(
            "incident.resolved",
            language,
            incident=incident.reference,
            reference=ticket.reference,
        )
        return outbox.Queued(
            method="sendMessage",
            chat_id=chat_id,
            params={
                "chat_id": chat_id,
                "text": text,
                "reply_markup": rating_buttons(ticket.id or 0, language, self.services).to_dict(),
            },
            key=f"n{incident.id}:resolved:{ticket.id}",
        )

    def _time(self, moment: datetime) -> str:
        return format_time(
            moment.astimezone(self.services.settings.zone), "short", locale=self.language
        )


__all__ = ["IncidentDesk", "format_incident_reference", "incident_buttons"]
