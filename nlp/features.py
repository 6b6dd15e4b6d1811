"""The features of a document for the triage classifiers (``hashbow`` is the model over them).

``spacy.TextCatBOW.v3`` hashes n-grams of the exact token text (``ORTH``), so "Potreste",
"potreste" and "potresti" share nothing. Customer messages are full of case changes, typos,
missing accents and inflections, so the features are, per document:

* word n-grams (1..``ngram_size``) of the lower-cased tokens, with start and end markers
  (so "could you" at the start of a message is its own feature);
* character n-grams (``char_min``..``char_max``) of each lower-cased, accent-stripped word,
  with word-boundary markers, weighted by ``char_weight``;
* cues (``cues``): word classes, their pairs, negation scopes and the message's shape,
  weighted by ``cue_weight``.

The per-word character features are cached in-process, and a document's features are
computed once and shared by all components with the same feature settings.
"""

from __future__ import annotations

import unicodedata

import numpy
from spacy.attrs import ORTH
from spacy.strings import hash_string  # type: ignore[attr-defined]
from spacy.tokens import Doc

from nlp import cues as _cues
from nlp import langdetect as _langdetect

_MASK = (1 << 64) - 1
_BOS = hash_string("<feedbackbot-bos>")
_EOS = hash_string("<feedbackbot-eos>")
_CACHE_LIMIT = 500_000
_EMPTY = numpy.zeros((0,), dtype="uint64")
_BASE = "feedbackbot.features"
_SCOPE = 3  # words after a negation that are marked as negated
_SCOPE_BREAKS = frozenset(',.;:!?()[]"-–—') | {"but", "ma", "però", "pero", "and", "e"}


def _cue_hash(name: str) -> int:
    return hash_string("cue\x1f" + name)


_Q_START = _cue_hash("Q_START")
_Q_END = _cue_hash("Q_END")
_SHOUT = _cue_hash("SHOUT")
_LENGTH = {n: _cue_hash(_cues.length_cue(n)) for n in range(1, 17)}
_CLASSES = sorted(_cues.CLASS_NAMES)
_PAIR = {(a, b): _cue_hash(a + "+" + b) for a in _CLASSES for b in _CLASSES}
_COOCCUR = {(a, b): _cue_hash("CO:" + a + "+" + b) for a in _CLASSES for b in _CLASSES}
_NOT_CLASS = {a: _cue_hash("NOT:" + a) for a in _CLASSES}


class _Token:
    """What the features need to know about one vocabulary entry (cached per ORTH)."""

    __slots__ = (
        "breaks",
        "classes",
        "cues",
        "en",
        "it",
        "lower",
        "negation",
        "not_word",
        "qmark",
        "question",
        "upper",
    )

    def __init__(self, text: str, lower: int) -> None:
        plain = strip_accents(text.lower()).replace("’", "'")
        names = tuple(dict.fromkeys(_cues.token_cues(text, plain)))
        self.lower = lower
        self.classes = tuple(n for n in names if n in _cues.CLASS_NAMES)
        self.cues = [_cue_hash(n) for n in names]
        self.question = _cues.is_question_start(plain)
        self.upper = "UPPER_WORD" in names
        self.qmark = "Q_MARK" in names
        self.negation = _cues.NEGATION in self.classes
        self.breaks = text.lower() in _SCOPE_BREAKS
        self.not_word = hash_string("not\x1f" + text.lower())
        self.en, self.it = _langdetect.token_score(text)


_tokens: dict[int, _Token] = {}
# (char_min, char_max) -> lower-case hash -> hashes of the word's character n-grams
_char_cache: dict[tuple[int, int], dict[int, numpy.ndarray]] = {}


def strip_accents(text: str) -> str:
    """'perché' -> 'perche': customers often leave accents out, or type "e'"."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def _char_ngrams(word: str, lo: int, hi: int) -> tuple[int, ...]:
    """Hashes of the character n-grams of one word (with boundary markers)."""
    plain = strip_accents(word).replace("’", "'")
    if not any(ch.isalnum() for ch in plain):
        return ()
    marked = f"<{plain}>"
    grams = {
        marked[i : i + n] for n in range(lo, hi + 1) for i in range(max(len(marked) - n + 1, 0))
    }
    return tuple(sorted(hash_string("c\x1f" + g) for g in grams))


def token_infos(doc: Doc) -> list[_Token]:
    """Cached per-token feature information of a document."""
    base = doc.user_data.get(_BASE)
    if base is None:
        if len(_tokens) > _CACHE_LIMIT:
            _tokens.clear()
        strings = doc.vocab.strings
        infos = []
        for orth in doc.to_array(ORTH).tolist():
            info = _tokens.get(orth)
            if info is None:
                text = strings[orth]
                info = _Token(text, strings.add(text.lower()))
                _tokens[orth] = info
            infos.append(info)
        base = {"tokens": infos}
        doc.user_data[_BASE] = base
    tokens: list[_Token] = base["tokens"]
    return tokens


def lowers(doc: Doc) -> list[int]:
    """Hashes of the lower-cased tokens."""
    return [info.lower for info in token_infos(doc)]


def char_ngrams(doc: Doc, char_min: int, char_max: int) -> numpy.ndarray:
    """Hashes of the character n-grams of every word (repeated words count again)."""
    key = ("chars", char_min, char_max)
    infos = token_infos(doc)
    base = doc.user_data[_BASE]
    cached: numpy.ndarray | None = base.get(key)
    if cached is not None:
        return cached
    cache = _char_cache.setdefault((char_min, char_max), {})
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    strings = doc.vocab.strings
    parts = []
    for info in infos:
        grams = cache.get(info.lower)
        if grams is None:
            grams = numpy.array(
                _char_ngrams(strings[info.lower], char_min, char_max), dtype="uint64"
            )
            cache[info.lower] = grams
        parts.append(grams)
    out = numpy.concatenate(parts) if parts else _EMPTY
    base[key] = out
    return out


def cue_features(doc: Doc) -> numpy.ndarray:
    """Hashes of the word-class, class-pair, negation and message-shape cues of a document."""
    infos = token_infos(doc)
    base = doc.user_data[_BASE]
    cached: numpy.ndarray | None = base.get("cues")
    if cached is not None:
        return cached
    out: list[int] = []
    if not infos:
        base["cues"] = _EMPTY
        return _EMPTY
    if infos[0].question:
        out.append(_Q_START)
    if infos[-1].qmark:
        out.append(_Q_END)
    if sum(1 for info in infos if info.upper) >= 2:
        out.append(_SHOUT)
    out.append(_LENGTH[min(len(infos), 16)])
    scope = 0
    present: set[str] = set()
    n = len(infos)
    for i, info in enumerate(infos):
        out.extend(info.cues)
        classes = info.classes
        if classes:
            present.update(classes)
            # Pairs of word classes within two tokens: "non funziona" -> NEG+FUNCTION.
            for right in infos[i + 1 : min(i + 3, n)]:
                for a in classes:
                    for b in right.classes:
                        out.append(_PAIR[a, b])
        # Words in a negation scope: "non è mai arrivato" -> NOT:arrivato, NOT:ARRIVE.
        if info.negation:
            scope = _SCOPE
        elif scope:
            if info.breaks:
                scope = 0
            else:
                scope -= 1
                out.append(info.not_word)
                for a in classes:
                    out.append(_NOT_CLASS[a])
    # Classes that occur together anywhere: praise + fault is usually sarcasm or "but".
    ordered = sorted(present)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            out.append(_COOCCUR[a, b])
    result = numpy.array(out, dtype="uint64")
    base["cues"] = result
    return result


def _ngram_hashes(seq: numpy.ndarray, n: int) -> numpy.ndarray:
    """Order-sensitive hashes of the n-grams of a uint64 array; wrap-around is intended."""
    count = len(seq) - n + 1
    out = seq[:count].copy()
    for j in range(1, n):
        out *= numpy.uint64(1_000_003)
        out ^= seq[j : j + count]
    out ^= numpy.uint64(n)
    return out


def batch_features(
    docs: list[Doc],
    ngram_size: int,
    char_min: int,
    char_max: int,
    char_weight: float,
    cue_weight: float,
    length_norm: float = 0.0,
    length_ref: int = 12,
) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """(keys, values, lengths) of a batch, keys grouped by document.

    Keys may repeat within a document: the sparse linear layer sums over them, which is the
    same as counting. Word n-grams are computed for the whole batch at once (vectorised);
    per-word character n-grams and cues come from caches.
    """
    use_cues = cue_weight > 0
    use_chars = char_max >= char_min > 0 and char_weight > 0
    seq: list[int] = []
    seq_lengths: list[int] = []
    extra: list[numpy.ndarray] = []
    extra_lengths: list[int] = []
    kinds = 0
    for doc in docs:
        if len(doc) == 0:
            seq_lengths.append(0)
            if use_cues:
                extra_lengths.append(0)
            if use_chars:
                extra_lengths.append(0)
            continue
        words = lowers(doc)
        seq.append(_BOS)
        seq.extend(words)
        seq.append(_EOS)
        seq_lengths.append(len(words) + 2)
        if use_cues:
            cue_keys = cue_features(doc)
            extra.append(cue_keys)
            extra_lengths.append(len(cue_keys))
        if use_chars:
            char_keys = char_ngrams(doc, char_min, char_max)
            extra.append(char_keys)
            extra_lengths.append(len(char_keys))
    n_docs = len(docs)
    if not seq:
        return _EMPTY, numpy.zeros((0,), "f"), numpy.zeros((n_docs,), "int32")
    doc_index = numpy.arange(n_docs, dtype="int64")
    arr = numpy.array(seq, dtype="uint64")
    doc_of = numpy.repeat(doc_index, seq_lengths)
    is_word = (arr != numpy.uint64(_BOS)) & (arr != numpy.uint64(_EOS))
    key_parts = [arr[is_word]]
    doc_parts = [doc_of[is_word]]
    for n in range(2, ngram_size + 1):
        if len(arr) < n:
            break
        grams = _ngram_hashes(arr, n)
        same_doc = doc_of[: len(grams)] == doc_of[n - 1 :]
        key_parts.append(grams[same_doc])
        doc_parts.append(doc_of[: len(grams)][same_doc])
    n_word = sum(len(part) for part in key_parts)
    weights = []
    if use_cues:
        weights.append(cue_weight)
    if use_chars:
        weights.append(char_weight)
    kinds = len(weights)
    if kinds:
        key_parts.extend(extra)
        doc_parts.append(numpy.repeat(numpy.repeat(doc_index, kinds), extra_lengths))
    keys = numpy.concatenate(key_parts)
    doc_ids = numpy.concatenate(doc_parts)
    values = numpy.ones((len(keys),), dtype="f")
    if kinds:
        values[n_word:] = numpy.repeat(numpy.tile(numpy.array(weights, "f"), n_docs), extra_lengths)
    order = numpy.argsort(doc_ids, kind="stable")
    lengths = numpy.bincount(doc_ids, minlength=len(docs)).astype("int32")
    values = values[order]
    if length_norm > 0:
        # A long review has many more features than a chat message: without this its score
        # grows with its length, and classes learnt on short messages over-fire on it.
        tokens = numpy.array([max(len(doc), 1) for doc in docs], dtype="f")
        scale = numpy.minimum(1.0, length_ref / tokens) ** length_norm
        values *= numpy.repeat(scale.astype("f"), lengths)
    return keys[order], values, lengths
