"""The callback-data codec: every button's payload survives the trip, the strings are those
buttons already on customers' screens carry, and anything else is refused."""

from __future__ import annotations

import pytest

from bot.telegram.callbacks import (
    BoardPage,
    Forget,
    IdeaStatusChange,
    IncidentAction,
    KindAnswer,
    OfferAnswer,
    Payload,
    Rating,
    Relabel,
    SimilarChoice,
    SuggestionChoice,
    TicketAction,
    Vote,
    decode,
    decode_as,
    encode,
    pattern,
)

# Each payload with the data buttons drawn before the codec carried (they must keep working).
WIRE: list[tuple[Payload, str]] = [
    (KindAnswer(kind="care", feedback_id=42), "k:care:42"),
    (Rating(ticket_id=7, score=5), "r:7:5"),
    (Rating(ticket_id=7, score=None), "r:7:unsolved"),
    (Rating(ticket_id=0, score=3), "r:0:3"),
    (Forget(confirmed=True), "f:yes"),
    (Forget(confirmed=False), "f:no"),
    (TicketAction(action="claim", ticket_id=12), "t:claim:12"),
    (TicketAction(action="relabel", ticket_id=12), "t:relabel:12"),
    (Relabel(field="topic", ticket_id=12, value="billing"), "t:topic:12:billing"),
    (Relabel(field="kind", ticket_id=12, value="idea"), "t:kind:12:idea"),
    (Vote(idea_id=3, on=True, page=0), "iv:3:0"),
    (Vote(idea_id=3, on=False, page=None), "iu:3:d"),
    (BoardPage(page=2), "ip:2"),
    (SimilarChoice(feedback_id=9, idea_id=4), "ix:9:4"),
    (SimilarChoice(feedback_id=9, idea_id=None), "ix:9:new"),
    (IdeaStatusChange(idea_id=5, status="under_review"), "is:5:under_review"),
    (IncidentAction(action="resolve", target_id=1), "n:resolve:1"),
    (IncidentAction(action="out", target_id=77), "n:out:77"),
    (OfferAnswer(solved=True, offer_id=8), "s:ok:8"),
    (OfferAnswer(solved=False, offer_id=8), "s:person:8"),
    (SuggestionChoice("add", feedback_id=9), "g:add:9"),
    (SuggestionChoice("no", feedback_id=9), "g:no:9"),
    (SuggestionChoice("new", feedback_id=9), "g:new:9"),
    (SuggestionChoice("vote", feedback_id=9, idea_id=4), "g:v:9:4"),
]


@pytest.mark.parametrize(("payload", "data"), WIRE, ids=[d for _, d in WIRE])
def test_each_payload_is_written_as_before_and_read_back(payload: Payload, data: str) -> None:
    assert encode(payload) == data
    assert decode(data) == payload
    assert len(data.encode()) <= 64


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "k:care",  # no id
        "k:complaint:1",  # not a kind
        "r:7:6",  # no such score
        "r:-1:5",
        "t:delete:3",
        "t:topic:3:Billing Now",
        "iv:3:x",
        "ip:",
        "s:maybe:1",
        "n:resolve:1:extra",
        "x:1",
        "r:" + "9" * 70 + ":5",  # past Telegram's 64 bytes
    ],
)
def test_data_no_button_draws_is_refused(data: str | None) -> None:
    assert decode(data) is None


def test_a_payload_a_button_cannot_carry_is_refused_when_drawn() -> None:
    with pytest.raises(ValueError, match="cannot be carried"):
        encode(Relabel(field="topic", ticket_id=1, value="two words"))
    with pytest.raises(ValueError, match="cannot be carried"):
        encode(Rating(ticket_id=1, score=9))


def test_a_pattern_matches_its_own_kinds_only() -> None:
    tickets = pattern(TicketAction, Relabel)
    assert tickets.match("t:claim:1") and tickets.match("t:kind:1:care")
    assert not tickets.match("n:resolve:1") and not tickets.match("k:care:1")
    votes = pattern(Vote)
    assert votes.match("iv:1:0") and votes.match("iu:1:d") and not votes.match("ip:1")


def test_decode_as_a_kind_gives_none_for_another_kind() -> None:
    assert decode_as(BoardPage, "ip:3") == BoardPage(page=3)
    assert decode_as(BoardPage, "iv:3:0") is None
