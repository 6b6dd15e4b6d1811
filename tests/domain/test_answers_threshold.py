"""The answer-match threshold shipped is the one the labelled data supports: a change to the
matcher, the words it keeps or the data must choose it again (bench/answers_threshold.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from bot.core.settings import Settings

BENCH = Path(__file__).resolve().parents[2] / "bench" / "answers_threshold.py"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("answers_threshold", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_labelled_set_is_whole() -> None:
    at = bench()
    answers = {(answer_id, lang) for answer_id, lang, _, _ in at.book()}
    items = at.examples()
    for item in items:
        assert all((a, item.lang) in answers for a in item.answers), item.text
    assert len({(i.lang, i.text.lower()) for i in items}) == len(items)  # no text twice
    for lang in ("en", "it"):
        assert sum(1 for i in items if i.lang == lang and i.answers) >= 100
        assert sum(1 for i in items if i.lang == lang and not i.answers) >= 150
    for copy, licence in (("ciurumelea", "LICENSE"), ("tizard", "LICENSE.md")):
        assert (at.DATA / copy / licence).is_file()  # each copy keeps its licence


def test_the_default_threshold_is_the_one_the_data_chooses() -> None:
    at = bench()
    index = at.AnswerIndex.build(at.book())
    default = Settings.model_fields["answer_match_threshold"].default
    chosen = []
    for lang in ("en", "it"):
        items = [i for i in at.examples() if i.lang == lang]
        best = at.choose(at.sweep_language(index, items))
        assert best is not None
        chosen.append(best.threshold)
        assert at.acceptable(at.measure(index, items, default)), lang
    assert default == max(chosen)
