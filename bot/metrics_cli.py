"""The ``metrics`` subcommand of ``feedbackbot``: the manager's summary for a window, as text or
JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.i18n import plural_form

MAX_WINDOW = timedelta(days=366)
_WINDOW = re.compile(r"(\d{1,5})([dh])")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def add_commands(subparsers: Any) -> None:
    """Register ``metrics`` on an argparse subparsers object."""
    metrics = subparsers.add_parser(
        "metrics",
        help="print the metric summary for a window (responsiveness, involvement, co-creation)",
        description="Compute every metric over a window ending now (--window, default 7d) or "
        "over a calendar month (--month), in the TIMEZONE setting, from DATABASE_URL. "
        "The SLA is SLA_MINUTES.",
    )
    period = metrics.add_mutually_exclusive_group()
    period.add_argument(
        "--window",
        type=parse_window,
        default=None,
        metavar="SPAN",
        help="how far back from now: Nd or Nh, such as 1d, 7d, 30d or 12h (default: 7d)",
    )
    period.add_argument(
        "--month", type=parse_month, default=None, metavar="YYYY-MM", help="a calendar month"
    )
    metrics.add_argument("--json", action="store_true", help="print one JSON object")
    metrics.add_argument(
        "--top",
        type=_top,
        default=5,
        metavar="N",
        help="how many top keywords and contributors (1-50, default: %(default)s)",
    )
    metrics.set_defaults(func=cmd_metrics)


def parse_window(value: str) -> timedelta:
    """ "7d" -> 7 days, "12h" -> 12 hours; anything else is an argparse error naming it."""
    match = _WINDOW.fullmatch(value.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(
            f"invalid window {value!r}: use a number of days or hours such as 1d, 7d, 30d or 12h"
        )
    amount, unit = int(match.group(1)), match.group(2)
    span = timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
    if span > MAX_WINDOW:
        raise argparse.ArgumentTypeError(f"invalid window {value!r}: at most 366 days")
    return span


def parse_month(value: str) -> tuple[int, int]:
    """ "2026-11" -> (2026, 11)."""
    match = _MONTH.fullmatch(value.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise argparse.ArgumentTypeError(f"invalid month {value!r}: use YYYY-MM such as 2026-11")
    return int(match.group(1)), int(match.group(2))


def _top(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 50:
        raise argparse.ArgumentTypeError(f"invalid count {value!r}: use a number from 1 to 50")
    return int(value)


def window_bounds(
    *, now: datetime, zone: tzinfo, span: timedelta | None, month: tuple[int, int] | None
) -> tuple[datetime, datetime]:
    """[start, end) in the zone: the span ending now, or the whole calendar month."""
    if month is not None:
        year, number = month
        start = datetime(year, number, 1, tzinfo=zone)
        end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
        return start, end
    span = span or timedelta(days=7)
    end = now.astimezone(zone)
    if span % timedelta(days=1):
        # Hours are real hours: "12h" is twelve hours even across a DST change.
        return (end.astimezone(UTC) - span).astimezone(zone), end
    # Days are calendar days in the zone: "7d" starts at this time of day a week ago.
    return end - span, end


def cmd_metrics(args: argparse.Namespace) -> int:
    """Compute the summary and print it."""
    from bot.settings import load_settings

    settings = load_settings()
    start, end = window_bounds(
        now=datetime.now(UTC), zone=settings.zone, span=args.window, month=args.month
    )
    summary = asyncio.run(
        _summary(settings.database_url, start, end, settings.sla_minutes, args.top)
    )
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(format_summary(summary, sla_minutes=settings.sla_minutes))
    return 0


async def _summary(
    url: str, start: datetime, end: datetime, sla_minutes: int, top: int
) -> dict[str, Any]:
    from storage.db import Database, DatabaseUnavailable
    from storage.metrics import compute_summary
    from storage.migrate import current_revision, head_revision
    from storage.urls import redact

    # Connecting to SQLite creates the file: a mistyped path would leave an empty database.
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and not sqlite_file.exists():
        raise DatabaseUnavailable(_not_migrated(redact(url), "there is no such file"))
    db = Database(url)
    try:
        await db.check()
        revision, head = await current_revision(db), head_revision()
        if revision != head:
            found = "it has no schema" if revision is None else f"it is at {revision}, not {head}"
            raise DatabaseUnavailable(_not_migrated(redact(url), found))
        async with db.session() as session:
            return await compute_summary(
                session=session, start=start, end=end, sla_minutes=sla_minutes, top=top
            )
    finally:
        await db.dispose()


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL and for in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _not_migrated(where: str, found: str) -> str:
    return f"the database {where} is not migrated ({found}): run `feedbackbot migrate` first"


def format_summary(summary: dict[str, Any], *, sla_minutes: int) -> str:
    """The summary as plain text for a terminal."""
    r, inv, co, bal = (
        summary["responsiveness"],
        summary["involvement"],
        summary["cocreation"],
        summary["balance"],
    )
    part = inv["participation"]
    lines = [
        f"Metrics {_moment(summary['window']['start'])} – {_moment(summary['window']['end'])}",
        "",
        "Responsiveness",
        f"  tickets opened {r['tickets_opened']}, resolved {r['tickets_resolved']}, "
        f"backlog at end {r['backlog']} (oldest {_duration(r['oldest_open_age'])})",
        f"  first response p50 {_duration(r['first_response_p50'])}, "
        f"p90 {_duration(r['first_response_p90'])}; "
        f"within SLA ({sla_minutes} min) {_percent(r['sla_met_rate'])}",
        f"  resolution p50 {_duration(r['resolution_p50'])}, "
        f"p90 {_duration(r['resolution_p90'])}; reopened {_percent(r['reopen_rate'])}",
        f"  CSAT {_percent(r['csat'])} satisfied (mean {_number(r['csat_mean'], 2)}), "
        f"NPS {_number(r['nps'], 0)}",
    ]
    for staff in r["per_staff"]:
        who = staff["name"] or f"staff {staff['staff_id']}"
        lines.append(
            f"    {who}: {_things(staff['replies'], 'reply', 'replies')} on "
            f"{_things(staff['tickets'], 'ticket', 'tickets')}, "
            f"{_things(staff['notes'], 'note', 'notes')}, "
            f"{_things(staff['first_responses'], 'first response', 'first responses')} "
            f"(p50 {_duration(staff['first_response_p50'])}), {staff['resolved']} resolved"
        )
    ratio = inv["sentiment_ratio"]
    lines += [
        "",
        "Involvement",
        f"  feedback {inv['feedback']}: care {inv['care']}, ideas {inv['ideas']}, "
        f"other {inv['other']}; active customers {inv['active_customers']} of "
        f"{part['all_customers']} ({_percent(part['active_share'])})",
        f"  sentiment {_number(ratio, 1)} : 1 positive to negative, neutral {inv['neutral']}; "
        f"passion {_percent(inv['passion'])}, reach {_number(inv['reach'], 2)}",
        f"  participation: care requests {part['care_requests']}, ideas {part['ideas']}, "
        f"votes {part['votes']}, ratings {part['ratings']}, comments {part['comments']}",
    ]
    if inv["strength_by_topic"]:
        strength = sorted(inv["strength_by_topic"].items(), key=lambda kv: (-kv[1], kv[0]))
        lines.append(
            "  strength (last 24 h): "
            + ", ".join(f"{topic} {_percent(share)}" for topic, share in strength)
        )
    for topic, counts in inv["by_topic"].items():
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(counts["kinds"].items()))
        moods = ", ".join(f"{k} {n}" for k, n in sorted(counts["sentiments"].items()))
        lines.append(f"    {topic}: {kinds} | {moods}")
    if inv["top_keywords"]:
        lines.append(
            "  top keywords: "
            + ", ".join(f"{k['keyword']} ({k['count']})" for k in inv["top_keywords"])
        )
    if inv["top_contributors"]:
        lines.append(
            "  top contributors: "
            + ", ".join(
                f"{c['name'] or c['customer_id']} ({c['contributions']})"
                for c in inv["top_contributors"]
            )
        )
    lines += [
        "",
        "Co-creation",
        f"  ideas {co['ideas']}, votes {co['votes']}, votes per idea "
        f"{_number(co['votes_per_idea'], 1)}, adopted {_percent(co['adoption_rate'])}, "
        f"time to first status p50 {_duration(co['median_time_to_first_status'])}",
        f"  co-creating customers {_percent(co['cocreating_customers'])}, "
        f"ownership quotient {_percent(co['ownership_quotient'])}",
        "",
        "Balance",
        f"  staff messages per ticket {_number(bal['staff_messages_per_ticket'], 1)}, "
        "contributions per active customer "
        f"{_number(bal['contributions_per_active_customer'], 1)}",
    ]
    for week in bal["weekly"]:
        lines.append(
            f"    week from {_moment(week['start'])}: "
            f"{_number(week['staff_messages_per_ticket'], 1)} staff messages per ticket, "
            f"{_number(week['contributions_per_active_customer'], 1)} contributions per customer"
        )
    inc = summary.get("incidents")
    if inc is not None:
        lines += [
            "",
            "Incidents",
            f"  {_things(inc['opened'], 'incident', 'incidents')} opened, "
            f"{_things(inc['customers_affected'], 'customer', 'customers')} affected, "
            f"{inc['resolved']} resolved, {inc['open_at_end']} open at the end",
            f"  from the first report: detected p50 {_duration(inc['time_to_detect_p50'])}, "
            f"first broadcast p50 {_duration(inc['time_to_first_broadcast_p50'])}, "
            f"resolved p50 {_duration(inc['time_to_resolve_p50'])}",
        ]
    return "\n".join(lines)


def _things(count: int, one: str, other: str) -> str:
    """ "1 note", "2 notes": this report is in English."""
    return f"{count} {one if plural_form('en', count) == 'one' else other}"


def _moment(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M %z")


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f}%"


def _number(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
