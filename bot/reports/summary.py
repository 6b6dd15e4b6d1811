"""The manager's summary as text: every figure says what it counts, in the reader's language."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.i18n import Catalog
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
        "involvement": _involvement(w, summary["involvement"], counts),
        "cocreation": _cocreation(w, summary["cocreation"], counts),
        "balance": _balance(w, summary["balance"], counts),
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
    if r["first_response_p50"] is None:
        lines.append("  " + w.t("summary.first_response", values=w.no_data))
    else:
        lines.append(
            "  "
            + w.t(
                "summary.first_response",
                values=w.t(
                    "summary.p50_p90",
                    p50=w.duration(r["first_response_p50"]),
                    p90=w.duration(r["first_response_p90"]),
                    over=w.n("summary.tickets_answered", first_responses),
                ),
            )
        )
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
    if r["resolution_p50"] is None:
        resolution = w.no_data
    else:
        resolution = w.t(
            "summary.p50_p90",
            p50=w.duration(r["resolution_p50"]),
            p90=w.duration(r["resolution_p90"]),
            over=w.n("summary.tickets_resolved_over", r["tickets_resolved"]),
        )
    lines.append("  " + w.t("summary.resolution", values=resolution))
    lines.append(
        "  "
        + w.t(
            "summary.reopened",
            share=w.part(
                "summary.resolved_tickets",
                c.get("reopened", 0),
                r["tickets_resolved"],
                r["reopen_rate"],
            ),
        )
    )
    n_csat = c.get("csat_ratings", 0)
    if r["csat"] is None or not n_csat:
        csat = w.t("summary.csat", values=w.no_data)
    else:
        csat = w.t(
            "summary.csat",
            values=w.t(
                "summary.csat_values",
                share=w.part("summary.ratings", c.get("csat_satisfied", 0), n_csat, r["csat"]),
                mean=w.decimal(r["csat_mean"], 2),
            ),
        )
    n_nps = c.get("nps_ratings", 0)
    if r["nps"] is None or not n_nps:
        nps = w.t("summary.nps", values=w.no_data)
    else:
        nps = w.t(
            "summary.nps",
            values=w.t(
                "summary.nps_values",
                score=w.decimal(r["nps"], 0),
                ratings=w.n("summary.ratings", n_nps),
                promoters=w.n("summary.promoters", c.get("nps_promoters", 0)),
                detractors=w.n("summary.detractors", c.get("nps_detractors", 0)),
            ),
        )
    lines.append(f"  {csat}; {nps}")
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


def _involvement(w: Words, inv: dict[str, Any], counts: dict[str, Any]) -> list[str]:
    c = counts.get("involvement") or {}
    part = inv["participation"]
    lines = [
        "  "
        + w.t(
            "summary.messages",
            messages=w.n("summary.customer_messages", inv["feedback"]),
            care=w.integer(inv["care"]),
            ideas=w.integer(inv["ideas"]),
            other=w.integer(inv["other"]),
        ),
        "  "
        + w.t(
            "summary.active",
            share=w.part(
                "summary.known_customers",
                part["active_customers"],
                part["all_customers"],
                part["active_share"],
            ),
        ),
    ]
    positive, negative = c.get("positive", 0), c.get("negative", 0)
    if not inv["feedback"]:
        sentiment = w.t("summary.sentiment_none", no_data=w.no_data)
    elif inv["sentiment_ratio"] is None:
        sentiment = w.t(
            "summary.sentiment_no_negative",
            positive=w.n("summary.positive", positive),
            neutral=w.n("summary.neutral", inv["neutral"]),
        )
    else:
        sentiment = w.t(
            "summary.sentiment",
            # 3 positive to 60 negative is 0.05 : 1, not a flat 0.0 : 1.
            ratio=w.decimal(inv["sentiment_ratio"], 1 if inv["sentiment_ratio"] >= 1 else 2),
            positive=w.n("summary.positive", positive),
            negative=w.n("summary.negative", negative),
            neutral=w.n("summary.neutral", inv["neutral"]),
        )
    lines.append("  " + sentiment)
    lines.append(
        "  "
        + w.t(
            "summary.passion",
            share=w.part(
                "summary.active_customers",
                c.get("passionate", 0),
                inv["active_customers"],
                inv["passion"],
            ),
        )
    )
    if inv["reach"] is None:
        reach = w.t("summary.reach_none", no_data=w.no_data)
    else:
        reach = w.t(
            "summary.reach",
            reach=w.decimal(inv["reach"], 2),
            senders=w.n("summary.customers", c.get("senders", 0)),
            messages=w.n("summary.customer_messages", inv["feedback"]),
        )
    lines.append("  " + reach)
    lines.append(
        "  "
        + w.t(
            "summary.participation",
            items=", ".join(
                [
                    w.n("summary.care_requests", part["care_requests"]),
                    w.n("summary.ideas", part["ideas"]),
                    w.n("summary.votes", part["votes"]),
                    w.n("summary.ratings", part["ratings"]),
                    w.n("summary.comments", part["comments"]),
                ]
            ),
        )
    )
    if inv["strength_by_topic"]:
        strength = sorted(inv["strength_by_topic"].items(), key=lambda kv: (-kv[1], kv[0]))
        lines.append(
            "  "
            + w.t(
                "summary.strength",
                items=", ".join(f"{topic} {w.percent(share)}" for topic, share in strength),
            )
        )
    for topic, found in inv["by_topic"].items():
        kinds = ", ".join(f"{w.label(k)} {w.integer(n)}" for k, n in sorted(found["kinds"].items()))
        moods = ", ".join(
            f"{w.label(k)} {w.integer(n)}" for k, n in sorted(found["sentiments"].items())
        )
        lines.append(f"    {topic}: {kinds} | {moods}")
    if inv["top_keywords"]:
        items = ", ".join(f"{k['keyword']} ({w.integer(k['count'])})" for k in inv["top_keywords"])
        lines.append("  " + w.t("summary.top_keywords", items=items))
    if inv["top_contributors"]:
        items = ", ".join(
            f"{c['name'] or c['customer_id']} ({w.n('summary.contributions', c['contributions'])})"
            for c in inv["top_contributors"]
        )
        lines.append("  " + w.t("summary.top_contributors", items=items))
    return lines


def _cocreation(w: Words, co: dict[str, Any], counts: dict[str, Any]) -> list[str]:
    c = counts.get("cocreation") or {}
    per_idea = (
        w.no_data
        if co["votes_per_idea"] is None
        else w.t(
            "summary.per_idea",
            ratio=w.decimal(co["votes_per_idea"], 1),
            votes=w.n("summary.votes", c.get("cohort_votes", 0)),
        )
    )
    first_status = (
        w.no_data
        if co["median_time_to_first_status"] is None
        else w.t(
            "summary.median_over",
            value=w.duration(co["median_time_to_first_status"]),
            over=w.n("summary.ideas", c.get("first_statuses", 0)),
        )
    )
    return [
        "  "
        + w.t(
            "summary.ideas_line",
            ideas=w.n("summary.ideas_proposed", co["ideas"]),
            votes=w.n("summary.votes_cast", co["votes"]),
            per_idea=per_idea,
        ),
        "  "
        + w.t(
            "summary.adoption",
            share=w.part(
                "summary.ideas",
                c.get("ideas_adopted", 0),
                c.get("ideas_decided", 0),
                co["adoption_rate"],
            ),
        ),
        "  " + w.t("summary.first_status", value=first_status),
        "  "
        + w.t(
            "summary.cocreating",
            share=w.part(
                "summary.active_customers",
                c.get("cocreating", 0),
                c.get("active", 0),
                co["cocreating_customers"],
            ),
        ),
        "  "
        + w.t(
            "summary.ownership",
            share=w.part(
                "summary.customers_who_rated",
                c.get("owners", 0),
                c.get("rated", 0),
                co["ownership_quotient"],
            ),
        ),
    ]


def _balance(w: Words, bal: dict[str, Any], counts: dict[str, Any]) -> list[str]:
    c = counts.get("balance") or {}
    if bal["staff_messages_per_ticket"] is None:
        interaction = w.no_data
    else:
        interaction = w.t(
            "summary.interaction_values",
            ratio=w.decimal(bal["staff_messages_per_ticket"], 1),
            replies=w.n("summary.staff_replies", c.get("staff_replies", 0)),
            tickets=w.n("summary.in_tickets", c.get("tickets_talked", 0)),
        )
    if bal["contributions_per_active_customer"] is None:
        participation = w.no_data
    else:
        participation = w.t(
            "summary.contribution_values",
            ratio=w.decimal(bal["contributions_per_active_customer"], 1),
            contributions=w.n("summary.contributions", c.get("contributions", 0)),
            customers=w.n("summary.from_customers", c.get("active", 0)),
        )
    lines = [
        "  " + w.t("summary.interaction", values=interaction),
        "  " + w.t("summary.contribution", values=participation),
    ]
    for week in bal["weekly"]:
        staff, people = week["staff_messages_per_ticket"], week["contributions_per_active_customer"]
        lines.append(
            "    "
            + w.t(
                "summary.week",
                day=w.day(week["start"]),
                staff=w.no_data if staff is None else w.decimal(staff, 1),
                people=w.no_data if people is None else w.decimal(people, 1),
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
