"""The dashboard's HTML: page.html filled with escaped numbers, tables and inline charts.

Every number sits in an element with `data-metric="<section>.<name>"` (the key path in
storage.metrics.compute_summary's answer) and `data-value` (the raw number, "" for none), so
tests and scripts read the page without parsing formatted text.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterable, Mapping
from datetime import datetime
from html import escape
from importlib import resources
from string import Template
from typing import Any
from urllib.parse import urlencode

from bot.core.settings import Settings
from bot.reports.charts import CHARTS
from bot.web.dashboard.cells import (
    Formatter,
    cell,
    fmt_count,
    fmt_decimal,
    fmt_duration,
    fmt_mean,
    fmt_percent,
    fmt_ratio,
    fmt_signed,
    meaning,
    title_attr,
)
from bot.web.dashboard.tables import detail_tables
from storage.metrics.definitions import DEFINITIONS

WINDOW_CHOICES = (1, 7, 30, 90)
# Screens up to this wide (CSS pixels) get the phone layout and the compact charts.
NARROW_PX = 600


def message_page(title: str, detail: str) -> str:
    """A short page that says one thing (a refusal, a bad request)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title></head>"
        '<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 40em; margin: 3em auto;">'
        f'<h1 id="refused">{escape(title)}</h1><p id="detail">{escape(detail)}</p>'
        "</body></html>\n"
    )


@functools.cache
def _template() -> Template:
    return Template(resources.files("bot.web.dashboard").joinpath("page.html").read_text("utf-8"))


def _sections(sla_minutes: int) -> list[tuple[str, str, list[tuple[str, str, Formatter]]]]:
    return [
        (
            "responsiveness",
            "Responsiveness",
            [
                ("tickets_opened", "Tickets opened", fmt_count),
                ("tickets_resolved", "Tickets resolved", fmt_count),
                ("first_response_p50", "First response, median", fmt_duration),
                ("first_response_p90", "First response, p90", fmt_duration),
                ("resolution_p50", "Resolution, median", fmt_duration),
                ("resolution_p90", "Resolution, p90", fmt_duration),
                ("sla_met_rate", f"Answered within {sla_minutes} min", fmt_percent),
                ("backlog", "Open at the end", fmt_count),
                ("oldest_open_age", "Oldest open ticket", fmt_duration),
                ("reopen_rate", "Reopened", fmt_percent),
                ("csat", "CSAT (rated 4-5)", fmt_percent),
                ("csat_mean", "CSAT mean (1-5)", fmt_mean),
                ("nps", "NPS", fmt_signed),
            ],
        ),
        (
            "involvement",
            "Involvement",
            [
                ("feedback", "Messages from customers", fmt_count),
                ("care", "Care requests", fmt_count),
                ("ideas", "Ideas", fmt_count),
                ("other", "Other (praise, greetings)", fmt_count),
                ("active_customers", "Active customers", fmt_count),
                ("sentiment_ratio", "Positive : negative", fmt_ratio),
                ("passion", "Passion (wrote twice or more)", fmt_percent),
                ("reach", "Reach (senders per message)", fmt_decimal),
            ],
        ),
        (
            "cocreation",
            "Co-creation",
            [
                ("ideas", "Ideas proposed", fmt_count),
                ("votes", "Votes", fmt_count),
                ("votes_per_idea", "Votes per idea", fmt_decimal),
                ("adoption_rate", "Adoption rate", fmt_percent),
                ("median_time_to_first_status", "Time to first status, median", fmt_duration),
                ("cocreating_customers", "Co-creating customers", fmt_percent),
                ("ownership_quotient", "Ownership quotient", fmt_percent),
            ],
        ),
        (
            "balance",
            "Balance",
            [
                ("staff_messages_per_ticket", "Staff messages per ticket", fmt_decimal),
                (
                    "contributions_per_active_customer",
                    "Contributions per active customer",
                    fmt_decimal,
                ),
            ],
        ),
        (
            "incidents",
            "Incidents",
            [
                ("opened", "Incidents opened", fmt_count),
                ("customers_affected", "Customers affected", fmt_count),
                ("time_to_detect_p50", "Detected after, median", fmt_duration),
                ("time_to_first_broadcast_p50", "Everyone told after, median", fmt_duration),
                ("time_to_resolve_p50", "Resolved after, median", fmt_duration),
                ("resolved", "Resolved", fmt_count),
                ("open_at_end", "Open at the end", fmt_count),
            ],
        ),
    ]


# What each card counts: the first line under its heading (storage.metrics.definitions).
_CARD_MEANING = {"incidents": "incidents"}
# What each chart counts, from the same definitions; a chart drawing two measures names both.
CHART_MEANINGS: dict[str, tuple[str, ...]] = {
    "volume_by_kind": ("feedback",),
    "first_response": ("first_response",),
    "sentiment_ratio": ("sentiment_ratio",),
    "topic_strength": ("strength_by_topic",),
    "balance": ("staff_messages_per_ticket", "contributions_per_active_customer"),
}


def chart_caption(stem: str) -> str:
    """One line saying what a chart counts, from storage.metrics.definitions."""
    meanings = [DEFINITIONS[key] for key in CHART_MEANINGS.get(stem, ()) if key in DEFINITIONS]
    text = "; beside it, ".join(meanings)
    return text[:1].upper() + text[1:] + "." if text else ""


def _metric_card(
    key: str, title: str, rows: Iterable[tuple[str, str, Formatter]], data: Any
) -> str:
    values: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    body = "".join(
        f'<tr><th scope="row"{title_attr(meaning(name))}>{escape(label)}</th>'
        f"{cell(f'{key}.{name}', values.get(name), formatter)}</tr>"
        for name, label, formatter in rows
    )
    about = DEFINITIONS.get(_CARD_MEANING.get(key, ""), "")
    intro = f'<p class="what">{escape(about[:1].upper() + about[1:])}.</p>' if about else ""
    return (
        f'    <section id="section-{escape(key)}"><h2>{escape(title)}</h2>{intro}'
        f"<table><tbody>{body}</tbody></table></section>"
    )


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _charts_html(
    charts: list[tuple[str, bytes]], compact: Mapping[str, bytes] | None = None
) -> str:
    """A figure per chart with its one-line meaning; on a narrow screen the browser picks
    the chart drawn for a phone (bot.reports.charts, compact) when there is one."""
    titles = dict(CHARTS)
    figures = []
    for name, png in charts:
        title = titles.get(name, name)
        stem = name.removesuffix(".png")
        narrow = (compact or {}).get(name)
        source = (
            f'<source media="(max-width: {NARROW_PX}px)" srcset="{_data_url(narrow)}">'
            if narrow
            else ""
        )
        caption = chart_caption(stem)
        figures.append(
            f'    <figure id="chart-{escape(stem)}"><picture>{source}'
            f'<img data-chart="{escape(stem)}" alt="{escape(title)}" src="{_data_url(png)}">'
            f'</picture><figcaption data-caption="{escape(stem)}">{escape(caption)}'
            "</figcaption></figure>"
        )
    return "\n".join(figures)


def _nav(days: int, token: str) -> str:
    links = []
    for choice in WINDOW_CHOICES:
        href = "?" + urlencode({"token": token, "days": choice})
        current = ' aria-current="page"' if choice == days else ""
        label = "1 day" if choice == 1 else f"{choice} days"
        links.append(f'<a href="{escape(href)}"{current}>{escape(label)}</a>')
    return "".join(links)


def render_page(
    summary: Mapping[str, Any],
    charts: list[tuple[str, bytes]],
    *,
    compact_charts: list[tuple[str, bytes]] | None = None,
    start: datetime,
    end: datetime,
    settings: Settings,
    days: int,
    token: str,
) -> str:
    """The dashboard HTML: every number escaped and tagged with data-metric for machines."""
    zone = settings.zone
    window = (
        f"{start.astimezone(zone):%Y-%m-%d %H:%M} – {end.astimezone(zone):%Y-%m-%d %H:%M} "
        f"({zone.key})"
    )
    cards = "\n".join(
        _metric_card(key, title, rows, summary.get(key))
        for key, title, rows in _sections(settings.sla_minutes)
    )
    title = f"{settings.team_name}: dashboard"
    return _template().substitute(
        title=escape(title),
        heading=escape(title),
        start_iso=escape(start.isoformat()),
        end_iso=escape(end.isoformat()),
        window=escape(window),
        nav=_nav(days, token),
        cards=cards,
        tables=detail_tables(summary),
        charts=_charts_html(charts, dict(compact_charts or [])),
        footer=escape(
            "Times are medians (p50) and 90th percentiles (p90), nearest rank. "
            "This page is private to managers: do not forward its link."
        ),
    )
