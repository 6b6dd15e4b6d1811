"""Kind scores the way the real world will see them: per source, per language, and with each
real source left out of training (trained without it, tested on all of it).

    feedbackbot evaluate            # shipped model on every held-out split, per source/language
    feedbackbot evaluate --loso     # also retrain without each source and test on it
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nlp.data import Record
from nlp.evaluate import metrics
from nlp.sources import HANDWRITTEN
from nlp.triage import KIND_COMPONENT, KINDS, Triager

Progress = Callable[[str], None]


def score_records(triager: Triager, records: Sequence[Record]) -> dict[str, Any]:
    """Kind metrics on records: ``all`` and one entry per language present."""
    predicted = [r.kind for r in triager.triage([rec.text for rec in records])]
    out: dict[str, Any] = {"all": metrics([r.kind for r in records], predicted)}
    languages = sorted({r.lang for r in records if r.lang})
    if len(languages) > 1:
        for lang in languages:
            pairs = [(r.kind, p) for r, p in zip(records, predicted, strict=True) if r.lang == lang]
            out[lang] = metrics([g for g, _ in pairs], [p for _, p in pairs])
    return out


def score_sets(triager: Triager, sets: Mapping[str, Sequence[Record]]) -> dict[str, Any]:
    """``{set name: score_records(...)}`` for every non-empty set."""
    return {name: score_records(triager, records) for name, records in sets.items() if records}


def heldout_sets(splits: Any) -> dict[str, list[Record]]:
    """The hand-written held-out split and every source's held-out split, by name."""
    return {HANDWRITTEN: list(splits.heldout), **splits.source_heldout}


def leave_one_source_out(
    config: Any, splits: Any, *, progress: Progress | None = None
) -> dict[str, Any]:
    """For each extra source: train the kind classifier on everything else that is trained on
    (corpus train split and the other sources), then score it on *all* of that source.
    The hand-written held-out split is scored by the same model, to show the cost."""
    from nlp.train import train_pipeline  # train imports this module's users; import late

    out: dict[str, Any] = {}
    quiet: Progress = lambda _m: None  # noqa: E731
    for source in splits.sources:
        records = [r for r in splits.train if r.source != source.name]
        if progress:
            progress(f"leave-one-source-out: training without {source.name} ({len(records)})")
        nlp = train_pipeline(config, records, progress=quiet, components=[KIND_COMPONENT])
        triager = Triager(nlp)
        out[source.name] = {
            "tested_on": score_records(triager, splits.source_all[source.name])["all"],
            HANDWRITTEN: score_records(triager, splits.heldout)["all"],
        }
    return out


def _row(name: str, result: dict[str, Any]) -> str:
    cells = []
    for kind in KINDS:
        s = result["per_class"][kind]
        if s["support"]:
            cells.append(f"{s['precision']:.3f} / {s['recall']:.3f} / {s['f1']:.3f}")
        else:
            cells.append("–")
    return f"| {name} | " + " | ".join(cells) + f" | {result['macro_f1']:.3f} | {result['n']} |"


_HEADER = (
    "| {first} | care P / R / F1 | idea P / R / F1 | other P / R / F1 | macro-F1 | n |\n"
    "|---|---|---|---|---|---|"
)


def format_sets(results: Mapping[str, Any], title: str = "") -> str:
    """A Markdown table: one row per set, and per language within a set."""
    lines = [title] if title else []
    lines.append(_HEADER.format(first="set"))
    for name, by_lang in results.items():
        lines.append(_row(name, by_lang["all"]))
        for lang, result in by_lang.items():
            if lang != "all":
                lines.append(_row(f"{name}, {lang}", result))
    return "\n".join(lines)


def format_loso(results: Mapping[str, Any], title: str = "") -> str:
    """A Markdown table: the left-out source scored by a model trained without it."""
    lines = [title] if title else []
    lines.append(_HEADER.format(first="left out → tested on it"))
    for name, result in results.items():
        lines.append(_row(name, result["tested_on"]))
    lines.append("")
    lines.append("hand-written held-out split, scored by the same models:")
    lines.append(_HEADER.format(first="left out"))
    for name, result in results.items():
        lines.append(_row(name, result[HANDWRITTEN]))
    return "\n".join(lines)
