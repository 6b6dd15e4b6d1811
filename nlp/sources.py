"""Extra labelled sources of real text (app reviews, forum posts) beside the hand-written corpus.

Every source is a ``[sources.<name>]`` section of ``nlp/config.cfg``: its file, its licence and
notice, the language, the share kept out of training (its held-out split), a per-kind cap and a
weight. One mechanism serves them all: :func:`source_records` reads a source, filters it, and
splits it by the same text hash as the corpus.

The files under ``nlp/corpus/<name>/`` are made from the public originals by
``python -m nlp.sources convert <name> ORIGINAL_FOLDER`` (the mapping of each source's classes to
care / idea / other is here and in ``nlp/corpus/README.md``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp.data import PACKAGE_DIR, Record, normalise
from nlp.triage import KINDS

HANDWRITTEN = "handwritten"


@dataclass(frozen=True)
class Source:
    """One ``[sources.<name>]`` section."""

    name: str
    path: Path
    licence: str
    notice: str
    lang: str
    train: bool  # False: scored only (held-out and leave-one-source-out), never trained on
    heldout_fraction: float
    cap: int  # at most this many training records per kind (0: no cap)
    weight: float  # share of the source's training records drawn in each epoch (may be > 1)
    require: tuple[str, ...]  # boolean fields a row must have set to be used
    kinds: tuple[str, ...] = KINDS  # kinds trained on (all kinds are still scored)


def sources_from_config(config: Any, base: Path = PACKAGE_DIR) -> list[Source]:
    """The sources named in ``[triage] sources``, in that order."""
    out = []
    for name in config["triage"].get("sources", []):
        section = config["sources"][name]
        path = Path(section["path"])
        out.append(
            Source(
                name=name,
                path=path if path.is_absolute() else base / path,
                licence=str(section["licence"]),
                notice=str(section.get("notice", "")),
                lang=str(section.get("lang", "en")),
                train=bool(section.get("train", True)),
                heldout_fraction=float(section.get("heldout_fraction", 0.3)),
                cap=int(section.get("cap", 0)),
                weight=float(section.get("weight", 1.0)),
                require=tuple(section.get("require", [])),
                kinds=tuple(k for k in section.get("kinds", KINDS) if k in KINDS),
            )
        )
    return out


def _digest(salt: str, text: str) -> int:
    return int.from_bytes(hashlib.sha1(f"{salt}\x1f{normalise(text)}".encode()).digest()[:8], "big")


def read_source(source: Source) -> list[Record]:
    """Usable, de-duplicated rows of a source (``require`` filter applied), in file order."""
    out: list[Record] = []
    seen: set[str] = set()
    if not source.path.is_file():
        return out
    with source.path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            text, kind = row.get("text"), row.get("kind")
            if not isinstance(text, str) or not text.strip() or kind not in KINDS:
                continue
            if not all(row.get(field) for field in source.require):
                continue
            key = normalise(text)
            if key in seen:
                continue
            seen.add(key)
            out.append(Record(text, kind, None, None, row.get("lang") or source.lang, source.name))
    return out


def split_source(source: Source, salt: str) -> tuple[list[Record], list[Record]]:
    """(train, held-out) of a source; the training part capped per kind (lowest hash first)."""
    records = read_source(source)
    limit = round(source.heldout_fraction * 10_000)
    train: list[Record] = []
    heldout: list[Record] = []
    for record in records:
        in_heldout = _digest(salt, record.text) % 10_000 < limit
        (heldout if in_heldout else train).append(record)
    train = [r for r in train if r.kind in source.kinds]
    if source.cap > 0:
        kept: set[int] = set()
        for kind in KINDS:
            ids = [i for i, r in enumerate(train) if r.kind == kind]
            ids.sort(key=lambda i: _digest(salt + "/cap", train[i].text))
            kept.update(ids[: source.cap])
        train = [r for i, r in enumerate(train) if i in kept]
    return train, heldout


def epoch_sample(items: Sequence[Any], weights: Sequence[float], rng: Any) -> list[Any]:
    """The items of one epoch: an item of weight ``w`` comes ``floor(w)`` times, plus once more
    with probability ``w - floor(w)`` (drawn from ``rng``, so runs are deterministic)."""
    out = []
    for item, weight in zip(items, weights, strict=True):
        whole = int(weight)
        out.extend([item] * whole)
        if weight - whole > 0 and rng.random() < weight - whole:
            out.append(item)
    return out


# --- conversion of the public originals --------------------------------------------------------

# Ciurumelea et al.'s manual topic classes that name a fault of the app (the rest are subjects:
# UI, usability, pricing, licensing, privacy...; a review gets them whether it praises or blames).
_REVIEW_FAULT = {"ERROR", "PERFORMANCE", "BATTERY", "MEMORY", "RESSOURCES"}
_REVIEW_COMPAT = {"DEVICE", "ANDROID VERSION", "HARDWARE", "COMPATIBILITY", "COMPATIBILTY"}
# A 4-5 star review with one of these is often a feature request the ARdoc tool missed
# ("awesome! can you please add..."); it is dropped rather than called `other`.
_REQUEST_WORDS = re.compile(
    r"\b(add|adding|wish|would|could|should|can you|hope|please|pls|plz|suggest\w*|need|"
    r"needs|want|option|options|feature|features|missing|lacks?|if only|update|make|improv\w*|"
    r"more|instead|version|i'd like|like to see)\b",
    re.IGNORECASE,
)


def review_kind(row: dict[str, str]) -> str | None:
    """care / idea / other of one Ciurumelea review, or None when it fits no kind cleanly."""
    classes = {
        row.get(key, "").strip().upper()
        for key in ("classification", "class1", "class2", "class3", "class4", "class5")
    } - {""}
    stars = int(row["ratingStars"])
    ardoc = row.get("ArDoc classification", "").strip().upper()
    fault = bool(classes & _REVIEW_FAULT) or ardoc == "PROBLEM_DISCOVERY"
    if ardoc == "FEATURE_REQUEST" and not (stars <= 2 and fault):
        return "idea"
    if stars <= 2:
        return "care"
    if stars == 3:
        return "care" if fault or classes & _REVIEW_COMPAT else None
    if fault or _REQUEST_WORDS.search(row["reviewText"]):
        return None
    return "other"


# Reviews the mapping drops (3 stars with no fault; 4-5 stars with request wording), each read
# and labelled by two of the team on their own (nlp/corpus/README.md).
TEAM_LABELS = PACKAGE_DIR / "corpus" / "ciurumelea" / "team_labels.jsonl"


def read_team_labels(path: Path = TEAM_LABELS) -> dict[str, str]:
    """Review id -> the kind both annotators gave; reviews they differed on are left out."""
    agreed: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["a"] == row["b"] and row["a"] in KINDS:
            agreed[row["id"]] = row["a"]
    return agreed


def convert_ciurumelea(folder: Path, team_labels: Path = TEAM_LABELS) -> Iterable[dict[str, Any]]:
    labelled = read_team_labels(team_labels)
    with (folder / "golden_set.csv").open(encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            text = re.sub(r"\s+", " ", row["reviewText"]).strip()
            kind = review_kind(row)
            by = "mapping"
            if kind is None and row["_id"] in labelled:
                kind, by = labelled[row["_id"]], "team"
            if not text or kind is None:
                continue
            yield {
                "text": text,
                "kind": kind,
                "labelled_by": by,
                "lang": "en",
                "stars": int(row["ratingStars"]),
                "ardoc": row["ArDoc classification"],
                "classes": sorted(
                    {row[k].strip() for k in ("class1", "class2", "class3", "class4", "class5")}
                    - {""}
                ),
                "app": row["app"],
                "id": row["_id"],
            }


def _asker(position: str) -> bool:
    """Title, original post, or a later post by the original poster ("2-op", "3 - op")."""
    p = position.strip().lower().replace(" ", "")
    return p in {"title", "originalpost"} or p.endswith("-op")


# Forum sentence classes that only give the context of a help request: the asker's set-up
# ("Windows 7 pro, 64 bit"), how they use the program, facts about their files. As a message
# of their own they are neither a request nor nothing to do: the post they belong to decides,
# and the labels do not carry it. Kept in the file with no kind, as the reviews' unclear cases.
_FORUM_CONTEXT = {
    "user setup",
    "usage",
    "information giving",
    "ig-uncertain",
    "ig - uncertain",
    "ig-background",
    "informative",
}
# "Tried various audio settings without success", "Still did not work": the asker's attempts
# at a fix that failed are a fault still there, which the firm must answer (care), not the
# shared copy's `other`.
_FORUM_KIND = {"attempted solution": "care"}


def forum_kind(row: dict[str, str]) -> str | None:
    """care / idea / other of one Tizard sentence: the shared copy's kind, but for the two
    adjustments above (None: no kind of its own)."""
    label = row["source_label_norm"].strip()
    if label in _FORUM_CONTEXT:
        return None
    kind = _FORUM_KIND.get(label, row["label"])
    return kind if kind in KINDS else None


def convert_tizard(folder: Path) -> Iterable[dict[str, Any]]:
    with (folder / "sentences.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            text = re.sub(r"\s+", " ", row["text"]).strip()
            if not text or row["label"] not in KINDS:
                continue
            yield {
                "text": text,
                "kind": forum_kind(row),
                "shared_kind": row["label"],
                "lang": "en",
                "source_label": row["source_label_norm"],
                "post_position": row["post_position"],
                "asker": _asker(row["post_position"]),
                "forum_topic": row["topic_forum"],
                "id": int(row["id"]),
            }


CONVERTERS: dict[str, tuple[Callable[[Path], Iterable[dict[str, Any]]], str, str]] = {
    # name: (converter, output file, licence file in the original folder)
    "ciurumelea": (convert_ciurumelea, "reviews.jsonl", "LICENSE"),
    "tizard": (convert_tizard, "sentences.jsonl", "LICENSE.md"),
}


def convert(name: str, folder: Path, corpus_dir: Path = PACKAGE_DIR / "corpus") -> Counter[str]:
    """Write ``corpus/<name>/<file>`` from the original and copy its licence beside it."""
    converter, filename, licence = CONVERTERS[name]
    out_dir = corpus_dir / name
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / licence, out_dir / licence)
    counts: Counter[str] = Counter()
    with (out_dir / filename).open("w", encoding="utf-8") as handle:
        for row in converter(folder):
            counts[row["kind"] or "no kind"] += 1
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nlp.sources", description="Convert a public labelled set for training."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    conv = sub.add_parser("convert", help="write nlp/corpus/<name>/ from the original folder")
    conv.add_argument("name", choices=sorted(CONVERTERS))
    conv.add_argument("folder", type=Path, help="folder holding the original files")
    args = parser.parse_args(argv)
    counts = convert(args.name, args.folder)
    print(f"{args.name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
