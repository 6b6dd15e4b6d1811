"""Ways to turn the kind classifier's probabilities into a kind, compared where it matters:
leave-one-source-out on each real source, and the hand-written held-out split scored by the
same model. No setting is chosen here; the figures go to nlp/README.md ("What each lever gave").

    python bench/kind_decisions.py

For each extra source the kind classifier is trained from nlp/config.cfg without it (as
``feedbackbot evaluate --loso`` does), then every rule below decides on the same probabilities:

* ``whole``: the most probable kind of the whole message (what the bot does);
* ``mix a``: the whole message mixed with each kind's best sentence (share ``a``);
* ``sentence t``: "other" becomes care (else idea) when a sentence of a longer message is that
  kind with probability at least ``t``;
* ``other x b`` / ``idea x b``: a class prior, that kind's probability times ``b``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.evaluate import metrics
from nlp.sentences import split_sentences
from nlp.train import load_settings, load_splits, train_pipeline
from nlp.triage import KIND_COMPONENT, KINDS, Triager

Probabilities = dict[str, float]
# (whole message, its sentences) -> kind
Rule = Callable[[Probabilities, list[Probabilities]], str]


def most_probable(p: Probabilities) -> str:
    return max(KINDS, key=lambda k: p[k])


def mixed(share: float) -> Rule:
    def rule(whole: Probabilities, sentences: list[Probabilities]) -> str:
        best = {k: max(s[k] for s in sentences) for k in KINDS}
        total = sum(best.values())
        return most_probable({k: (1 - share) * whole[k] + share * best[k] / total for k in KINDS})

    return rule


def by_sentence(threshold: float) -> Rule:
    def rule(whole: Probabilities, sentences: list[Probabilities]) -> str:
        kind = most_probable(whole)
        if kind != "other" or len(sentences) < 2:
            return kind
        for candidate in ("care", "idea"):
            if any(s[candidate] >= threshold for s in sentences):
                return candidate
        return kind

    return rule


def prior(kind: str, factor: float) -> Rule:
    return lambda whole, _s: most_probable({**whole, kind: whole[kind] * factor})


RULES: dict[str, Rule] = {
    "whole": lambda whole, _s: most_probable(whole),
    **{f"mix {a}": mixed(a) for a in (0.3, 0.5)},
    **{f"sentence {t}": by_sentence(t) for t in (0.6, 0.75, 0.9)},
    **{f"other x {b}": prior("other", b) for b in (0.8, 1.25, 1.5)},
    **{f"idea x {b}": prior("idea", b) for b in (1.5, 2.0, 3.0)},
}


def probabilities(triager: Triager, texts: Sequence[str]) -> list[Probabilities]:
    return [r.probabilities for r in triager.triage(list(texts))]


def sentence_probabilities(triager: Triager, texts: Sequence[str]) -> list[list[Probabilities]]:
    """Each message's sentences' probabilities (a message with no sentence split: itself)."""
    spans = [split_sentences(t) or [(0, len(t))] for t in texts]
    pieces = [t[a:b] for t, s in zip(texts, spans, strict=True) for a, b in s]
    found = iter(probabilities(triager, pieces))
    return [[next(found) for _ in s] for s in spans]


def main() -> int:
    config = load_settings()
    splits = load_splits(config, progress=lambda _m: None)
    print("| left out | tested on | rule | care F1 | idea F1 | other F1 | macro-F1 | n |")
    print("|---|---|---|---|---|---|---|---|")
    for source in splits.sources:
        records = [r for r in splits.train if r.source != source.name]
        nlp = train_pipeline(config, records, progress=lambda _m: None, components=[KIND_COMPONENT])
        triager = Triager(nlp)
        tested = {source.name: splits.source_all[source.name], "hand-written": splits.heldout}
        for name, rows in tested.items():
            texts = [r.text for r in rows]
            wholes = probabilities(triager, texts)
            sentences = sentence_probabilities(triager, texts)
            gold = [r.kind for r in rows]
            for label, rule in RULES.items():
                scored = metrics(gold, [rule(w, s) for w, s in zip(wholes, sentences, strict=True)])
                f1 = {k: scored["per_class"][k]["f1"] for k in KINDS}
                print(
                    f"| {source.name} | {name} | {label} | {f1['care']:.3f} | {f1['idea']:.3f} "
                    f"| {f1['other']:.3f} | {scored['macro_f1']:.3f} | {len(rows)} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
