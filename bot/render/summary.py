"""The manager's summary, as an HTML message."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.i18n import Catalog
from storage.metrics import Overview


def render_overview(
    numbers: Overview, *, catalog: Catalog, language: str | None, zone: ZoneInfo
) -> str:
    """A compact summary: volumes by kind, topic and sentiment, tickets and ideas."""
    t = catalog.t
    start = numbers.start.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    end = numbers.end.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    lines = [
        t("manager.summary_title", language, start=start, end=end),
        t(
            "manager.summary_volume",
            language,
            feedback=numbers.feedback,
            count=numbers.active_customers,
            care=numbers.by_kind.get("care", 0),
            ideas=numbers.by_kind.get("idea", 0),
            other=numbers.by_kind.get("other", 0),
        ),
        t(
            "manager.summary_tickets",
            language,
            opened=numbers.tickets_opened,
            open_now=numbers.tickets_open_now,
        ),
    ]
    if numbers.by_sentiment:
        lines.append(
            t(
                "manager.summary_sentiment",
                language,
                positive=numbers.by_sentiment.get("positive", 0),
                neutral=numbers.by_sentiment.get("neutral", 0),
                negative=numbers.by_sentiment.get("negative", 0),
            )
        )
    if numbers.by_topic:
        top = sorted(numbers.by_topic.items(), key=lambda item: (-item[1], item[0]))
        lines.append(t("manager.summary_topics", language))
        lines.extend(f"  • {topic}: {count}" for topic, count in top)
    return "\n".join(lines)
