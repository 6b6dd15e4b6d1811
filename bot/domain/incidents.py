"""Incidents apart from Telegram: when similar reports become one incident, who it affects.

An outage comes as many customers writing about the same fault within minutes. Reports are
alike when they share a topic and their words (nlp.similarity's stemmed content words)
overlap; INCIDENT_MIN_REPORTS alike within INCIDENT_WINDOW_MINUTES open an incident, and
later alike reports join it while it is open.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from nlp.similarity import terms
from storage.db import Session
from storage.incidents import (
    RECENT_REPORTS,
    affected_count,
    create_incident,
    link_tickets,
    open_incidents,
    recent_reports,
)
from storage.models import Incident

# Cosine of two reports' word sets from which they are taken to describe the same fault.
ALIKE = 0.3
# An incident's signature: the words at least this share of its first reports use (at most
# SIGNATURE_WORDS). A later report joins when half of its own words are among them.
SIGNATURE_SHARE = 0.4
SIGNATURE_WORDS = 8
JOINS = 0.5


@dataclass(frozen=True, slots=True)
class IncidentMatch:
    """What became of a new ticket: it joined an incident open before (the customer is told
    the problem is known: since when, how many others), or opened one with its alike."""

    incident_id: int
    joined: bool
    since: datetime
    others: int


def alike(a: Iterable[str], b: Iterable[str]) -> float:
    """Cosine of two sets of words."""
    first, second = set(a), set(b)
    if not first or not second:
        return 0.0
    return len(first & second) / math.sqrt(len(first) * len(second))


def signature(texts: Iterable[str], context: Iterable[str] = ()) -> list[str]:
    """The words many of these reports share, most shared first.

    Words the reports share equally are told apart by how many of the `context` (the other
    recent reports of the topic, in any language) use them, then alphabetically: the first
    word is the one the loose join goes by ("internet" rather than "fibre" when some write
    "fibra"), so it must not depend on the order the reports came in, nor on the order a
    set of words happens to have in this process (it changes with every run).
    """
    counts: Counter[str] = Counter()
    reports = 0
    for text in texts:
        reports += 1
        counts.update(set(terms(text)))
    used: Counter[str] = Counter()
    for text in context:
        used.update(set(terms(text)) & counts.keys())
    ranked = sorted(counts, key=lambda w: (-counts[w], -used[w], w))
    shared = [w for w in ranked[:SIGNATURE_WORDS] if counts[w] >= SIGNATURE_SHARE * reports]
    return shared or ranked[:1]


def joins(words: set[str], incident_signature: Iterable[str], *, loosely: bool = True) -> bool:
    """Whether a report's words say what the incident's reports say: half of its words are
    among them, or (loosely) the word nearly all of them use ("internet" in a fibre outage)."""
    shared = list(incident_signature)
    common = words & set(shared)
    if not common:
        return False
    return len(common) >= JOINS * len(words) or (loosely and shared[0] in common)


def _alike_chain(
    words: set[str], reports: list[tuple[int, str, datetime]]
) -> list[tuple[int, str, datetime]]:
    """The reports alike this one, or alike one of those, and so on: people describe one
    fault in different words, and each resembles some of the others."""
    bags = [set(terms(said)) for _, said, _ in reports]
    reached: list[int] = []
    frontier = [words]
    left = set(range(len(reports)))
    while frontier and left:
        current = frontier.pop()
        found = [i for i in left if alike(current, bags[i]) >= ALIKE]
        for i in found:
            left.discard(i)
            reached.append(i)
            frontier.append(bags[i])
    return [reports[i] for i in sorted(reached)]


@dataclass(frozen=True, slots=True)
class NewReport:
    """A ticket this batch opens, as the matcher sees it. Its id is the batch's own handle
    (below zero) until the ticket is inserted, after matching, with its incident already set."""

    handle: int
    topic: str
    opened_at: datetime
    text: str
    language: str


class IncidentMatcher:
    """Matches the new tickets of one batch to incidents: the open incidents and each topic's
    recent reports are read once per batch, and kept current as the batch goes on. Tickets
    of the batch are not in the database yet: which incident each joins is kept here
    (``incident_of``), tickets opened earlier are linked by one UPDATE."""

    def __init__(
        self, session: Session, *, min_reports: int, window: timedelta, now: datetime
    ) -> None:
        self.session = session
        self.min_reports = min_reports
        self.window = window
        self.now = now
        self._open: list[Incident] | None = None
        self._reports: dict[str, list[tuple[int, str, datetime]]] = {}
        self._affected: dict[int, int] = {}
        self._batch: dict[int, int | None] = {}  # handle -> incident id

    def incident_of(self, handle: int) -> int | None:
        """The incident a ticket of this batch is in, if any."""
        return self._batch.get(handle)

    async def match(self, report: NewReport) -> IncidentMatch | None:
        """Put a new ticket into the open incident it is alike (its own topic's first), or
        open one with the recent alike tickets when there are enough; None: it stands alone."""
        words = set(terms(report.text))
        if not words:
            return None
        self._batch[report.handle] = None
        # One outage is "internet" to some customers and "network" to others: another topic's
        # incident is joined only when the words say so plainly.
        for incident in sorted(await self._open_incidents(), key=lambda i: i.topic != report.topic):
            if joins(words, incident.signature.split(), loosely=incident.topic == report.topic):
                return await self._join(incident, report.handle)
        reports = await self._recent(report.topic)
        similar = _alike_chain(words, reports)
        if len(similar) + 1 < self.min_reports:
            # Newest first, as the database gives them; as many as it would give.
            reports.insert(0, (report.handle, report.text, report.opened_at))
            del reports[RECENT_REPORTS:]
            return None
        texts = [report.text, *(said for _, said, _ in similar)]
        # What the incident says is made of the reports, not of the order they came in: the
        # same whether they came in one batch or one by one.
        incident = await create_incident(
            session=self.session,
            topic=report.topic,
            language=report.language,
            signature=" ".join(signature(texts, context=(said for _, said, _ in reports))),
            summary=min(texts, key=lambda said: (len(said), said))[:200],
            first_report_at=min([report.opened_at, *(at for _, _, at in similar)]),
            now=self.now,
        )
        assert incident.id is not None
        linked = [report.handle, *(ticket_id for ticket_id, _, _ in similar)]
        # One outage is "internet" to some and "network" to others: what the model put in
        # another topic before the incident opened joins it when its words say so plainly.
        words_of_incident = incident.signature.split()
        for ticket_id, said, _ in await self._elsewhere(report.topic):
            if ticket_id not in linked and joins(
                set(terms(said)), words_of_incident, loosely=False
            ):
                linked.append(ticket_id)
        for member in linked:
            if member in self._batch:
                self._batch[member] = incident.id
        await link_tickets(
            session=self.session,
            incident_id=incident.id,
            ticket_ids=[i for i in linked if i not in self._batch],
        )
        taken = set(linked)
        for topic, kept in self._reports.items():
            self._reports[topic] = [r for r in kept if r[0] not in taken]
        (await self._open_incidents()).append(incident)
        self._affected[incident.id] = len(linked)
        return IncidentMatch(
            incident_id=incident.id, joined=False, since=incident.first_report_at, others=0
        )

    async def _join(self, incident: Incident, handle: int) -> IncidentMatch:
        assert incident.id is not None
        self._batch[handle] = incident.id
        if incident.id not in self._affected:
            # Those in the database, and this one (not inserted yet).
            self._affected[incident.id] = 1 + await affected_count(
                session=self.session, incident_id=incident.id
            )
        else:
            self._affected[incident.id] += 1
        return IncidentMatch(
            incident_id=incident.id,
            joined=True,
            since=incident.first_report_at,
            others=max(0, self._affected[incident.id] - 1),
        )

    async def _open_incidents(self) -> list[Incident]:
        if self._open is None:
            self._open = await open_incidents(session=self.session)
        return self._open

    async def _elsewhere(self, topic: str) -> list[tuple[int, str, datetime]]:
        """Recent reports in no incident under any other topic: this batch's, and those
        stored before it."""
        stored = await recent_reports(
            session=self.session, topic=topic, since=self.now - self.window, other_topics=True
        )
        # Those of another topic read earlier in the batch are stored ones too: once each.
        batch = [r for other, kept in self._reports.items() if other != topic for r in kept]
        seen = {ticket_id for ticket_id, _, _ in batch}
        return [*batch, *(r for r in stored if r[0] not in seen)]

    async def _recent(self, topic: str) -> list[tuple[int, str, datetime]]:
        if topic not in self._reports:
            self._reports[topic] = await recent_reports(
                session=self.session,
                topic=topic,
                since=self.now - self.window,
                limit=RECENT_REPORTS,
            )
        return self._reports[topic]
