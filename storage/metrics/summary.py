"""The manager's summary: every metric of a window, as JSON data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.metrics.balance import balance_in
from storage.metrics.cocreation import cocreation_in
from storage.metrics.common import activity_in, weeks_of
from storage.metrics.incidents import incidents_in
from storage.metrics.involvement import involvement_in
from storage.metrics.responsiveness import responsiveness_in
from storage.metrics.selfservice import selfservice_in
from storage.metrics.sql import dialect_of


async def compute_summary(
    *, session: AsyncSession, start: datetime, end: datetime, sla_minutes: int, top: int = 5
) -> dict[str, Any]:
    """Every metric of storage/metrics/definitions.py for the window [start, end), as JSON.

    Times are seconds (floats), rates are 0..1, NPS is -100..100; None where there is no data.
    ``counts`` holds, per family, the numerators and denominators of its rates and ratios.
    Percentiles are nearest-rank (see storage.metrics.sql). Choices the design leaves open:

    - FRT p50/p90: tickets whose first staff reply falls in the window.
      Resolution p50/p90: tickets resolved in the window (resolved_at, the latest resolution).
    - SLA met rate: tickets whose SLA deadline (opened + SLA) falls in the window, each judged
      once; met when the first reply came within the SLA (<=), missed otherwise.
    - backlog: tickets open at window end (opened before it, not resolved before it unless
      reopened after that resolution and before the end); oldest_open_age: end minus the
      oldest one's opening.
    - reopen rate: of the tickets resolved in the window, the share ever reopened.
    - CSAT: CSAT ratings 4-5 / CSAT ratings in the window; NPS: %9-10 minus %0-6.
    - per staff: replies and internal notes written in the window, tickets replied to,
      first responses in the window (with their p50) and tickets resolved in the window.
    - feedback/care/ideas/other: customer messages in the window, by triaged kind.
    - active customers: customers with a contribution in the window; a contribution is a
      feedback message, a vote, an idea comment or a rating. all customers: known at the end.
    - strength: each topic's share of feedback in the 24 h before the window end.
    - sentiment ratio: positive / negative messages (None without negative ones).
    - passion: active customers with 2+ feedback messages / active customers.
    - reach: customers who sent feedback / feedback messages.
    - participation: tickets opened (care requests), ideas proposed, votes, ratings and idea
      comments in the window; active customers / all customers.
    - votes per idea: votes (until the end) on the ideas proposed in the window / those ideas.
    - adoption rate: ideas moved to planned, in progress or done in the window / ideas whose
      status changed in the window. Time to first status: median over ideas whose first
      status change is in the window (to the millisecond).
    - co-creating customers: active customers who proposed an idea or voted / active customers.
    - ownership quotient: rating customers who were satisfied (CSAT 4-5 or NPS 9-10) and
      contributed (idea, vote or comment) in the window / customers who rated in the window.
    - balance: staff replies / tickets with a customer or staff message in the window, and
      contributions / active customers; weekly = consecutive 7-day periods from the start
      (the last one may be shorter).
    - incidents: opened in the window; customers affected: distinct customers with a ticket in
      them; time to detect: opened minus the first report; time to first broadcast and time to
      resolve: from the first report (what the customers waited), p50 over those that happened
      before the window end; open at the end. A ticket inside an incident counts its first
      response at the incident's first broadcast (FRT above).
    - selfservice (beside balance: participation that spares interaction): offers of suggested
      answers made in the window (one per care request offered them); self-service rate:
      those the customer closed with "this solved it" / offers; escalated: "I still need a
      person" plus no answer within the wait; came back: "solved" offers whose customer sent
      a care request on the same topic within 24 h of the press (even past the window end).
      Per answer (top by shown): offers it was in, of them solved ("helpful") and "a person"
      ("not helpful"); timed-out offers count as shown only. Self-served tickets are resolved
      without a staff reply: they count in resolution, not in first response.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("the window needs timezone-aware datetimes")
    if end <= start:
        raise ValueError("the window must end after it starts")
    dialect = dialect_of(session)
    # Weeks follow the wall clock of the caller's zone; everything else is in real time (UTC),
    # so "24 h before the end" and an SLA deadline are the same instants across DST changes.
    weeks = weeks_of(start, end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    responsiveness = await responsiveness_in(
        session, start=start, end=end, sla=timedelta(minutes=sla_minutes)
    )
    activity = await activity_in(session, start=start, end=end, top=top, weeks=weeks)
    cocreation = await cocreation_in(
        session, start=start, end=end, dialect=dialect, activity=activity
    )
    involvement = await involvement_in(
        session,
        start=start,
        end=end,
        top=top,
        dialect=dialect,
        activity=activity,
        care_requests=responsiveness["tickets_opened"],
        ideas=cocreation["ideas"],
    )
    balance = await balance_in(session, start=start, end=end, activity=activity, weeks=weeks)
    incidents = await incidents_in(session, start=start, end=end)
    selfservice = await selfservice_in(session, start=start, end=end, top=top)
    # What each rate is made of ("3 of 4"), beside the rates: the families' own dicts keep
    # their keys.
    families = {
        "responsiveness": responsiveness,
        "involvement": involvement,
        "cocreation": cocreation,
        "balance": balance,
    }
    counts = {name: family.pop("counts") for name, family in families.items()}
    return {
        "window": {"start": weeks[0][0].isoformat(), "end": weeks[-1][1].isoformat()},
        "responsiveness": responsiveness,
        "involvement": involvement,
        "cocreation": cocreation,
        "balance": balance,
        "incidents": incidents,
        "selfservice": selfservice,
        "counts": counts,
    }
