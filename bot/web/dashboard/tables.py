"""The dashboard's detail tables under the cards: topic strength, open tickets by topic,
keywords, top contributors and staff workload."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.web.dashboard.cells import cell, fmt_count, fmt_duration, fmt_percent, table, text_cell


def detail_tables(summary: Mapping[str, Any]) -> str:
    """The tables of the summary's breakdowns, each with its empty-state line."""
    involvement = summary.get("involvement") or {}
    responsiveness = summary.get("responsiveness") or {}
    tables = []

    strength = involvement.get("strength_by_topic") or {}
    tables.append(
        table(
            "table-strength",
            "Topic strength (last 24 h)",
            ["Topic", "Share"],
            [
                [
                    text_cell(topic),
                    cell(f"involvement.strength_by_topic.{topic}", share, fmt_percent),
                ]
                for topic, share in sorted(strength.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "No feedback in the last 24 hours.",
        )
    )

    by_topic = involvement.get("by_topic") or {}
    topic_rows = []
    for topic, counts in by_topic.items():
        kinds = counts.get("kinds", {}) if isinstance(counts, Mapping) else {}
        moods = counts.get("sentiments", {}) if isinstance(counts, Mapping) else {}
        topic_rows.append(
            [text_cell(topic)]
            + [
                cell(f"involvement.by_topic.{topic}.kinds.{k}", kinds.get(k, 0), fmt_count)
                for k in ("care", "idea", "other")
            ]
            + [
                cell(f"involvement.by_topic.{topic}.sentiments.{s}", moods.get(s, 0), fmt_count)
                for s in ("positive", "neutral", "negative")
            ]
        )
    tables.append(
        table(
            "table-topics",
            "Topics",
            ["Topic", "Care", "Ideas", "Other", "Positive", "Neutral", "Negative"],
            topic_rows,
            "No feedback in this window.",
            wide=True,
        )
    )

    keywords = involvement.get("top_keywords") or []
    tables.append(
        table(
            "table-keywords",
            "Top keywords",
            ["Keyword", "Messages"],
            [
                [
                    text_cell(item.get("keyword", "")),
                    cell(f"involvement.top_keywords.{i}.count", item.get("count"), fmt_count),
                ]
                for i, item in enumerate(keywords)
            ],
            "No keywords in this window.",
        )
    )

    contributors = involvement.get("top_contributors") or []
    tables.append(
        table(
            "table-contributors",
            "Top contributors",
            ["Customer", "Contributions"],
            [
                [
                    text_cell(item.get("name") or f"Customer {item.get('customer_id')}"),
                    cell(
                        f"involvement.top_contributors.{i}.contributions",
                        item.get("contributions"),
                        fmt_count,
                    ),
                ]
                for i, item in enumerate(contributors)
            ],
            "No contributions in this window.",
        )
    )

    staff = responsiveness.get("per_staff") or []
    tables.append(
        table(
            "table-staff",
            "Staff",
            ["Staff", "Replies", "Notes", "First responses", "First response, median", "Resolved"],
            [
                [
                    text_cell(item.get("name") or f"User {item.get('staff_id')}"),
                    cell(f"staff.{i}.replies", item.get("replies"), fmt_count),
                    cell(f"staff.{i}.notes", item.get("notes"), fmt_count),
                    cell(f"staff.{i}.first_responses", item.get("first_responses"), fmt_count),
                    cell(
                        f"staff.{i}.first_response_p50",
                        item.get("first_response_p50"),
                        fmt_duration,
                    ),
                    cell(f"staff.{i}.resolved", item.get("resolved"), fmt_count),
                ]
                for i, item in enumerate(staff)
            ],
            "No staff activity in this window.",
            wide=True,
        )
    )
    return "\n".join(tables)
