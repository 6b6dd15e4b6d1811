"""The summary's shape, and each responsiveness metric as storage/metrics/definitions.py defines
it, on a small hand-built dataset (tests/support/metric_rows.py).

Every expected value is worked out here from the dataset, by the definition, never copied from
the output. Percentiles are nearest-rank: the p-th of n sorted values is the ceil(p*n/100)-th.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from storage.db import Database
from storage.models import IdeaComment, IdeaStatusChange, TicketMessage, Vote
from tests.support.metric_rows import END, START, at, customer, feedback, idea, rating, ticket
from tests.support.summaries import insert, nearest_rank, summarise

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
