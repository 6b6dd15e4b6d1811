"""Where the demo's month is played: the fake Telegram, the running bot and its clock, and the
few things the script needs to look up (a customer's ticket, an incident's topic).

Stories say what people do and when; the stage plays everything that falls due in one moment
together, as one batch of updates, waits until the bot has handled them all, then lets each
story see what the bot answered and decide what its person does next.

The same story every run: what a story sees must not depend on how fast the bot happens to be.
So the bot is still when people look (what it had to do by then is done: the updates handled,
the staff chat's cards posted as far as its limits allow), and the people of one moment all
look before any of them acts: their updates reach the bot together, after the last look.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.incidents import get_incident, open_incidents
from storage.models import Idea, Incident, Ticket
from storage.tickets import get_ticket
from storage.watch import (
    calls_pending,
    every_idea,
    handled_count,
    newest_ticket_of,
    untaken_tickets,
)

Json = dict[str, Any]
# Everything due within this much of the earliest due action happens together, at the time
# of the latest of them: one batch of updates for the bot, never anything before its time.
BATCH = timedelta(minutes=50)
# How often an action that cannot happen yet (a ticket whose card is not posted) is tried.
TRIES = 8
# What an action returns when it will never happen (the ticket was resolved meanwhile): the
# story goes on without it.
SKIP: dict[str, Any] = {}
# The key of what an action returns for an update it made while its batch was looking.
_HELD = "held"


@dataclass(slots=True)
class Do:
    """One thing a person does at a time: `act` puts the update on the fake server and returns
    it (None when it cannot happen yet, e.g. the ticket's card is still waiting for the staff
    chat; SKIP when it will not happen at all)."""

    at: datetime
    act: Callable[[], Awaitable[Json | None]]
    broadcast: bool = False  # the bot answers through the outbox worker (an incident reply)
    window: timedelta = BATCH  # what falls due this soon after it is played with it
    tries: int = TRIES


Story = AsyncGenerator[Do, Json | None]


@dataclass(order=True, slots=True)
class _Due:
    at: datetime
    seq: int
    story: Story = field(compare=False)
    do: Do = field(compare=False)


@dataclass(slots=True)
class Person:
    """Someone of the month: their Telegram user and language."""

    user: Json
    language: str
    role: str = "customer"

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def first_name(self) -> str:
        return str(self.user["first_name"])


class Stage:
    """Plays stories against the running bot, a batch at a time."""

    def __init__(
        self,
        *,
        api: FakeBotApi,
        bot: LocalBot,
        services: Services,
        clock: FrozenClock,
        staff_chat_id: int,
    ) -> None:
        self.api = api
        self.bot = bot
        self.services = services
        self.clock = clock
        self.staff_chat_id = staff_chat_id
        self.zone: ZoneInfo = services.settings.zone
        self._queue: list[_Due] = []
        self._seq = itertools.count()
        # While a batch's people look: what they do, kept to be put on the server together.
        self._held: list[Callable[[], Json]] | None = None
        self.updates = 0
        self.batches = 0
        self.retries = 0

    # Stories ---------------------------------------------------------------------------------

    async def start(self, story: Story) -> None:
        """Let a story say its first action."""
        await self._advance(story, None)

    async def _advance(self, story: Story, answer: Json | None) -> None:
        try:
            do = await story.asend(answer)
        except StopAsyncIteration:
            return
        heapq.heappush(self._queue, _Due(do.at, next(self._seq), story, do))

    def next_at(self) -> datetime | None:
        """When the next action is due."""
        return self._queue[0].at if self._queue else None

    async def play_until(self, end: datetime) -> None:
        """Play every action due before `end`, batch by batch."""
        while self._queue and self._queue[0].at < end:
            first = self._queue[0]
            until = min(first.at + first.do.window, end)
            batch: list[_Due] = []
            while self._queue and self._queue[0].at <= until:
                due = heapq.heappop(self._queue)
                batch.append(due)
                # An action that must keep its time (an outage's reports) ends the batch soon.
                until = min(until, due.at + due.do.window)
            moment = max(d.at for d in batch)
            if moment > self.clock.now():
                self.clock.set(moment)
            await self._play(batch)

    async def _play(self, batch: list[_Due]) -> None:
        # What became due with the time (a card whose wait is over, the staff chat's next
        # minute) is posted now, before anyone looks, not whenever the courier's own timer
        # comes round in real time.
        await self.bot.courier.settled()
        pushed: list[tuple[_Due, Json]] = []
        retry: list[_Due] = []
        skipped: list[_Due] = []
        held: list[Callable[[], Json]] = []
        self._held = held
        try:
            for due in batch:
                update = await due.do.act()
                if update is None:
                    retry.append(due)
                    self.retries += 1
                elif update is SKIP:
                    skipped.append(due)
                else:
                    pushed.append((due, update))
        finally:
            self._held = None
        # Everyone has looked: now what they do reaches the bot, in the order they did it.
        made = [make() for make in held]
        pushed = [(due, made[u[_HELD]] if _HELD in u else u) for due, u in pushed]
        await self.handled([update["update_id"] for _, update in pushed])
        if any(due.do.broadcast for due, _ in pushed):
            await self.outbox_sent()
        self.updates += len(pushed)
        self.batches += 1
        for due in retry:  # not possible yet: once more with the next batch, a few times
            due.do.tries -= 1
            if due.do.tries > 0:
                due.do.at = self.clock.now() + timedelta(minutes=1)
                heapq.heappush(self._queue, _Due(due.do.at, next(self._seq), due.story, due.do))
        for due, update in pushed:
            await self._advance(due.story, update)
        for due in skipped:
            await self._advance(due.story, None)

    async def handled(
        self, update_ids: list[int], *, staff: bool = True, timeout: float = 30.0
    ) -> None:
        """Wait until the bot has handled these updates, and (`staff`) posted what they queued
        for staff: one look at the inbox for all of them, then one round of the staff courier."""
        if not update_ids:
            return
        pause = 0.005
        async with asyncio.timeout(timeout):
            while True:
                async with self.services.db.session() as session:
                    done = await handled_count(session=session, update_ids=update_ids)
                if done == len(update_ids):
                    break
                # Each look takes SQLite's writer turn from the bot: look less often as it works.
                await asyncio.sleep(pause)
                pause = min(2 * pause, 0.04)
        if staff:
            await self.bot.courier.settled(timeout=timeout)

    async def outbox_sent(self, timeout: float = 30.0) -> None:
        """Wait until the outbox worker has sent everything queued (an incident's broadcast)."""
        async with asyncio.timeout(timeout):
            while True:
                async with self.services.db.session() as session:
                    waiting = await calls_pending(session=session)
                if not waiting:
                    return
                await asyncio.sleep(0.05)

    # What people do --------------------------------------------------------------------------

    def _do(self, make: Callable[[], Json]) -> Json:
        """Put an update on the server; while a batch's people look, keep it for later (what
        stands in for it is exchanged for it once they have all looked)."""
        if self._held is None:
            return make()
        self._held.append(make)
        return {_HELD: len(self._held) - 1}

    def write(self, person: Person, text: str) -> Json:
        """A customer (or a manager) writes in their private chat with the bot."""
        return self._do(lambda: self.api.send_text(person.user, text))

    def write_in_topic(self, staff: Person, thread_id: int, text: str) -> Json:
        """A staff member writes in a forum topic of the staff chat."""
        return self._do(
            lambda: self.api.send_text(
                staff.user, text, chat=self.staff_chat_id, message_thread_id=thread_id
            )
        )

    def press(self, person: Person, chat_id: int, message_id: int, data: str) -> Json:
        """Press a button under a message the bot sent (as it stands when it is pressed)."""
        message = {"chat": {"id": chat_id}, "message_id": message_id}
        return self._do(lambda: self.api.press_button(person.user, message, data))

    def last_buttons(self, person: Person, prefix: str) -> tuple[int, list[str]] | None:
        """The latest message to a person with buttons whose data starts with `prefix`: its id
        and those buttons' data."""
        for message in reversed(self.api.messages_to(person.id)):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            data = [
                str(b["callback_data"])
                for row in rows
                for b in row
                if str(b.get("callback_data", "")).startswith(prefix)
            ]
            if data:
                return int(message["message_id"]), data
        return None

    def latest_buttons(self, person: Person, prefix: str) -> tuple[int, list[str]] | None:
        """Like `last_buttons`, but only under the bot's latest message to the person."""
        sent = self.api.messages_to(person.id)
        if not sent:
            return None
        rows = (sent[-1].get("reply_markup") or {}).get("inline_keyboard", [])
        data = [
            str(b["callback_data"])
            for row in rows
            for b in row
            if str(b.get("callback_data", "")).startswith(prefix)
        ]
        return (int(sent[-1]["message_id"]), data) if data else None

    def last_text(self, person: Person) -> str:
        """What the bot last said to a person."""
        sent = self.api.messages_to(person.id)
        return str(sent[-1].get("text", "")) if sent else ""

    # Looking things up -----------------------------------------------------------------------

    async def latest_ticket(self, person: Person) -> Ticket | None:
        """The customer's newest ticket."""
        async with self.services.db.session() as session:
            return await newest_ticket_of(session=session, telegram_user_id=person.id)

    async def ticket(self, ticket_id: int) -> Ticket | None:
        """A ticket as it stands now."""
        async with self.services.db.session() as session:
            return await get_ticket(session=session, ticket_id=ticket_id)

    async def overlooked(self, *, limit: int) -> list[tuple[int, str, str]]:
        """The oldest open tickets outside incidents, opened a day ago or more: their id, their
        customer's language and first name."""
        since = self.clock.now() - timedelta(hours=20)
        async with self.services.db.session() as session:
            return await untaken_tickets(session=session, opened_before=since, limit=limit)

    async def incident(self, incident_id: int) -> Incident | None:
        """An incident as it stands now."""
        async with self.services.db.session() as session:
            return await get_incident(session=session, incident_id=incident_id)

    async def open_incidents(self) -> list[int]:
        """The ids of the incidents open now, oldest first."""
        async with self.services.db.session() as session:
            found = await open_incidents(session=session)
        return [int(i.id) for i in found if i.id is not None]

    async def ideas(self) -> list[Idea]:
        """The idea board, oldest first."""
        async with self.services.db.session() as session:
            return await every_idea(session=session)
