"""Involvement, co-creation and balance, each metric as storage/metrics/definitions.py defines it,
on a small hand-built dataset (tests/support/metric_rows.py); every expected value is worked out
here from the dataset, never copied from the output."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from storage.db import Database
from storage.models import IdeaComment, IdeaStatusChange, TicketMessage, Vote
from tests.support.metric_rows import END, START, at, customer, feedback, idea, rating, ticket
from tests.support.summaries import insert, nearest_rank, summarise

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
