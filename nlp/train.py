"""Rebuild the shipped triage model from the corpus: ``python -m nlp.train`` or
``feedbackbot train``. Every setting is in ``nlp/config.cfg``; runs are deterministic."""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import compile_infix_regex, fix_random_seed, load_config, registry
from thinc.api import Config

from nlp import hashbow as _hashbow  # noqa: F401  (registers the architecture)
from nlp import rules as _rules  # noqa: F401  (registers the rule component)
from nlp.compare import heldout_report, labels_before_after, score
from nlp.data import PACKAGE_DIR, Record, dedupe, normalise, read_corpus, split, write_heldout
from nlp.evaluate import format_report
from nlp.labels import LABELS_SOURCE, load_extra_examples
from nlp.scoreboard import format_sets, heldout_sets, score_sets
from nlp.sources import Source, epoch_sample, read_source, sources_from_config, split_source
from nlp.triage import (
    KIND_COMPONENT,
    KINDS,
    SENTIMENT_COMPONENT,
    SENTIMENT_PREFIX,
    SENTIMENTS,
    TOPIC_COMPONENT,
    TOPIC_PREFIX,
    TOPICS,
    Triager,
)

CONFIG_PATH = PACKAGE_DIR / "config.cfg"
RULES_COMPONENT = "suggestion_rules"
Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_settings(path: Path | None = None) -> Config:
    """The training config, interpolated."""
    return load_config(path or CONFIG_PATH, interpolate=True)


def _resolve(config: Config, key: str, base: Path = PACKAGE_DIR) -> Path:
    path = Path(config["paths"][key])
    return path if path.is_absolute() else base / path


def build_pipeline(config: Config, *, use_rules: bool | None = None) -> Language:
    """A fresh, untrained pipeline from the [nlp] and [components] sections."""
    rules = config["triage"]["use_rules"] if use_rules is None else use_rules
    pipeline = [KIND_COMPONENT, SENTIMENT_COMPONENT, TOPIC_COMPONENT]
    if rules:
        pipeline.append(RULES_COMPONENT)
    nlp_section = dict(config["nlp"])
    nlp_section["pipeline"] = pipeline
    components = {name: config["components"][name] for name in pipeline}
    nlp = spacy.blank(
        nlp_section["lang"],
        config=Config({"nlp": nlp_section, "components": components}),
    )
    # "<b>sbagliata</b>" would be one token "sbagliata</b" and lose the word: split on angle
    # brackets too (pasted HTML, "5<10"). The pattern is saved with the model's tokenizer.
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer, Tokenizer)
    infixes = [*(nlp.Defaults.infixes or []), r"[<>]"]
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return nlp


@dataclass
class Splits:
    """Everything training and evaluation need, from the corpus and the extra sources."""

    train: list[Record]  # corpus train split + trained sources' train splits (+ stored labels)
    heldout: list[Record]  # the hand-written corpus's held-out split
    source_heldout: dict[str, list[Record]]  # per extra source: its held-out split
    source_all: dict[str, list[Record]]  # per extra source: every usable record
    sources: list[Source]


def load_splits(
    config: Config, *, with_labels: bool = False, progress: Progress = _stderr
) -> Splits:
    """The corpus split by hash, every source split by hash, train-only extras added."""
    settings = config["triage"]
    salt = settings["split_salt"]
    corpus = dedupe(read_corpus(_resolve(config, "corpus"), settings["languages"]))
    train, heldout = split(corpus, float(settings["heldout_fraction"]), salt)
    sources = sources_from_config(config)
    source_train: list[Record] = []
    source_heldout: dict[str, list[Record]] = {}
    source_all: dict[str, list[Record]] = {}
    for source in sources:
        part_train, part_heldout = split_source(source, salt)
        source_heldout[source.name] = part_heldout
        source_all[source.name] = read_source(source)
        if source.train:
            source_train.extend(part_train)
    labels: list[Record] = []
    if with_labels:
        for text, kind in load_extra_examples():
            if kind in KINDS and text.strip():
                labels.append(Record(text, kind, None, None, "", LABELS_SOURCE))
            else:
                progress(f"warning: stored label {kind!r} for {text[:40]!r} skipped")
    # Nothing that is held out anywhere is trained on, whichever source it comes from.
    held = {normalise(r.text) for r in heldout}
    for part in source_heldout.values():
        held.update(normalise(r.text) for r in part)
    train = [r for r in train if normalise(r.text) not in held]
    source_train = [r for r in source_train if normalise(r.text) not in held]
    labels = [r for r in labels if normalise(r.text) not in held]
    counts = Counter(r.lang for r in corpus)
    by_lang = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    by_source = Counter(r.source for r in source_train)
    trained = ", ".join(f"{s.name} {by_source[s.name]}" for s in sources if s.train) or "none"
    held_out = ", ".join(f"{k} {len(v)}" for k, v in source_heldout.items()) or "none"
    progress(
        f"corpus: {len(corpus)} messages ({by_lang}); train {len(train)}, held-out "
        f"{len(heldout)}; sources train {len(source_train)} ({trained}), held-out {held_out}"
        f"; extra train {len(labels)}"
    )
    return Splits(train + source_train + labels, heldout, source_heldout, source_all, sources)


def load_data(
    config: Config, *, with_labels: bool = False, progress: Progress = _stderr
) -> tuple[list[Record], list[Record]]:
    """(train, hand-written held-out) records; see :func:`load_splits`."""
    splits = load_splits(config, with_labels=with_labels, progress=progress)
    return splits.train, splits.heldout


def record_weights(config: Config, records: Sequence[Record]) -> list[float]:
    """Per-record epoch weight: its source's ``weight``; 1.0 for the corpus and labels."""
    weights = {s.name: s.weight for s in sources_from_config(config)}
    return [weights.get(r.source, 1.0) for r in records]


def _examples(
    nlp: Language, records: Sequence[Record], weights: Sequence[float]
) -> tuple[dict[str, list[Example]], dict[str, list[float]]]:
    """Examples (and their epoch weights) per classifier; one predicted Doc per message,
    shared by the three."""
    names = (KIND_COMPONENT, SENTIMENT_COMPONENT, TOPIC_COMPONENT)
    out: dict[str, list[Example]] = {name: [] for name in names}
    out_weights: dict[str, list[float]] = {name: [] for name in names}
    for record, weight in zip(records, weights, strict=True):
        doc = nlp.make_doc(record.text)

        def example(name: str, cats: dict[str, float], doc: Doc = doc, w: float = weight) -> None:
            reference = doc.copy()
            reference.cats = cats
            out[name].append(Example(doc, reference))
            out_weights[name].append(w)

        example(KIND_COMPONENT, {k: float(k == record.kind) for k in KINDS})
        if record.sentiment is not None:
            example(
                SENTIMENT_COMPONENT,
                {SENTIMENT_PREFIX + s: float(s == record.sentiment) for s in SENTIMENTS},
            )
        if record.topic is not None:
            example(TOPIC_COMPONENT, {TOPIC_PREFIX + t: float(t == record.topic) for t in TOPICS})
    return out, out_weights


def train_pipeline(
    config: Config,
    records: Sequence[Record],
    *,
    progress: Progress = _stderr,
    evaluate_on: Sequence[Record] = (),
    components: Sequence[str] | None = None,
) -> Language:
    """Train the classifiers on ``records``; deterministic for a given config.

    ``components`` limits training to some of the classifiers (the others are left out),
    which is only useful for quick experiments.
    """
    training = config["training"]
    seed = int(training["seed"])
    fix_random_seed(seed)
    rng = random.Random(seed)
    nlp = build_pipeline(config)
    examples, weights = _examples(nlp, records, record_weights(config, records))
    label_sets = {
        KIND_COMPONENT: list(KINDS),
        SENTIMENT_COMPONENT: [SENTIMENT_PREFIX + s for s in SENTIMENTS],
        TOPIC_COMPONENT: [TOPIC_PREFIX + t for t in TOPICS],
    }
    if components is not None:
        for name in [k for k in label_sets if k not in components]:
            nlp.remove_pipe(name)
            del label_sets[name]
    for name, labels in label_sets.items():
        component_examples = examples[name]
        if not component_examples:
            raise ValueError(f"no training examples for {name}")
        nlp.get_pipe(name).initialize(  # type: ignore[attr-defined]
            lambda exs=component_examples: exs, nlp=nlp, labels=labels
        )
    optimizer = registry.resolve(Config({"optimizer": training["optimizer"]}))["optimizer"]
    epochs = int(training["max_epochs"])
    batch_size = int(training["batch_size"])
    dropout = float(training["dropout"])
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        losses: dict[str, float] = {}
        for name in label_sets:
            pipe = nlp.get_pipe(name)
            # Each source's weight is the share of its examples drawn in an epoch.
            order = epoch_sample(examples[name], weights[name], rng)
            rng.shuffle(order)
            for start in range(0, len(order), batch_size):
                pipe.update(  # type: ignore[attr-defined]
                    order[start : start + batch_size], drop=dropout, sgd=optimizer, losses=losses
                )
        line = f"epoch {epoch:>3}/{epochs}  " + "  ".join(
            f"{name.removeprefix('textcat_')} loss {loss:7.3f}" for name, loss in losses.items()
        )
        if evaluate_on and (epoch == epochs or epoch % 5 == 0):
            result = score(Triager(nlp), evaluate_on)
            line += f"  held-out macro-F1 {result['macro_f1']:.3f}"
        progress(line + f"  ({time.perf_counter() - started:.1f}s)")
    return nlp


def with_rules(nlp: Language, config: Config, enabled: bool) -> Language:
    """The same trained pipeline with the suggestion rules added or removed."""
    if enabled and RULES_COMPONENT not in nlp.pipe_names:
        settings = config["components"][RULES_COMPONENT]
        nlp.add_pipe(
            settings["factory"],
            name=RULES_COMPONENT,
            config={k: v for k, v in settings.items() if k != "factory"},
        )
    if not enabled and RULES_COMPONENT in nlp.pipe_names:
        nlp.remove_pipe(RULES_COMPONENT)
    return nlp


def train(
    config_path: Path | None = None,
    output: Path | None = None,
    *,
    with_labels: bool = False,
    heldout_path: Path | None = None,
    progress: Progress = _stderr,
) -> dict[str, Any]:
    """Train on the corpus's train split, report on the held-out split, save the model.

    Returns the held-out report. The held-out split is written to ``heldout_path`` (default:
    ``[paths] heldout``) so tests can check a quality floor. ``with_labels`` also trains
    without the labels and adds ``labels_before_after`` (see :mod:`nlp.compare`).
    """
    config = load_settings(config_path)
    settings = config["triage"]
    out_dir = output or _resolve(config, "output")
    splits = load_splits(config, with_labels=with_labels, progress=progress)
    train_records, heldout = splits.train, splits.heldout
    progress(
        "training "
        + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r.kind for r in train_records).items()))
    )
    nlp = train_pipeline(config, train_records, progress=progress, evaluate_on=heldout)
    languages = list(settings["languages"])
    report: dict[str, Any] = {}
    if heldout:
        use_rules = bool(settings["use_rules"])
        other = heldout_report(with_rules(nlp, config, not use_rules), heldout, languages)
        report = heldout_report(with_rules(nlp, config, use_rules), heldout, languages)
        progress(
            f"suggestion rules {'on' if use_rules else 'off'} (shipped): held-out macro-F1 "
            f"{report['all']['macro_f1']:.3f}; rules {'off' if use_rules else 'on'}: "
            f"{other['all']['macro_f1']:.3f}"
        )
        for key in ["all", *languages]:
            if key in report:
                progress(format_report(report[key], title=f"\nheld-out, {key}:"))
        progress(
            f"\nsentiment accuracy {report['sentiment_accuracy']:.3f}, topic accuracy "
            f"{report['topic_accuracy']:.3f}, language detection accuracy "
            f"{report['language_accuracy']:.3f}"
        )
    sets = score_sets(Triager(nlp), heldout_sets(splits))
    if sets:
        progress(format_sets(sets, title="\nheld-out splits, per source and language (kind):"))
    # With the labels: the same training without them, scored on the same held-out data.
    compared = (
        labels_before_after(config, splits, sets, trainer=train_pipeline, progress=progress)
        if with_labels
        else None
    )
    trained_on = [s for s in splits.sources if s.train]
    nlp.meta.update(
        {
            "name": "feedbackbot_triage",
            "version": "1.0.0",
            "description": "Kind, sentiment and topic of customer messages (en, it).",
            "license": "Proprietary"
            + (
                "; trained in part on "
                + ", ".join(f"{s.name} ({s.licence}, see nlp/corpus/{s.name})" for s in trained_on)
                if trained_on
                else ""
            ),
            "feedbackbot": {
                "max_keywords": int(settings["max_keywords"]),
                "train_size": len(train_records),
                "heldout": {
                    key: {"macro_f1": value["macro_f1"], "n": value["n"]}
                    for key, value in report.items()
                    if isinstance(value, dict)
                },
                "sources_heldout": {
                    name: {"macro_f1": value["all"]["macro_f1"], "n": value["all"]["n"]}
                    for name, value in sets.items()
                },
            },
        }
    )
    save(nlp, out_dir)
    progress(f"\nmodel saved to {out_dir} ({_size(out_dir) / 1e6:.1f} MB)")
    if heldout:
        target = heldout_path or _resolve(config, "heldout")
        write_heldout(heldout, target)
        progress(f"held-out split ({len(heldout)} messages) written to {target}")
    if heldout_path is None and output is None:
        for source in splits.sources:
            target = source.path.parent / "heldout.jsonl"
            write_heldout(splits.source_heldout[source.name], target)
            progress(f"{source.name} held-out split written to {target}")
    if compared is not None:  # after the meta, which takes the report's per-language entries
        report["labels_before_after"] = compared
    return report


def save(nlp: Language, out_dir: Path) -> None:
    """Replace ``out_dir`` with the pipeline (written beside it first, then moved)."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    nlp.to_disk(tmp)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--with-labels",
        action="store_true",
        help="also train on labels the bot stored (nlp.labels); print F1 without → with them",
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="model folder (default: the shipped nlp/model)"
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="training config (default: nlp/config.cfg)"
    )


def run(args: argparse.Namespace) -> int:
    train(args.config, args.output, with_labels=args.with_labels)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nlp.train", description="Rebuild the triage model from the corpus."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
