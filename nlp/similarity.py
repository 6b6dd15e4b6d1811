"""How alike two short texts are: for finding ideas already on the board.

No word vectors ship with the model (nothing is downloaded), so similarity is the cosine of
TF-IDF weighted content words, where a word is cut to its first five letters: "notifica",
"notifiche" and "notification" meet, as do "pause" and "pausing". IDF comes from the
candidates themselves, so words every idea shares ("app", "please") count for little.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from nlp.keywords import stop_words

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_STEM = 5
# Verbs of asking that every proposal has; they say nothing about what is proposed.
_PROPOSAL_WORDS = frozenset(
    [
        "would",
        "could",
        "should",
        "great",
        "nice",
        "good",
        "love",
        "like",
        "add",
        "adding",
        "allow",
        "let",
        "make",
        "idea",
        "suggest",
        "suggestion",
        "option",
        "possible",
        "please",
        "want",
        "wish",
        "maybe",
        "feature",
        "sarebbe",
        "bello",
        "bella",
        "potreste",
        "potete",
        "aggiungere",
        "aggiungete",
        "avere",
        "poter",
        "fare",
        "idea",
        "proposta",
        "suggerimento",
        "vorrei",
        "possibile",
        "opzione",
        "magari",
    ]
)
_IGNORED = stop_words("en") | stop_words("it") | _PROPOSAL_WORDS


def terms(text: str) -> Counter[str]:
    """The text's content words, stemmed by prefix, with their counts."""
    words = (w.lower() for w in _WORD.findall(text))
    return Counter(w[:_STEM] for w in words if w not in _IGNORED)


def most_similar(
    query: str,
    candidates: Sequence[tuple[int, str]],
    *,
    threshold: float = 0.3,
    limit: int = 3,
) -> list[tuple[int, float]]:
    """Candidates (id, text) whose similarity to the query reaches the threshold, best first."""
    if not candidates:
        return []
    bags = [terms(text) for _, text in candidates]
    query_bag = terms(query)
    if not query_bag:
        return []
    idf = _idf([query_bag, *bags])
    query_vector = _weigh(query_bag, idf)
    scored = []
    for (key, _), bag in zip(candidates, bags, strict=True):
        score = _cosine(query_vector, _weigh(bag, idf))
        if score >= threshold:
            scored.append((key, round(score, 3)))
    scored.sort(key=lambda pair: (-pair[1], -pair[0]))
    return scored[:limit]


def _idf(bags: Iterable[Counter[str]]) -> dict[str, float]:
    documents = 0
    seen: Counter[str] = Counter()
    for bag in bags:
        documents += 1
        seen.update(bag.keys())
    return {term: math.log((1 + documents) / (1 + n)) + 1.0 for term, n in seen.items()}


def _weigh(bag: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    return {term: (1 + math.log(n)) * idf.get(term, 1.0) for term, n in bag.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(weight * b.get(term, 0.0) for term, weight in a.items())
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0
