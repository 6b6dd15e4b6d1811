"""Ideas already on the board that look like a new one.

Found outside any transaction: the open ideas' ids are read in a short read session, the
scoring runs in a worker thread over an index of their words kept by the process (each idea's
words are worked out once; ideas are never edited), and the votes of the few that match are
read after. The caller then writes what it decided in a session of its own, so the SQLite
writer turn is never held while ideas are compared (48 ms per idea message over 1,000 ideas
when it was; see bench/similar_bench.py).
"""

from __future__ import annotations

import asyncio
import math
import threading
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from nlp.similarity import terms
from storage.db import Database, ensure_outside_transaction
from storage.idea_candidates import idea_texts, ideas_with_votes, newest_open_ideas

SIMILARITY_THRESHOLD = 0.35
SIMILAR_SHOWN = 3
# The newest open ideas a new one is compared with.
CANDIDATES = 1000


@dataclass(frozen=True, slots=True)
class Similar:
    """An idea on the board like the one just proposed."""

    idea_id: int
    text: str
    votes: int
    score: float


class IdeaIndex:
    """The words of the open ideas, with postings and document frequencies, kept in step with
    the candidates of each search. Scores are nlp.similarity.most_similar's (TF-IDF cosine,
    IDF from the candidates and the query), computed only for ideas that share a word with
    the query. Thread-safe: searches run in worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bags: dict[int, Counter[str]] = {}  # every idea seen, open or not any more
        self._open: set[int] = set()
        self._df: Counter[str] = Counter()
        self._postings: dict[str, set[int]] = {}

    def unknown(self, idea_ids: Iterable[int]) -> list[int]:
        """Of these ideas, those whose words the index has not worked out yet."""
        with self._lock:
            return [i for i in idea_ids if i not in self._bags]

    def search(
        self,
        candidates: Sequence[int],
        texts: Mapping[int, str],
        queries: Sequence[str],
        *,
        threshold: float = SIMILARITY_THRESHOLD,
        limit: int = SIMILAR_SHOWN,
    ) -> dict[str, list[tuple[int, float]]]:
        """For each query, the candidates (idea ids) at least `threshold` alike, best first,
        as (id, score). `texts`: the text of each candidate `unknown` named. CPU work: call
        it in a worker thread, outside any session."""
        ensure_outside_transaction("idea similarity")
        with self._lock:
            self._follow(candidates, texts)
            return {query: self._match(query, threshold, limit) for query in queries}

    def _follow(self, candidates: Sequence[int], texts: Mapping[int, str]) -> None:
        wanted = set(candidates)
        for idea_id in self._open - wanted:
            self._open.discard(idea_id)
            for term in self._bags[idea_id]:
                self._df[term] -= 1
                self._postings[term].discard(idea_id)
        for idea_id in wanted - self._open:
            bag = self._bags.get(idea_id)
            if bag is None:
                bag = self._bags[idea_id] = terms(texts.get(idea_id, ""))
            self._open.add(idea_id)
            for term in bag:
                self._df[term] += 1
                self._postings.setdefault(term, set()).add(idea_id)

    def _match(self, query: str, threshold: float, limit: int) -> list[tuple[int, float]]:
        query_bag = terms(query)
        if not self._open or not query_bag or threshold <= 0:
            return []
        # As most_similar: the query is one more document; the same sums in the same order.
        documents = len(self._open) + 1
        idf: dict[str, float] = {}

        def weigh(bag: Counter[str]) -> dict[str, float]:
            weights = {}
            for term, n in bag.items():
                weight = idf.get(term)
                if weight is None:
                    seen = self._df[term] + (1 if term in query_bag else 0)
                    weight = idf[term] = math.log((1 + documents) / (1 + seen)) + 1.0
                weights[term] = (1 + math.log(n)) * weight
            return weights

        query_vector = weigh(query_bag)
        query_norm = math.sqrt(sum(w * w for w in query_vector.values()))
        sharing: set[int] = set()
        for term in query_bag:
            sharing |= self._postings.get(term, set())
        scored = []
        for idea_id in sharing:
            weights = weigh(self._bags[idea_id])
            dot = sum(w * weights[t] for t, w in query_vector.items() if t in weights)
            norm = query_norm * math.sqrt(sum(w * w for w in weights.values()))
            score = dot / norm if norm else 0.0
            if score >= threshold:
                scored.append((idea_id, round(score, 3)))
        scored.sort(key=lambda pair: (-pair[1], -pair[0]))
        return scored[:limit]


_INDEXES: weakref.WeakKeyDictionary[Database, IdeaIndex] = weakref.WeakKeyDictionary()


def index_of(db: Database) -> IdeaIndex:
    """The process's index of the ideas of this database."""
    index = _INDEXES.get(db)
    if index is None:
        index = _INDEXES[db] = IdeaIndex()
    return index


async def similar_ideas(db: Database, texts: Iterable[str]) -> dict[str, tuple[Similar, ...]]:
    """For each text (blank ones aside), the open ideas like it, most alike first; texts with
    none are left out. Call it before the session that writes what comes of it: it refuses
    to run inside one."""
    ensure_outside_transaction("idea similarity")
    queries = list(dict.fromkeys(text for text in texts if text.strip()))
    if not queries:
        return {}
    index = index_of(db)
    async with db.read() as session:
        candidates = await newest_open_ideas(session=session, limit=CANDIDATES)
        missing = index.unknown(candidates)
        texts_of = await idea_texts(session=session, idea_ids=missing) if missing else {}
    ranked = await asyncio.to_thread(index.search, candidates, texts_of, queries)
    found = sorted({idea_id for pairs in ranked.values() for idea_id, _ in pairs})
    if not found:
        return {}
    async with db.read() as session:
        shown = await ideas_with_votes(session=session, idea_ids=found)
    return {
        query: tuple(Similar(i, *shown[i], score) for i, score in pairs if i in shown)
        for query, pairs in ranked.items()
        if pairs
    }


__all__ = [
    "SIMILARITY_THRESHOLD",
    "SIMILAR_SHOWN",
    "IdeaIndex",
    "Similar",
    "index_of",
    "similar_ideas",
]
