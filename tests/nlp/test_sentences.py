"""Sentence-by-sentence triage (nlp.sentences): splitting, offsets, and the ideas in a care."""

from __future__ import annotations

import pytest

from nlp.sentences import kinds_in, sentences_of_kind, split_sentences, triage_sentences
from nlp.triage import Triager


def _texts(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three?", ["One.", "Two!", "Three?"]),
        ("no punctuation at all", ["no punctuation at all"]),
        ("first line\nsecond line", ["first line", "second line"]),
        ("Version 2.5 is out... finally!! ok", ["Version 2.5 is out...", "finally!!", "ok"]),
        ("e.g. this one. And Mr. Rossi called.", ["e.g. this one.", "And Mr. Rossi called."]),
        ('He said "it works." Then it broke.', ['He said "it works."', "Then it broke."]),
        ("  spaced out.   ", ["spaced out."]),
        (
            "It crashes when I pay; also, a dark mode",
            ["It crashes when I pay", "also, a dark mode"],
        ),
        ("lists etc; and more ;; then", ["lists etc", "and more", "then"]),
        ("a;b stays one", ["a;b stays one"]),
        ("Mr.\nRossi called", ["Mr.", "Rossi called"]),
        ("", []),
        ("?", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert _texts(text) == expected


def test_offsets_point_into_the_message(triager: Triager) -> None:
    text = "My bill is wrong.  Also, a dark mode would be nice!"
    for sentence in triage_sentences(triager, text):
        assert text[sentence.start : sentence.end] == sentence.text


@pytest.mark.parametrize(
    "text",
    [
        "The app is great but it crashes since yesterday when I pay. "
        "It would be nice to have a dark mode too!",
        "La fibra non funziona da ieri sera. "
        "Sarebbe bello poter vedere lo stato dei guasti nell'app.",
        "My internet has been down for two days, please fix it.\n"
        "Also, could you add an option to pay with PayPal?",
    ],
)
def test_the_idea_inside_a_care_message(triager: Triager, text: str) -> None:
    assert triager.triage_one(text).kind == "care"
    ideas = sentences_of_kind(triager, text, "idea")
    assert len(ideas) == 1 and ideas[0] in text
    assert len(sentences_of_kind(triager, text, "care")) == 1


def test_single_sentence_and_confidence_floor(triager: Triager) -> None:
    assert sentences_of_kind(triager, "grazie mille!", "idea") == []
    assert sentences_of_kind(triager, "grazie mille!", "other") == ["grazie mille!"]
    assert sentences_of_kind(triager, "grazie mille!", "other", min_confidence=1.01) == []


def test_kinds_in_is_batched_per_message(triager: Triager) -> None:
    texts = ["thanks a lot!", "my router is broken since monday. could you add a 5G plan?", ""]
    assert kinds_in(triager, texts) == [{"other"}, {"care", "idea"}, set()]
