"""Each metric defined in storage/metrics/definitions.py on a small hand-built dataset.

Every expected value is worked out here from the dataset, by the definition, never copied from
the output. Percentiles are nearest-rank: the p-th of n sorted values is the ceil(p*n/100)-th.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import SQLModel

from bot.app.metrics_command import add_commands
from bot.reports.windows import parse_month, parse_window, window_bounds
from storage.db import Database
from storage.metrics import compute_summary
from storage.models import (
    Customer,
    Feedback,
    Idea,
    IdeaComment,
    IdeaStatusChange,
    Rating,
    Ticket,
    TicketMessage,
    Vote,
)

START = datetime(2026, 11, 2, tzinfo=UTC)
END = START + timedelta(days=7)
_message_ids = itertools.count(1)


def at(days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
    """A moment counted from the window start."""
    return START + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def nearest_rank(values: Sequence[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(p * len(ordered) / 100) - 1]


def customer(
    cid: int,
    *,
    created: datetime | None = None,
    first_name: str | None = None,
    username: str | None = None,
) -> Customer:
    moment = created or START - timedelta(days=30)
    return Customer(
        id=cid,
        telegram_user_id=10_000 + cid,
        first_name=first_name,
        username=username,
        created_at=moment,
        last_seen_at=moment,
    )


def feedback(
    cid: int,
    when: datetime,
    *,
    kind: str = "care",
    sentiment: str = "neutral",
    topic: str = "billing",
    keywords: str = "",
) -> Feedback:
    return Feedback(
        customer_id=cid,
        chat_id=10_000 + cid,
        message_id=next(_message_ids),
        kind=kind,
        confidence=0.9,
        sentiment=sentiment,
        topic=topic,
        language="en",
        keywords=keywords,
        created_at=when,
    )


def ticket(
    tid: int,
    opened: datetime,
    *,
    cid: int | None = None,
    first: datetime | None = None,
    resolved: datetime | None = None,
    reopened: datetime | None = None,
    reopened_count: int | None = None,
    resolved_by: int | None = None,
    assignee: tuple[int, str] | None = None,
) -> Ticket:
    still_open = resolved is None or (reopened is not None and reopened > resolved)
    return Ticket(
        id=tid,
        # A customer has one open ticket at a time (the database refuses a second): each
        # ticket has its own customer unless the test says whose it is.
        customer_id=cid if cid is not None else OWN_CUSTOMER + tid,
        status="open" if still_open else "resolved",
        topic="billing",
        sentiment="neutral",
        language="en",
        opened_at=opened,
        first_response_at=first,
        first_response_seconds=(first - opened).total_seconds() if first else None,
        resolved_at=resolved,
        resolution_seconds=(resolved - opened).total_seconds() if resolved else None,
        reopened_at=reopened,
        reopened_count=reopened_count if reopened_count is not None else int(bool(reopened)),
        resolved_by=resolved_by,
        assignee_id=assignee[0] if assignee else None,
        assignee_name=assignee[1] if assignee else None,
    )


def idea(iid: int, cid: int, created: datetime, first_status: datetime | None = None) -> Idea:
    return Idea(
        id=iid,
        customer_id=cid,
        text=f"idea {iid}",
        topic="app",
        language="en",
        created_at=created,
        first_status_at=first_status,
    )


def rating(cid: int, scale: str, score: int, when: datetime) -> Rating:
    return Rating(customer_id=cid, scale=scale, score=score, created_at=when)


OWN_CUSTOMER = 1000


async def insert(db: Database, *rows: SQLModel) -> None:
    """The rows, with the customers of tickets that have their own (see ticket())."""
    known = {r.id for r in rows if isinstance(r, Customer)}
    owners = sorted(
        {r.customer_id for r in rows if isinstance(r, Ticket) and r.customer_id > OWN_CUSTOMER}
        - known
    )
    async with db.session() as session:
        session.add_all([customer(cid) for cid in owners])
        await session.flush()
        session.add_all(rows)


async def summarise(
    db: Database, *, start: datetime = START, end: datetime = END, sla: int = 60, top: int = 5
) -> dict[str, Any]:
    async with db.session() as session:
        return await compute_summary(
            session=session, start=start, end=end, sla_minutes=sla, top=top
        )


# --- Shape and empty windows ----------------------------------------------------------------


async def test_an_empty_window_has_zero_counts_and_no_rates(db: Database) -> None:
    s = await summarise(db)
    assert s["window"] == {"start": START.isoformat(), "end": END.isoformat()}
    assert s["responsiveness"] == {
        "tickets_opened": 0,
        "tickets_resolved": 0,
        "first_response_p50": None,
        "first_response_p90": None,
        "resolution_p50": None,
        "resolution_p90": None,
        "sla_met_rate": None,
        "backlog": 0,
        "oldest_open_age": None,
        "reopen_rate": None,
        "csat": None,
        "csat_mean": None,
        "nps": None,
        "per_staff": [],
    }
    assert s["involvement"] == {
        "feedback": 0,
        "care": 0,
        "ideas": 0,
        "other": 0,
        "active_customers": 0,
        "strength_by_topic": {},
        "sentiment_ratio": None,
        "neutral": 0,
        "passion": None,
        "reach": None,
        "participation": {
            "care_requests": 0,
            "ideas": 0,
            "votes": 0,
            "ratings": 0,
            "comments": 0,
            "active_customers": 0,
            "all_customers": 0,
            "active_share": None,
        },
        "by_topic": {},
        "top_keywords": [],
        "top_contributors": [],
    }
    assert s["cocreation"] == {
        "ideas": 0,
        "votes": 0,
        "votes_per_idea": None,
        "adoption_rate": None,
        "median_time_to_first_status": None,
        "cocreating_customers": None,
        "ownership_quotient": None,
    }
    assert s["balance"] == {
        "staff_messages_per_ticket": None,
        "contributions_per_active_customer": None,
        "weekly": [
            {
                "start": START.isoformat(),
                "end": END.isoformat(),
                "staff_messages_per_ticket": None,
                "contributions_per_active_customer": None,
            }
        ],
    }
    assert json.loads(json.dumps(s)) == s


async def test_facts_outside_the_window_do_not_leak_in(db: Database) -> None:
    before, after = START - timedelta(seconds=1), END
    await insert(
        db,
        customer(1),
        feedback(1, before, keywords="late"),
        feedback(1, after, keywords="late"),
        ticket(
            1,
            before - timedelta(hours=2),
            cid=1,
            first=before - timedelta(hours=1),
            resolved=before,
        ),
        ticket(
            2, after, cid=1, first=after + timedelta(minutes=1), resolved=after + timedelta(hours=1)
        ),
        idea(1, 1, before, first_status=before),
        IdeaStatusChange(idea_id=1, old_status="new", new_status="done", changed_at=before),
        Vote(idea_id=1, customer_id=1, created_at=after),
        IdeaComment(idea_id=1, customer_id=1, text="x", created_at=before),
        rating(1, "csat", 5, after),
        TicketMessage(ticket_id=2, author="staff", author_user_id=7, created_at=after),
    )
    s = await summarise(db)
    r, inv, co, bal = s["responsiveness"], s["involvement"], s["cocreation"], s["balance"]
    assert (r["tickets_opened"], r["tickets_resolved"], r["backlog"], r["per_staff"]) == (
        0,
        0,
        0,
        [],
    )
    assert r["first_response_p50"] is r["resolution_p50"] is r["csat"] is r["nps"] is None
    assert (inv["feedback"], inv["active_customers"], inv["top_keywords"]) == (0, 0, [])
    assert inv["participation"]["all_customers"] == 1
    assert inv["participation"]["active_share"] == 0.0
    assert (co["ideas"], co["votes"], co["adoption_rate"]) == (0, 0, None)
    assert co["median_time_to_first_status"] is None
    assert bal["staff_messages_per_ticket"] is None


async def test_the_window_must_end_after_it_starts(db: Database) -> None:
    with pytest.raises(ValueError, match="end after"):
        await summarise(db, start=END, end=START)


# --- Responsiveness -------------------------------------------------------------------------


async def test_tickets_opened_and_resolved_count_only_inside_the_window(db: Database) -> None:
    rows = [
        ticket(1, START),
        ticket(2, END - timedelta(seconds=1)),
        ticket(3, END),
        ticket(4, START - timedelta(seconds=1), resolved=START),
        ticket(5, at(hours=1), resolved=END),
    ]
    await insert(db, customer(1), *rows)
    s = (await summarise(db))["responsiveness"]
    assert s["tickets_opened"] == sum(START <= t.opened_at < END for t in rows) == 3
    resolved = [t for t in rows if t.resolved_at and START <= t.resolved_at < END]
    assert s["tickets_resolved"] == len(resolved) == 1


async def test_first_response_percentiles_are_nearest_rank_over_replies_in_window(
    db: Database,
) -> None:
    delays = [600, 60, 300, 120, 540, 180, 480, 240, 420, 360]
    rows = [ticket(i + 1, at(hours=i), first=at(hours=i, seconds=d)) for i, d in enumerate(delays)]
    early = START - timedelta(minutes=20)  # opened before, answered inside: counts
    rows.append(ticket(20, early, first=early + timedelta(seconds=1200)))
    rows.append(ticket(21, START - timedelta(hours=2), first=START - timedelta(hours=1)))
    rows.append(ticket(22, at(days=1)))  # not answered: no FRT
    await insert(db, customer(1), *rows)
    counted = [
        t.first_response_seconds
        for t in rows
        if t.first_response_at
        and START <= t.first_response_at < END
        and t.first_response_seconds is not None
    ]
    assert len(counted) == 11
    s = (await summarise(db))["responsiveness"]
    assert s["first_response_p50"] == nearest_rank(counted, 50) == 360
    assert s["first_response_p90"] == nearest_rank(counted, 90) == 600


async def test_resolution_percentiles_are_over_tickets_resolved_in_window(db: Database) -> None:
    durations = [7200, 3600, 86400, 1800, 43200]
    rows = [
        ticket(i + 1, at(hours=i), resolved=at(hours=i, seconds=d)) for i, d in enumerate(durations)
    ]
    rows.append(ticket(9, at(days=6), resolved=END + timedelta(hours=1)))
    await insert(db, customer(1), *rows)
    s = (await summarise(db))["responsiveness"]
    assert s["resolution_p50"] == nearest_rank(durations, 50) == 7200
    assert s["resolution_p90"] == nearest_rank(durations, 90) == 86400


@pytest.mark.parametrize("sla", [60, 90, 30])
async def test_sla_met_rate_judges_tickets_whose_deadline_falls_in_window(
    db: Database, sla: int
) -> None:
    plan: list[tuple[datetime, float | None]] = [  # (opened, minutes to first reply)
        (START - timedelta(minutes=30), 50),
        (at(hours=1), 61),
        (at(hours=2), None),
        (END - timedelta(minutes=30), None),
        (START - timedelta(hours=2), 5),
        (at(hours=3), 60),
        (at(days=2), 20),
    ]
    rows = [
        ticket(i + 1, opened, first=opened + timedelta(minutes=m) if m is not None else None)
        for i, (opened, m) in enumerate(plan)
    ]
    await insert(db, customer(1), *rows)
    deadline = timedelta(minutes=sla)
    due = [(o, m) for o, m in plan if START <= o + deadline < END]
    met = [(o, m) for o, m in due if m is not None and m <= sla]
    s = (await summarise(db, sla=sla))["responsiveness"]
    assert s["sla_met_rate"] == len(met) / len(due)


async def test_backlog_is_what_was_open_at_window_end_with_the_oldest_age(db: Database) -> None:
    rows = [
        ticket(1, at(days=1)),  # never resolved
        ticket(2, at(days=1), resolved=at(days=2)),  # closed
        ticket(3, at(days=2), resolved=END + timedelta(hours=1)),  # resolved after the end
        ticket(4, START - timedelta(days=3), resolved=at(days=1), reopened=at(days=3)),
        ticket(5, at(days=1), resolved=at(days=2), reopened=END + timedelta(hours=2)),
        ticket(6, END + timedelta(hours=1)),  # opened after the end
        ticket(7, START - timedelta(days=1), resolved=at(days=4), reopened=at(days=2)),
    ]
    await insert(db, customer(1), *rows)
    open_at_end = [1, 3, 4]  # by the definition, case by case above
    oldest = min(t.opened_at for t in rows if t.id in open_at_end)
    s = (await summarise(db))["responsiveness"]
    assert s["backlog"] == len(open_at_end)
    assert s["oldest_open_age"] == (END - oldest).total_seconds() == 10 * 86400


async def test_reopen_rate_is_reopened_share_of_tickets_resolved_in_window(db: Database) -> None:
    rows = [
        ticket(1, at(hours=1), resolved=at(hours=2)),
        ticket(2, at(hours=1), resolved=at(days=1), reopened_count=1),
        ticket(3, at(hours=1), resolved=at(days=2)),
        ticket(4, at(hours=1), resolved=at(days=3)),
        ticket(5, START - timedelta(days=2), resolved=START - timedelta(days=1), reopened_count=2),
    ]
    await insert(db, customer(1), *rows)
    resolved = [t for t in rows if t.resolved_at and START <= t.resolved_at < END]
    reopened = [t for t in resolved if t.reopened_count > 0]
    s = (await summarise(db))["responsiveness"]
    assert s["reopen_rate"] == len(reopened) / len(resolved) == 0.25


async def test_csat_share_mean_and_nps(db: Database) -> None:
    csat = [5, 4, 3, 1, 5]
    nps = [10, 9, 8, 7, 6, 0, 10]
    rows = [rating(1, "csat", v, at(hours=i)) for i, v in enumerate(csat)]
    rows += [rating(1, "nps", v, at(days=1, hours=i)) for i, v in enumerate(nps)]
    rows += [rating(1, "csat", 1, END), rating(1, "nps", 0, START - timedelta(seconds=1))]
    await insert(db, customer(1), *rows)
    s = (await summarise(db))["responsiveness"]
    assert s["csat"] == sum(v >= 4 for v in csat) / len(csat)
    assert s["csat_mean"] == sum(csat) / len(csat)
    promoters = sum(v >= 9 for v in nps) / len(nps)
    detractors = sum(v <= 6 for v in nps) / len(nps)
    assert s["nps"] == pytest.approx(100 * (promoters - detractors))


async def test_per_staff_replies_notes_first_responses_and_resolutions(db: Database) -> None:
    ada, bob = 501, 502
    k1, k2, k3, k4 = at(hours=1), at(hours=2), at(hours=3), START - timedelta(days=1)
    tickets = [
        ticket(1, k1, first=k1 + timedelta(minutes=10), resolved=k1 + timedelta(hours=2),
               resolved_by=ada, assignee=(ada, "Ada")),
        ticket(2, k2, first=k2 + timedelta(minutes=30), assignee=(bob, "Bob")),
        ticket(3, k3, first=k3 + timedelta(minutes=20), resolved=k3 + timedelta(days=1),
               resolved_by=bob),
        ticket(4, k4, first=k4 + timedelta(hours=1), resolved=at(days=2), resolved_by=bob),
    ]  # fmt: skip
    messages = [  # (ticket, author, staff id, when)
        (1, "note", ada, k1 + timedelta(minutes=5)),
        (1, "staff", ada, k1 + timedelta(minutes=10)),
        (1, "staff", bob, k1 + timedelta(minutes=20)),
        (2, "staff", bob, k2 + timedelta(minutes=30)),
        (2, "staff", bob, k2 + timedelta(minutes=40)),
        (3, "staff", ada, k3 + timedelta(minutes=20)),
        (4, "staff", bob, k4 + timedelta(hours=1)),
        (4, "staff", bob, at(days=1)),
        (4, "customer", None, at(days=1, hours=1)),
        (3, "staff", ada, END),
    ]
    await insert(
        db,
        customer(1),
        *tickets,
        *(
            TicketMessage(ticket_id=t, author=a, author_user_id=who, created_at=when)
            for t, a, who, when in messages
        ),
    )
    inside = [m for m in messages if START <= m[3] < END]
    by_id = {t.id: t for t in tickets}

    def expected(staff: int, name: str) -> dict[str, Any]:
        replies = [m for m in inside if m[1] == "staff" and m[2] == staff]
        firsts = [
            by_id[m[0]].first_response_seconds or 0.0
            for m in inside
            if m[1] == "staff" and m[2] == staff and by_id[m[0]].first_response_at == m[3]
        ]
        return {
            "staff_id": staff,
            "name": name,
            "replies": len(replies),
            "notes": sum(m[1] == "note" and m[2] == staff for m in inside),
            "tickets": len({m[0] for m in replies}),
            "first_responses": len(firsts),
            "first_response_p50": nearest_rank(firsts, 50) if firsts else None,
            "resolved": sum(
                t.resolved_by == staff
                and t.resolved_at is not None
                and START <= t.resolved_at < END
                for t in tickets
            ),
        }

    s = (await summarise(db))["responsiveness"]
    # Bob wrote more replies, so he comes first.
    assert s["per_staff"] == [expected(bob, "Bob"), expected(ada, "Ada")]
    assert [p["replies"] for p in s["per_staff"]] == [4, 2]


# --- Involvement ----------------------------------------------------------------------------


async def test_counts_by_kind_topic_and_sentiment(db: Database) -> None:
    plan = (
        [("billing", "care", "negative")] * 3
        + [("billing", "care", "neutral"), ("billing", "idea", "positive")]
        + [("app", "idea", "positive")] * 2
        + [("app", "other", "neutral"), ("app", "care", "negative")]
    )
    rows = [
        feedback(1, at(hours=i), topic=tp, kind=k, sentiment=se)
        for i, (tp, k, se) in enumerate(plan)
    ]
    rows.append(feedback(1, END, topic="billing", kind="care", sentiment="negative"))
    await insert(db, customer(1), *rows)
    kinds = Counter(k for _, k, _ in plan)
    moods = Counter(se for _, _, se in plan)
    s = (await summarise(db))["involvement"]
    assert s["feedback"] == len(plan)
    assert (s["care"], s["ideas"], s["other"]) == (kinds["care"], kinds["idea"], kinds["other"])
    assert s["neutral"] == moods["neutral"]
    assert s["sentiment_ratio"] == moods["positive"] / moods["negative"] == 0.75
    assert s["by_topic"] == {
        topic: {
            "kinds": dict(Counter(k for tp, k, _ in plan if tp == topic)),
            "sentiments": dict(Counter(se for tp, _, se in plan if tp == topic)),
        }
        for topic in ("app", "billing")
    }


async def test_sentiment_ratio_is_none_without_negative_feedback(db: Database) -> None:
    await insert(db, customer(1), feedback(1, at(hours=1), sentiment="positive"))
    s = (await summarise(db))["involvement"]
    assert s["sentiment_ratio"] is None


async def test_strength_is_topic_share_of_the_last_24_hours(db: Database) -> None:
    plan = [
        ("billing", END - timedelta(hours=1)),
        ("billing", END - timedelta(hours=23)),
        ("network", END - timedelta(hours=2)),
        ("network", END - timedelta(hours=25)),  # in the window, not in the last 24 h
        ("network", END - timedelta(hours=24)),  # exactly 24 h before: in
        ("app", END),  # after the end
    ]
    await insert(db, customer(1), *(feedback(1, when, topic=tp) for tp, when in plan))
    recent = [tp for tp, when in plan if END - timedelta(hours=24) <= when < END]
    s = (await summarise(db))["involvement"]
    assert s["strength_by_topic"] == {tp: n / len(recent) for tp, n in Counter(recent).items()}
    assert s["strength_by_topic"] == {"billing": 0.5, "network": 0.5}


async def test_active_customers_passion_reach_participation_and_top_contributors(
    db: Database,
) -> None:
    await insert(
        db,
        customer(1, first_name="Ada", username="ada"),
        customer(2, first_name="Bruno"),
        customer(3),
        customer(4),
        customer(5),
        customer(6, created=END),  # joined after the window
        idea(1, 1, START - timedelta(days=3)),
        *(feedback(1, at(hours=h)) for h in (1, 2, 3)),
        feedback(2, at(hours=4)),
        feedback(2, START - timedelta(hours=1)),
        Vote(idea_id=1, customer_id=2, created_at=at(days=1)),
        Vote(idea_id=1, customer_id=3, created_at=at(days=1)),
        IdeaComment(idea_id=1, customer_id=2, text="yes", created_at=at(days=2)),
        rating(4, "csat", 5, at(days=3)),
        feedback(5, END),
        ticket(1, at(days=1), cid=2),
        # An earlier request of the same customer, closed before the window (one open at a time).
        ticket(2, START - timedelta(days=1), cid=2, resolved=START - timedelta(hours=1)),
    )
    contributions = Counter({1: 3, 2: 1 + 1 + 1, 3: 1, 4: 1})  # feedback, vote, comment, rating
    active = set(contributions)
    senders = {1, 2}
    feedback_in_window = 4
    s = await summarise(db, top=2)
    inv = s["involvement"]
    assert inv["active_customers"] == len(active) == 4
    assert inv["passion"] == len({1}) / len(active)
    assert inv["reach"] == len(senders) / feedback_in_window
    assert inv["participation"] == {
        "care_requests": 1,
        "ideas": 0,
        "votes": 2,
        "ratings": 1,
        "comments": 1,
        "active_customers": 4,
        "all_customers": 5,
        "active_share": 4 / 5,
    }
    # Ada and Bruno tie at 3; the lower id comes first.
    assert inv["top_contributors"] == [
        {"customer_id": 1, "name": "Ada (@ada)", "contributions": 3},
        {"customer_id": 2, "name": "Bruno", "contributions": 3},
    ]
    assert s["balance"]["contributions_per_active_customer"] == sum(contributions.values()) / len(
        active
    )


async def test_top_keywords_by_count_then_word(db: Database) -> None:
    # Quotes, backslashes, accents and control characters must neither break nor merge words.
    words = [
        "refund invoice",
        "invoice late",
        "refund invoice app",
        'a"b refund',
        "perché c\\d",
        "x\x01y",
        "",
    ]
    await insert(
        db,
        customer(1),
        *(feedback(1, at(hours=i), keywords=w) for i, w in enumerate(words)),
        feedback(1, END, keywords="zebra zebra zebra"),
    )
    counts = Counter(w for line in words for w in line.split())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    s = (await summarise(db, top=4))["involvement"]
    assert s["top_keywords"] == [{"keyword": w, "count": n} for w, n in ranked[:4]]
    every = (await summarise(db, top=20))["involvement"]["top_keywords"]
    assert every == [{"keyword": w, "count": n} for w, n in ranked]
    assert {"keyword": "x\x01y", "count": 1} in every
    assert s["top_keywords"][:3] == [
        {"keyword": "invoice", "count": 3},
        {"keyword": "refund", "count": 3},
        {"keyword": 'a"b', "count": 1},
    ]


# --- Co-creation ----------------------------------------------------------------------------


async def test_cocreation_ideas_votes_adoption_time_to_status_and_ownership(
    db: Database,
) -> None:
    ideas = [  # (id, proposer, created, first status)
        (1, 1, at(days=1), at(days=2)),
        (2, 2, at(days=2), None),
        (3, 1, START - timedelta(days=5), at(days=3)),
        (4, 3, END + timedelta(hours=1), None),
        (5, 2, START - timedelta(days=10), START - timedelta(days=9)),
    ]
    votes = [  # (voter, idea, when)
        (2, 1, at(days=1, hours=1)),
        (3, 1, at(days=3)),
        (4, 1, END + timedelta(hours=2)),
        (1, 2, at(days=2, hours=5)),
        (4, 3, at(days=4)),
        (5, 3, START - timedelta(days=1)),
    ]
    changes = [  # (idea, new status, when)
        (1, "under_review", at(days=2)),
        (1, "planned", at(days=4)),
        (3, "declined", at(days=3)),
        (5, "under_review", START - timedelta(days=9)),
        (5, "done", at(days=6)),
    ]
    ratings = [(2, "csat", 5), (4, "nps", 10), (5, "csat", 2), (6, "nps", 9)]
    await insert(
        db,
        *(customer(c) for c in range(1, 7)),
        *(idea(i, c, made, first) for i, c, made, first in ideas),
        feedback(1, at(days=1), kind="idea"),
        feedback(2, at(days=2), kind="idea"),
        feedback(6, at(days=5)),
        *(Vote(customer_id=c, idea_id=i, created_at=when) for c, i, when in votes),
        IdeaComment(idea_id=3, customer_id=5, text="hm", created_at=at(days=3)),
        *(rating(c, scale, score, at(days=5)) for c, scale, score in ratings),
        *(
            IdeaStatusChange(idea_id=i, old_status="x", new_status=new, changed_at=when)
            for i, new, when in changes
        ),
    )

    def inside(moment: datetime | None) -> bool:
        return moment is not None and START <= moment < END

    new_ideas = {i for i, _, made, _ in ideas if inside(made)}
    window_votes = [(c, i) for c, i, when in votes if inside(when)]
    cohort_votes = [i for _, i, when in votes if i in new_ideas and when < END]
    decided = {i for i, _, when in changes if inside(when)}
    adopted = {
        i for i, new, when in changes if inside(when) and new in {"planned", "in_progress", "done"}
    }
    waits = [
        (first - made).total_seconds() for _, _, made, first in ideas if first and inside(first)
    ]
    active = {1, 2, 6} | {c for c, _ in window_votes} | {5} | {c for c, _, _ in ratings}
    proposers = {c for i, c, made, _ in ideas if inside(made)}
    cocreating = (proposers | {c for c, _ in window_votes}) & active
    raters = {c for c, _, _ in ratings}
    satisfied = {c for c, scale, v in ratings if v >= (4 if scale == "csat" else 9)}
    contributors = proposers | {c for c, _ in window_votes} | {5}
    owners = raters & satisfied & contributors

    s = await summarise(db)
    co = s["cocreation"]
    assert co["ideas"] == len(new_ideas) == 2
    assert co["votes"] == len(window_votes) == 4
    assert co["votes_per_idea"] == len(cohort_votes) / len(new_ideas) == 1.5
    assert co["adoption_rate"] == len(adopted) / len(decided) == 2 / 3
    assert co["median_time_to_first_status"] == nearest_rank(waits, 50) == 86400
    assert co["cocreating_customers"] == len(cocreating) / len(active) == 4 / 6
    assert co["ownership_quotient"] == len(owners) / len(raters) == 0.5
    assert s["involvement"]["participation"]["ideas"] == len(new_ideas)


# --- Balance --------------------------------------------------------------------------------


async def test_balance_overall_and_per_week(db: Database) -> None:
    end = START + timedelta(days=14)
    week2 = START + timedelta(days=7)
    messages = [  # (ticket, author, when)
        (1, "customer", at(days=1)),
        (1, "staff", at(days=1, hours=1)),
        (1, "staff", at(days=2)),
        (1, "note", at(days=2)),
        (2, "customer", week2),  # exactly on the boundary: second week
        (2, "staff", at(days=8)),
        (3, "staff", at(days=3)),
        (4, "customer", at(days=13)),
        (4, "note", at(days=13)),
        (4, "staff", end),
    ]
    contributions = [  # (customer, when)
        (1, at(days=1)),
        (1, week2 - timedelta(seconds=1)),
        (2, week2),
        (2, at(days=8)),
        (3, at(days=10)),
    ]
    await insert(
        db,
        *(customer(c) for c in (1, 2, 3)),
        idea(1, 1, START - timedelta(days=1)),
        *(ticket(t, START - timedelta(hours=1)) for t in (1, 2, 3, 4)),
        *(TicketMessage(ticket_id=t, author=a, created_at=when) for t, a, when in messages),
        feedback(1, contributions[0][1]),
        feedback(1, contributions[1][1]),
        feedback(2, contributions[2][1]),
        Vote(idea_id=1, customer_id=2, created_at=contributions[3][1]),
        rating(3, "csat", 4, contributions[4][1]),
    )

    def per_ticket(lo: datetime, hi: datetime) -> float:
        rows = [(t, a) for t, a, when in messages if lo <= when < hi and a != "note"]
        return sum(a == "staff" for _, a in rows) / len({t for t, _ in rows})

    def per_customer(lo: datetime, hi: datetime) -> float:
        rows = [c for c, when in contributions if lo <= when < hi]
        return len(rows) / len(set(rows))

    s = (await summarise(db, end=end))["balance"]
    assert s["staff_messages_per_ticket"] == per_ticket(START, end) == 1.0
    assert s["contributions_per_active_customer"] == per_customer(START, end) == 5 / 3
    assert s["weekly"] == [
        {
            "start": lo.isoformat(),
            "end": hi.isoformat(),
            "staff_messages_per_ticket": per_ticket(lo, hi),
            "contributions_per_active_customer": per_customer(lo, hi),
        }
        for lo, hi in ((START, week2), (week2, end))
    ]
    assert [w["staff_messages_per_ticket"] for w in s["weekly"]] == [1.5, 0.5]


async def test_weeks_split_from_the_window_start_and_the_last_may_be_short(db: Database) -> None:
    end = START + timedelta(days=10)
    weeks = (await summarise(db, end=end))["balance"]["weekly"]
    assert [(w["start"], w["end"]) for w in weeks] == [
        (START.isoformat(), (START + timedelta(days=7)).isoformat()),
        ((START + timedelta(days=7)).isoformat(), end.isoformat()),
    ]


async def test_weeks_follow_the_zone_clock_and_the_last_24_hours_are_real_hours(
    db: Database,
) -> None:
    rome = ZoneInfo("Europe/Rome")  # clocks go back an hour on 2026-10-25
    start, end = datetime(2026, 10, 19, tzinfo=rome), datetime(2026, 10, 26, 12, tzinfo=rome)
    second_week = datetime(2026, 10, 26, tzinfo=rome)  # 7 days of wall clock, 169 hours
    late_sunday = datetime(2026, 10, 25, 22, 30, tzinfo=UTC)  # 23:30 in Rome: first week
    day_before = end.astimezone(UTC) - timedelta(hours=24, minutes=30)  # 24.5 real hours
    await insert(
        db,
        customer(1),
        feedback(1, late_sunday, topic="billing"),
        feedback(1, day_before, topic="network"),
    )
    s = await summarise(db, start=start, end=end)
    assert s["window"] == {"start": start.isoformat(), "end": end.isoformat()}
    assert [w["start"] for w in s["balance"]["weekly"]] == [
        start.isoformat(),
        second_week.isoformat(),
    ]
    assert s["balance"]["weekly"][0]["contributions_per_active_customer"] == 2.0
    assert s["balance"]["weekly"][1]["contributions_per_active_customer"] is None
    assert s["involvement"]["strength_by_topic"] == {"billing": 1.0}


# --- The command line -----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedbackbot")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.mark.parametrize(
    ("text", "span"),
    [("1d", timedelta(days=1)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30)),
     ("12h", timedelta(hours=12)), ("48H", timedelta(hours=48))],
)  # fmt: skip
def test_windows_parse(text: str, span: timedelta) -> None:
    assert parse_window(text) == span
    assert _parser().parse_args(["metrics", "--window", text]).window == span


@pytest.mark.parametrize("bad", ["7x", "0d", "d7", "-1d", "7", "", "1w", "400d"])
def test_a_bad_window_is_an_argparse_error_naming_it(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(["metrics", f"--window={bad}"])
    assert exit_info.value.code == 2
    assert f"invalid window {bad!r}" in capsys.readouterr().err


def test_window_and_month_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["metrics", "--window", "7d", "--month", "2026-11"])
    assert "not allowed with" in capsys.readouterr().err


def test_a_month_is_the_calendar_month_in_the_zone() -> None:
    rome = ZoneInfo("Europe/Rome")
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    start, end = window_bounds(now=now, zone=rome, span=None, month=parse_month("2026-12"))
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=rome), datetime(2027, 1, 1, tzinfo=rome))
    assert start.astimezone(UTC) == datetime(2026, 11, 30, 23, tzinfo=UTC)
    start, end = window_bounds(now=now, zone=rome, span=timedelta(days=7), month=None)
    assert end == now and start == now - timedelta(days=7) and end.tzinfo is rome
    # Across the DST change hours are real hours, and days are calendar days.
    after_change = datetime(2026, 10, 25, 6, tzinfo=UTC)
    start, end = window_bounds(now=after_change, zone=rome, span=timedelta(hours=12), month=None)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=12)
    assert start.utcoffset() != end.utcoffset()
    start, end = window_bounds(now=after_change, zone=rome, span=timedelta(days=1), month=None)
    assert (start.hour, start.minute, end.hour, end.minute) == (7, 0, 7, 0)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)
    with pytest.raises(argparse.ArgumentTypeError, match="'2026-13'"):
        parse_month("2026-13")


async def test_the_command_prints_one_json_object_or_text(
    db: Database,
    no_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = datetime.now(UTC)
    await insert(
        db,
        customer(1),
        feedback(1, now - timedelta(hours=2), keywords="refund"),
        feedback(1, now - timedelta(days=3)),
    )
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("TIMEZONE", "Europe/Rome")
    monkeypatch.setenv("SLA_MINUTES", "30")

    async def run(*argv: str) -> tuple[int, str]:
        args = _parser().parse_args(["metrics", *argv])
        code = await asyncio.to_thread(args.func, args)
        return code, capsys.readouterr().out

    code, out = await run("--window", "1d", "--json")
    assert code == 0
    data = json.loads(out)  # exactly one object: json.loads rejects trailing data
    assert data["involvement"]["feedback"] == 1
    assert data["involvement"]["top_keywords"] == [{"keyword": "refund", "count": 1}]
    assert data["window"]["end"].endswith(("+01:00", "+02:00"))

    code, out = await run("--window", "7d")
    assert code == 0
    assert "Responsiveness" in out and "2 customer messages" in out
    assert "within the SLA of 30 minutes: no data" in out
