"""Extra labelled sources: config, licences, split, caps and weights, per-source scoring, LOSO."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from nlp.data import Record, normalise
from nlp.scoreboard import format_loso, format_sets, leave_one_source_out, score_records
from nlp.sources import (
    HANDWRITTEN,
    Source,
    convert_ciurumelea,
    epoch_sample,
    forum_kind,
    read_source,
    review_kind,
    sources_from_config,
    split_source,
)
from nlp.train import Splits, load_settings, load_splits
from nlp.triage import KINDS, Triager
from tests.support.nlp_commands import run_cli

NLP_DIR = Path(__file__).resolve().parents[2] / "nlp"
SALT = "test-salt"


def _source(tmp_path: Path, rows: list[dict[str, object]], **kw: object) -> Source:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    settings: dict[str, object] = {
        "name": "demo",
        "path": path,
        "licence": "MIT",
        "notice": "",
        "lang": "en",
        "train": True,
        "heldout_fraction": 0.3,
        "cap": 0,
        "weight": 1.0,
        "require": (),
    }
    settings.update(kw)
    return Source(**settings)  # type: ignore[arg-type]


def test_every_configured_source_has_its_licence_and_credit() -> None:
    sources = sources_from_config(load_settings())
    assert {s.name for s in sources} == {"ciurumelea", "tizard"}
    for source in sources:
        assert source.path.is_file(), source
        assert source.licence
        assert (NLP_DIR / source.notice).is_file(), source.notice
        readme = (source.path.parent / "README.md").read_text(encoding="utf-8")
        assert source.licence in readme
        assert read_source(source), source


def test_config_has_no_tizard_only_switches() -> None:
    settings = load_settings()["triage"]
    assert not [key for key in settings if "tizard" in key]


def test_split_is_deterministic_disjoint_and_near_the_fraction(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {"text": f"message number {i}", "kind": KINDS[i % 3]} for i in range(600)
    ]
    source = _source(tmp_path, rows)
    train, held = split_source(source, SALT)
    assert (train, held) == split_source(source, SALT)
    assert not {r.text for r in train} & {r.text for r in held}
    assert len(train) + len(held) == 600
    assert 0.25 < len(held) / 600 < 0.35
    assert all(r.source == "demo" and r.lang == "en" for r in train + held)


def test_cap_kinds_and_require(tmp_path: Path) -> None:
    rows = [{"text": f"row {i}", "kind": KINDS[i % 3], "asker": i % 2 == 0} for i in range(300)]
    rows.append({"text": "row 0", "kind": "care"})  # duplicate text: dropped
    rows.append({"text": "bad", "kind": "complaint"})  # unknown kind: dropped
    capped, _ = split_source(_source(tmp_path, rows, cap=10), SALT)
    assert sorted(sum(1 for r in capped if r.kind == k) for k in KINDS) == [10, 10, 10]
    only, _ = split_source(_source(tmp_path, rows, kinds=("idea",)), SALT)
    assert {r.kind for r in only} == {"idea"}
    asked = read_source(_source(tmp_path, rows, require=("asker",)))
    assert len(asked) == 150
    # The held-out split does not depend on the cap or the kinds trained on.
    assert (
        split_source(_source(tmp_path, rows, cap=10), SALT)[1]
        == split_source(_source(tmp_path, rows), SALT)[1]
    )


@pytest.mark.parametrize(("weight", "expected"), [(1.0, 100), (2.0, 200), (0.0, 0)])
def test_epoch_sample_whole_weights(weight: float, expected: int) -> None:
    items = list(range(100))
    assert len(epoch_sample(items, [weight] * 100, random.Random(1))) == expected


def test_epoch_sample_fraction_is_deterministic() -> None:
    items = list(range(1000))
    a = epoch_sample(items, [0.5] * 1000, random.Random(7))
    assert a == epoch_sample(items, [0.5] * 1000, random.Random(7))
    assert 420 < len(a) < 580


def test_nothing_held_out_anywhere_is_trained_on() -> None:
    said: list[str] = []
    splits = load_splits(load_settings(), progress=said.append)
    held = {normalise(r.text) for r in splits.heldout}
    for name, part in splits.source_heldout.items():
        assert part, name
        held |= {normalise(r.text) for r in part}
    assert not held & {normalise(r.text) for r in splits.train}
    assert {r.source for r in splits.train} >= {"ciurumelea", "tizard"}
    assert said[-1].endswith("extra train 0")


def test_written_source_heldout_matches_the_split() -> None:
    splits = load_splits(load_settings(), progress=lambda _m: None)
    for source in splits.sources:
        path = source.path.parent / "heldout.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert [r["text"] for r in rows] == [r.text for r in splits.source_heldout[source.name]]
        assert {r["source"] for r in rows} == {source.name}


@pytest.mark.parametrize(
    ("stars", "ardoc", "classes", "text", "kind"),
    [
        ("1", "OTHER", ["OTHER"], "Worst app ever", "care"),
        ("3", "OTHER", ["ERROR"], "Crashes when I open a cbr file", "care"),
        ("3", "OTHER", ["UI"], "Looks dated", None),
        ("5", "FEATURE_REQUEST", ["UI"], "Great, I wish it had a night mode", "idea"),
        ("5", "OTHER", ["OTHER"], "Love it, works great", "other"),
        ("5", "OTHER", ["OTHER"], "Awesome! Can you please add a widget?", None),
        ("4", "OTHER", ["ERROR"], "Great app but it keeps closing", None),
    ],
)
def test_review_mapping(
    stars: str, ardoc: str, classes: list[str], text: str, kind: str | None
) -> None:
    row = {"ratingStars": stars, "ArDoc classification": ardoc, "reviewText": text}
    row.update({f"class{i + 1}": c for i, c in enumerate(classes)})
    assert review_kind(row) == kind


def test_team_labels_fill_in_only_what_the_mapping_drops_and_only_when_both_agree(
    tmp_path: Path,
) -> None:
    reviews = [
        # (id, stars, text): praise the mapping calls "other"; three it drops (request wording)
        ("r1", "5", "Love it, works great"),
        ("r2", "5", "Great app, please add a widget"),
        ("r3", "4", "Nice, but would be better with tabs"),
        ("r4", "5", "Please keep developing!"),
    ]
    fields = ["_id", "app", "ratingStars", "reviewText", "ArDoc classification"]
    fields += [f"class{i}" for i in range(1, 6)]
    with (tmp_path / "golden_set.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for rid, stars, text in reviews:
            writer.writerow(
                dict(
                    zip(
                        fields,
                        [rid, "demo", stars, text, "OTHER", "OTHER", "", "", "", ""],
                        strict=True,
                    )
                )
            )
    labels = tmp_path / "team_labels.jsonl"
    labels.write_text(
        "".join(
            json.dumps({"id": rid, "text": "", "a": a, "b": b}) + "\n"
            for rid, a, b in [
                ("r1", "idea", "idea"),  # the mapping has a kind: it stays "other"
                ("r2", "idea", "idea"),
                ("r3", "idea", "care"),  # they differ: left out
                ("r4", "unclear", "unclear"),
            ]
        ),
        encoding="utf-8",
    )
    rows = list(convert_ciurumelea(tmp_path, team_labels=labels))
    assert [(r["id"], r["kind"], r["labelled_by"]) for r in rows] == [
        ("r1", "other", "mapping"),
        ("r2", "idea", "team"),
    ]


def test_the_review_copy_says_who_labelled_each_review() -> None:
    path = NLP_DIR / "corpus" / "ciurumelea" / "reviews.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    by = {r["labelled_by"] for r in rows}
    assert by == {"mapping", "team"}
    team = [r for r in rows if r["labelled_by"] == "team"]
    # The team labels only what the mapping drops: no 1-2 star review, no ARdoc request.
    assert all(r["stars"] >= 3 and r["ardoc"] != "FEATURE_REQUEST" for r in team)


@pytest.mark.parametrize(
    ("label", "shared", "kind"),
    [
        ("apparent bug", "care", "care"),
        ("feature request", "idea", "idea"),
        ("non-informative", "other", "other"),
        ("problem resolution", "other", "other"),
        # A fix that failed: the fault is still there.
        ("attempted solution", "other", "care"),
        # The context of a help request: no kind of its own.
        ("user setup", "other", None),
        ("usage", "other", None),
        ("information giving", "other", None),
        ("ig-uncertain", "other", None),
    ],
)
def test_forum_mapping(label: str, shared: str, kind: str | None) -> None:
    assert forum_kind({"source_label_norm": label, "label": shared}) == kind


def test_the_forum_copy_keeps_the_shared_kind_beside_its_own() -> None:
    path = Path(__file__).resolve().parents[2] / "nlp" / "corpus" / "tizard" / "sentences.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3806  # every sentence of the original is copied
    for row in rows:
        assert row["kind"] == forum_kind(
            {"source_label_norm": row["source_label"], "label": row["shared_kind"]}
        )
    assert {r["kind"] for r in rows} == {"care", "idea", "other", None}


def test_score_records_per_language(triager: Triager) -> None:
    records = [
        Record("my internet is down since yesterday", "care", None, None, "en", "x"),
        Record("could you add a dark mode?", "idea", None, None, "en", "x"),
        Record("la fibra non funziona da ieri", "care", None, None, "it", "x"),
        Record("grazie mille!", "other", None, None, "it", "x"),
    ]
    result = score_records(triager, records)
    assert set(result) == {"all", "en", "it"}
    assert result["all"]["n"] == 4 and result["en"]["n"] == 2
    table = format_sets({"demo": result})
    assert "| demo |" in table and "| demo, it |" in table


def test_leave_one_source_out_never_sees_the_source() -> None:
    config = load_settings()
    config["training"]["max_epochs"] = 1
    full = load_splits(config, progress=lambda _m: None)
    corpus = [r for r in full.train if "/" in r.source][:300]
    reviews = full.source_all["ciurumelea"][:200]
    forum = full.source_all["tizard"][:200]
    splits = Splits(
        train=corpus + reviews[:150] + forum[:150],
        heldout=full.heldout[:100],
        source_heldout={},
        source_all={"ciurumelea": reviews, "tizard": forum},
        sources=list(full.sources),
    )
    result = leave_one_source_out(config, splits)
    assert set(result) == {"ciurumelea", "tizard"}
    assert result["ciurumelea"]["tested_on"]["n"] == 200
    assert result["tizard"][HANDWRITTEN]["n"] == 100
    assert "left out" in format_loso(result)


def test_evaluate_without_data_scores_every_heldout_split(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli(["evaluate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["heldout"]) == {HANDWRITTEN, "ciurumelea", "tizard"}
    assert set(out["heldout"][HANDWRITTEN]) == {"all", "en", "it"}
    assert set(out["heldout"]["tizard"]["all"]) == {"per_class", "macro_f1", "n"}
    assert "leave_one_source_out" not in out


def test_evaluate_data_with_sources_prints_per_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "mixed.jsonl"
    rows = [
        {"text": "the app crashes on start", "label": "care", "source": "reviews"},
        {"text": "please add a dark theme", "label": "idea", "source": "reviews"},
        {"text": "thanks a lot", "label": "other", "source": "chat"},
        {"text": "my bill is wrong", "label": "care", "source": "chat"},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert run_cli(["evaluate", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "source chat (n=2)" in out and "source reviews (n=2)" in out
