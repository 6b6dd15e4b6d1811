"""The summary's sections on customers: their involvement, the ideas they co-create, and the
balance between what staff and customers put in."""

from __future__ import annotations

from typing import Any

from bot.reports.words import Words


def involvement_lines(w: Words, inv: dict[str, Any], counts: dict[str, Any]) -> list[str]:
    """Messages, active customers, sentiment, passion, reach, participation, topics."""
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
        w.share(
            "summary.active",
            "summary.known_customers",
            part["active_customers"],
            part["all_customers"],
            part["active_share"],
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
        w.share(
            "summary.passion",
            "summary.active_customers",
            c.get("passionate", 0),
            inv["active_customers"],
            inv["passion"],
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


def cocreation_lines(w: Words, co: dict[str, Any], counts: dict[str, Any]) -> list[str]:
    """Ideas and votes, adoption, time to a first status, co-creating customers, ownership."""
    c = counts.get("cocreation") or {}
    per_idea = w.ratio(
        "summary.per_idea",
        co["votes_per_idea"],
        votes=w.n("summary.votes", c.get("cohort_votes", 0)),
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
        w.share(
            "summary.adoption",
            "summary.ideas",
            c.get("ideas_adopted", 0),
            c.get("ideas_decided", 0),
            co["adoption_rate"],
        ),
        "  " + w.t("summary.first_status", value=first_status),
        w.share(
            "summary.cocreating",
            "summary.active_customers",
            c.get("cocreating", 0),
            c.get("active", 0),
            co["cocreating_customers"],
        ),
        w.share(
            "summary.ownership",
            "summary.customers_who_rated",
            c.get("owners", 0),
            c.get("rated", 0),
            co["ownership_quotient"],
        ),
    ]


def balance_lines(w: Words, bal: dict[str, Any], counts: dict[str, Any]) -> list[str]:
    """Staff replies per ticket, contributions per active customer, and week by week."""
    c = counts.get("balance") or {}
    interaction = w.ratio(
        "summary.interaction_values",
        bal["staff_messages_per_ticket"],
        replies=w.n("summary.staff_replies", c.get("staff_replies", 0)),
        tickets=w.n("summary.in_tickets", c.get("tickets_talked", 0)),
    )
    participation = w.ratio(
        "summary.contribution_values",
        bal["contributions_per_active_customer"],
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
