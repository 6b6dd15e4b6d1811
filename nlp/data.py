"""The training corpus: reading it, checking it, and the deterministic held-out split."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlp.triage import KINDS, SENTIMENTS, TOPICS

PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Record:
    """One labelled message. ``sentiment`` / ``topic`` are None when not labelled."""

    text: str
    kind: str
    sentiment: str | None
    topic: str | None
    lang: str
    source: str  # file it came from, relative to the corpus folder


def normalise(text: str) -> str:
    """The text's identity for splitting and de-duplication."""
    return re.sub(r"\s+", " ", text.strip().lower())


def in_heldout(text: str, fraction: float, salt: str) -> bool:
    """Deterministic split: a stable hash of the normalised text, not of its position."""
    digest = hashlib.sha1(f"{salt}\x1f{normalise(text)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < round(fraction * 10_000)


def read_corpus(corpus_dir: Path, languages: Sequence[str], *, warn: bool = True) -> list[Record]:
    """All records of ``corpus_dir/<lang>/*.jsonl``, files in sorted order.

    Lines that cannot be used (a file still being written, a bad label) are skipped with a
    warning on stderr, so a half-written file never breaks training.
    """
    records: list[Record] = []
    for lang in languages:
        for path in sorted((corpus_dir / lang).glob("*.jsonl")):
            records.extend(read_records(path, corpus_dir, default_lang=lang, warn=warn))
    return records


def read_records(
    path: Path, corpus_dir: Path, *, default_lang: str, warn: bool = True
) -> list[Record]:
    """The usable records of one corpus file."""
    out: list[Record] = []
    rel = path.relative_to(corpus_dir).as_posix() if path.is_relative_to(corpus_dir) else path.name
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            problem, record = _parse(line, rel, default_lang)
            if record is None:
                if warn:
                    print(f"warning: {rel}:{number}: {problem}; skipped", file=sys.stderr)
                continue
            out.append(record)
    return out


def _parse(line: str, source: str, default_lang: str) -> tuple[str, Record | None]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg})", None
    if not isinstance(obj, dict):
        return "not a JSON object", None
    text = obj.get("text")
    kind = obj.get("kind")
    if not isinstance(text, str) or not text.strip():
        return "missing text", None
    if kind not in KINDS:
        return f"unknown kind {kind!r}", None
    sentiment = obj.get("sentiment")
    topic = obj.get("topic")
    return "", Record(
        text=text,
        kind=kind,
        sentiment=sentiment if sentiment in SENTIMENTS else None,
        topic=topic if topic in TOPICS else None,
        lang=str(obj.get("lang") or default_lang),
        source=source,
    )


def dedupe(records: Iterable[Record]) -> list[Record]:
    """First occurrence of each normalised text wins."""
    seen: set[str] = set()
    out: list[Record] = []
    for record in records:
        key = normalise(record.text)
        if key in seen:
            continue
        seen.add(key)
        out.append(record)
    return out


def split(
    records: Sequence[Record], fraction: float, salt: str
) -> tuple[list[Record], list[Record]]:
    """(train, held-out) by :func:`in_heldout`."""
    train: list[Record] = []
    heldout: list[Record] = []
    for record in records:
        (heldout if in_heldout(record.text, fraction, salt) else train).append(record)
    return train, heldout


def write_heldout(records: Sequence[Record], path: Path) -> None:
    """The held-out split as evaluation data: one {text, label, lang} object per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            row = {"text": record.text, "label": record.kind, "lang": record.lang}
            if "/" not in record.source:  # an extra source, not a corpus file
                row["source"] = record.source
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
