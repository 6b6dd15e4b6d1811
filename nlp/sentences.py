"""Sentence-by-sentence triage: a message can be two things ("it crashes since yesterday. Also,
a dark mode would be nice."). The whole message gets one kind; this finds the sentences of each
kind inside it, e.g. the idea sentences of a message whose whole is care.

    from nlp import load_triager
    from nlp.sentences import sentences_of_kind
    sentences_of_kind(load_triager(), text, "idea")   # ['Also, a dark mode would be nice.']

Pure functions over a :class:`~nlp.triage.Triager`; no bot wiring.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from nlp.triage import Triager, TriageResult

# A sentence ends at . ! ? … (any run of them, closing quotes/brackets allowed) followed by
# white space, or at a line break. Not after a single letter or a common abbreviation
# ("e.g.", "Mr.", "ecc."), and never inside a number ("2.5", "v1.2") since a space must follow.
_END = re.compile(r"(?<=[.!?…])([\"'”’)\]]*)\s+|\s*\n+\s*")
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


@dataclass(frozen=True)
class SentenceTriage:
    """One sentence of a message, where it is (character offsets), and its triage."""

    text: str
    start: int
    end: int
    result: TriageResult


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the sentences of ``text``, white space trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end(1) if match.group(1) is not None else match.start()
        piece = text[start:end]
        last_word = piece.rsplit(None, 1)[-1].rstrip(".!?…").lower() if piece.split() else ""
        if "\n" not in match.group() and (
            last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha())
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
