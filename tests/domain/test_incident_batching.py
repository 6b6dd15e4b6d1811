"""Which incidents an outage's reports make does not depend on how the inbox happened to batch
them: the same reports, at the same moments and in the same order, open the same incidents,
with the same words and counts, whether each moment's reports are routed as one batch or one
by one; and what an incident says (its signature) is the same in every process."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.domain.feedback import receive_feedback_many
from bot.domain.incidents import signature
from bot.domain.outcomes import IncomingMessage, Sender
from storage.db import Database
from storage.models import Incident, Ticket
from tests.support import OUTAGE, empty_tables

ROOT = Path(__file__).resolve().parents[2]
EN, IT = "en", "it"
# The demo's fibre cut (bot/sandbox/demo): seconds after the first report, and who writes
# what at that moment (the demo's stage plays each moment as one batch of updates).
FIBRE_CUT: list[tuple[int, list[tuple[str, str]]]] = [
    (0, [(IT, "Non funziona internet da stamattina, la fibra è giù")]),
    (252, [(IT, "Internet di casa non funziona da stamattina, la fibra è ko")]),
    (501, [(EN, "Internet down at home since 9, the fibre light is off")]),
    (
        853,
        [
            (EN, "Still no internet here, the fibre is not working"),
            (IT, "Internet non funziona per niente, la fibra è ko da stamattina"),
            (EN, "Fibre internet down, no connection since this morning"),
            (EN, "No internet since this morning, the fibre is down"),
        ],
    ),
    (
        1007,
        [
            (IT, "Internet di casa non funziona da stamattina, la fibra è ko"),
            (EN, "Internet down at home since 9, the fibre light is off"),
            (IT, "La fibra è giù da stamattina, internet non funziona"),
            (EN, "The internet is not working at all since the morning, I work from home"),
        ],
    ),
    (
        1163,
        [
            (EN, "Fibre internet down, no connection since this morning"),
            (IT, "Non funziona internet da stamattina, la fibra è giù"),
            (IT, "Internet di casa non funziona da stamattina, la fibra è ko"),
            (EN, "Internet down at home since 9, the fibre light is off"),
        ],
    ),
    (
        1314,
        [
            (EN, "Still no internet here, the fibre is not working"),
            (IT, "Internet non funziona per niente, la fibra è ko da stamattina"),
            (IT, "Anche a me non funziona internet da stamattina, la fibra è giù"),
            (EN, "No internet since this morning, the fibre is down"),
        ],
    ),
    (
        1467,
        [
            (EN, "Internet down at home since 9, the fibre light is off"),
            (IT, "La fibra è giù da stamattina, internet non funziona"),
            (IT, "Da stamattina niente internet, la fibra non va"),
        ],
    ),
    (1821, [(IT, "Internet non funziona per niente, la fibra è ko da stamattina")]),
]
# Filed by the model under "network", not the outage's "internet_devices": the first says
# what the outage's reports say, the second does not.
ELSEWHERE = "Still no internet here, is there an outage?"
UNRELATED = "My phone has no signal in the city centre"

Moments = list[tuple[int, list[tuple[str, str]]]]


async def play(
    services: Services, clock: FrozenClock, moments: Moments, *, one_by_one: bool
) -> tuple[list[object], list[int | None], list[str]]:
    """Route the reports, each moment's as one batch or one at a time (same order, same
    clock): what became of each report (its incident, numbered by first appearance, whether
    it joined one open before and how many others it was told of), which incident each
    ticket is in, and the incidents' signatures and summaries."""
    start = clock.now()
    outcomes: list[object] = []
    number: dict[int, int] = {}
    n = itertools.count(1)
    for seconds, reports in moments:
        clock.set(start + timedelta(seconds=seconds))
        batch = []
        for language, said in reports:
            user = 7000 + next(n)
            batch.append(
                (Sender(user, f"C{user}", None, None, language), IncomingMessage(user, 1, said))
            )
        routed = []
        if one_by_one:
            for message in batch:
                routed += await receive_feedback_many(services, [message])
        else:
            routed = await receive_feedback_many(services, batch)
        for outcome in routed:
            incident = outcome.incident_id
            if incident is not None:
                incident = number.setdefault(incident, len(number) + 1)
            outcomes.append((incident, outcome.joined_incident, outcome.incident_others))
    async with services.db.session() as session:
        tickets = (await session.exec(select(Ticket.incident_id).order_by(col(Ticket.id)))).all()
        incidents = (await session.exec(select(Incident).order_by(col(Incident.id)))).all()
    members = [None if i is None else number.get(i, -i) for i in tickets]
    described = [f"{i.signature} | {i.summary} | {i.first_report_at:%H:%M:%S}" for i in incidents]
    return outcomes, members, described


async def both_ways(
    services: Services, db: Database, clock: FrozenClock, moments: Moments
) -> tuple[tuple[list[object], list[int | None], list[str]], ...]:
    start = clock.now()
    together = await play(services, clock, moments, one_by_one=False)
    await empty_tables(db)
    clock.set(start)
    apart = await play(services, clock, moments, one_by_one=True)
    return together, apart


async def test_the_fibre_cut_is_one_incident_batched_or_one_by_one(
    services: Services, db: Database, clock: FrozenClock
) -> None:
    together, apart = await both_ways(services, db, clock, FIBRE_CUT)
    assert together == apart
    outcomes, members, described = together
    # One fault, one incident: those who write "fibra" join what "fibre" opened, by the word
    # everyone uses. Those who wrote in Italian before it opened keep tickets of their own.
    assert len(described) == 1, described
    assert described[0].startswith("inter "), described
    assert members == [None, None, 1, 1, None, 1, 1, None] + [1] * 15
    assert outcomes[-1] == (1, True, 18)


async def test_a_report_filed_elsewhere_counts_once_whatever_the_batch(
    services: Services, db: Database, clock: FrozenClock
) -> None:
    moments: Moments = [
        (0, [(EN, ELSEWHERE)]),
        # Another "network" report first, then the outage: the matcher reads that topic's
        # recent reports for the first, and again when the incident takes in what the model
        # filed elsewhere.
        (60, [(EN, UNRELATED), *((EN, said) for said in OUTAGE), (EN, OUTAGE[0])]),
    ]
    together, apart = await both_ways(services, db, clock, moments)
    assert together == apart
    outcomes, members, _ = together
    # The earlier "network" report joined the incident when it opened; the last reporter is
    # told of the six others, each counted once.
    assert members == [1, None, 1, 1, 1, 1, 1, 1]
    assert outcomes[-1] == (1, True, 6)


def test_a_signature_does_not_depend_on_the_order_of_the_reports() -> None:
    texts = ["router modem", "router fibre", "modem fibre"]  # each word in two of three
    first = signature(texts)
    for order in itertools.permutations(texts):
        assert signature(list(order)) == first
    assert first == ["fibre", "modem", "route"]
    # Words shared alike go by how many of the topic's other recent reports use them: the
    # first names the fault for the most of them.
    assert signature(texts, ["modem broken", "modem again"]) == ["modem", "fibre", "route"]


def test_a_signature_is_the_same_in_every_process() -> None:
    """Python orders a set of words differently in each process (PYTHONHASHSEED): the
    signature, and so which later reports join, must not follow that order."""
    english = [said for _, reports in FIBRE_CUT for lang, said in reports if lang == EN][:5]
    script = f"from bot.domain.incidents import signature; print(signature({english!r}))"
    seen = set()
    for seed in ("1", "2", "3"):
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        seen.add(result.stdout.strip())
    assert len(seen) == 1, seen
