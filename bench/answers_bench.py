"""Self-service answers: the match threshold on labelled data, and how fast matching is.

1. Threshold: bench/answers_threshold.py's sweep over bench/data/answers/ (telecom care requests
   labelled with the answer that solves them, near misses, and real public sentences that no
   answer solves): precision, recall and false-suggestion rate per threshold and language, and
   the threshold chosen (see its docstring for the rule).
2. Speed: one message against 1,000 answers with the cached index (built once, outside any
   transaction): p50/p99 per match over every message of the labelled set (the real reviews
   are the longest), and the time to build the index.

    .venv/bin/python bench/answers_bench.py
"""

from __future__ import annotations

import random
import statistics
import time

from answers_threshold import book, examples, report

from bot.domain.answers import AnswerIndex


def choose_threshold() -> float:
    chosen = [f.threshold for f in report().values() if f is not None]
    return max(chosen)


def speed(threshold: float) -> None:
    rng = random.Random(17)
    words = [w for _, _, title, text in book() for w in f"{title} {text}".split() if len(w) > 3]
    words += [f"term{n}" for n in range(3000)]
    answers = [
        (
            n,
            "en" if n % 2 else "it",
            " ".join(rng.choices(words, k=5)),
            " ".join(rng.choices(words, k=30)),
        )
        for n in range(1, 1001)
    ]
    started = time.perf_counter()
    index = AnswerIndex.build(answers)
    built = time.perf_counter() - started
    queries = [(e.lang, e.text) for e in examples()] * 4
    timings = []
    for language, text in queries:
        started = time.perf_counter()
        index.match(text, language, threshold=threshold)
        timings.append(time.perf_counter() - started)
    timings.sort()
    p50 = statistics.median(timings) * 1000
    p99 = timings[int(len(timings) * 0.99) - 1] * 1000
    print(f"1,000 answers: index built in {built * 1000:.1f} ms (once per change, in a thread)")
    slowest = timings[-1] * 1000
    print(f"{len(timings)} matches: p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {slowest:.3f} ms")
    assert p99 < 2.0, "matching must stay under 2 ms at p99"


if __name__ == "__main__":
    speed(choose_threshold())
