"""What customers see of the idea board: a page of ideas with vote buttons and paging, one
idea with its history and comments, and the ideas like the one they are about to post."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, User

from bot.core.services import Services
from bot.domain import ideas as board
from bot.domain.similar import Similar
from bot.telegram.callbacks import BoardPage, Payload, Vote, encode
from bot.telegram.text import escape
from storage.customers import get_customer_by_telegram_id
from storage.ideas import has_voted
from storage.models import IdeaStatus

PER_PAGE = 5
_PREVIEW = 160


async def board_view(
    services: Services, user: User, lang: str, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A page of the board for a customer, with vote buttons and paging."""
    t = services.catalog.t
    entries, pages = await board.board_page(
        services, telegram_user_id=user.id, page=page, per_page=PER_PAGE
    )
    if not entries and page > 0:
        page = pages - 1
        entries, pages = await board.board_page(
            services, telegram_user_id=user.id, page=page, per_page=PER_PAGE
        )
    if not entries:
        return t("idea.board_empty", lang), None
    lines = [t("idea.board_title", lang, page=page + 1, pages=pages)]
    votes_row = []
    for entry in entries:
        idea = entry.idea
        lines.append(
            t(
                "idea.board_line",
                lang,
                idea_id=idea.id,
                votes=entry.votes,
                status=t(f"idea_status.{idea.status}", lang),
                text=escape(preview(idea.text)),
            )
        )
        if idea.status in (IdeaStatus.DONE, IdeaStatus.DECLINED):
            continue
        key = "idea.button_unvote" if entry.voted else "idea.button_vote"
        data = encode(Vote(idea.id or 0, on=not entry.voted, page=page))
        votes_row.append(InlineKeyboardButton(t(key, lang, idea_id=idea.id), callback_data=data))
    lines.append(f"<i>{t('idea.board_hint', lang)}</i>")
    rows = [votes_row[i : i + 3] for i in range(0, len(votes_row), 3)]
    paging = []
    if page > 0:
        paging.append(
            InlineKeyboardButton(
                t("idea.button_previous", lang), callback_data=encode(BoardPage(page - 1))
            )
        )
    if page + 1 < pages:
        paging.append(
            InlineKeyboardButton(
                t("idea.button_next", lang), callback_data=encode(BoardPage(page + 1))
            )
        )
    if paging:
        rows.append(paging)
    return "\n\n".join(lines), InlineKeyboardMarkup(rows) if rows else None


async def detail_view(
    services: Services, user: User, idea_id: int, lang: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One idea for a customer: its status, history and comments, and a vote button."""
    t = services.catalog.t
    detail = await board.idea_detail(services, idea_id)
    if detail is None:
        return t("idea.not_found", lang, idea_id=idea_id), None
    idea = detail.idea
    zone = services.settings.zone
    lines = [
        t(
            "idea.detail_header",
            lang,
            idea_id=idea.id,
            status=t(f"idea_status.{idea.status}", lang),
            votes=detail.votes,
        ),
        escape(idea.text),
    ]
    if idea.merged_into_id:
        lines.append(t("idea.detail_merged", lang, target=idea.merged_into_id))
    history = [
        t(
            "idea.detail_history_line",
            lang,
            date=idea.created_at.astimezone(zone).strftime("%d/%m/%Y"),
            status=t("idea_status.new", lang),
            note="",
        )
    ]
    for change in detail.history:
        history.append(
            t(
                "idea.detail_history_line",
                lang,
                date=change.changed_at.astimezone(zone).strftime("%d/%m/%Y"),
                status=t(f"idea_status.{change.new_status}", lang),
                note=f" — {escape(change.note)}" if change.note else "",
            )
        )
    lines.append(t("idea.detail_history", lang) + "\n" + "\n".join(history))
    if detail.comments:
        shown = [
            t(
                "idea.detail_comment_line",
                lang,
                name=escape(name),
                text=escape(preview(c.text)),
            )
            for name, c in detail.comments
        ]
        lines.append(t("idea.detail_comments", lang) + "\n" + "\n".join(shown))
    else:
        lines.append(f"<i>{t('idea.detail_no_comments', lang)}</i>")
    buttons = None
    if idea.status not in (IdeaStatus.DONE, IdeaStatus.DECLINED, IdeaStatus.DUPLICATE):
        voted = await _has_voted(services, user.id, idea_id)
        key = "idea.button_unvote" if voted else "idea.button_vote"
        data = encode(Vote(idea_id, on=not voted, page=None))
        buttons = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t(key, lang, idea_id=idea_id), callback_data=data)]]
        )
    text = "\n\n".join(lines)
    return text, buttons


def similar_view(
    services: Services,
    lang: str,
    similar: Sequence[Similar],
    choice: Callable[[int | None], Payload],
) -> tuple[str, InlineKeyboardMarkup]:
    """Ideas on the board like the customer's, a vote button for each and one to post theirs
    as new; ``choice(idea_id)`` is what each button carries (None: post it as new)."""
    t = services.catalog.t
    lines = [t("idea.similar_intro", lang)]
    rows = []
    for idea in similar:
        lines.append(
            t(
                "idea.similar_line",
                lang,
                idea_id=idea.idea_id,
                votes=idea.votes,
                text=escape(preview(idea.text)),
            )
        )
        label = t("idea.button_vote_for", lang, idea_id=idea.idea_id)
        rows.append([InlineKeyboardButton(label, callback_data=encode(choice(idea.idea_id)))])
    label = t("idea.button_post_new", lang)
    rows.append([InlineKeyboardButton(label, callback_data=encode(choice(None)))])
    lines.append(t("idea.similar_question", lang))
    return "\n\n".join(lines), InlineKeyboardMarkup(rows)


async def _has_voted(services: Services, telegram_user_id: int, idea_id: int) -> bool:
    async with services.db.read() as session:
        customer = await get_customer_by_telegram_id(
            session=session, telegram_user_id=telegram_user_id
        )
        if customer is None or customer.id is None:
            return False
        return await has_voted(session=session, idea_id=idea_id, customer_id=customer.id)


def preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _PREVIEW else flat[: _PREVIEW - 1] + "…"
