"""The triage model at run time: load the shipped spaCy pipeline and classify messages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy
import spacy
from spacy.language import Language
from spacy.pipeline import TextCategorizer
from spacy.tokens import Doc

from nlp import features as _features
from nlp import rules as _rules  # noqa: F401  (registers the rule component)
from nlp.hashbow import HashBOWTextCategorizer  # (importing registers the architecture)
from nlp.keywords import MAX_KEYWORDS, keywords
from nlp.langdetect import DEFAULT_LANGUAGE, decide

KINDS: tuple[str, ...] = ("care", "idea", "other")
SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
TOPICS: tuple[str, ...] = (
    "billing",
    "network",
    "internet_devices",
    "account",
    "offers",
    "customer_service",
    "app",
    "other",
)

KIND_COMPONENT = "textcat_kind"
SENTIMENT_COMPONENT = "textcat_sentiment"
TOPIC_COMPONENT = "textcat_topic"
SENTIMENT_PREFIX = "sentiment:"
TOPIC_PREFIX = "topic:"

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "model"
# Telegram messages are at most 4,096 characters (captions 1,024); longer input is cut here
# so one pasted document cannot stall the worker.
MAX_CHARS = 10_000
_BATCH_SIZE = 256
_LANGUAGE_TOKENS = 400


@dataclass(frozen=True)
class TriageResult:
    """What the model says about one message."""

    kind: str
    confidence: float
    probabilities: dict[str, float]
    sentiment: str
    topic: str
    language: str
    keywords: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (keywords as a list)."""
        data = asdict(self)
        data["probabilities"] = {k: float(v) for k, v in self.probabilities.items()}
        data["confidence"] = float(self.confidence)
        data["keywords"] = list(self.keywords)
        return data


class Triager:
    """Kind, sentiment, topic, language and keywords of messages, from one spaCy pipeline."""

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp
        meta = nlp.meta.get("feedbackbot", {})
        self._max_keywords = int(meta.get("max_keywords", MAX_KEYWORDS))
        self._topics = self._labels(TOPIC_COMPONENT, TOPIC_PREFIX) or TOPICS
        self._kinds = self._labels(KIND_COMPONENT, "") or KINDS
        self._sentiments = self._labels(SENTIMENT_COMPONENT, SENTIMENT_PREFIX)
        self._topic_labels = self._labels(TOPIC_COMPONENT, TOPIC_PREFIX)

    def _labels(self, component: str, prefix: str) -> tuple[str, ...]:
        if component not in self.nlp.pipe_names:
            return ()
        labels = self.nlp.get_pipe(component).labels  # type: ignore[attr-defined]
        return tuple(label[len(prefix) :] for label in labels)

    @property
    def topics(self) -> tuple[str, ...]:
        """The topic taxonomy of the model."""
        return self._topics

    def triage(self, texts: list[str]) -> list[TriageResult]:
        """Triage a batch of messages, ``_BATCH_SIZE`` at a time."""
        prepared = [_prepare(text) for text in texts]
        results: list[TriageResult | None] = [None] * len(prepared)
        todo = [i for i, text in enumerate(prepared) if text]
        try:
            for start in range(0, len(todo), _BATCH_SIZE):
                part = todo[start : start + _BATCH_SIZE]
                for i, result in zip(part, self._triage([prepared[i] for i in part]), strict=True):
                    results[i] = result
        finally:
            _features.release_batches()
        return [result if result is not None else _empty_result() for result in results]

    def triage_one(self, text: str) -> TriageResult:
        """Triage a single message."""
        prepared = _prepare(text)
        if not prepared:
            return _empty_result()
        try:
            return self._triage([prepared])[0]
        finally:
            _features.release_batches()

    def docs(self, texts: Iterable[str]) -> Iterator[Doc]:
        """The processed docs (for evaluation tools)."""
        try:
            yield from self.nlp.pipe((_prepare(t) for t in texts), batch_size=_BATCH_SIZE)
        finally:
            _features.release_batches()

    def _triage(self, texts: list[str]) -> list[TriageResult]:
        """Triage one batch of non-empty messages."""
        docs, scores = self._scores(texts)
        kind_scores = scores.get(KIND_COMPONENT)
        rows = (
            kind_scores.tolist()
            if kind_scores is not None
            else [[0.0] * len(self._kinds)] * len(docs)
        )
        en, it = _features.language_evidence(docs, _LANGUAGE_TOKENS)
        sentiments = _names(scores, SENTIMENT_COMPONENT, self._sentiments, "neutral", len(docs))
        topics = _names(scores, TOPIC_COMPONENT, self._topic_labels, "other", len(docs))
        results = []
        for i, (doc, row, doc_en, doc_it) in enumerate(
            zip(docs, rows, en.tolist(), it.tolist(), strict=True)
        ):
            probabilities = dict(zip(self._kinds, row, strict=True))
            kind = max(probabilities, key=probabilities.__getitem__)
            language = decide(doc_en, doc_it)
            results.append(
                TriageResult(
                    kind=kind,
                    confidence=probabilities[kind],
                    probabilities=probabilities,
                    sentiment=sentiments[i],
                    topic=topics[i],
                    language=language,
                    keywords=keywords(doc, language, self._max_keywords),
                )
            )
        return results

    def _scores(self, texts: list[str]) -> tuple[list[Doc], dict[str, numpy.ndarray]]:
        """The documents of ``texts`` and each classifier's scores (a row per document, a
        column per label). A pipeline of classifiers alone is asked for its scores directly;
        one with other components (the suggestion rules) is run whole and read back."""
        if all(_plain_classifier(pipe) for _, pipe in self.nlp.pipeline):
            docs = [self.nlp.make_doc(text) for text in texts]
            scores = {
                name: numpy.asarray(pipe.predict(docs))  # type: ignore[attr-defined]
                for name, pipe in self.nlp.pipeline
            }
            return docs, {name: table for name, table in scores.items() if table.shape[1]}
        docs = list(self.nlp.pipe(texts, batch_size=len(texts)))
        scores = {}
        for name, pipe in self.nlp.pipeline:
            labels = getattr(pipe, "labels", ())
            if isinstance(pipe, TextCategorizer) and labels:
                scores[name] = numpy.array(
                    [[doc.cats.get(label, 0.0) for label in labels] for doc in docs]
                )
        return docs, scores


def _plain_classifier(pipe: object) -> bool:
    """Whether a component is a text classifier whose annotations are its scores as they
    are (so ``predict`` tells all it would write into ``doc.cats``)."""
    return isinstance(pipe, TextCategorizer) and type(pipe).set_annotations in (
        TextCategorizer.set_annotations,
        HashBOWTextCategorizer.set_annotations,
    )


def _names(
    scores: dict[str, numpy.ndarray],
    component: str,
    names: tuple[str, ...],
    default: str,
    count: int,
) -> list[str]:
    """The highest-scoring label (the first of equals) of each document, or ``default``."""
    table = scores.get(component)
    if table is None or not names:
        return [default] * count
    return [names[j] for j in table.argmax(axis=1).tolist()]


def _prepare(text: str | None) -> str:
    """The text the model sees: stripped, cut to ``MAX_CHARS``; '' when nothing is left."""
    if not text:
        return ""
    return str(text)[:MAX_CHARS].strip()


def _empty_result() -> TriageResult:
    """An empty or blank message: nothing to act on."""
    return TriageResult(
        kind="other",
        confidence=1.0,
        probabilities={"care": 0.0, "idea": 0.0, "other": 1.0},
        sentiment="neutral",
        topic="other",
        language=DEFAULT_LANGUAGE,
        keywords=(),
    )


def load_triager(model_dir: str | Path | None = None) -> Triager:
    """Load the shipped model (``nlp/model/``), or the one in ``model_dir``."""
    path = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    if not (path / "config.cfg").is_file():
        raise FileNotFoundError(
            f"no triage model in {path}: run `feedbackbot train` (or `python -m nlp.train`)"
        )
    return Triager(spacy.load(path))
