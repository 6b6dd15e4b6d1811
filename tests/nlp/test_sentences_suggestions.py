"""The suggestion inside a message (nlp.sentences): which sentences count as one, how a batch
is put back together, and what the shipped model finds in messages that are two things."""

from __future__ import annotations

import pytest

from nlp.sentences import (
    SUGGESTION_MIN_CONFIDENCE,
    Suggestion,
    find_suggestions,
    split_sentences,
    suggestion_from,
    suggestion_spans,
    suggestions_from,
)
from nlp.triage import Triager, TriageResult


def result(kind: str, confidence: float, topic: str = "other") -> TriageResult:
    others = {k: (1 - confidence) / 2 for k in ("care", "idea", "other") if k != kind}
    return TriageResult(
        kind=kind,
        confidence=confidence,
        probabilities={kind: confidence, **others},
        sentiment="neutral",
        topic=topic,
        language="en",
        keywords=(),
    )


TEXT = "It is down. Add a dark mode. Thanks! And a widget, please."


def test_only_messages_of_more_than_one_sentence_are_looked_into() -> None:
    assert suggestion_spans("Add a dark mode, please.") == []
    assert suggestion_spans("") == []
    assert suggestion_spans(TEXT) == split_sentences(TEXT) and len(split_sentences(TEXT)) == 4


def test_the_idea_sentences_sure_enough_make_the_suggestion() -> None:
    spans = split_sentences(TEXT)
    found = suggestion_from(
        TEXT,
        spans,
        [
            result("care", 0.9),
            result("idea", 0.7, "app"),
            result("other", 0.9),
            result("idea", 0.95, "internet_devices"),
        ],
    )
    assert found == Suggestion(
        text="Add a dark mode. And a widget, please.",
        spans=(spans[1], spans[3]),
        topic="internet_devices",  # the surest sentence's
        confidence=0.95,
    )
    assert [TEXT[a:b] for a, b in found.spans] == ["Add a dark mode.", "And a widget, please."]


def test_a_weak_idea_sentence_is_not_offered() -> None:
    spans = split_sentences(TEXT)
    weak = SUGGESTION_MIN_CONFIDENCE - 0.01
    results = [result("care", 0.9), result("idea", weak), result("other", 0.9), result("care", 1)]
    assert suggestion_from(TEXT, spans, results) is None
    assert suggestion_from(TEXT, spans, results, min_confidence=weak) is not None
    assert suggestion_from(TEXT, spans, [result("care", 0.9)] * 4) is None


def test_a_batch_is_put_back_message_by_message() -> None:
    texts = ["Broken. Add PayPal.", "one sentence only", "Great! Also dark mode."]
    spans = [suggestion_spans(t) for t in texts]
    assert [len(s) for s in spans] == [2, 0, 2]
    flat = [result("care", 0.9), result("idea", 0.9), result("other", 0.9), result("idea", 0.8)]
    found = suggestions_from(texts, spans, flat)
    assert [f.text if f else None for f in found] == ["Add PayPal.", None, "Also dark mode."]
    with pytest.raises(ValueError, match="more triage results"):
        suggestions_from(texts, spans, [*flat, result("care", 1)])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The app crashes when I pay; also, a dark mode would be nice", "dark mode"),
        ("L'app si blocca quando pago. Sarebbe bello avere la modalità scura.", "modalità scura"),
        (
            "Thank you so much, Marco on the phone was wonderful and solved everything in five "
            "minutes! It would be great if the app had a live chat too.",
            "live chat",
        ),
        ("My internet has been down for two days, please fix it.", None),
        ("The app crashes when I pay. Can you fix it?", None),
        ("Grazie mille per l'aiuto. Siete stati bravissimi.", None),
    ],
)
def test_what_the_model_finds_in_messages_that_are_two_things(
    triager: Triager, text: str, expected: str | None
) -> None:
    assert triager.triage_one(text).kind != "idea"  # the whole is care or other
    [found] = find_suggestions(triager, [text])
    if expected is None:
        assert found is None
    else:
        assert found is not None and expected in found.text and found.text in text
        assert found.confidence >= SUGGESTION_MIN_CONFIDENCE


def test_one_model_call_for_the_whole_batch(triager: Triager) -> None:
    calls: list[list[str]] = []

    class Counting(Triager):
        def triage(self, texts: list[str]) -> list[TriageResult]:
            calls.append(list(texts))
            return super().triage(texts)

    counting = Counting(triager.nlp)
    texts = ["It crashes. Add a dark mode, please!", "one sentence", "Down again. Fix it!"]
    found = find_suggestions(counting, texts)
    assert len(calls) == 1 and len(calls[0]) == 4  # the two one-sentence texts are not triaged
    assert found[1] is None
    assert find_suggestions(counting, ["just one"]) == [None] and len(calls) == 1
