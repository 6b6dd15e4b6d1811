"""The triage commands (classify, evaluate, train) and training itself: deterministic, with the
stored labels' hook, runnable as ``python -m nlp.train``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from nlp import KINDS, load_triager
from nlp.cli import add_commands
from nlp.data import Record, read_corpus
from nlp.labels import load_extra_examples, set_label_source
from nlp.train import load_settings, save, train_pipeline
from tests.support.nlp_commands import run_cli

NLP_DIR = Path(__file__).resolve().parents[2] / "nlp"
HELDOUT = NLP_DIR / "corpus" / "heldout.jsonl"


# --- API -----------------------------------------------------------------------------------


def test_classify_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["classify", "potreste aggiungere la modalità scura?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "idea"
    assert set(data) == {
        "kind",
        "confidence",
        "probabilities",
        "sentiment",
        "topic",
        "language",
        "keywords",
    }


def test_evaluate_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "eval.jsonl"
    rows = [
        {"text": "la fibra non va da ieri", "label": "care"},
        {"text": "could you add a dark mode to the app?", "label": "idea"},
        {"text": "grazie mille!", "label": "other"},
        {"text": "you charged me twice", "label": "care"},
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    assert run_cli(["evaluate", "--data", str(data), "--json"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out)  # exactly one JSON object
    assert set(result) == {"per_class", "macro_f1", "n"}
    assert set(result["per_class"]) == set(KINDS)
    for scores in result["per_class"].values():
        assert set(scores) == {"precision", "recall", "f1"}
        assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert result["n"] == 4
    assert 0.0 <= result["macro_f1"] <= 1.0


def test_evaluate_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["evaluate", "--data", str(HELDOUT)]) == 0
    out = capsys.readouterr().out
    assert "macro-F1" in out and "confusion matrix" in out
    for kind in KINDS:
        assert kind in out


def test_evaluate_reports_invalid_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text(
        "\n".join(
            [
                json.dumps({"text": "ok", "label": "other"}),
                "{not json",
                json.dumps({"label": "care"}),
                json.dumps({"text": "hello", "label": "spam"}),
                json.dumps({"text": "no label here"}),
                json.dumps(["a", "list"]),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    assert run_cli(["evaluate", "--data", str(data), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    for number in (2, 3, 4, 5, 6):
        assert f":{number}:" in captured.err
    assert ":1:" not in captured.err


def test_evaluate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["evaluate", "--data", str(tmp_path / "none.jsonl")]) == 2
    assert "none.jsonl" in capsys.readouterr().err


def test_commands_have_help() -> None:
    parser = argparse.ArgumentParser(prog="feedbackbot")
    sub = parser.add_subparsers(dest="command")
    add_commands(sub)
    for name in ("classify", "train", "evaluate"):
        assert sub.choices[name].format_help()
        assert any(a.help for a in sub._choices_actions if a.dest == name)


# --- training ------------------------------------------------------------------------------


def _small_subset() -> list[Record]:
    records = read_corpus(NLP_DIR / "corpus", ["it", "en"], warn=False)
    per_kind: dict[str, list[Record]] = {}
    for record in records:
        per_kind.setdefault(record.kind, []).append(record)
    return [r for kind in KINDS for r in per_kind[kind][:60]]


def test_training_is_deterministic(tmp_path: Path) -> None:
    config = load_settings()
    config["training"]["max_epochs"] = 3
    records = _small_subset()
    probes = [
        "My internet has been down since yesterday",
        "Could you add a dark mode to the app?",
        "Thanks a lot, great service!",
        "la bolletta è sbagliata",
        "Sarebbe bello poter pagare con Satispay",
        "👍",
        "",
    ]
    outputs = []
    for run in ("a", "b"):
        nlp = train_pipeline(config, records, progress=lambda _m: None)
        save(nlp, tmp_path / run)
        triager = load_triager(tmp_path / run)
        outputs.append([r.to_dict() for r in triager.triage(probes)])
    assert outputs[0] == outputs[1]
    model_a = (tmp_path / "a" / "textcat_kind" / "model").read_bytes()
    model_b = (tmp_path / "b" / "textcat_kind" / "model").read_bytes()
    assert model_a == model_b


def test_label_source_hook() -> None:
    assert load_extra_examples() == []
    set_label_source(lambda: [("the app is broken", "care"), ("add dark mode", "idea")])
    try:
        assert load_extra_examples() == [("the app is broken", "care"), ("add dark mode", "idea")]
    finally:
        set_label_source(None)
    assert load_extra_examples() == []


def test_python_m_nlp_train_has_a_main() -> None:
    import nlp.train

    assert callable(nlp.train.main)
