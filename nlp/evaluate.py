"""Precision, recall, F1 and confusion matrix of the kind classifier on labelled data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlp.triage import KINDS, Triager


@dataclass
class LabelledText:
    text: str
    label: str
    lang: str | None = None
    source: str | None = None


@dataclass
class DataErrors(Exception):
    """Lines of an evaluation file that cannot be used, as (line number, problem)."""

    problems: list[tuple[int, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(f"line {n}: {p}" for n, p in self.problems)


def read_labelled(path: Path) -> list[LabelledText]:
    """Every line must be a JSON object with a non-empty ``text`` and a known ``label``.

    Raises :class:`DataErrors` listing all bad lines; nothing is silently skipped. Blank lines
    are allowed.
    """
    rows: list[LabelledText] = []
    errors = DataErrors()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.problems.append((number, f"not valid JSON ({exc.msg})"))
                continue
            if not isinstance(obj, dict):
                errors.problems.append((number, "not a JSON object"))
                continue
            text = obj.get("text")
            label = obj.get("label")
            if not isinstance(text, str):
                errors.problems.append((number, "missing or non-string 'text'"))
                continue
            if label not in KINDS:
                shown = "missing 'label'" if label is None else f"unknown label {label!r}"
                errors.problems.append((number, f"{shown} (expected one of {', '.join(KINDS)})"))
                continue
            lang = obj.get("lang")
            source = obj.get("source")
            rows.append(
                LabelledText(
                    text,
                    label,
                    lang if isinstance(lang, str) else None,
                    source if isinstance(source, str) else None,
                )
            )
    if errors.problems:
        raise errors
    return rows


def predict_kinds(triager: Triager, texts: Sequence[str]) -> list[str]:
    return [result.kind for result in triager.triage(list(texts))]


def metrics(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = KINDS
) -> dict[str, Any]:
    """Per-class P/R/F1, macro-F1, accuracy, n and the confusion matrix (gold x predicted)."""
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(gold, predicted, strict=True):
        if g in confusion and p in confusion[g]:
            confusion[g][p] += 1
    per_class: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = confusion[label][label]
        fp = sum(confusion[g][label] for g in labels if g != label)
        fn = sum(confusion[label][p] for p in labels if p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    macro = sum(per_class[label]["f1"] for label in labels) / len(labels)
    correct = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p)
    return {
        "per_class": per_class,
        "macro_f1": round(macro, 4),
        "accuracy": round(correct / len(gold), 4) if gold else 0.0,
        "n": len(gold),
        "confusion": confusion,
    }


def public_json(result: dict[str, Any]) -> dict[str, Any]:
    """The `evaluate --json` object: per-class P/R/F1, macro-F1 and n, nothing else."""
    return {
        "per_class": {
            label: {k: scores[k] for k in ("precision", "recall", "f1")}
            for label, scores in result["per_class"].items()
        },
        "macro_f1": result["macro_f1"],
        "n": result["n"],
    }


def format_report(result: dict[str, Any], title: str = "") -> str:
    """A plain-text table: per-class scores, macro-F1 and the confusion matrix."""
    labels = list(result["per_class"])
    lines = [title] if title else []
    lines.append(f"{'class':<8} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for label in labels:
        s = result["per_class"][label]
        lines.append(
            f"{label:<8} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>7.3f}"
            f" {s['support']:>8d}"
        )
    lines.append(
        f"macro-F1 {result['macro_f1']:.3f}   accuracy {result['accuracy']:.3f}   n {result['n']}"
    )
    lines.append("confusion matrix (rows: gold, columns: predicted)")
    lines.append(" " * 8 + "".join(f"{p:>8}" for p in labels))
    for g in labels:
        lines.append(f"{g:<8}" + "".join(f"{result['confusion'][g][p]:>8d}" for p in labels))
    return "\n".join(lines)
