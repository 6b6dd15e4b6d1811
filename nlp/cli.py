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
        "'text' and 'label' (care, idea or other). Invalid lines are listed on stderr "
        "with their numbers and the exit code is 2.",
    )
    evaluate.add_argument(
        "--data", type=Path, required=True, metavar="FILE.jsonl", help="labelled data"
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
    return 0
