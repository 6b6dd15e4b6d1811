"""The process's index of the ideas' words finds what nlp.similarity.most_similar finds, with the
same scores, while ideas come and go from the board."""

from __future__ import annotations

import random

from bot.domain.similar import SIMILAR_SHOWN, SIMILARITY_THRESHOLD, IdeaIndex
from nlp.similarity import most_similar

WORDS = [
    "pause",
    "wifi",
    "kids",
    "dinner",
    "dark",
    "mode",
    "app",
    "family",
    "plan",
    "share",
    "data",
    "sims",
    "bill",
    "due",
    "day",
    "roaming",
    "abroad",
    "esim",
    "watch",
    "router",
    "password",
    "guest",
    "network",
    "modem",
    "lights",
    "night",
    "invoice",
    "pdf",
    "chat",
    "weekend",
    "student",
    "cheaper",
    "speed",
    "test",
    "notification",
    "technician",
    "visit",
    "calls",
    "unknown",
    "block",
    "modalità",
    "scura",
    "bolletta",
    "famiglia",
]


def text(rng: random.Random) -> str:
    return "Please add " + " ".join(rng.choices(WORDS, k=rng.randint(0, 7)))


def test_the_index_scores_as_most_similar_does_as_the_board_changes() -> None:
    rng = random.Random(3)
    ideas = {n: text(rng) for n in range(1, 301)}
    index = IdeaIndex()
    open_ids = set(rng.sample(sorted(ideas), 150))
    for _ in range(40):
        # Some ideas close, others open (new ones, or reopened): the candidates of a search.
        open_ids -= set(rng.sample(sorted(open_ids), 5))
        open_ids |= set(rng.sample(sorted(ideas), 8))
        candidates = sorted(open_ids, reverse=True)
        queries = [text(rng) for _ in range(3)] + [ideas[candidates[0]], ""]
        texts = {i: ideas[i] for i in index.unknown(candidates)}
        found = index.search(candidates, texts, queries)
        for query in queries:
            expected = most_similar(
                query,
                [(i, ideas[i]) for i in candidates],
                threshold=SIMILARITY_THRESHOLD,
                limit=SIMILAR_SHOWN,
            )
            assert found[query] == expected, query
    assert index.search([], {}, ["pause the wifi"]) == {"pause the wifi": []}
