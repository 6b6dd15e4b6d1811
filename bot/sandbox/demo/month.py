"""The demo's month after its first day: about two hundred customers of a telecom firm writing
in English and Italian, staff answering them, ideas voted and moved along, two outages.

Everything is drawn from month.toml beside this module with a fixed seed, on dates relative to
the run: the same story every time, ending today. Each day's customers, and what each of them
does, is a story (an async generator of `Do`s) played on the `Stage`; a story looks at what the
bot answered before it decides the next step (the ticket it got, a question with buttons).
"""

from __future__ import annotations

import random
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, timedelta
from datetime import time as Time
from importlib import resources
from typing import Any

from bot.sandbox.demo.ideas import IdeaStories
from bot.sandbox.demo.outages import Outages
from bot.sandbox.demo.stage import SKIP, Do, Json, Person, Stage, Story
from storage.models import TicketStatus

SEED = 2026
# Days before the last one (today) of the two outages.
OUTAGE_DAYS_AGO = 3
SMALL_OUTAGE_DAYS_AGO = 17
STAFF = (("Marta", "it"), ("Ben", "en"))
_MINUTE = timedelta(minutes=1)
# Shares of the day's customers by what they come for.
_STORIES = (("care", 0.52), ("idea", 0.14), ("other", 0.14), ("vote", 0.2))
# How satisfied customers are with the help (CSAT 1-5).
_SCORES = ((5, 0.46), (4, 0.29), (3, 0.11), (2, 0.09), (1, 0.05))
# Hours customers write at, with their weights (the morning and early afternoon are busiest).
_HOURS = {7: 1, 8: 4, 9: 7, 10: 7, 11: 6, 12: 4, 13: 4, 14: 6, 15: 6, 16: 5, 17: 4, 18: 3, 19: 3,
          20: 2, 21: 2, 22: 1}  # fmt: skip


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def load_words() -> dict[str, Any]:
    """The names and texts the month is made of."""
    raw = resources.files("bot.sandbox.demo").joinpath("month.toml").read_bytes()
    return tomllib.loads(raw.decode("utf-8"))


@dataclass(slots=True)
class DayLog:
    """What happened on one day, for its line in the transcript."""

    counts: Counter[str] = field(default_factory=Counter)
    scores: list[int] = field(default_factory=list)
    customers: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    moved: set[int | None] = field(default_factory=set)


class Month:
    """Draws each day's stories and plays them on the stage."""

    def __init__(
        self,
        stage: Stage,
        *,
        staff: list[Person],
        manager: Person,
        known: list[Person],
        first_day: Date,
        days: int,
    ) -> None:
        self.stage = stage
        self.staff = staff
        self.manager = manager
        self.words = load_words()
        self.rng = random.Random(SEED)
        self.first_day = first_day
        self.days = days
        self.returning: list[Person] = list(known)
        self.busy: set[int] = set()
        self.logs: dict[Date, DayLog] = {}
        self.customers = {p.id for p in known}
        self._names = self._name_pool()
        self.outages = Outages(self)
        self.ideas = IdeaStories(self)

    # The cast -------------------------------------------------------------------------------

    def _name_pool(self) -> list[tuple[str, str, str]]:
        names = self.words["names"]
        pool = [
            (first, last, language)
            for language in ("it", "en")
            for first in names[f"{language}_first"]
            for last in names[f"{language}_last"]
        ]
        self.rng.shuffle(pool)
        return pool

    def new_customer(self) -> Person:
        """Someone who writes to the bot for the first time."""
        first, last, language = self._names.pop()
        user = self.stage.api.new_user(
            first,
            last_name=last if self.rng.random() < 0.7 else None,
            username=f"{first}{last}".lower().replace(" ", "") if self.rng.random() < 0.3 else None,
            language_code=language,
        )
        person = Person(user, language)
        self.customers.add(person.id)
        return person

    def someone(self) -> Person:
        """A customer for today's next story: mostly new, sometimes one who wrote before."""
        idle = [p for p in self.returning if p.id not in self.busy]
        person = self.rng.choice(idle) if idle and self.rng.random() < 0.25 else self.new_customer()
        if person not in self.returning:
            self.returning.append(person)
        return person

    def staff_for(self, language: str) -> Person:
        """Who answers a customer: someone on staff who speaks their language."""
        return self.rng.choice([p for p in self.staff if p.language == language] or self.staff)

    # Time -----------------------------------------------------------------------------------

    def at(self, day: Date, hour: int, minute: int) -> datetime:
        """A local time of a day of the month."""
        return datetime.combine(day, Time(hour, minute), self.stage.zone)

    def random_time(self, day: Date) -> datetime:
        """When a customer writes: a weighted hour, any minute."""
        hour = self.rng.choices(list(_HOURS), weights=list(_HOURS.values()))[0]
        return self.at(day, hour, self.rng.randrange(60))

    def working(self, moment: datetime) -> datetime:
        """The moment, or when staff are next at work (08:00-19:30 weekdays, 09:00-13:00 on
        Saturdays, not on Sundays)."""
        local = moment.astimezone(self.stage.zone)
        for _ in range(4):
            day = local.date()
            opens, closes = (Time(8), Time(19, 30)) if day.weekday() < 5 else (Time(9), Time(13))
            if day.weekday() < 6:
                start = datetime.combine(day, opens, self.stage.zone)
                end = datetime.combine(day, closes, self.stage.zone)
                if local < start:
                    return start + timedelta(minutes=self.rng.randrange(5, 40))
                if local < end:
                    return local
            local = datetime.combine(day + timedelta(days=1), Time(0), self.stage.zone)
        return local

    def score(self) -> int:
        """How satisfied a customer is with the help (CSAT 1-5), drawn."""
        return self.rng.choices([s for s, _ in _SCORES], weights=[w for _, w in _SCORES])[0]

    def staff_delay(self) -> timedelta:
        """How long staff take to get to a ticket: usually half an hour, at times hours."""
        if self.rng.random() < 0.15:
            return timedelta(minutes=self.rng.randrange(120, 330))
        return timedelta(minutes=max(4.0, self.rng.lognormvariate(3.4, 0.6)))

    # Logging --------------------------------------------------------------------------------

    def log(self) -> DayLog:
        """The log of the day the clock is on."""
        day = self.stage.clock.now().astimezone(self.stage.zone).date()
        return self.logs.setdefault(day, DayLog())

    def count(self, what: str, person: Person | None = None) -> None:
        """Note what someone did today (what: "" for nothing worth a count)."""
        log = self.log()
        if what:
            log.counts[what] += 1
        if person is not None and person.id in self.customers:
            log.customers.add(person.id)

    # Drawing the days -----------------------------------------------------------------------

    async def plan_day(self, day: Date) -> None:
        """Start the stories of a day (each waits for its own time). Call it when the day
        comes: who is free to write depends on what happened before."""
        days_ago = (self.first_day + timedelta(days=self.days - 1) - day).days
        busy = {0: 1.0, 1: 1.0, 2: 0.95, 3: 1.0, 4: 0.9, 5: 0.6, 6: 0.45}[day.weekday()]
        for _ in range(max(2, round(self.rng.gauss(5.6, 1.6) * busy))):
            await self.stage.start(self.customer_story(day))
        # The manager reviews ideas on Mondays, Wednesdays and Fridays, and some other days.
        if day.weekday() in (0, 2, 4) or (day.weekday() < 5 and self.rng.random() < 0.4):
            moment = self.at(day, 16, self.rng.randrange(60))
            for n in range(self.rng.choice((1, 1, 2))):
                await self.stage.start(self.ideas.review(moment + timedelta(minutes=5 * n)))
        if self.rng.random() < 0.35:
            await self.stage.start(self.ideas.comment(self.random_time(day)))
        if self.rng.random() < 0.3:
            await self.stage.start(self.service_rating(self.random_time(day)))
        if days_ago == OUTAGE_DAYS_AGO:
            await self.outages.outage(day, self.words["outage"], reports=36, start=(8, 41))
        if days_ago == SMALL_OUTAGE_DAYS_AGO:
            await self.outages.outage(day, self.words["signal_outage"], reports=9, start=(10, 2))
        if day.weekday() < 5:
            await self.stage.start(self.sweep(self.at(day, 8, 30 + self.rng.randrange(20))))

    def line(self, day: Date, until: datetime) -> list[str]:
        """The transcript's lines for a day (today: until now)."""
        log = self.logs.get(day, DayLog())
        c = log.counts
        last = self.first_day + timedelta(days=self.days - 1)
        parts = [
            f"{day:%a %d %b}"
            + (f" (today, until {until.astimezone(self.stage.zone):%H:%M})" if day == last else ""),
            f"{len(log.customers)} customers",
            f"{_n(c['care'], 'care request')}, {_n(c['idea'], 'idea')}, {c['other']} other, "
            f"{_n(c['votes'], 'vote')}",
            f"staff: {_n(c['replies'], 'reply', 'replies')}, {c['resolved']} resolved",
        ]
        if log.scores:
            mean = sum(log.scores) / len(log.scores)
            parts.append(f"ratings {' '.join(map(str, log.scores))} (mean {mean:.1f})")
        if c["comments"]:
            parts.append(_n(c["comments"], "idea comment"))
        moves = [n for n in log.notes if n.startswith("idea")]
        if moves:
            parts.append(", ".join(moves))
        return [" · ".join(parts)] + [f"    {n}" for n in log.notes if not n.startswith("idea")]

    def customer_story(self, day: Date) -> Story:
        kind = self.rng.choices([k for k, _ in _STORIES], weights=[w for _, w in _STORIES])[0]
        person = self.someone()
        moment = self.random_time(day)
        if kind == "care":
            return self.care(person, moment)
        if kind == "idea":
            return self.ideas.idea(person, moment)
        if kind == "vote":
            return self.ideas.vote(person, moment)
        return self.other(person, moment)

    # Stories --------------------------------------------------------------------------------

    def act(self, make: Callable[[], Json], what: str, person: Person) -> Callable[[], Any]:
        async def act() -> Json:
            self.count(what, person)
            return make()

        return act

    async def care(self, person: Person, moment: datetime) -> Story:
        """A customer reports a problem; staff answer and resolve it; the customer rates."""
        self.busy.add(person.id)
        try:
            words = self.words
            topic = self.rng.choice(list(words["care"][person.language]))
            text = self.rng.choice(words["care"][person.language][topic])
            yield Do(moment, self.act(lambda: self.stage.write(person, text), "care", person))
            asked = self.stage.latest_buttons(person, "k:care:")
            if asked is not None:  # the bot was not sure what it was: the customer says
                message_id, data = asked
                yield Do(
                    self.stage.clock.now() + 2 * _MINUTE,
                    self.press(person, person.id, message_id, data[0], "answered"),
                )
            ticket = await self.stage.latest_ticket(person)
            opened = self.stage.clock.now() - 5 * _MINUTE
            if ticket is None or ticket.id is None or ticket.opened_at < opened:
                return
            staff = self.staff_for(person.language)
            delay = self.staff_delay()
            if self.rng.random() < 0.05:
                return  # overlooked: found by a morning's sweep (or left in the backlog)
            reply_at = self.working(self.stage.clock.now() + delay)
            if self.rng.random() < 0.22:
                later = self.stage.clock.now() + timedelta(minutes=self.rng.randrange(15, 90))
                if later < reply_at:
                    follow = self.rng.choice(words["follow_up"][person.language])
                    yield Do(later, self.act(lambda: self.stage.write(person, follow), "", person))
            answers = words["answers"][person.language][topic]
            answer = self.rng.choice(answers).format(name=person.first_name)
            yield Do(reply_at, self._reply(staff, ticket.id, answer))
            if self.rng.random() < 0.3:  # thanked for the answer
                thanks = self.rng.choice(words["other"][person.language][::3])
                later = self.stage.clock.now() + timedelta(minutes=self.rng.randrange(3, 40))
                yield Do(later, self.act(lambda: self.stage.write(person, thanks), "", person))
            resolve_at = self.working(
                self.stage.clock.now() + timedelta(minutes=self.rng.randrange(3, 150))
            )
            yield Do(resolve_at, self._resolve(staff, ticket.id))
            if self.rng.random() > 0.62:
                return
            score = self.score()
            rate_at = self.stage.clock.now() + timedelta(minutes=self.rng.randrange(4, 200))
            yield Do(rate_at, self.rate(person, ticket.id, score))
            if score >= 4 and self.rng.random() < 0.3:  # a happy customer looks at the board
                later = self.stage.clock.now() + timedelta(minutes=self.rng.randrange(2, 30))
                yield Do(later, self.act(lambda: self.stage.write(person, "/ideas"), "", person))
                board = self.stage.latest_buttons(person, "iv:")
                if board is not None:
                    choice = self.rng.choice(board[1])
                    yield Do(
                        self.stage.clock.now() + 2 * _MINUTE,
                        self.press(person, person.id, board[0], choice, "votes"),
                    )
            if score <= 2:  # reopened: staff try again
                again = self.working(self.stage.clock.now() + self.staff_delay())
                retry = self.rng.choice(answers).format(name=person.first_name)
                yield Do(again, self._reply(staff, ticket.id, retry))
                yield Do(
                    self.working(self.stage.clock.now() + timedelta(minutes=40)),
                    self._resolve(staff, ticket.id),
                )
        finally:
            self.busy.discard(person.id)

    def _reply(self, staff: Person, ticket_id: int, text: str) -> Callable[[], Any]:
        async def act() -> Json | None:
            ticket = await self.stage.ticket(ticket_id)
            if ticket is None or ticket.staff_thread_id is None:
                return None  # its card is still waiting for the staff chat's limit
            self.count("replies")
            return self.stage.write_in_topic(staff, ticket.staff_thread_id, text)

        return act

    def _resolve(self, staff: Person, ticket_id: int) -> Callable[[], Any]:
        async def act() -> Json | None:
            ticket = await self.stage.ticket(ticket_id)
            if ticket is None or ticket.staff_card_message_id is None:
                return None
            if ticket.status == TicketStatus.RESOLVED:
                return SKIP
            self.count("resolved")
            card = ticket.staff_card_message_id
            return self.stage.press(staff, self.stage.staff_chat_id, card, f"t:resolve:{ticket_id}")

        return act

    def rate(self, person: Person, ticket_id: int, score: int) -> Callable[[], Any]:
        async def act() -> Json | None:
            asked = self.stage.last_buttons(person, f"r:{ticket_id}:")
            if asked is None:
                return None
            self.log().scores.append(score)
            self.count("ratings", person)
            return self.stage.press(person, person.id, asked[0], f"r:{ticket_id}:{score}")

        return act

    def press(
        self, person: Person, chat_id: int, message_id: int, data: str, what: str
    ) -> Callable[[], Any]:
        async def act() -> Json:
            self.count(what, person)
            return self.stage.press(person, chat_id, message_id, data)

        return act

    async def other(self, person: Person, moment: datetime) -> Story:
        """A customer says thanks, or something nice."""
        text = self.rng.choice(self.words["other"][person.language])
        yield Do(moment, self.act(lambda: self.stage.write(person, text), "other", person))

    async def service_rating(self, moment: datetime) -> Story:
        """A customer rates the service as a whole (/rate)."""
        person = self.someone()
        yield Do(moment, self.act(lambda: self.stage.write(person, "/rate"), "", person))
        asked = self.stage.latest_buttons(person, "r:0:")
        if asked is None:
            return
        score = self.score()
        later = self.stage.clock.now() + 2 * _MINUTE

        async def act() -> Json:
            self.log().scores.append(score)
            self.count("ratings", person)
            return self.stage.press(person, person.id, asked[0], f"r:0:{score}")

        yield Do(later, act)

    async def sweep(self, moment: datetime) -> Story:
        """A weekday morning: staff answer and resolve the oldest tickets left open."""
        found: list[tuple[int, str, str]] = []

        async def look() -> Json | None:
            found.extend(await self.stage.overlooked(limit=3))
            return SKIP

        yield Do(moment, look)
        for n, (ticket_id, language, name) in enumerate(found):
            staff = self.staff_for(language)
            topic = self.rng.choice(list(self.words["answers"][language]))
            answer = self.rng.choice(self.words["answers"][language][topic]).format(name=name)
            at = self.stage.clock.now() + timedelta(minutes=3 + 6 * n)
            yield Do(at, self._reply(staff, ticket_id, answer))
            yield Do(self.stage.clock.now() + 20 * _MINUTE, self._resolve(staff, ticket_id))
