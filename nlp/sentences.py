"""Sentence-by-sentence triage: a message can be two things ("it crashes since yesterday. Also,
a dark mode would be nice."). The whole message gets one kind; this finds the sentences of each
kind inside it, e.g. the idea sentences of a message whose whole is care.

    from nlp import load_triager
    from nlp.sentences import find_suggestions, sentences_of_kind
    sentences_of_kind(load_triager(), text, "idea")   # ['Also, a dark mode would be nice.']
    find_suggestions(load_triager(), [text])          # [Suggestion(text='Also, a dark…', …)]

Pure functions over a :class:`~nlp.triage.Triager` (or over triage results the caller got from
it, so a caller that runs the model elsewhere, e.g. in a worker thread, uses the same rules).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from nlp.triage import Triager, TriageResult

# A sentence ends at . ! ? … (any run of them, closing quotes/brackets allowed) followed by
# white space, or at a line break. Not after a single letter or a common abbreviation
# ("e.g.", "Mr.", "ecc."), and never inside a number ("2.5", "v1.2") since a space must follow.
# A semicolon followed by white space ends one too (and is left out of both sides): it joins
# two whole clauses, and "it crashes when I pay; also, a dark mode…" is two things at once.
_END = re.compile(r"(?<=[.!?…])([\"'”’)\]]*)\s+|\s*\n+\s*|\s*;+\s+")
_ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "vs",
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "no",
        "nr",
        "approx",
        "ca",
        "sig",
        "sig.ra",
        "dott",
        "ecc",
        "es",
        "pag",
        "tel",
    ]
)
_MIN_CHARS = 2
IDEA = "idea"
# How sure the model must be that a sentence is an idea before the customer is offered to put it
# on the board. Chosen on the corpus (care and other messages of more than one sentence, the
# model's own whole-message kind): from 0.66 up every idea sentence found was a real proposal
# ("maybe send an alert before taking payment…"); below, requests of the care itself ("we would
# appreciate an engineer visit", 0.55; "Lei vorrebbe tenere lo stesso numero", 0.64) came in.
# The triage's own TRIAGE_MIN_CONFIDENCE (0.55) would offer those: a wrong offer costs the
# customer a question, a missed one only an idea they can still write.
SUGGESTION_MIN_CONFIDENCE = 0.65


@dataclass(frozen=True)
class SentenceTriage:
    """One sentence of a message, where it is (character offsets), and its triage."""

    text: str
    start: int
    end: int
    result: TriageResult


@dataclass(frozen=True)
class Suggestion:
    """The idea inside a message that is something else as a whole: its sentences (joined, in
    order), where they are, and the topic of the surest of them."""

    text: str
    spans: tuple[tuple[int, int], ...]
    topic: str
    confidence: float


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the sentences of ``text``, white space trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end(1) if match.group(1) is not None else match.start()
        piece = text[start:end]
        last_word = piece.rsplit(None, 1)[-1].rstrip(".!?…").lower() if piece.split() else ""
        if (
            match.group(1) is not None
            and "\n" not in match.group()
            and (last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()))
        ):
            continue  # "e.g. this" / "J. Smith": not a sentence end
        spans.append((start, end))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b - a >= _MIN_CHARS:
            out.append((a, b))
    return out


def triage_sentences(triager: Triager, text: str) -> list[SentenceTriage]:
    """Every sentence of ``text`` with its own triage (one batched model call)."""
    spans = split_sentences(text)
    results = triager.triage([text[a:b] for a, b in spans])
    return [
        SentenceTriage(text[a:b], a, b, result)
        for (a, b), result in zip(spans, results, strict=True)
    ]


def sentences_of_kind(
    triager: Triager, text: str, kind: str, *, min_confidence: float = 0.0
) -> list[str]:
    """The sentences of ``text`` triaged as ``kind`` (at least ``min_confidence``).

    A one-sentence message gives itself or nothing, so the caller can always ask, e.g., for
    the ideas inside a care request."""
    return [
        s.text
        for s in triage_sentences(triager, text)
        if s.result.kind == kind and s.result.confidence >= min_confidence
    ]


def kinds_in(triager: Triager, texts: Sequence[str]) -> list[set[str]]:
    """For each message, the set of kinds its sentences have (batched over all messages)."""
    spans = [split_sentences(t) for t in texts]
    flat = [t[a:b] for t, s in zip(texts, spans, strict=True) for a, b in s]
    results = iter(triager.triage(flat))
    return [{next(results).kind for _ in s} for s in spans]


def suggestion_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of ``text`` worth triaging one by one: none for a message of one sentence
    (its own triage is the whole message's, which said it is not an idea)."""
    spans = split_sentences(text)
    return spans if len(spans) > 1 else []


def suggestion_from(
    text: str,
    spans: Sequence[tuple[int, int]],
    results: Sequence[TriageResult],
    *,
    min_confidence: float = SUGGESTION_MIN_CONFIDENCE,
) -> Suggestion | None:
    """The suggestion in ``text`` given its sentences (``spans``) and their triage, in the same
    order; None when no sentence is an idea at ``min_confidence``."""
    picked = [
        (span, result)
        for span, result in zip(spans, results, strict=True)
        if result.kind == IDEA and result.confidence >= min_confidence
    ]
    if not picked:
        return None
    surest = max(picked, key=lambda pair: pair[1].confidence)[1]
    return Suggestion(
        text=" ".join(text[a:b] for (a, b), _ in picked),
        spans=tuple(span for span, _ in picked),
        topic=surest.topic,
        confidence=surest.confidence,
    )


def suggestions_from(
    texts: Sequence[str],
    spans: Sequence[Sequence[tuple[int, int]]],
    results: Sequence[TriageResult],
    *,
    min_confidence: float = SUGGESTION_MIN_CONFIDENCE,
) -> list[Suggestion | None]:
    """:func:`suggestion_from` for a batch: ``results`` are the triage of every span of every
    text, flat, in order (one model call for the batch)."""
    flat = iter(results)
    found = [
        suggestion_from(text, own, [next(flat) for _ in own], min_confidence=min_confidence)
        for text, own in zip(texts, spans, strict=True)
    ]
    if next(flat, None) is not None:
        raise ValueError("more triage results than sentences")
    return found


def find_suggestions(
    triager: Triager,
    texts: Sequence[str],
    *,
    min_confidence: float = SUGGESTION_MIN_CONFIDENCE,
) -> list[Suggestion | None]:
    """For each message (whose whole is care or other), the suggestion inside it, if any: only
    messages of more than one sentence are triaged again, all their sentences in one call."""
    spans = [suggestion_spans(text) for text in texts]
    flat = [text[a:b] for text, own in zip(texts, spans, strict=True) for a, b in own]
    results = triager.triage(flat) if flat else []
    return suggestions_from(texts, spans, results, min_confidence=min_confidence)
