"""/triage [N] for managers: the labels people gave and the model's agreement with the latest.

``ManagerHandlers`` registers :meth:`TriageReport.triage` behind its managers-only guard, so
it answers managers in their private chat only (in a group, one line points to it).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.handlers.people import person_language
from bot.reports.triage import DEFAULT_LATEST, MAX_LATEST, format_label_report, label_report
from bot.reports.words import Words
from bot.telegram.text import escape, split_plain

_PRE_ROOM = 3900  # a <pre> block with room for its tags under Telegram's 4,096


def parse_latest(args: list[str]) -> int | None:
    """N of /triage [N]: a whole number from 1 to MAX_LATEST; None when it is not."""
    if not args:
        return DEFAULT_LATEST
    word = args[0].strip()
    if len(args) > 1 or not word.isascii() or not word.isdigit():
        return None
    latest = int(word)
    return latest if 1 <= latest <= MAX_LATEST else None


class TriageReport:
    """The /triage command."""

    def __init__(self, services: Services, messenger: Messenger) -> None:
        self.services = services
        self.messenger = messenger

    async def triage(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/triage [N]: label counts, and the model on the latest N labelled messages."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        w = Words(self.services.catalog, await person_language(self.services, user.id))
        latest = parse_latest(list(context.args or []))
        if latest is None:
            usage = w.t(
                "triage.usage", max=w.integer(MAX_LATEST), default=w.integer(DEFAULT_LATEST)
            )
            await self.messenger.send(chat.id, escape(usage))
            return
        report = await label_report(self.services.db, self.services.triage, latest=latest)
        for piece in split_plain(format_label_report(report, w), _PRE_ROOM):
            await self.messenger.send(chat.id, f"<pre>{escape(piece)}</pre>")
