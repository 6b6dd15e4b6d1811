"""The manager's summary as text: every figure says what it counts, in the reader's language."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.i18n import Catalog
from bot.reports.involvement import balance_lines, cocreation_lines, involvement_lines
from bot.reports.words import Words


def format_summary(
    summary: dict[str, Any],
    *,
    sla_minutes: int,
    language: str = "en",
    sections: Sequence[str] | None = None,
    catalog: Catalog | None = None,
) -> str:
    """The summary as plain text in ``language``: every figure says what it counts, every ratio
    shows its parts, and an empty window says "no data". ``sections`` picks blocks by key
    (responsiveness, involvement, cocreation, balance, incidents, selfservice); the title always
    comes."""
    w = Words(catalog or Catalog(language), language)
    counts = summary.get("counts") or {}
    blocks = {
        "responsiveness": _responsiveness(w, summary["responsiveness"], counts, sla_minutes),
        "involvement": involvement_lines(w, summary["involvement"], counts),
        "cocreation": cocreation_lines(w, summary["cocreation"], counts),
        "balance": balance_lines(w, summary["balance"], counts),
    }
    if summary.get("incidents") is not None:
        blocks["incidents"] = _incidents(w, summary["incidents"])
    if summary.get("selfservice") is not None:
        blocks["selfservice"] = _selfservice(w, summary["selfservice"])
    window = summary["window"]
    title = w.t("summary.title", start=w.moment(window["start"]), end=w.moment(window["end"]))
    chosen = [
        [w.t(f"summary.section.{name}"), *lines]
        for name, lines in blocks.items()
        if sections is None or name in sections
    ]
    return "\n\n".join("\n".join(block) for block in [[title], *chosen])


def _responsiveness(
    w: Words, r: dict[str, Any], counts: dict[str, Any], sla_minutes: int
) -> list[str]:
    c = counts.get("responsiveness") or {}
    tickets = [w.n("summary.tickets_opened", r["tickets_opened"])]
    tickets.append(w.n("summary.tickets_resolved", r["tickets_resolved"]))
    backlog = w.n("summary.backlog", r["backlog"])
    if r["oldest_open_age"] is not None:
        backlog = w.t("summary.oldest", backlog=backlog, duration=w.duration(r["oldest_open_age"]))
    lines = [f"  {', '.join(tickets)}; {backlog}"]
    first_responses = c.get("first_responses", 0)
    first_response = w.spread(
        r["first_response_p50"],
        r["first_response_p90"],
        w.n("summary.tickets_answered", first_responses),
    )
    lines.append("  " + w.t("summary.first_response", values=first_response))
    lines.append(
        "  "
        + w.t(
            "summary.sla",
            sla=w.duration(sla_minutes * 60),
            share=w.part(
                "summary.tickets_due", c.get("sla_met", 0), c.get("sla_due", 0), r["sla_met_rate"]
            ),
        )
    )
    resolution = w.spread(
        r["resolution_p50"],
        r["resolution_p90"],
        w.n("summary.tickets_resolved_over", r["tickets_resolved"]),
    )
    lines.append("  " + w.t("summary.resolution", values=resolution))
    lines.append(
        w.share(
            "summary.reopened",
            "summary.resolved_tickets",
            c.get("reopened", 0),
            r["tickets_resolved"],
            r["reopen_rate"],
        )
    )
    n_csat = c.get("csat_ratings", 0)
    csat = w.no_data
    if r["csat"] is not None and n_csat:
        csat = w.t(
            "summary.csat_values",
            share=w.part("summary.ratings", c.get("csat_satisfied", 0), n_csat, r["csat"]),
            mean=w.decimal(r["csat_mean"], 2),
        )
    n_nps = c.get("nps_ratings", 0)
    nps = w.no_data
    if r["nps"] is not None and n_nps:
        nps = w.t(
            "summary.nps_values",
            score=w.decimal(r["nps"], 0),
            ratings=w.n("summary.ratings", n_nps),
            promoters=w.n("summary.promoters", c.get("nps_promoters", 0)),
            detractors=w.n("summary.detractors", c.get("nps_detractors", 0)),
        )
    lines.append(f"  {w.t('summary.csat', values=csat)}; {w.t('summary.nps', values=nps)}")
    for staff in r["per_staff"]:
        who = staff["name"] or w.t("summary.staff_unnamed", id=staff["staff_id"])
        p50 = staff["first_response_p50"]
        lines.append(
            "    "
            + w.t(
                "summary.staff",
                who=who,
                replies=w.n("summary.replies", staff["replies"]),
                tickets=w.n("summary.on_tickets", staff["tickets"]),
                notes=w.n("summary.notes", staff["notes"]),
                first=w.n("summary.first_responses", staff["first_responses"]),
                p50=w.maybe_duration(p50),
                resolved=w.n("summary.tickets_resolved", staff["resolved"]),
            )
        )
    return lines


def _incidents(w: Words, inc: dict[str, Any]) -> list[str]:
    return [
        "  "
        + w.t(
            "summary.incidents_line",
            opened=w.n("summary.incidents_opened", inc["opened"]),
            affected=w.n("summary.customers_affected", inc["customers_affected"]),
            resolved=w.n("summary.incidents_resolved", inc["resolved"]),
            open_at_end=w.n("summary.incidents_open", inc["open_at_end"]),
        ),
        "  "
        + w.t(
            "summary.incidents_times",
            detected=w.maybe_duration(inc["time_to_detect_p50"]),
            told=w.maybe_duration(inc["time_to_first_broadcast_p50"]),
            resolved=w.maybe_duration(inc["time_to_resolve_p50"]),
        ),
    ]


def _selfservice(w: Words, ss: dict[str, Any]) -> list[str]:
    lines = [
        "  "
        + w.t(
            "summary.selfservice_rate",
            values=w.part(
                "summary.selfservice_offered",
                ss["self_served"],
                ss["offered"],
                ss["self_service_rate"],
            ),
        ),
        "  "
        + w.t(
            "summary.selfservice_escalated",
            escalated=w.integer(ss["escalated"]),
            person=w.integer(ss["escalated_on_request"]),
            timeout=w.integer(ss["escalated_on_timeout"]),
            came_back=w.integer(ss["came_back_after_solved"]),
        ),
    ]
    for answer in ss["answers"]:
        lines.append(
            "    "
            + w.t(
                "summary.selfservice_answer",
                id=answer["answer_id"],
                title=answer["title"],
                shown=w.integer(answer["shown"]),
                helpful=w.integer(answer["helpful"]),
                not_helpful=w.integer(answer["not_helpful"]),
            )
        )
    return lines
