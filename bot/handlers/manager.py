"""Managers in a private chat: numbers on demand, charts, exports, drill-downs, the dashboard.

Every command here is for MANAGER_IDS only, in a private chat with the bot; anyone else gets a
polite refusal, and a command given in a group gets one line pointing to the private chat.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.handlers.people import PeopleHandlers, person_language
from bot.handlers.triage_report import TriageReport
from bot.reports.charts import report_charts
from bot.reports.summary import format_summary
from bot.reports.windows import window_bounds
from bot.reports.words import Words
from bot.telegram.text import escape, shorten, split_plain
from bot.web.dashboard.routes import dashboard_link
from storage.exports import (
    breached_tickets,
    ideas_csv,
    open_tickets,
    reopened_tickets,
    tickets_csv,
)
from storage.ideas import board
from storage.metrics import compute_summary
from storage.models import Ticket

log = logging.getLogger(__name__)

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_PRE_ROOM = 3900  # a <pre> block with room for its tags under Telegram's 4,096

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


class WindowError(ValueError):
    """The manager asked for a window the bot does not understand."""


def parse_window(args: list[str], now: datetime, services: Services) -> tuple[datetime, datetime]:
    """today | week (default) | month (this calendar month) | YYYY-MM | Nd."""
    zone = services.settings.zone
    word = (args[0] if args else "week").strip().lower()
    local = now.astimezone(zone)
    if word == "today":
        return local.replace(hour=0, minute=0, second=0, microsecond=0), local
    if word == "week":
        return window_bounds(now=now, zone=zone, span=timedelta(days=7), month=None)
    if word == "month":
        return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0), local
    found = _MONTH.match(word)
    if found:
        return window_bounds(
            now=now, zone=zone, span=None, month=(int(found.group(1)), int(found.group(2)))
        )
    if word.endswith("d") and word[:-1].isdigit() and 0 < int(word[:-1]) <= 366:
        return window_bounds(now=now, zone=zone, span=timedelta(days=int(word[:-1])), month=None)
    raise WindowError(word)


class ManagerHandlers:
    """Commands only managers (MANAGER_IDS) may use."""

    def __init__(self, services: Services, messenger: Messenger) -> None:
        self.services = services
        self.messenger = messenger

    def register(self, application: Application) -> None:
        """Add the handlers to the application."""
        commands: dict[str, Handler] = {
            "summary": self.summary,
            "involvement": self.involvement,
            "topics": self.topics,
            "ideas_report": self.ideas_report,
            "report": self.report,
            "export": self.export,
            "tickets": self.tickets,
            "dashboard": self.dashboard,
            "triage": TriageReport(self.services, self.messenger).triage,
        }
        for name, callback in commands.items():
            application.add_handler(CommandHandler(name, self._managers_only(callback)))
        # /whoami, /language and the staff chat's /help come with the managers' commands, before
        # the customers' catch-all (app.py wires this class).
        PeopleHandlers(self.services, self.messenger).register(application)

    def _managers_only(self, callback: Handler) -> Handler:
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            user, chat = update.effective_user, update.effective_chat
            if user is None or chat is None:
                return
            if chat.type != ChatType.PRIVATE:
                # Numbers, files and the dashboard link are for the manager's eyes only.
                log.info("manager command from user %s in chat %s: private only", user.id, chat.id)
                message = update.effective_message
                lang = self.services.catalog.language_for(user.language_code)
                await self.messenger.send(
                    chat.id,
                    self.services.catalog.t("access.private_only", lang),
                    thread_id=message.message_thread_id
                    if message is not None and message.is_topic_message
                    else None,
                )
                return
            if user.id not in self.services.settings.manager_ids:
                log.info("refused a manager command from user %s", user.id)
                lang = self.services.catalog.language_for(user.language_code)
                await self.messenger.send(chat.id, self.services.catalog.t("manager.refused", lang))
                return
            await callback(update, context)

        return guarded

    # Numbers --------------------------------------------------------------------------------

    async def summary(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/summary [today|week|month|YYYY-MM]: every metric for the window."""
        await self._sections(update, context, None)

    async def involvement(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/involvement [window]: how involved customers are."""
        await self._sections(update, context, ("involvement",))

    async def topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/topics [window]: per topic, strength and counts by kind and sentiment."""
        summary = await self._summary(update, context)
        if summary is None:
            return
        w = await self._words(update)
        involvement = summary["involvement"]
        window = summary["window"]
        span = f"{w.moment(window['start'])} – {w.moment(window['end'])}"
        lines = [w.t("manager.topics_title", span=span), ""]
        strength = involvement.get("strength_by_topic") or {}
        for topic, counts in sorted((involvement.get("by_topic") or {}).items()):
            kinds = ", ".join(
                f"{w.label(k)} {w.integer(n)}" for k, n in sorted(counts["kinds"].items())
            )
            moods = ", ".join(
                f"{w.label(k)} {w.integer(n)}" for k, n in sorted(counts["sentiments"].items())
            )
            share = strength.get(topic)
            strength_text = (
                w.t("manager.topics_strength", share=w.percent(share)) if share is not None else ""
            )
            lines.append(f"{topic}{strength_text}\n  {kinds} | {moods}")
        if len(lines) == 2:
            lines.append(w.t("manager.topics_none"))
        await self._pre(update, "\n".join(lines))

    async def ideas_report(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/ideas_report [window]: co-creation numbers and the most voted ideas."""
        found = await self._section_text(update, context, ("cocreation",))
        if found is None:
            return
        text, w = found
        async with self.services.db.read() as session:
            entries, _ = await board(session=session, customer_id=None, offset=0, limit=5)
        top = [
            f"  #{e.idea.id} {w.n('manager.idea_votes', e.votes)}, "
            f"{w.t(f'idea_status.{e.idea.status}')}: {shorten(e.idea.text, 70)}"
            for e in entries
        ]
        most_voted = w.t("manager.most_voted")
        await self._pre(update, text + (f"\n\n{most_voted}\n" + "\n".join(top) if top else ""))

    # Files ----------------------------------------------------------------------------------

    async def report(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/report [window]: the charts, as PNG images."""
        chat = update.effective_chat
        window = await self._window(update, context)
        if chat is None or window is None:
            return
        start, end = window
        charts = await report_charts(
            self.services.db, start=start, end=end, zone=self.services.settings.zone
        )
        await self.messenger.send_charts(chat.id, charts, _span(start, end))

    async def export(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/export [window]: CSV files, one row per ticket and one per idea."""
        chat = update.effective_chat
        window = await self._window(update, context)
        if chat is None or window is None:
            return
        start, end = window
        async with self.services.db.read() as session:
            tickets = await tickets_csv(
                session=session, start=start, end=end, sla_minutes=self._sla
            )
            ideas = await ideas_csv(session=session, start=start, end=end)
        stamp = f"{start:%Y%m%d}-{end:%Y%m%d}"
        for name, data in ((f"tickets-{stamp}.csv", tickets), (f"ideas-{stamp}.csv", ideas)):
            # Through the outbox: a 5xx is retried with the file, a repeat sends nothing twice.
            await self.messenger.send_document(
                chat.id, data, filename=name, caption=_span(start, end)
            )

    # Drill-downs ----------------------------------------------------------------------------

    async def tickets(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/tickets breached|open|reopened [window]: the tickets behind a number."""
        args = list(context.args or [])
        which = args.pop(0).lower() if args else ""
        w = await self._words(update)
        if which not in {"breached", "open", "reopened"}:
            await self._pre(update, w.t("manager.tickets_usage"))
            return
        context.args = args
        window = await self._window(update, context)
        if window is None:
            return
        start, end = window
        now = self.services.clock.now()
        async with self.services.db.read() as session:
            if which == "breached":
                found = await breached_tickets(
                    session=session, start=start, end=end, now=now, sla_minutes=self._sla
                )
            elif which == "open":
                found = await open_tickets(session=session, at=now)
            else:
                found = await reopened_tickets(session=session, start=start, end=end)
        title = w.t(
            f"manager.tickets_{which}",
            count=w.number(len(found)),
            span=f"{w.moment(start.isoformat())} – {w.moment(end.isoformat())}",
        )
        await self._pre(update, "\n".join([title, *(_ticket_line(w, t, now) for t in found)]))

    async def dashboard(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/dashboard: a signed link to the web dashboard, valid for an hour."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        settings = self.services.settings
        lang = await person_language(self.services, user.id)
        base = settings.public_base_url
        if _only_this_machine(base):
            # Telegram opens links on the manager's phone, where 127.0.0.1 is the phone itself.
            await self.messenger.send(
                chat.id, self.services.catalog.t("manager.dashboard_local", lang, url=escape(base))
            )
            return
        link = dashboard_link(base, user.id, settings, self.services.clock.now())
        await self.messenger.send(
            chat.id, self.services.catalog.t("manager.dashboard", lang, link=escape(link))
        )

    # Helpers --------------------------------------------------------------------------------

    @property
    def _sla(self) -> int:
        return self.services.settings.sla_minutes

    async def _words(self, update: Update) -> Words:
        """Numbers and texts in the language this manager chose (/language)."""
        user = update.effective_user
        lang = (
            await person_language(self.services, user.id)
            if user is not None
            else self.services.settings.default_language
        )
        return Words(self.services.catalog, lang)

    async def _window(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> tuple[datetime, datetime] | None:
        try:
            return parse_window(list(context.args or []), self.services.clock.now(), self.services)
        except WindowError as exc:
            w = await self._words(update)
            await self._pre(update, w.t("manager.window_unknown", window=str(exc)))
            return None

    async def _summary(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> dict[str, Any] | None:
        window = await self._window(update, context)
        if window is None:
            return None
        start, end = window
        async with self.services.db.read() as session:
            return await compute_summary(
                session=session, start=start, end=end, sla_minutes=self._sla
            )

    async def _sections(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, names: tuple[str, ...] | None
    ) -> None:
        found = await self._section_text(update, context, names)
        if found is not None:
            await self._pre(update, found[0])

    async def _section_text(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, names: tuple[str, ...] | None
    ) -> tuple[str, Words] | None:
        """These sections of the summary for the window asked (all of them: None), in the
        manager's language; None when the window was refused (they were told why)."""
        summary = await self._summary(update, context)
        if summary is None:
            return None
        w = await self._words(update)
        text = format_summary(
            summary,
            sla_minutes=self._sla,
            language=w.language,
            sections=names,
            catalog=self.services.catalog,
        )
        return text, w

    async def _pre(self, update: Update, text: str) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        for piece in split_plain(text, _PRE_ROOM):
            await self.messenger.send(chat.id, f"<pre>{escape(piece)}</pre>")


def _only_this_machine(base_url: str) -> bool:
    """Whether a link to this base URL opens only on the bot's own machine."""
    host = (urlsplit(base_url).hostname or "").lower()
    return host in {"localhost", "::1"} or host.startswith("127.") or host.endswith(".localhost")


def _span(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


def _ticket_line(w: Words, ticket: Ticket, now: datetime) -> str:
    if ticket.first_response_seconds is not None:
        answered = w.t(
            "manager.ticket_answered", duration=w.duration(ticket.first_response_seconds)
        )
    else:
        waited = (now - ticket.opened_at).total_seconds()
        answered = w.t("manager.ticket_waiting", duration=w.duration(waited))
    return f"{ticket.reference} {ticket.status:<8} {ticket.topic:<16} {answered}" + (
        f", {ticket.assignee_name}" if ticket.assignee_name else ""
    )
