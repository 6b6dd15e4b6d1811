"""Staff in the staff supergroup: replies relayed to customers, notes, buttons, canned replies."""

from __future__ import annotations

import logging

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.error import Forbidden
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.domain import care
from bot.domain.staff_tools import save_canned
from bot.handlers.context import UpdateContext
from bot.staff_chat.cards import rating_buttons
from bot.staff_chat.desk import reply_here, staff_message
from bot.staff_chat.tickets import StaffDesk
from bot.telegram.buttons import on_button
from bot.telegram.callbacks import Relabel, TicketAction, encode
from bot.telegram.staff_access import StaffAccess
from bot.telegram.text import escape
from nlp import KINDS
from storage.canned import canned_reply_names, get_canned_reply
from storage.models import Customer, MessageAuthor, Ticket
from storage.tickets import find_ticket_by_staff_message, find_ticket_by_staff_thread

log = logging.getLogger(__name__)

_STAFF_CONTENT = (
    (filters.TEXT & ~filters.COMMAND)
    | filters.PHOTO
    | filters.Document.ALL
    | filters.VOICE
    | filters.VIDEO
    | filters.AUDIO
)


class StaffHandlers:
    """Everything staff do in their chat."""

    def __init__(
        self,
        services: Services,
        messenger: Messenger,
        desk: StaffDesk,
        access: StaffAccess,
        topics: tuple[str, ...],
    ) -> None:
        self.services = services
        self.messenger = messenger
        self.desk = desk
        self.access = access
        self.topics = topics
        self.lang = services.settings.default_language

    def register(self, application: Application) -> None:
        """Add the handlers to the application."""
        chats = sorted(self.services.settings.staff_chats)
        in_staff = filters.Chat(chat_id=chats)
        application.add_handler(CommandHandler("note", self.note, filters=in_staff))
        application.add_handler(CommandHandler("canned", self.canned, filters=in_staff))
        application.add_handler(MessageHandler(in_staff & _STAFF_CONTENT, self.on_message))
        application.add_handler(
            on_button(
                (TicketAction, Relabel),
                self.on_button,
                is_staff=self.access.is_staff,
                not_allowed=lambda update: self.services.catalog.t("staff.not_allowed", self.lang),
            )
        )

    # Messages -------------------------------------------------------------------------------

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A staff message in a ticket's topic or under its card: relay it, or keep it a note."""
        written = await staff_message(update, self._ticket_of)
        if written is None:
            return
        message, user, text, ticket = written
        prefix = self.services.settings.note_prefix
        if text.startswith(prefix):
            await self._save_note(ticket, message, user, text.removeprefix(prefix).strip())
            return
        await self._relay(ticket, message, user, text)

    async def note(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/note TEXT: an internal note on the ticket, never shown to the customer."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        ticket = await self._ticket_of(message)
        if ticket is None:
            await self._reply(message, self.services.catalog.t("staff.no_ticket_here", self.lang))
            return
        await self._save_note(ticket, message, user, " ".join(context.args or []))

    async def canned(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/canned add NAME TEXT saves a reply; /canned NAME sends it; /canned lists them."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        t = self.services.catalog.t
        args = context.args or []
        if len(args) >= 3 and args[0].lower() == "add":
            name = args[1].lower()
            text = (message.text or "").split(None, 3)[3]
            await save_canned(self.services, name=name, text=text, user_id=user.id)
            await self._reply(message, t("staff.canned_saved", self.lang, name=escape(name)))
            return
        if not args:
            async with self.services.db.read() as session:
                names = await canned_reply_names(session=session)
            listing = ", ".join(escape(n) for n in names) or "—"
            await self._reply(message, t("staff.canned_list", self.lang, names=listing))
            return
        async with self.services.db.read() as session:
            reply = await get_canned_reply(session=session, name=args[0].lower())
        if reply is None:
            await self._reply(message, t("staff.canned_unknown", self.lang, name=escape(args[0])))
            return
        ticket = await self._ticket_of(message)
        if ticket is None:
            await self._reply(message, t("staff.no_ticket_here", self.lang))
            return
        await self._relay(ticket, message, user, reply.text, copy_media=False)

    # Buttons --------------------------------------------------------------------------------

    async def on_button(
        self, update: Update, context: UpdateContext, pressed: TicketAction | Relabel
    ) -> None:
        """Claim, Resolve, Reopen, Relabel: only members of the ticket's staff chat."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        t = self.services.catalog.t
        ticket_id = pressed.ticket_id
        view = await care.ticket_view(self.services, ticket_id)
        # The payload comes from the client: trust only the database and Telegram's membership.
        allowed = (
            view is not None
            and view.ticket.staff_chat_id is not None
            and await self.access.is_member(view.ticket.staff_chat_id, user.id)
        )
        if not allowed or view is None:
            log.warning("refused %r from user %s (not staff of that ticket)", query.data, user.id)
            await query.answer(t("staff.not_allowed", self.lang), show_alert=True)
            return
        if isinstance(pressed, Relabel):
            await self._relabel(query, view, user, pressed.field, pressed.value)
        elif pressed.action == "claim":
            await self._claim(query, view, user)
        elif pressed.action == "resolve":
            await self._resolve(query, view, user)
        elif pressed.action == "reopen":
            await self._reopen(query, view, user)
        else:  # relabel: show the choices
            await query.answer()
            if query.message is not None:
                await self.messenger.edit_buttons(
                    query.message.chat.id,
                    query.message.message_id,
                    self._relabel_keyboard(ticket_id),
                )

    async def _claim(self, query: CallbackQuery, view: care.TicketView, user: User) -> None:
        t = self.services.catalog.t
        assert view.ticket.id is not None
        changed = await care.claim(
            self.services, ticket_id=view.ticket.id, user_id=user.id, name=user.full_name
        )
        await query.answer(t("staff.claimed_toast", self.lang))
        if changed:
            await self._redraw(view.ticket.id)
            fresh = await care.ticket_view(self.services, view.ticket.id)
            if fresh is not None:
                await self.desk.tell(
                    fresh.ticket, t("staff.claimed_by", self.lang, name=escape(user.full_name))
                )

    async def _resolve(self, query: CallbackQuery, view: care.TicketView, user: User) -> None:
        t = self.services.catalog.t
        ticket_id = view.ticket.id
        assert ticket_id is not None
        if not await care.resolve(self.services, ticket_id=ticket_id, user_id=user.id):
            await query.answer(t("staff.already_resolved", self.lang))
            return
        await query.answer(t("staff.resolved_toast", self.lang))
        fresh = await self._redraw(ticket_id)
        if fresh is None:
            return
        await self.desk.tell(
            fresh.ticket, t("staff.resolved_by", self.lang, name=escape(user.full_name))
        )
        await self.desk.set_topic_open(fresh.ticket, False)
        await self._ask_rating(fresh.ticket, fresh.customer)

    async def _reopen(self, query: CallbackQuery, view: care.TicketView, user: User) -> None:
        t = self.services.catalog.t
        assert view.ticket.id is not None
        await query.answer()
        if await care.reopen(self.services, ticket_id=view.ticket.id):
            fresh = await self._redraw(view.ticket.id)
            if fresh is not None:
                await self.desk.set_topic_open(fresh.ticket, True)
                await self.desk.tell(
                    fresh.ticket, t("staff.reopened_by", self.lang, name=escape(user.full_name))
                )

    async def _relabel(
        self, query: CallbackQuery, view: care.TicketView, user: User, field: str, value: str
    ) -> None:
        t = self.services.catalog.t
        valid = KINDS if field == "kind" else self.topics
        if value not in valid or view.ticket.id is None:
            await query.answer()
            return
        fresh = await care.relabel(
            self.services, ticket_id=view.ticket.id, field=field, value=value, user_id=user.id
        )
        await query.answer(t("staff.relabelled", self.lang, value=value))
        if fresh is None:
            return
        await self.desk.refresh_card(fresh.ticket, fresh.customer.display_name, fresh.first_text)
        await self.desk.tell(
            fresh.ticket,
            t(
                "staff.relabelled_by",
                self.lang,
                name=escape(user.full_name),
                field=field,
                value=value,
            ),
        )
        if field == "kind" and value != "care":
            await self.desk.set_topic_open(fresh.ticket, False)

    def _relabel_keyboard(self, ticket_id: int) -> InlineKeyboardMarkup:
        kinds = [
            InlineKeyboardButton(
                f"⇒ {kind}", callback_data=encode(Relabel("kind", ticket_id, kind))
            )
            for kind in KINDS
        ]
        topics = [
            InlineKeyboardButton(topic, callback_data=encode(Relabel("topic", ticket_id, topic)))
            for topic in self.topics
        ]
        rows = [kinds] + [topics[i : i + 3] for i in range(0, len(topics), 3)]
        return InlineKeyboardMarkup(rows)

    # Helpers --------------------------------------------------------------------------------

    async def _ticket_of(self, message: Message) -> Ticket | None:
        """The ticket a staff-chat message is about: by its topic, else by what it replies to."""
        async with self.services.db.read() as session:
            if message.is_topic_message and message.message_thread_id:
                ticket = await find_ticket_by_staff_thread(
                    session=session, chat_id=message.chat_id, thread_id=message.message_thread_id
                )
                if ticket is not None:
                    return ticket
            replied = message.reply_to_message
            if replied is not None:
                return await find_ticket_by_staff_message(
                    session=session, chat_id=message.chat_id, message_id=replied.message_id
                )
        return None

    async def _relay(
        self, ticket: Ticket, message: Message, user: User, text: str, *, copy_media: bool = True
    ) -> None:
        t = self.services.catalog.t
        view = await care.ticket_view(self.services, ticket.id or 0)
        if view is None:
            return
        customer = view.customer
        settings = self.services.settings
        signature = escape(settings.team_name)
        if settings.show_staff_names:
            signature = f"{escape(user.first_name)} · {signature}"
        header = t(
            "care.staff_reply_header", customer.language, team=signature, reference=ticket.reference
        )
        has_media = copy_media and bool(
            message.photo or message.document or message.voice or message.video or message.audio
        )
        try:
            if text or not has_media:
                await self.messenger.send_with_body(customer.telegram_user_id, header, text)
            else:
                await self.messenger.send(customer.telegram_user_id, header)
            if has_media:  # through the outbox too: a 5xx is retried, a repeat copies nothing
                await self.messenger.copy(
                    customer.telegram_user_id, message.chat_id, message.message_id
                )
        except Forbidden:
            await self._customer_unreachable(customer, ticket)
            return
        await self._record(ticket, message, user, text, MessageAuthor.STAFF)

    async def _save_note(self, ticket: Ticket, message: Message, user: User, text: str) -> None:
        await self._record(ticket, message, user, text, MessageAuthor.NOTE)

    async def _record(
        self, ticket: Ticket, message: Message, user: User, text: str, author: MessageAuthor
    ) -> None:
        """Keep a staff reply (or note) in the ticket's conversation."""
        await care.record_staff_message(
            self.services,
            ticket_id=ticket.id or 0,
            author=author,
            user_id=user.id,
            text=text,
            staff_chat_id=message.chat_id,
            staff_message_id=message.message_id,
            name=user.full_name,
        )

    async def _ask_rating(self, ticket: Ticket, customer: Customer) -> None:
        t = self.services.catalog.t
        lang = customer.language
        try:
            await self.messenger.send(
                customer.telegram_user_id,
                t("care.resolved_rate", lang, reference=ticket.reference),
                buttons=rating_buttons(ticket.id or 0, lang, self.services),
            )
        except Forbidden:
            await self._customer_unreachable(customer, ticket)

    async def _customer_unreachable(self, customer: Customer, ticket: Ticket) -> None:
        await care.customer_unreachable(self.services, customer.id or 0)
        await self.desk.tell(ticket, self.services.catalog.t("staff.customer_blocked", self.lang))

    async def _redraw(self, ticket_id: int) -> care.TicketView | None:
        view = await care.ticket_view(self.services, ticket_id)
        if view is not None:
            await self.desk.refresh_card(view.ticket, view.customer.display_name, view.first_text)
        return view

    async def _reply(self, message: Message, html_text: str) -> None:
        await reply_here(self.messenger, message, html_text)
