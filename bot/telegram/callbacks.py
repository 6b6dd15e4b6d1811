"""Callback data: one typed payload per kind of button, one codec for all of them.

Every inline button the bot draws carries one of the payloads below, written by ``encode`` and
read back by ``decode``; handlers are registered with the payload's ``PATTERN`` and receive the
parsed payload, never the raw string. Each payload also says who may press it (``AUDIENCE``):
customers' buttons are pressed in the customer's private chat, staff buttons only by staff
(members of a staff chat, or managers). ``bot.telegram.buttons.on_button`` checks that, in one
place, before any handler runs.

Telegram limits callback data to 64 bytes; every payload here fits with room to spare (ids are
database ids, kinds and statuses short words). Data that does not parse (an old button from a
previous version, a forged press) decodes to None and is refused with one log line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

Audience = Literal["customer", "staff"]

# The prefixes are part of the protocol with buttons already on customers' screens: a change
# here breaks every button drawn before it. They are kept as they were before the codec.


@dataclass(frozen=True, slots=True)
class KindAnswer:
    """The customer says what an unclear message is: care, idea or other."""

    AUDIENCE: ClassVar[Audience] = "customer"
    kind: str
    feedback_id: int


@dataclass(frozen=True, slots=True)
class Rating:
    """The customer rates the help with a ticket (ticket 0: the service as a whole); no score
    means "not solved"."""

    AUDIENCE: ClassVar[Audience] = "customer"
    ticket_id: int
    score: int | None


@dataclass(frozen=True, slots=True)
class Forget:
    """The customer confirms (or not) that all they gave is erased."""

    AUDIENCE: ClassVar[Audience] = "customer"
    confirmed: bool


@dataclass(frozen=True, slots=True)
class TicketAction:
    """Staff act on a ticket's card: claim, resolve, reopen, or open the relabel buttons."""

    AUDIENCE: ClassVar[Audience] = "staff"
    action: str  # claim, resolve, reopen, relabel
    ticket_id: int


@dataclass(frozen=True, slots=True)
class Relabel:
    """Staff correct a ticket's kind or topic (a label for training)."""

    AUDIENCE: ClassVar[Audience] = "staff"
    field: str  # kind, topic
    ticket_id: int
    value: str


@dataclass(frozen=True, slots=True)
class Vote:
    """A customer votes for an idea, or takes the vote back, from a board page (its number)
    or from the idea's own message (no page)."""

    AUDIENCE: ClassVar[Audience] = "customer"
    idea_id: int
    on: bool
    page: int | None


@dataclass(frozen=True, slots=True)
class BoardPage:
    """A customer turns a page of the idea board."""

    AUDIENCE: ClassVar[Audience] = "customer"
    page: int


@dataclass(frozen=True, slots=True)
class SimilarChoice:
    """A customer whose idea resembles ideas on the board votes for one of them, or posts
    theirs anyway (no idea id)."""

    AUDIENCE: ClassVar[Audience] = "customer"
    feedback_id: int
    idea_id: int | None


@dataclass(frozen=True, slots=True)
class IdeaStatusChange:
    """Staff move an idea to a status."""

    AUDIENCE: ClassVar[Audience] = "staff"
    idea_id: int
    status: str


@dataclass(frozen=True, slots=True)
class IncidentAction:
    """Staff act on an incident's card (resolve it, list its tickets) or take a ticket out of
    its incident (the id is then the ticket's)."""

    AUDIENCE: ClassVar[Audience] = "staff"
    action: str  # resolve, tickets, out
    target_id: int


@dataclass(frozen=True, slots=True)
class OfferAnswer:
    """A customer says whether the suggested answers solved it, or a person is needed."""

    AUDIENCE: ClassVar[Audience] = "customer"
    solved: bool
    offer_id: int


@dataclass(frozen=True, slots=True)
class SuggestionChoice:
    """A customer whose message held a suggestion puts it on the idea board or not: ``add``
    (similar ideas on the board are shown first), ``no``, ``new`` (add it even so) or
    ``vote`` (vote for the similar idea ``idea_id`` instead)."""

    AUDIENCE: ClassVar[Audience] = "customer"
    action: Literal["add", "no", "new", "vote"]
    feedback_id: int
    idea_id: int | None = None


Payload = (
    KindAnswer
    | Rating
    | Forget
    | TicketAction
    | Relabel
    | Vote
    | BoardPage
    | SimilarChoice
    | IdeaStatusChange
    | IncidentAction
    | OfferAnswer
    | SuggestionChoice
)
P = TypeVar("P", bound=Payload)

_ID = r"(\d{1,18})"
_WORD = r"([a-z_]{1,32})"
# One expression per payload type; `decode` tries them in order.
_FORMS: dict[type[Any], re.Pattern[str]] = {
    KindAnswer: re.compile(rf"^k:(care|idea|other):{_ID}$"),
    Rating: re.compile(rf"^r:{_ID}:([1-5]|unsolved)$"),
    Forget: re.compile(r"^f:(yes|no)$"),
    TicketAction: re.compile(rf"^t:(claim|resolve|reopen|relabel):{_ID}$"),
    Relabel: re.compile(rf"^t:(kind|topic):{_ID}:{_WORD}$"),
    Vote: re.compile(rf"^i([vu]):{_ID}:(\d{{1,6}}|d)$"),
    BoardPage: re.compile(r"^ip:(\d{1,6})$"),
    SimilarChoice: re.compile(rf"^ix:{_ID}:(\d{{1,18}}|new)$"),
    IdeaStatusChange: re.compile(rf"^is:{_ID}:{_WORD}$"),
    IncidentAction: re.compile(rf"^n:(resolve|tickets|out):{_ID}$"),
    OfferAnswer: re.compile(rf"^s:(ok|person):{_ID}$"),
    SuggestionChoice: re.compile(rf"^g:(?:(add|no|new):{_ID}|v:{_ID}:{_ID})$"),
}


def pattern(*kinds: type[P]) -> re.Pattern[str]:
    """The expression matching these payloads' data, for a CallbackQueryHandler."""
    return re.compile("|".join(f"(?:{_FORMS[kind].pattern})" for kind in kinds))


def encode(payload: Payload) -> str:
    """The callback data of a button carrying this payload."""
    match payload:
        case KindAnswer(kind=kind, feedback_id=fid):
            data = f"k:{kind}:{fid}"
        case Rating(ticket_id=tid, score=score):
            data = f"r:{tid}:{'unsolved' if score is None else score}"
        case Forget(confirmed=confirmed):
            data = f"f:{'yes' if confirmed else 'no'}"
        case TicketAction(action=action, ticket_id=tid):
            data = f"t:{action}:{tid}"
        case Relabel(field=name, ticket_id=tid, value=value):
            data = f"t:{name}:{tid}:{value}"
        case Vote(idea_id=iid, on=on, page=page):
            data = f"i{'v' if on else 'u'}:{iid}:{'d' if page is None else page}"
        case BoardPage(page=page):
            data = f"ip:{page}"
        case SimilarChoice(feedback_id=fid, idea_id=iid):
            data = f"ix:{fid}:{'new' if iid is None else iid}"
        case IdeaStatusChange(idea_id=iid, status=status):
            data = f"is:{iid}:{status}"
        case IncidentAction(action=action, target_id=target):
            data = f"n:{action}:{target}"
        case OfferAnswer(solved=solved, offer_id=oid):
            data = f"s:{'ok' if solved else 'person'}:{oid}"
        case SuggestionChoice(action="vote", feedback_id=fid, idea_id=iid):
            data = f"g:v:{fid}:{iid}"
        case SuggestionChoice(action=action, feedback_id=fid):
            data = f"g:{action}:{fid}"
    if decode(data) != payload:
        raise ValueError(f"{payload!r} cannot be carried by a button")
    return data


def decode(data: str | None) -> Payload | None:
    """The payload a button carries; None for data no button of this version draws."""
    if not data or len(data.encode("utf-8")) > 64:
        return None
    for kind, form in _FORMS.items():
        found = form.match(data)
        if found is not None:
            return _BUILD[kind](found.groups())
    return None


def decode_as(kind: type[P], data: str | None) -> P | None:
    """The payload if the data is one of this kind, else None."""
    payload = decode(data)
    return payload if isinstance(payload, kind) else None


# The actions a suggestion button's data names (its expression admits no others).
_SUGGESTION_ACTIONS: dict[str, Literal["add", "no", "new"]] = {
    "add": "add",
    "no": "no",
    "new": "new",
}

_BUILD: dict[type[Payload], Callable[[tuple[str, ...]], Payload]] = {
    KindAnswer: lambda p: KindAnswer(kind=p[0], feedback_id=int(p[1])),
    Rating: lambda p: Rating(ticket_id=int(p[0]), score=None if p[1] == "unsolved" else int(p[1])),
    Forget: lambda p: Forget(confirmed=p[0] == "yes"),
    TicketAction: lambda p: TicketAction(action=p[0], ticket_id=int(p[1])),
    Relabel: lambda p: Relabel(field=p[0], ticket_id=int(p[1]), value=p[2]),
    Vote: lambda p: Vote(
        idea_id=int(p[1]), on=p[0] == "v", page=None if p[2] == "d" else int(p[2])
    ),
    BoardPage: lambda p: BoardPage(page=int(p[0])),
    SimilarChoice: lambda p: SimilarChoice(
        feedback_id=int(p[0]), idea_id=None if p[1] == "new" else int(p[1])
    ),
    IdeaStatusChange: lambda p: IdeaStatusChange(idea_id=int(p[0]), status=p[1]),
    IncidentAction: lambda p: IncidentAction(action=p[0], target_id=int(p[1])),
    OfferAnswer: lambda p: OfferAnswer(solved=p[0] == "ok", offer_id=int(p[1])),
    SuggestionChoice: lambda p: (
        SuggestionChoice(action=_SUGGESTION_ACTIONS[p[0]], feedback_id=int(p[1]))
        if p[0]
        else SuggestionChoice(action="vote", feedback_id=int(p[2]), idea_id=int(p[3]))
    ),
}


def audience_of(payload: Payload) -> Audience:
    """Who may press a button carrying this payload."""
    return payload.AUDIENCE
