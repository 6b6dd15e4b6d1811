"""The triage model at run time: load the shipped spaCy pipeline and classify messages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from nlp import features as _features
from nlp import hashbow as _hashbow  # noqa: F401  (registers the architecture)
from nlp import rules as _rules  # noqa: F401  (registers the rule component)
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
        self._sentiment_labels = self._label_names(SENTIMENT_COMPONENT, SENTIMENT_PREFIX)
        self._topic_labels = self._label_names(TOPIC_COMPONENT, TOPIC_PREFIX)

    def _labels(self, component: str, prefix: str) -> tuple[str, ...]:
        if component not in self.nlp.pipe_names:
            return ()
        labels = self.nlp.get_pipe(component).labels  # type: ignore[attr-defined]
        return tuple(label[len(prefix) :] for label in labels)

    def _label_names(self, component: str, prefix: str) -> tuple[tuple[str, str], ...]:
        """(label in ``doc.cats``, name) of a classifier's labels; none if it is absent."""
        return tuple((prefix + name, name) for name in self._labels(component, prefix))

    @property
    def topics(self) -> tuple[str, ...]:
        """The topic taxonomy of the model."""
        return self._topics

    def triage(self, texts: list[str]) -> list[TriageResult]:
        """Triage a batch of messages (one ``nlp.pipe`` pass)."""
        prepared = [_prepare(text) for text in texts]
        results: list[TriageResult | None] = [None] * len(prepared)
        todo = [i for i, text in enumerate(prepared) if text]
        try:
            docs = self.nlp.pipe((prepared[i] for i in todo), batch_size=_BATCH_SIZE)
            for i, doc in zip(todo, docs, strict=True):
                results[i] = self._result(doc, prepared[i])
        finally:
            _features.release_batches()
        return [result if result is not None else _empty_result() for result in results]

    def triage_one(self, text: str) -> TriageResult:
        """Triage a single message."""
        prepared = _prepare(text)
        if not prepared:
            return _empty_result()
        try:
            return self._result(self.nlp(prepared), prepared)
        finally:
            _features.release_batches()

    def docs(self, texts: Iterable[str]) -> Iterator[Doc]:
        """The processed docs (for evaluation tools)."""
        try:
            yield from self.nlp.pipe((_prepare(t) for t in texts), batch_size=_BATCH_SIZE)
        finally:
            _features.release_batches()

    def _result(self, doc: Doc, text: str) -> TriageResult:
        cats = doc.cats
        probabilities = {kind: float(cats.get(kind, 0.0)) for kind in self._kinds}
        kind = max(probabilities, key=probabilities.__getitem__)
        sentiment = _best(cats, self._sentiment_labels, "neutral")
        topic = _best(cats, self._topic_labels, "other")
        language = _language(doc)
        return TriageResult(
            kind=kind,
            confidence=probabilities[kind],
            probabilities=probabilities,
            sentiment=sentiment,
            topic=topic,
            language=language,
            keywords=keywords(doc, language, self._max_keywords),
        )


def _language(doc: Doc) -> str:
    """The language of a processed message, from its (cached) tokens' evidence."""
    en = 0.0
    it = 0.0
    for info in _features.token_infos(doc)[:_LANGUAGE_TOKENS]:
        en += info.en
        it += info.it
    return decide(en, it)


def _prepare(text: str | None) -> str:
    """The text the model sees: stripped, cut to ``MAX_CHARS``; '' when nothing is left."""
    if not text:
        return ""
    return str(text)[:MAX_CHARS].strip()


def _best(cats: dict[str, float], labels: tuple[tuple[str, str], ...], default: str) -> str:
    """The name of the highest-scoring label (the first of equals), or ``default``."""
    best, best_score = default, -1.0
    for label, name in labels:
        score = cats.get(label, -1.0)
        if score > best_score:
            best, best_score = name, score
    return best


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
