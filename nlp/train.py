"""Rebuild the shipped triage model from the corpus: ``python -m nlp.train`` or
``feedbackbot train``. Every setting is in ``nlp/config.cfg``; runs are deterministic."""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed, load_config, registry
from thinc.api import Config

from nlp import features as _features  # noqa: F401  (registers the architecture)
from nlp import rules as _rules  # noqa: F401  (registers the rule component)
from nlp.data import PACKAGE_DIR, Record, dedupe, read_corpus, split, write_heldout
from nlp.evaluate import format_report, metrics
from nlp.labels import load_extra_examples
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
    return spacy.blank(
        nlp_section["lang"],
        config=Config({"nlp": nlp_section, "components": components}),
    )


def tizard_records(config: Config) -> list[Record]:
    """The forum sentences selected by the [triage] tizard_* settings (train only)."""
    path = _resolve(config, "tizard")
    if not path.is_file():
        return []
    settings = config["triage"]
    cap = int(settings["tizard_max_per_kind"])
    kinds = [k for k in settings["tizard_kinds"] if k in KINDS]
    out: list[Record] = []
    per_kind: Counter[str] = Counter()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if settings["tizard_original_posts_only"] and not row.get("original_post"):
                continue
            if row["label"] not in kinds or per_kind[row["label"]] >= cap:
                continue
            per_kind[row["label"]] += 1
            out.append(Record(row["text"], row["label"], None, None, "en", "tizard"))
    return out


def load_data(
    config: Config, *, with_labels: bool = False, progress: Progress = _stderr
) -> tuple[list[Record], list[Record]]:
    """(train, held-out) records: corpus split by hash, plus train-only extras."""
    settings = config["triage"]
    corpus = dedupe(read_corpus(_resolve(config, "corpus"), settings["languages"]))
    train, heldout = split(corpus, float(settings["heldout_fraction"]), settings["split_salt"])
    extra: list[Record] = []
    if settings["use_tizard"]:
        extra.extend(tizard_records(config))
    if with_labels:
        for text, kind in load_extra_examples():
            if kind in KINDS and text.strip():
                extra.append(Record(text, kind, None, None, "", "labels"))
            else:
                progress(f"warning: stored label {kind!r} for {text[:40]!r} skipped")
    held = {r.text.strip().lower() for r in heldout}
    extra = [r for r in extra if r.text.strip().lower() not in held]
    counts = Counter(r.lang for r in corpus)
    by_lang = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    progress(
        f"corpus: {len(corpus)} messages ({by_lang})"
        f"; train {len(train)}, held-out {len(heldout)}, extra train {len(extra)}"
    )
    return train + extra, heldout


def _examples(nlp: Language, records: Sequence[Record]) -> dict[str, list[Example]]:
    """Examples per classifier; one predicted Doc per message, shared by the three."""
    out: dict[str, list[Example]] = {
        KIND_COMPONENT: [],
        SENTIMENT_COMPONENT: [],
        TOPIC_COMPONENT: [],
    }
    for record in records:
        doc = nlp.make_doc(record.text)

        def example(cats: dict[str, float], doc: Doc = doc) -> Example:
            reference = doc.copy()
            reference.cats = cats
            return Example(doc, reference)

        out[KIND_COMPONENT].append(example({k: float(k == record.kind) for k in KINDS}))
        if record.sentiment is not None:
            out[SENTIMENT_COMPONENT].append(
                example({SENTIMENT_PREFIX + s: float(s == record.sentiment) for s in SENTIMENTS})
            )
        if record.topic is not None:
            out[TOPIC_COMPONENT].append(
                example({TOPIC_PREFIX + t: float(t == record.topic) for t in TOPICS})
            )
    return out


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
    examples = _examples(nlp, records)
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
            order = list(examples[name])
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


def score(triager: Triager, records: Sequence[Record]) -> dict[str, Any]:
    """Kind metrics of a triager on records."""
    predicted = [r.kind for r in triager.triage([rec.text for rec in records])]
    return metrics([r.kind for r in records], predicted)


def heldout_report(
    nlp: Language, heldout: Sequence[Record], languages: Iterable[str]
) -> dict[str, Any]:
    """Kind metrics on the held-out split, overall and per language, plus sentiment/topic
    accuracy and the language detector's accuracy."""
    triager = Triager(nlp)
    results = triager.triage([r.text for r in heldout])
    report: dict[str, Any] = {"all": metrics([r.kind for r in heldout], [x.kind for x in results])}
    for lang in languages:
        pairs = [(r, x) for r, x in zip(heldout, results, strict=True) if r.lang == lang]
        if pairs:
            report[lang] = metrics([r.kind for r, _ in pairs], [x.kind for _, x in pairs])
    sent = [
        (r.sentiment, x.sentiment) for r, x in zip(heldout, results, strict=True) if r.sentiment
    ]
    topic = [(r.topic, x.topic) for r, x in zip(heldout, results, strict=True) if r.topic]
    detected = [(r.lang, x.language) for r, x in zip(heldout, results, strict=True)]
    report["sentiment_accuracy"] = round(sum(a == b for a, b in sent) / max(len(sent), 1), 4)
    report["topic_accuracy"] = round(sum(a == b for a, b in topic) / max(len(topic), 1), 4)
    report["language_accuracy"] = round(sum(a == b for a, b in detected) / max(len(detected), 1), 4)
    return report


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
    ``[paths] heldout``) so tests can check a quality floor.
    """
    config = load_settings(config_path)
    settings = config["triage"]
    out_dir = output or _resolve(config, "output")
    train_records, heldout = load_data(config, with_labels=with_labels, progress=progress)
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
    nlp.meta.update(
        {
            "name": "feedbackbot_triage",
            "version": "1.0.0",
            "description": "Kind, sentiment and topic of customer messages (en, it).",
            "license": (
                "Proprietary; trained in part on CC BY data, see nlp/corpus/tizard"
                if settings["use_tizard"]
                else "Proprietary"
            ),
            "feedbackbot": {
                "max_keywords": int(settings["max_keywords"]),
                "train_size": len(train_records),
                "heldout": {
                    key: {"macro_f1": value["macro_f1"], "n": value["n"]}
                    for key, value in report.items()
                    if isinstance(value, dict)
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
        help="also train on labels stored by the bot (nlp.labels.load_extra_examples)",
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
