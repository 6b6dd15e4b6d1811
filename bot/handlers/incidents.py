"""Staff and managers and incidents: answer everyone at once, resolve, take tickets out or in."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.domain import incident_tickets
from bot.staff_chat.desk import reply_here, staff_message
from bot.staff_chat.incidents import IncidentDesk
from bot.staff_chat.tickets import StaffDesk
from bot.telegram.buttons import on_button
from bot.telegram.callbacks import IncidentAction, encode
from bot.telegram.staff_access import StaffAccess
from bot.telegram.text import escape
from storage.incidents import (
    affected_count,
    affected_customers,
    find_incident_by_staff_place,
    get_incident,
    incidents_since,
)
from storage.models import Incident, IncidentStatus, Ticket, parse_ticket_reference
from storage.tickets import get_ticket

log = logging.getLogger(__name__)

# Staff messages that may answer an incident (text, or a caption with media).
_ANSWER = (filters.TEXT & ~filters.COMMAND) | filters.CAPTION
# Handler group after the staff handlers': a message in an incident's topic is for both to see
# (the staff handlers find no ticket there and leave it).
GROUP = 1


def parse_incident_reference(reference: str) -> int | None:
    """The incident id in "I-00003" (or "i-3"), or None."""
    digits = reference.strip().upper().removeprefix("I-")
    return int(digits) if digits.isdigit() and int(digits) > 0 else None


class IncidentHandlers:
    """Handlers for incidents in the staff chat, and /incidents for staff and managers."""

    def __init__(
        self, services: Services, messenger: Messenger, desk: StaffDesk, access: StaffAccess
    ) -> None:
        self.services = services
        self.messenger = messenger
        self.desk = desk
        self.incidents: IncidentDesk = desk.incidents
        self.access = access
        self.lang = services.settings.default_language

    def register(self, application: Application) -> None:
        """Add the handlers to the application."""
        in_staff = filters.Chat(chat_id=sorted(self.services.settings.staff_chats))
        managers = filters.ChatType.PRIVATE & filters.User(
            user_id=sorted(self.services.settings.manager_ids)
        )
        application.add_handler(CommandHandler("detach", self.detach, filters=in_staff))
        application.add_handler(CommandHandler("attach", self.attach, filters=in_staff))
        application.add_handler(
            CommandHandler("incidents", self.list_incidents, filters=in_staff | managers)
        )
        application.add_handler(
            on_button(
                (IncidentAction,),
                self.on_button,
                is_staff=self.access.is_staff,
                not_allowed=lambda update: self.services.catalog.t("staff.not_allowed", self.lang),
            )
        )
        application.add_handler(MessageHandler(in_staff & _ANSWER, self.on_message), group=GROUP)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A staff message in an incident's topic, or a reply to its card: to everyone."""
        written = await staff_message(update, self._incident_of)
        if written is None:
            return
        message, user, text, incident = written
        if not text.strip() or text.startswith(self.services.settings.note_prefix):
            return  # an internal note stays in the staff chat
        t = self.services.catalog.t
        if incident.status != IncidentStatus.OPEN:
            await self._reply(message, t("incident.already_resolved", self.lang))
            return
        count = await self.incidents.broadcast(
            incident,
            text=text,
            staff_user_id=user.id,
            staff_message=(message.chat_id, message.message_id),
            staff_name=user.full_name,
        )
        await self._reply(message, t("incident.broadcast_queued", self.lang, count=count))

    async def on_button(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, pressed: IncidentAction
    ) -> None:
        """Resolve, list tickets, take one out: only members of the incident's staff chat."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        t = self.services.catalog.t
        action, number = pressed.action, pressed.target_id
        async with self.services.db.read() as session:
            if action == "out":
                ticket = await get_ticket(session=session, ticket_id=number)
                incident_id = ticket.incident_id if ticket is not None else None
            else:
                incident_id = number
            incident = (
                await get_incident(session=session, incident_id=incident_id)
                if incident_id is not None
                else None
            )
        allowed = (
            incident is not None
            and incident.staff_chat_id is not None
            and await self.access.is_member(incident.staff_chat_id, user.id)
        )
        if not allowed or incident is None:
            log.warning("refused %r from user %s (not staff of that incident)", query.data, user.id)
            await query.answer(t("staff.not_allowed", self.lang), show_alert=True)
            return
        if action == "resolve":
            await self._resolve(query, incident, user.id)
        elif action == "tickets":
            await query.answer()
            await self._show_tickets(query, incident)
        else:  # "out"
            await query.answer()
            await self._take_out(query.message, incident, number)

    async def _resolve(self, query: CallbackQuery, incident: Incident, user_id: int) -> None:
        t = self.services.catalog.t
        told = await self.incidents.resolve(incident.id or 0, user_id=user_id)
        if told is None:
            await query.answer(t("incident.already_resolved", self.lang))
            return
        await query.answer()
        if isinstance(query.message, Message):
            await self._reply(
                query.message,
                t("incident.resolved_staff", self.lang, incident=incident.reference, count=told),
            )

    async def _show_tickets(self, query: CallbackQuery, incident: Incident) -> None:
        t = self.services.catalog.t
        async with self.services.db.read() as session:
            affected = await affected_customers(session=session, incident_id=incident.id or 0)
        rows = [
            [
                InlineKeyboardButton(
                    t("incident.button_take_out", self.lang, reference=ticket.reference),
                    callback_data=encode(IncidentAction("out", ticket.id or 0)),
                )
            ]
            for ticket, _ in affected[:30]
        ]
        if isinstance(query.message, Message):
            await self.messenger.send(
                query.message.chat_id,
                t("incident.tickets_title", self.lang, incident=incident.reference),
                thread_id=query.message.message_thread_id
                if query.message.is_topic_message
                else None,
                buttons=InlineKeyboardMarkup(rows),
            )

    async def detach(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/detach T-00012: the ticket is a different problem; it gets its own card."""
        message = update.effective_message
        if message is None:
            return
        args = context.args or []
        ticket_id = parse_ticket_reference(args[0]) if len(args) == 1 else None
        if ticket_id is None:
            await self._reply(message, self.services.catalog.t("incident.usage_detach", self.lang))
            return
        async with self.services.db.read() as session:
            ticket = await get_ticket(session=session, ticket_id=ticket_id)
            incident = (
                await get_incident(session=session, incident_id=ticket.incident_id)
                if ticket is not None and ticket.incident_id is not None
                else None
            )
        if incident is None:
            await self._reply(message, self.services.catalog.t("incident.not_found", self.lang))
            return
        await self._take_out(message, incident, ticket_id)

    async def attach(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/attach T-00012 I-00003: the ticket is about that incident's fault."""
        message = update.effective_message
        if message is None:
            return
        t = self.services.catalog.t
        args = context.args or []
        ticket_id = parse_ticket_reference(args[0]) if len(args) == 2 else None
        incident_id = parse_incident_reference(args[1]) if len(args) == 2 else None
        if ticket_id is None or incident_id is None:
            await self._reply(message, t("incident.usage_attach", self.lang))
            return
        joined = await incident_tickets.put_in(
            self.services, ticket_id=ticket_id, incident_id=incident_id
        )
        if joined is None:
            await self._reply(message, t("incident.not_found", self.lang))
            return
        ticket, incident = joined
        await self._moved(message, "incident.put_in", ticket, incident)
        self.desk.work_waiting()

    async def _take_out(self, message: object, incident: Incident, ticket_id: int) -> None:
        ticket = await incident_tickets.take_out(
            self.services, ticket_id=ticket_id, incident_id=incident.id or 0
        )
        if ticket is None:
            return
        self.desk.work_waiting()
        if isinstance(message, Message):
            await self._moved(message, "incident.taken_out", ticket, incident)

    async def list_incidents(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/incidents: the last week's incidents and the open ones, with their counts."""
        message = update.effective_message
        if message is None:
            return
        t = self.services.catalog.t
        since = self.services.clock.now() - timedelta(days=7)
        async with self.services.db.read() as session:
            found = await incidents_since(session=session, since=since)
            counts = [await affected_count(session=session, incident_id=i.id or 0) for i in found]
        if not found:
            await self._reply(message, t("incident.list_none", self.lang))
            return
        lines = [t("incident.list_title", self.lang, window="7d")]
        zone = self.services.settings.zone
        for incident, count in zip(found, counts, strict=True):
            lines.append(
                t(
                    "incident.list_line",
                    self.lang,
                    icon="🟢" if incident.status == IncidentStatus.RESOLVED else "🔴",
                    incident=incident.reference,
                    topic=escape(incident.topic),
                    count=count,
                    since=incident.first_report_at.astimezone(zone).strftime("%d/%m %H:%M"),
                )
            )
        await self._reply(message, "\n".join(lines))

    async def _incident_of(self, message: Message) -> Incident | None:
        replied = message.reply_to_message
        async with self.services.db.read() as session:
            return await find_incident_by_staff_place(
                session=session,
                chat_id=message.chat_id,
                thread_id=message.message_thread_id if message.is_topic_message else None,
                replied_to=replied.message_id if replied is not None else None,
            )

    async def _reply(self, message: Message, html_text: str) -> None:
        await reply_here(self.messenger, message, html_text)

    async def _moved(self, message: Message, key: str, ticket: Ticket, incident: Incident) -> None:
        """Tell staff a ticket went into an incident, or out of it."""
        text = self.services.catalog.t(
            key, self.lang, reference=ticket.reference, incident=incident.reference
        )
        await self._reply(message, text)
