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

The per-token information and per-word character features are cached in-process, and a
batch's features are computed once and shared by the three classifiers (``_Batch``).
"""

from __future__ import annotations

import unicodedata

import numpy
from spacy.attrs import ORTH
from spacy.strings import StringStore, hash_string  # type: ignore[attr-defined]
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
        ids = doc.to_array(ORTH).tolist()
        for orth in ids:
            info = _tokens.get(orth)
            if info is None:
                text = strings[orth]
                info = _Token(text, strings.add(text.lower()))
                _tokens[orth] = info
            infos.append(info)
        base = {"tokens": infos, "orths": ids}
        doc.user_data[_BASE] = base
    tokens: list[_Token] = base["tokens"]
    return tokens


def orths(doc: Doc) -> list[int]:
    """The documents' token ids (``ORTH``), read once with the token information."""
    token_infos(doc)
    found: list[int] = doc.user_data[_BASE]["orths"]
    return found


def _word_char_ngrams(
    docs: list[list[_Token]], strings: StringStore, char_min: int, char_max: int
) -> tuple[list[numpy.ndarray], list[int]]:
    """Every word's character n-gram hashes (repeated words count again), in document order,
    and how many each document has."""
    cache = _char_cache.setdefault((char_min, char_max), {})
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    parts: list[numpy.ndarray] = []
    lengths: list[int] = []
    for infos in docs:
        count = 0
        for info in infos:
            grams = cache.get(info.lower)
            if grams is None:
                text = strings[info.lower]
                grams = numpy.array(_char_ngrams(text, char_min, char_max), dtype="uint64")
                cache[info.lower] = grams
            parts.append(grams)
            count += len(grams)
        lengths.append(count)
    return parts, lengths


def cue_features(infos: list[_Token]) -> numpy.ndarray:
    """Hashes of the word-class, class-pair, negation and message-shape cues of a document
    (its ``token_infos``)."""
    out: list[int] = []
    if not infos:
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
    return numpy.array(out, dtype="uint64")


def _ngram_hashes(seq: numpy.ndarray, n: int) -> numpy.ndarray:
    """Order-sensitive hashes of the n-grams of a uint64 array; wrap-around is intended."""
    count = len(seq) - n + 1
    out = seq[:count].copy()
    for j in range(1, n):
        out *= numpy.uint64(1_000_003)
        out ^= seq[j : j + count]
    out ^= numpy.uint64(n)
    return out


# Feature groups of a key, in the order a document's keys come in: its word n-grams (1, 2,
# 3...), then its cues, then its character n-grams. A group's code picks its value.
_CUES = -1
_CHARS = -2


class _Batch:
    """What the classifiers of one batch share: its documents' word sequence, word n-grams,
    cues and character n-grams, and the ordered key layouts built from them.

    spaCy hands each component of the pipeline the same batch in turn, so the three
    classifiers compute all this once per batch instead of once each."""

    def __init__(self, docs: list[Doc]) -> None:
        self.docs = docs
        seq: list[int] = []
        seq_lengths: list[int] = []
        self.nonempty: list[list[_Token]] = []
        for doc in docs:
            if len(doc) == 0:
                seq_lengths.append(0)
                continue
            infos = token_infos(doc)
            self.nonempty.append(infos)
            seq.append(_BOS)
            seq.extend([info.lower for info in infos])
            seq.append(_EOS)
            seq_lengths.append(len(infos) + 2)
        self.arr = numpy.array(seq, dtype="uint64")
        self.doc_of = numpy.repeat(numpy.arange(len(docs), dtype="int64"), seq_lengths)
        nonempty_index = numpy.array([i for i, doc in enumerate(docs) if len(doc)], "int64")
        self.nonempty_index = nonempty_index
        self._groups: dict[object, tuple[numpy.ndarray, numpy.ndarray]] = {}
        self._layouts: dict[tuple[object, ...], tuple[numpy.ndarray, ...]] = {}

    def group(self, code: object) -> tuple[numpy.ndarray, numpy.ndarray]:
        """(keys, document of each key) of one feature group: n-grams of size ``code``,
        the cues, or the character n-grams ``(_CHARS, char_min, char_max)``."""
        found = self._groups.get(code)
        if found is None:
            found = self._compute(code)
            self._groups[code] = found
        return found

    def _compute(self, code: object) -> tuple[numpy.ndarray, numpy.ndarray]:
        arr, doc_of = self.arr, self.doc_of
        if code == 1:
            is_word = (arr != numpy.uint64(_BOS)) & (arr != numpy.uint64(_EOS))
            return arr[is_word], doc_of[is_word]
        if isinstance(code, int) and code > 1:
            if len(arr) < code:
                return _EMPTY, numpy.zeros((0,), "int64")
            grams = _ngram_hashes(arr, code)
            same_doc = doc_of[: len(grams)] == doc_of[code - 1 :]
            return grams[same_doc], doc_of[: len(grams)][same_doc]
        if code == _CUES:
            parts = [cue_features(infos) for infos in self.nonempty]
            lengths = [len(part) for part in parts]
        else:
            assert isinstance(code, tuple)
            char_min, char_max = int(code[1]), int(code[2])
            strings = self.docs[0].vocab.strings
            parts, lengths = _word_char_ngrams(self.nonempty, strings, char_min, char_max)
        keys = numpy.concatenate(parts) if parts else _EMPTY
        return keys, numpy.repeat(self.nonempty_index, lengths)

    def layout(self, codes: tuple[object, ...]) -> tuple[numpy.ndarray, ...]:
        """(keys, group index of each key, keys per document) of the groups ``codes``, each
        document's keys together and in group order."""
        found = self._layouts.get(codes)
        if found is not None:
            return found
        groups = [self.group(code) for code in codes]
        keys = numpy.concatenate([g[0] for g in groups])
        doc_ids = numpy.concatenate([g[1] for g in groups])
        which = numpy.repeat(numpy.arange(len(codes), dtype="int8"), [len(g[0]) for g in groups])
        order = numpy.argsort(doc_ids, kind="stable")
        lengths = numpy.bincount(doc_ids, minlength=len(self.docs)).astype("int32")
        found = (keys[order], which[order], lengths)
        self._layouts[codes] = found
        return found


# The batches whose features were computed last: the classifiers after the first find theirs
# here. Only while a pipeline call runs: ``release_batches`` empties it at the end, so no
# customer's text outlives the call that triaged it (``/forget`` erases texts everywhere).
_BATCHES_KEPT = 3
_batches: list[_Batch] = []


def release_batches() -> None:
    """Forget the shared features of the last batches (and the documents they hold)."""
    _batches.clear()


def _batch(docs: list[Doc]) -> _Batch:
    """The shared features of this batch: computed by its first classifier, then reused."""
    for batch in _batches:
        same = len(batch.docs) == len(docs)
        if same and all(a is b for a, b in zip(batch.docs, docs, strict=True)):
            return batch
    batch = _Batch(list(docs))
    _batches.insert(0, batch)
    del _batches[_BATCHES_KEPT:]
    return batch


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
    per-word character n-grams and cues come from caches, and the classifiers of one batch
    share all of it (``_Batch``).
    """
    use_cues = cue_weight > 0
    use_chars = char_max >= char_min > 0 and char_weight > 0
    batch = _batch(docs)
    if not len(batch.arr):
        return _EMPTY, numpy.zeros((0,), "f"), numpy.zeros((len(docs),), "int32")
    codes: list[object] = list(range(1, max(ngram_size, 1) + 1))
    weights = [1.0] * len(codes)
    if use_cues:
        codes.append(_CUES)
        weights.append(cue_weight)
    if use_chars:
        codes.append((_CHARS, char_min, char_max))
        weights.append(char_weight)
    keys, which, lengths = batch.layout(tuple(codes))
    values = numpy.array(weights, dtype="f")[which]
    if length_norm > 0:
        # A long review has many more features than a chat message: without this its score
        # grows with its length, and classes learnt on short messages over-fire on it.
        tokens = numpy.array([max(len(doc), 1) for doc in docs], dtype="f")
        scale = numpy.minimum(1.0, length_ref / tokens) ** length_norm
        values *= numpy.repeat(scale.astype("f"), lengths)
    return keys, values, lengths
