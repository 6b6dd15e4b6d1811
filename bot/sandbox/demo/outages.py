"""The demo month's outages: many customers report one fault within the hour, staff answer
them all at once in the incident's topic, keep them posted, resolve it, and some rate the help."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date as Date
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.sandbox.demo.stage import SKIP, Do, Json, Person, Story

if TYPE_CHECKING:
    from bot.sandbox.demo.month import Month

_MINUTE = timedelta(minutes=1)


class Outages:
    """The outage stories of a month, played on its stage with its dice."""

    def __init__(self, month: Month) -> None:
        self.month = month

    async def outage(
        self, day: Date, words: dict[str, Any], *, reports: int, start: tuple[int, int]
    ) -> None:
        """Many customers report one fault within the hour; staff answer them all at once in
        the incident's topic, then resolve it."""
        first = self.month.at(day, *start)
        moment = first
        affected: list[Person] = []
        for n in range(reports):
            person = self.month.new_customer()
            affected.append(person)
            texts = words[person.language]
            text = texts[n % len(texts)]
            await self.month.stage.start(self.report(person, moment, text))
            # Slow at first, then everyone at once, then trailing off.
            gap = 240 if n < 3 else (25 if n < reports * 0.7 else 80)
            moment += timedelta(seconds=gap + self.month.rng.randrange(30))
        staff = self.month.staff[0]
        told = moment + timedelta(minutes=8)
        await self.month.stage.start(self.incident_staff(staff, words, told))
        resolve_at = first + timedelta(hours=4, minutes=10) if reports > 20 else told + 80 * _MINUTE
        for person in affected:
            if self.month.rng.random() < 0.45:
                later = resolve_at + timedelta(minutes=self.month.rng.randrange(5, 180))
                await self.month.stage.start(self.incident_rating(person, later))

    async def report(self, person: Person, moment: datetime, text: str) -> Story:
        self.month.busy.add(person.id)
        try:
            yield Do(
                moment,
                self.month.act(lambda: self.month.stage.write(person, text), "care", person),
                window=2 * _MINUTE,
            )
        finally:
            self.month.busy.discard(person.id)

    async def incident_staff(self, staff: Person, words: dict[str, Any], moment: datetime) -> Story:
        """Staff take on the incidents the outage opened (usually one)."""
        found: list[int] = []

        async def look() -> Json | None:
            found.extend(await self.month.stage.open_incidents())
            return SKIP if found else None

        yield Do(moment, look)
        for incident_id in found:
            await self.month.stage.start(self.answer_incident(staff, words, incident_id, moment))

    async def answer_incident(
        self, staff: Person, words: dict[str, Any], incident_id: int, moment: datetime
    ) -> Story:
        """Staff answer an incident in its topic, keep everyone posted, resolve it."""
        yield Do(
            moment, self._broadcast(staff, incident_id, words["first_broadcast"]), broadcast=True
        )
        incident = await self.month.stage.incident(incident_id)
        if incident is None:
            return
        self.month.log().notes.append(
            f"🚨 {incident.reference} opened at "
            f"{incident.opened_at.astimezone(self.month.stage.zone):%H:%M}, first report "
            f"{incident.first_report_at.astimezone(self.month.stage.zone):%H:%M}, "
            f"{incident.card_customers} customers; {staff.first_name} answered everyone at "
            f"{self.month.stage.clock.now().astimezone(self.month.stage.zone):%H:%M}"
        )
        if "note" in words:
            yield Do(
                self.month.stage.clock.now() + 4 * _MINUTE,
                self._in_incident(staff, incident_id, words["note"]),
            )
        if "second_broadcast" in words:
            yield Do(
                self.month.stage.clock.now() + timedelta(hours=2),
                self._broadcast(staff, incident_id, words["second_broadcast"]),
                broadcast=True,
            )
        ends = (
            incident.first_report_at + timedelta(hours=4, minutes=10)
            if "second_broadcast" in words
            else self.month.stage.clock.now() + 80 * _MINUTE
        )

        async def resolve() -> Json | None:
            current = await self.month.stage.incident(incident_id)
            if current is None or current.staff_card_message_id is None:
                return None
            data = f"n:resolve:{incident_id}"
            card = current.staff_card_message_id
            return self.month.stage.press(staff, self.month.stage.staff_chat_id, card, data)

        yield Do(ends, resolve, broadcast=True)
        resolved = await self.month.stage.incident(incident_id)
        if resolved is not None and resolved.resolved_at is not None:
            self.month.log().notes.append(
                f"✅ {resolved.reference} resolved at "
                f"{resolved.resolved_at.astimezone(self.month.stage.zone):%H:%M}"
            )

    def _in_incident(self, staff: Person, incident_id: int, text: str) -> Callable[[], Any]:
        async def act() -> Json | None:
            incident = await self.month.stage.incident(incident_id)
            if incident is None or incident.staff_thread_id is None:
                return None
            return self.month.stage.write_in_topic(staff, incident.staff_thread_id, text)

        return act

    def _broadcast(self, staff: Person, incident_id: int, text: str) -> Callable[[], Any]:
        write = self._in_incident(staff, incident_id, text)

        async def act() -> Json | None:
            update = await write()
            if update is not None:
                self.month.count("replies")
            return update

        return act

    async def incident_rating(self, person: Person, moment: datetime) -> Story:
        """A customer of an incident rates the help once it is resolved."""
        score = self.month.score()

        async def act() -> Json | None:
            ticket = await self.month.stage.latest_ticket(person)
            if ticket is None or ticket.id is None:
                return None
            return await self.month.rate(person, ticket.id, score)()

        yield Do(moment, act)
