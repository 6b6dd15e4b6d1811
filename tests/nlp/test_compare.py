"""`train --with-labels` before/after: the comparison of two models' scores on the same held-out
splits, and the whole command on a small corpus (one epoch), labels kept out of every held-out
split and out of the "before" model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from spacy.language import Language

from nlp.compare import compare_sets, format_comparison, labels_before_after
from nlp.data import Record, in_heldout, normalise
from nlp.evaluate import metrics
from nlp.labels import LABELS_SOURCE, set_label_source
from nlp.train import Splits, load_settings, load_splits, train, train_pipeline

NLP_DIR = Path(__file__).resolve().parents[2] / "nlp"
GOLD = ["care", "care", "idea", "idea", "other", "other"]


def test_two_models_side_by_side_with_their_changes() -> None:
    before = {
        "handwritten": {
            "all": metrics(GOLD, ["care", "idea", "care", "idea", "other", "care"]),
            "en": metrics(GOLD[:2], ["care", "idea"]),
        },
        "reviews": {"all": metrics(["care", "idea"], ["idea", "idea"])},
    }
    after = {
        "handwritten": {"all": metrics(GOLD, GOLD), "en": metrics(GOLD[:2], GOLD[:2])},
        "reviews": {"all": metrics(["care", "idea"], ["care", "idea"])},
    }
    rows = compare_sets(before, after)
    assert list(rows) == ["handwritten", "handwritten, en", "reviews"]
    # care: 1 right, 2 wrongly care, 1 missed -> P 1/3, R 1/2, F1 0.4; idea 0.5; other 2/3.
    hand = rows["handwritten"]
    assert hand["n"] == 6
    assert hand["care"] == {"before": 0.4, "after": 1.0, "delta": 0.6, "support": 2}
    assert hand["idea"]["delta"] == 0.5 and hand["other"]["before"] == 0.6667
    assert hand["macro_f1"] == {"before": 0.5222, "after": 1.0, "delta": 0.4778}
    table = format_comparison(rows, title="before/after")
    assert table.splitlines()[0] == "before/after"
    assert "| handwritten | 0.522 → 1.000 (+0.478) | 0.400 → 1.000 (+0.600) |" in table
    # No "other" in the reviews' two messages: its F1 means nothing there.
    assert table.splitlines()[-1].endswith("| 0.667 → 1.000 (+0.333) | – | 2 |")

    worse = compare_sets(after, before)["reviews"]["macro_f1"]
    assert worse["delta"] < 0 and "(-" in format_comparison(compare_sets(after, before))

    with pytest.raises(ValueError, match="scored on 6 and 2 messages"):
        compare_sets(before, {"handwritten": {"all": after["reviews"]["all"]}})


def _few(path: Path, per_file: int) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[:per_file]


def small_config(tmp_path: Path) -> Path:
    """The shipped config on a small copy of the corpus and of one real source, one epoch."""
    corpus = tmp_path / "corpus"
    for lang in ("en", "it"):
        (corpus / lang).mkdir(parents=True)
        for name in ("care.jsonl", "idea.jsonl", "other.jsonl"):
            lines = _few(NLP_DIR / "corpus" / lang / name, 70)
            (corpus / lang / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    reviews = tmp_path / "reviews.jsonl"
    lines = _few(NLP_DIR / "corpus" / "ciurumelea" / "reviews.jsonl", 150)
    reviews.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = load_settings()
    config["paths"]["corpus"] = str(corpus)
    config["triage"]["sources"] = ["ciurumelea"]
    config["sources"]["ciurumelea"]["path"] = str(reviews)
    config["training"]["max_epochs"] = 1
    path = tmp_path / "config.cfg"
    config.to_disk(path)
    return path


def test_train_with_labels_reports_before_after_on_the_same_heldout_data(tmp_path: Path) -> None:
    config_path = small_config(tmp_path)
    config = load_settings(config_path)
    salt, fraction = config["triage"]["split_salt"], config["triage"]["heldout_fraction"]
    written = [
        json.loads(line)["text"] for line in _few(NLP_DIR / "corpus" / "en" / "care.jsonl", 70)
    ]
    held = next(t for t in written if in_heldout(t, fraction, salt))
    labels = [
        ("honestly the router you sent me is a joke, make one that works in every room", "idea"),
        ("grazie, tutto risolto in cinque minuti", "other"),
        ("la app si chiude quando apro le bollette", "care"),
        (held.upper(), "idea"),  # a held-out text, said otherwise: it must not be trained on
    ]
    said: list[str] = []
    set_label_source(lambda: labels)
    try:
        splits = load_splits(config, with_labels=True, progress=lambda _m: None)
        report = train(
            config_path,
            tmp_path / "model",
            with_labels=True,
            heldout_path=tmp_path / "heldout.jsonl",
            progress=said.append,
        )
        again = train(
            config_path,
            tmp_path / "model-again",
            with_labels=True,
            heldout_path=tmp_path / "heldout-again.jsonl",
            progress=lambda _m: None,
        )
    finally:
        set_label_source(None)

    rows = report["labels_before_after"]
    assert rows == again["labels_before_after"]  # deterministic
    heldout = (tmp_path / "heldout.jsonl").read_text(encoding="utf-8").splitlines()
    assert rows["handwritten"]["n"] == len(heldout) == report["all"]["n"]
    assert set(rows) == {"handwritten", "handwritten, en", "handwritten, it", "ciurumelea"}
    assert rows["ciurumelea"]["n"] == len(splits.source_heldout["ciurumelea"]) > 0
    # "after" is the model trained with the labels, saved and reported above.
    assert rows["handwritten"]["macro_f1"]["after"] == report["all"]["macro_f1"]
    assert rows["handwritten, it"]["macro_f1"]["after"] == report["it"]["macro_f1"]
    held_texts = {normalise(json.loads(line)["text"]) for line in heldout}
    assert not held_texts & {normalise(text) for text, _ in labels[:3]}
    assert normalise(held) in held_texts  # ...and the fourth label was not trained on:
    assert any("extra train 3" in line for line in said)
    table = next(line for line in said if "without → with the 3 stored labels" in line)
    assert "| handwritten | " in table and "| ciurumelea | " in table

    # "Before" is the same training on the same records less the labels, in the same order.
    trained: list[list[Record]] = []

    def watched(config: Any, records: Sequence[Record], *, progress: Any) -> Language:
        trained.append(list(records))
        return train_pipeline(config, records, progress=progress)

    before_after = labels_before_after(
        config, splits, {}, trainer=watched, progress=lambda _m: None
    )
    assert before_after == {}  # nothing to compare with an empty "after"
    assert [r.source for r in splits.train].count(LABELS_SOURCE) == 3
    assert trained == [[r for r in splits.train if r.source != LABELS_SOURCE]]


def test_without_stored_labels_there_is_nothing_to_compare(tmp_path: Path) -> None:
    said: list[str] = []

    def never(config: Any, records: Sequence[Record], *, progress: Any) -> Language:
        raise AssertionError("trained a model to compare with none")

    splits = Splits(
        train=[Record("the app crashes", "care", None, None, "en", "en/care.jsonl")],
        heldout=[],
        source_heldout={},
        source_all={},
        sources=[],
    )
    assert labels_before_after({}, splits, {}, trainer=never, progress=said.append) is None
    assert said == ["\nbefore/after: no stored label was trained on, nothing to compare"]
