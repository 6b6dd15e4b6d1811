"""Self-service answers: the match threshold, chosen on labelled data (bench/data/answers/).

Every message is matched against the answer book of its language (book.jsonl: 14 answers in
English, 14 in Italian) as a new care request would be: up to three answers at or above the
threshold. For each threshold of the sweep, per language:

- recall: of the messages some answer solves, the share with a right answer among those shown;
- precision: of the in-domain messages (telecom care requests: questions.jsonl and the sample of
  the triage corpus, corpus_care.jsonl) that were shown answers, the share with a right one;
- false-suggestion rate (FSR): of the messages no answer solves, the share shown answers anyway,
  for each set: hand-written near misses, the triage corpus's care requests, and real public
  sentences (app reviews, software-forum questions; English only).

The threshold chosen for a language is the one with the best recall among those where precision
is at least MIN_PRECISION and every FSR at most MAX_FALSE (ties: the higher threshold). A wrong
suggestion holds the ticket's card back from staff until the customer answers, up to
SELF_SERVICE_WAIT_MINUTES, so it costs more than a missed one, which costs nothing: the card goes
at once. ANSWER_MATCH_THRESHOLD, one setting for both languages, is the higher of the two.

    .venv/bin/python bench/answers_threshold.py
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.domain.answers import AnswerIndex

DATA = Path(__file__).parent / "data" / "answers"
MIN_PRECISION = 0.90
MAX_FALSE = 0.05
SWEEP = [round(0.10 + 0.025 * step, 3) for step in range(21)]  # 0.10 ... 0.60

# Where each message comes from, and whether it is a telecom care request.
SETS = {
    "questions": ("hand-written", True),
    "corpus": ("triage corpus", True),
    "ciurumelea": ("app reviews", False),
    "tizard": ("forum", False),
}


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled message: the answers that solve it (none for a negative)."""

    lang: str
    text: str
    answers: frozenset[int]
    origin: str  # a key of SETS


@dataclass(frozen=True, slots=True)
class Figures:
    """One language at one threshold."""

    threshold: float
    precision: float
    recall: float
    false_rates: dict[str, float]  # FSR by set of negatives
    suggested: int


def _lines(path: Path) -> Iterable[dict[str, object]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def book() -> list[tuple[int, str, str, str]]:
    """The answers: (id, language, title, text)."""
    return [
        (int(str(a["id"])), str(a["lang"]), str(a["title"]), str(a["text"]))
        for a in _lines(DATA / "book.jsonl")
    ]


def examples() -> list[Example]:
    """Every labelled message of the set."""
    found: list[Example] = []
    for origin, name in (("questions", "questions.jsonl"), ("corpus", "corpus_care.jsonl")):
        for row in _lines(DATA / name):
            answers = row["answers"]
            assert isinstance(answers, list)
            found.append(Example(str(row["lang"]), str(row["text"]), frozenset(answers), origin))
    for origin, name in (("ciurumelea", "reviews.jsonl"), ("tizard", "sentences.jsonl")):
        found += [
            Example("en", str(row["text"]), frozenset(), origin)
            for row in _lines(DATA / origin / name)
        ]
    return found


def _negative_set(example: Example) -> str:
    return "near misses" if example.origin == "questions" else SETS[example.origin][0]


def measure(index: AnswerIndex, items: list[Example], threshold: float) -> Figures:
    """Precision, recall and false-suggestion rates of one language's messages."""
    wanted = right = shown_in_domain = right_in_domain = 0
    negatives: dict[str, list[int]] = {}
    for item in items:
        shown = {a for a, _ in index.match(item.text, item.lang, threshold=threshold)}
        hit = bool(shown & item.answers)
        if item.answers:
            wanted += 1
            right += hit
        else:
            negatives.setdefault(_negative_set(item), []).append(bool(shown))
        if SETS[item.origin][1] and shown:
            shown_in_domain += 1
            right_in_domain += hit
    return Figures(
        threshold=threshold,
        precision=right_in_domain / shown_in_domain if shown_in_domain else 1.0,
        recall=right / wanted if wanted else 0.0,
        false_rates={name: sum(v) / len(v) for name, v in sorted(negatives.items())},
        suggested=shown_in_domain,
    )


def acceptable(figures: Figures) -> bool:
    """Whether a threshold meets both bounds."""
    return figures.precision >= MIN_PRECISION and all(
        rate <= MAX_FALSE for rate in figures.false_rates.values()
    )


def choose(sweep: list[Figures]) -> Figures | None:
    """The best recall within the bounds; of equal recalls, the higher threshold."""
    fine = [f for f in sweep if acceptable(f)]
    return max(fine, key=lambda f: (f.recall, f.threshold)) if fine else None


def sweep_language(
    index: AnswerIndex, items: list[Example], thresholds: Iterable[float] = SWEEP
) -> list[Figures]:
    return [measure(index, items, t) for t in thresholds]


def counts(items: list[Example]) -> str:
    positives = sum(1 for i in items if i.answers)
    by_set: dict[str, int] = {}
    for item in items:
        if not item.answers:
            by_set[_negative_set(item)] = by_set.get(_negative_set(item), 0) + 1
    negatives = ", ".join(f"{name} {n}" for name, n in sorted(by_set.items()))
    return f"{positives} solved by an answer; no answer: {negatives}"


def report() -> dict[str, Figures | None]:
    """Print the sweep for each language; the chosen figures by language."""
    index = AnswerIndex.build(book())
    everything = examples()
    chosen: dict[str, Figures | None] = {}
    for lang in ("en", "it"):
        items = [e for e in everything if e.lang == lang]
        sweep = sweep_language(index, items)
        names = list(sweep[0].false_rates)
        print(f"\n[{lang}] {len(items)} messages: {counts(items)}")
        print(
            "threshold  precision  recall  "
            + "  ".join(f"FSR {n}" for n in names)
            + "   (FSR: no-answer messages shown answers)"
        )
        for f in sweep:
            rates = "  ".join(f"{f.false_rates[n]:>{len(n) + 4}.3f}" for n in names)
            mark = " *" if acceptable(f) else ""
            print(f"  {f.threshold:.3f}     {f.precision:.3f}    {f.recall:.3f}  {rates}{mark}")
        best = choose(sweep)
        chosen[lang] = best
        if best is None:
            print(f"chosen [{lang}]: none within precision >= {MIN_PRECISION}, FSR <= {MAX_FALSE}")
        else:
            print(
                f"chosen [{lang}]: {best.threshold:.3f} (best recall with precision >= "
                f"{MIN_PRECISION:.2f} and every FSR <= {MAX_FALSE:.2f}; * marks those within)"
            )
    picked = [f.threshold for f in chosen.values() if f is not None]
    if picked:
        print(f"\nANSWER_MATCH_THRESHOLD: {max(picked):.3f} (the higher of the two languages)")
    return chosen


if __name__ == "__main__":
    report()
