"""Make the real negatives of the answers threshold set from the two public originals.

    python bench/answers_negatives.py CIURUMELEA_FOLDER TIZARD_FOLDER

CIURUMELEA_FOLDER holds `golden_set.csv` (Ciurumelea et al., SANER 2017, MIT) and TIZARD_FOLDER
`sentences.csv` (Tizard et al., RE 2019, CC BY), as described in bench/data/answers/README.md.
Only what would reach answer matching is kept (an unhappy review of 1-3 stars; a forum sentence
labelled care written by the asker), one copy of each text, and of those the first 200 of each
source in the order of sha1(text): a fixed sample that no one picked by hand. The texts are
unchanged apart from whitespace. The licence files are copied beside them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

OUT = Path(__file__).parent / "data" / "answers"
PER_SOURCE = 200
_ASKER = re.compile(r"^(title|original post|\d+\s*-\s*op)$")


def _clean(text: str) -> str:
    return " ".join(text.split())


def _sample(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    seen: set[str] = set()
    unique = []
    for row in rows:
        key = str(row["text"]).lower()
        if key not in seen:
            seen.add(key)
            unique.append(row)
    unique.sort(key=lambda r: hashlib.sha1(str(r["text"]).encode()).hexdigest())
    return unique[:PER_SOURCE]


def reviews(folder: Path) -> list[dict[str, object]]:
    with (folder / "golden_set.csv").open(encoding="utf-8", errors="replace") as f:
        rows = [
            {
                "text": _clean(r["reviewText"]),
                "stars": int(r["ratingStars"]),
                "ardoc": r["ArDoc classification"],
                "classes": [r[f"class{n}"] for n in range(1, 6) if r[f"class{n}"]],
                "app": r["app"],
            }
            for r in csv.DictReader(f)
            if int(r["ratingStars"]) <= 3 and r["reviewText"].strip()
        ]
    return _sample(rows)


def sentences(folder: Path) -> list[dict[str, object]]:
    with (folder / "sentences.csv").open(encoding="utf-8", errors="replace") as f:
        rows = [
            {
                "text": _clean(r["text"]),
                "source_label": r["source_label_norm"],
                "post_position": r["post_position"],
                "id": int(r["id"]),
            }
            for r in csv.DictReader(f)
            if r["label"] == "care"
            and _ASKER.match(r["post_position"].strip().lower())
            and r["text"].strip()
        ]
    return _sample(rows)


def write(rows: list[dict[str, object]], folder: Path, name: str, licence: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    shutil.copy(licence, folder / licence.name)
    print(f"{folder / name}: {len(rows)} lines")


def main(ciurumelea: Path, tizard: Path) -> None:
    write(reviews(ciurumelea), OUT / "ciurumelea", "reviews.jsonl", ciurumelea / "LICENSE")
    write(sentences(tizard), OUT / "tizard", "sentences.jsonl", tizard / "LICENSE.md")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
