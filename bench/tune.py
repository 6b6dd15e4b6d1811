"""Compare training settings by k-fold cross-validation on the TRAIN split only.

The held-out split is never used here, so choosing settings with this script does not leak
into the held-out scores. Usage:

    python bench/tune.py                       # the settings in nlp/config.cfg
    python bench/tune.py training.max_epochs=30 components.textcat_kind.model.ngram_size=2
    python bench/tune.py --task sentiment ...  # sentiment / topic instead of kind
    python bench/tune.py --heldout sources.tizard.cap=100   # final check on the held-out split

``--heldout`` trains on the whole train split and scores the held-out split instead: use it
to confirm a decision once, not to search settings.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spacy.util import load_config

from nlp.evaluate import metrics
from nlp.train import (
    CONFIG_PATH,
    KIND_COMPONENT,
    SENTIMENT_COMPONENT,
    TOPIC_COMPONENT,
    heldout_report,
    load_data,
    train_pipeline,
    with_rules,
)
from nlp.triage import SENTIMENTS, TOPICS, Triager


def parse_overrides(items: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in items:
        key, _, raw = item.partition("=")
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("overrides", nargs="*")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--task", choices=["kind", "sentiment", "topic"], default="kind")
    parser.add_argument("--rules", action="store_true", help="also score with rules on")
    parser.add_argument("--heldout", action="store_true", help="score the held-out split")
    args = parser.parse_args()
    config = load_config(CONFIG_PATH, overrides=parse_overrides(args.overrides), interpolate=True)
    records, heldout = load_data(config, progress=lambda m: None)
    if args.heldout:
        nlp = train_pipeline(config, records, progress=lambda m: None)
        report = heldout_report(nlp, heldout, ["en", "it"])
        title = " ".join(args.overrides) or "(config)"
        for key in ("all", "en", "it"):
            m = report[key]
            scores = " ".join(
                f"{kind} P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f} |"
                for kind, s in m["per_class"].items()
            )
            print(f"{title} [{key}] macro-F1 {m['macro_f1']:.3f} | {scores}")
        if args.rules:
            ruled = heldout_report(with_rules(nlp, config, True), heldout, ["en", "it"])
            print(
                f"  + rules: macro-F1 {ruled['all']['macro_f1']:.3f} "
                f"(en {ruled['en']['macro_f1']:.3f}, it {ruled['it']['macro_f1']:.3f})"
            )
        print(
            f"  sentiment acc {report['sentiment_accuracy']:.3f} topic acc "
            f"{report['topic_accuracy']:.3f} language acc {report['language_accuracy']:.3f}"
        )
        return 0
    component = {
        "kind": KIND_COMPONENT,
        "sentiment": SENTIMENT_COMPONENT,
        "topic": TOPIC_COMPONENT,
    }[args.task]
    gold: list[str] = []
    pred: list[str] = []
    pred_rules: list[str] = []
    langs: list[str] = []
    for fold in range(args.folds):

        def in_fold(text: str, fold: int = fold) -> bool:
            return hash_fold(text, args.folds) == fold

        test = [r for r in records if r.source not in ("tizard", "labels") and in_fold(r.text)]
        train = [r for r in records if not in_fold(r.text)]
        if args.task != "kind":
            test = [r for r in test if getattr(r, args.task) is not None]
        nlp = train_pipeline(config, train, progress=lambda m: None, components=[component])
        results = Triager(nlp).triage([r.text for r in test])
        gold += [getattr(r, args.task) for r in test]
        pred += [getattr(x, args.task) for x in results]
        langs += [r.lang for r in test]
        if args.rules:
            nlp = with_rules(nlp, config, True)
            pred_rules += [x.kind for x in Triager(nlp).triage([r.text for r in test])]
    labels = {"kind": ("care", "idea", "other"), "sentiment": SENTIMENTS, "topic": TOPICS}[
        args.task
    ]
    show(" ".join(args.overrides) or "(config)", gold, pred, langs, labels)
    if args.rules:
        show("  + rules", gold, pred_rules, langs, labels)
    return 0


def hash_fold(text: str, folds: int) -> int:
    import hashlib

    from nlp.data import normalise

    digest = hashlib.sha1(("cv\x1f" + normalise(text)).encode()).digest()
    return int.from_bytes(digest[:8], "big") % folds


def show(title: str, gold, pred, langs, labels) -> None:
    parts = []
    for lang in ("all", "en", "it"):
        idx = [i for i, code in enumerate(langs) if lang == "all" or code == lang]
        if not idx:
            continue
        m = metrics([gold[i] for i in idx], [pred[i] for i in idx], labels)
        extra = ""
        if "care" in m["per_class"]:
            extra = "".join(
                f" {kind} {m['per_class'][kind]['f1']:.3f}" for kind in ("care", "idea", "other")
            )
        parts.append(f"{lang}: F1 {m['macro_f1']:.3f} acc {m['accuracy']:.3f}{extra}")
    print(f"{title}\n    " + "\n    ".join(parts), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
