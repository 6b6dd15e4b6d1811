"""The demo month's idea board: customers propose ideas, vote and comment; the manager moves
ideas along their statuses on review days."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.sandbox.demo.stage import SKIP, Do, Json, Person, Story
from storage.models import IdeaStatus

if TYPE_CHECKING:
    from bot.sandbox.demo.month import Month

# Where an idea goes next when the manager reviews it.
_NEXT_STATUS = {
    IdeaStatus.NEW: ((IdeaStatus.UNDER_REVIEW, 0.8), (IdeaStatus.DECLINED, 0.2)),
    IdeaStatus.UNDER_REVIEW: ((IdeaStatus.PLANNED, 0.65), (IdeaStatus.DECLINED, 0.35)),
    IdeaStatus.PLANNED: ((IdeaStatus.IN_PROGRESS, 1.0),),
    IdeaStatus.IN_PROGRESS: ((IdeaStatus.DONE, 1.0),),
}
_COMMENTS = {
    "en": ["I would use it every day", "Yes please, my whole family wants this"],
    "it": ["Lo userei tutti i giorni", "Sì, lo vuole tutta la famiglia"],
}


class IdeaStories:
    """The idea-board stories of a month, played on its stage with its dice."""

    def __init__(self, month: Month) -> None:
        self.month = month

    async def idea(self, person: Person, moment: datetime) -> Story:
        """A customer proposes an idea; when similar ones are on the board, they choose."""
        self.month.busy.add(person.id)
        try:
            text = self.month.rng.choice(self.month.words["ideas"][person.language])
            yield Do(
                moment, self.month.act(lambda: self.month.stage.write(person, text), "idea", person)
            )
            later = self.month.stage.clock.now() + timedelta(minutes=self.month.rng.randrange(1, 6))
            asked = self.month.stage.latest_buttons(person, "k:idea:")
            if asked is not None:
                yield Do(
                    later, self.month.press(person, person.id, asked[0], asked[1][0], "answered")
                )
            similar = self.month.stage.latest_buttons(person, "ix:")
            if similar is not None:
                message_id, data = similar
                votes = [d for d in data if not d.endswith(":new")]
                new = [d for d in data if d.endswith(":new")]
                choice = (
                    votes[0] if votes and (self.month.rng.random() < 0.4 or not new) else new[0]
                )
                what = "votes" if choice in votes else "new idea"
                yield Do(later, self.month.press(person, person.id, message_id, choice, what))
        finally:
            self.month.busy.discard(person.id)

    async def vote(self, person: Person, moment: datetime) -> Story:
        """A customer looks at the board and votes for an idea."""
        self.month.busy.add(person.id)
        try:
            yield Do(
                moment, self.month.act(lambda: self.month.stage.write(person, "/ideas"), "", person)
            )
            board = self.month.stage.latest_buttons(person, "iv:")
            if board is None:
                return
            message_id, data = board
            # Newer ideas (higher numbers) catch the eye as much as the most voted ones.
            weights = [(1 + int(d.split(":")[1])) ** 2 for d in data]
            choice = self.month.rng.choices(data, weights=weights)[0]
            later = self.month.stage.clock.now() + timedelta(minutes=self.month.rng.randrange(1, 4))
            yield Do(later, self.month.press(person, person.id, message_id, choice, "votes"))
        finally:
            self.month.busy.discard(person.id)

    async def comment(self, moment: datetime) -> Story:
        """A customer who wrote before comments on an idea still open."""
        person = self.month.someone()
        text = self.month.rng.choice(_COMMENTS[person.language])

        async def act() -> Json | None:
            open_ideas = [
                i.id
                for i in await self.month.stage.ideas()
                if i.status in (IdeaStatus.NEW, IdeaStatus.UNDER_REVIEW, IdeaStatus.PLANNED)
            ]
            if not open_ideas:
                return SKIP
            self.month.count("comments", person)
            return self.month.stage.write(
                person, f"/comment {self.month.rng.choice(open_ideas)} {text}"
            )

        yield Do(moment, act)

    async def review(self, moment: datetime) -> Story:
        """The manager moves an idea one step along (/status N STATUS)."""

        async def act() -> Json | None:
            today = self.month.log()
            ideas = [
                i
                for i in await self.month.stage.ideas()
                if i.status in _NEXT_STATUS and i.id not in today.moved
            ]
            if not ideas:
                return SKIP
            # The most advanced first, so that some ideas go all the way.
            order = list(_NEXT_STATUS)
            ideas.sort(key=lambda i: (-order.index(IdeaStatus(i.status)), i.id or 0))
            idea = ideas[0] if self.month.rng.random() < 0.5 else self.month.rng.choice(ideas)
            steps = _NEXT_STATUS[IdeaStatus(idea.status)]
            status = self.month.rng.choices([s for s, _ in steps], weights=[w for _, w in steps])[0]
            today.moved.add(idea.id)
            today.notes.append(f"idea #{idea.id} → {status.value}")
            return self.month.stage.write(self.month.manager, f"/status {idea.id} {status.value}")

        yield Do(moment, act)
