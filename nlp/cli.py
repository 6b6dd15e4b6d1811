"""The triage subcommands of ``feedbackbot``: classify, train, evaluate."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_commands(subparsers: Any) -> None:
    """Register ``classify``, ``train`` and ``evaluate`` on an argparse subparsers object."""
    classify = subparsers.add_parser(
        "classify",
        help="triage a text and print the result as JSON",
        description="Print kind, confidence, probabilities, sentiment, topic, language and "
        "keywords of TEXT as JSON, from the shipped model (or --model).",
    )
    classify.add_argument("text", metavar="TEXT", help="the message to triage")
    classify.add_argument("--model", type=Path, default=None, help="model folder to use")
    classify.set_defaults(func=cmd_classify)

    train = subparsers.add_parser(
        "train",
        help="rebuild the shipped triage model from the corpus in nlp/",
        description="Train the triage model on the corpus's train split (settings and seed in "
        "nlp/config.cfg), print held-out scores, save the model and the held-out split. "
        "Deterministic: the same corpus and config give the same model.",
    )
    from nlp.train import add_arguments

    add_arguments(train)
    train.set_defaults(func=cmd_train)

    evaluate = subparsers.add_parser(
        "evaluate",
        help="precision, recall, F1 and confusion matrix on labelled data",
        description="Score the kind classifier on FILE.jsonl: one JSON object per line with "
        "'text' and 'label' (care, idea or other); optional 'lang' and 'source' keys add "
        "per-language and per-source tables. Invalid lines are listed on stderr with their "
        "numbers and the exit code is 2. Without --data: score every held-out split of "
        "nlp/config.cfg (hand-written corpus and each extra source), per source and language.",
    )
    evaluate.add_argument(
        "--data", type=Path, default=None, metavar="FILE.jsonl", help="labelled data"
    )
    evaluate.add_argument(
        "--loso",
        action="store_true",
        help="also leave-one-source-out: retrain without each extra source, test on all of it",
    )
    evaluate.add_argument(
        "--config", type=Path, default=None, help="training config (default: nlp/config.cfg)"
    )
    evaluate.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: per_class precision/recall/f1, macro_f1, n",
    )
    evaluate.add_argument("--model", type=Path, default=None, help="model folder to use")
    evaluate.set_defaults(func=cmd_evaluate)


def cmd_classify(args: argparse.Namespace) -> int:
    from nlp.triage import load_triager

    result = load_triager(args.model).triage_one(args.text)
    print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from nlp.train import run

    return run(args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from nlp.evaluate import DataErrors, format_report, metrics, public_json, read_labelled
    from nlp.triage import load_triager

    if args.data is None:
        return _evaluate_splits(args)
    try:
        rows = read_labelled(args.data)
    except FileNotFoundError:
        print(f"evaluate: {args.data}: no such file", file=sys.stderr)
        return 2
    except DataErrors as errors:
        for number, problem in errors.problems:
            print(f"{args.data}:{number}: {problem}", file=sys.stderr)
        print(f"evaluate: {len(errors.problems)} invalid line(s); nothing scored", file=sys.stderr)
        return 2
    if not rows:
        print(f"evaluate: {args.data} has no labelled lines", file=sys.stderr)
        return 2
    triager = load_triager(args.model)
    predicted = [r.kind for r in triager.triage([row.text for row in rows])]
    result = metrics([row.label for row in rows], predicted)
    if args.json:
        print(json.dumps(public_json(result)))
        return 0
    print(format_report(result, title=f"{args.data} (n={len(rows)})"))
    languages = sorted({row.lang for row in rows if row.lang})
    if len(languages) > 1:
        for lang in languages:
            pairs = [
                (row.label, p) for row, p in zip(rows, predicted, strict=True) if row.lang == lang
            ]
            sub = metrics([g for g, _ in pairs], [p for _, p in pairs])
            print(format_report(sub, title=f"\nlang {lang} (n={len(pairs)})"))
    sources = sorted({row.source for row in rows if row.source})
    if len(sources) > 1:
        for source in sources:
            pairs = [
                (row.label, p)
                for row, p in zip(rows, predicted, strict=True)
                if row.source == source
            ]
            sub = metrics([g for g, _ in pairs], [p for _, p in pairs])
            print(format_report(sub, title=f"\nsource {source} (n={len(pairs)})"))
    return 0


def _evaluate_splits(args: argparse.Namespace) -> int:
    """The model on every held-out split, per source and language; optionally LOSO."""
    from nlp.evaluate import public_json
    from nlp.scoreboard import (
        format_loso,
        format_sets,
        heldout_sets,
        leave_one_source_out,
        score_sets,
    )
    from nlp.train import load_settings, load_splits
    from nlp.triage import load_triager

    config = load_settings(args.config)
    splits = load_splits(config, progress=lambda m: print(m, file=sys.stderr))
    sets = score_sets(load_triager(args.model), heldout_sets(splits))
    loso = (
        leave_one_source_out(config, splits, progress=lambda m: print(m, file=sys.stderr))
        if args.loso
        else {}
    )
    if args.json:
        out: dict[str, Any] = {
            "heldout": {
                name: {lang: public_json(r) for lang, r in by_lang.items()}
                for name, by_lang in sets.items()
            }
        }
        if args.loso:
            out["leave_one_source_out"] = {
                name: public_json(r["tested_on"]) for name, r in loso.items()
            }
        print(json.dumps(out))
        return 0
    print(format_sets(sets, title="held-out splits (model: shipped or --model):"))
    if args.loso:
        print(format_loso(loso, title="\nleave-one-source-out (retrained from config):"))
    return 0
