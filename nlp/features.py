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

What a vocabulary entry contributes (its lower-case form, cues, character n-grams, language
evidence) is worked out once per process and kept by a type id (``_Types``): a batch's word
n-grams, character n-grams and language evidence are numpy gathers over its tokens' type
ids, and only the cues, which depend on a token's neighbours, are a loop over each
document's tokens. A batch's features are computed once and shared by the three classifiers
(``_Batch``).
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Iterable

import numpy
from spacy.attrs import ORTH
from spacy.strings import StringStore, hash_string  # type: ignore[attr-defined]
from spacy.tokens import Doc

from nlp import cues as _cues
from nlp import langdetect as _langdetect

_BOS = hash_string("<feedbackbot-bos>")
_EOS = hash_string("<feedbackbot-eos>")
_CACHE_LIMIT = 500_000
_EMPTY = numpy.zeros((0,), dtype="uint64")
_EMPTY_IDS = numpy.zeros((0,), dtype="int64")
_BASE = "feedbackbot.features"
_SCOPE = 3  # words after a negation that are marked as negated
_SCOPE_BREAKS = frozenset(',.;:!?()[]"-–—') | {"but", "ma", "però", "pero", "and", "e"}


def _cue_hash(name: str) -> int:
    return hash_string("cue\x1f" + name)


_Q_START = _cue_hash("Q_START")
_Q_END = _cue_hash("Q_END")
_SHOUT = _cue_hash("SHOUT")
_LENGTH = (0, *(_cue_hash(_cues.length_cue(n)) for n in range(1, 17)))
_CLASSES = sorted(_cues.CLASS_NAMES)
_PAIR = {(a, b): _cue_hash(a + "+" + b) for a in _CLASSES for b in _CLASSES}
_COOCCUR = {(a, b): _cue_hash("CO:" + a + "+" + b) for a in _CLASSES for b in _CLASSES}
_NOT_CLASS = {a: _cue_hash("NOT:" + a) for a in _CLASSES}

_BIT = {name: 1 << i for i, name in enumerate(_CLASSES)}


class _Token:
    """What the cue rules need to know about one vocabulary entry (one per type id)."""

    __slots__ = (
        "breaks",
        "class_bits",
        "class_set",
        "classes",
        "cues",
        "en",
        "it",
        "lower",
        "negation",
        "not_classes",
        "not_word",
        "orth",
        "qmark",
        "question",
        "upper",
    )

    def __init__(
        self, text: str, orth: int, lower: int, class_set: Callable[[tuple[str, ...]], int]
    ) -> None:
        plain = strip_accents(text.lower()).replace("’", "'")
        names = tuple(dict.fromkeys(_cues.token_cues(text, plain)))
        self.orth = orth
        self.lower = lower
        self.classes = tuple(n for n in names if n in _cues.CLASS_NAMES)
        self.cues = tuple(_cue_hash(n) for n in names)
        self.class_set = class_set(self.classes)
        self.class_bits = sum(_BIT[name] for name in self.classes)
        self.not_classes = tuple(_NOT_CLASS[name] for name in self.classes)
        self.negation = _cues.NEGATION in self.classes
        self.breaks = text.lower() in _SCOPE_BREAKS
        self.not_word = hash_string("not\x1f" + text.lower())
        self.en, self.it = _langdetect.token_score(text)
        self.question = _cues.is_question_start(plain)
        self.qmark = "Q_MARK" in names
        self.upper = "UPPER_WORD" in names


class _Column:
    """A numpy array that grows at its end (doubling its capacity when full)."""

    __slots__ = ("data", "size")

    def __init__(self, dtype: str) -> None:
        self.data = numpy.zeros((1024,), dtype=dtype)
        self.size = 0

    def extend(self, values: Iterable[object]) -> None:
        added = numpy.fromiter(values, dtype=self.data.dtype)
        end = self.size + len(added)
        if end > len(self.data):
            grown = numpy.zeros((max(end, 2 * len(self.data)),), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = added
        self.size = end


class _Rows:
    """A row of uint64 hashes for some type ids, stored end to end, read back for many
    types at once (``gather``). ``missing`` tells which types have none yet."""

    __slots__ = ("count", "pool", "start")

    def __init__(self) -> None:
        self.pool = _Column("uint64")
        self.start = _Column("int64")
        self.count = _Column("int64")  # -1: no row yet

    def missing(self, types: numpy.ndarray, known: int) -> list[int]:
        """Those of ``types`` (ids below ``known``) that have no row yet, once each."""
        if self.count.size < known:
            added = known - self.count.size
            self.start.extend([0] * added)
            self.count.extend([-1] * added)
        new: list[int] = numpy.unique(types[self.count.data[types] < 0]).tolist()
        return new

    def put(self, types: list[int], rows: list[tuple[int, ...]]) -> None:
        """Store the rows of ``types`` (which ``missing`` named)."""
        lengths = [len(row) for row in rows]
        self.start.data[types] = self.pool.size + numpy.cumsum([0, *lengths[:-1]])
        self.count.data[types] = lengths
        self.pool.extend(h for row in rows for h in row)

    def gather(self, types: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
        """The rows of ``types`` end to end, and each one's length."""
        counts = self.count.data[types]
        total = int(counts.sum())
        if not total:
            return _EMPTY, counts
        first = numpy.cumsum(counts) - counts
        index = numpy.arange(total, dtype="int64") + numpy.repeat(
            self.start.data[types] - first, counts
        )
        return self.pool.data[index], counts


class _Types:
    """The vocabulary entries (``ORTH``) seen so far, by type id: their ``_Token``, and in
    columns their lower-case hash, language evidence and character n-gram hashes; and the
    word-class sets the entries have (a handful), with the cues of a pair of sets and of the
    classes of a document worked out once.

    Triage runs in one worker thread (``bot.core.triage``): nothing here is locked."""

    def __init__(self) -> None:
        self._start()

    def _start(self) -> None:
        # Marks the type ids kept on documents (``_doc_types``): unique to this process and
        # this start, so ids from before a reset, or from another process (a document read
        # back with its ``user_data``), are never taken for today's.
        self.generation = uuid.uuid4().hex
        self.ids: dict[int, int] = {}
        self.tokens: list[_Token] = []
        self.lower = _Column("uint64")
        self.en = _Column("float64")
        self.it = _Column("float64")
        self._chars: dict[tuple[int, int], _Rows] = {}
        self._class_sets: dict[tuple[str, ...], int] = {(): 0}
        self._class_set_list: list[tuple[str, ...]] = [()]
        self._pair_rows: dict[tuple[int, int], tuple[int, ...]] = {}
        self._cooccur_rows: dict[int, tuple[int, ...]] = {}

    def reset_if_full(self) -> bool:
        """Start again when the cache is full (between batches only: type ids change)."""
        if len(self.tokens) <= _CACHE_LIMIT:
            return False
        self._start()
        return True

    def ids_of(self, orths: list[int], strings: StringStore) -> numpy.ndarray:
        """The type ids of the tokens ``orths`` (new entries are added)."""
        ids = self.ids
        found = [ids.get(orth, -1) for orth in orths]
        if -1 in found:
            new: list[_Token] = []
            for i, orth in enumerate(orths):
                if found[i] == -1:
                    tid = ids.get(orth)
                    if tid is None:
                        text = strings[orth]
                        tid = ids[orth] = len(self.tokens) + len(new)
                        lower = strings.add(text.lower())
                        new.append(_Token(text, orth, lower, self.class_set))
                    found[i] = tid
            self.tokens.extend(new)
            self.lower.extend(t.lower for t in new)
            self.en.extend(t.en for t in new)
            self.it.extend(t.it for t in new)
        return numpy.array(found, dtype="int64")

    def chars(
        self, char_min: int, char_max: int, types: numpy.ndarray, strings: StringStore
    ) -> _Rows:
        """The character n-gram hashes for these sizes, with rows for ``types`` (words of a
        batch whose vocabulary is ``strings``: the words are read from there, not kept)."""
        rows = self._chars.setdefault((char_min, char_max), _Rows())
        new = rows.missing(types, len(self.tokens))
        if new:
            words = [strings[self.tokens[tid].orth].lower() for tid in new]
            rows.put(new, [_char_ngrams(word, char_min, char_max) for word in words])
        return rows

    def class_set(self, classes: tuple[str, ...]) -> int:
        """The id of a set of word classes (0 for none)."""
        found = self._class_sets.get(classes)
        if found is None:
            found = self._class_sets[classes] = len(self._class_set_list)
            self._class_set_list.append(classes)
        return found

    def pair_row(self, left: int, right: int) -> tuple[int, ...]:
        """The pair cues of a token of class set ``left`` followed by one of ``right``."""
        row = self._pair_rows.get((left, right))
        if row is None:
            sets = self._class_set_list
            row = tuple(_PAIR[a, b] for a in sets[left] for b in sets[right])
            self._pair_rows[left, right] = row
        return row

    def cooccur_row(self, bits: int) -> tuple[int, ...]:
        """The co-occurrence cues of the classes whose ``_BIT`` are set in ``bits``."""
        row = self._cooccur_rows.get(bits)
        if row is None:
            present = [name for name in _CLASSES if bits & _BIT[name]]
            row = tuple(_COOCCUR[a, b] for i, a in enumerate(present) for b in present[i + 1 :])
            self._cooccur_rows[bits] = row
        return row


_types = _Types()


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


def _doc_cues(infos: list[_Token], out: list[int]) -> None:
    """Add the word-class, class-pair, negation and message-shape cues of a non-empty
    document (its tokens' ``_Token``) to ``out``."""
    if infos[0].question:
        out.append(_Q_START)
    if infos[-1].qmark:
        out.append(_Q_END)
    if sum(1 for info in infos if info.upper) >= 2:
        out.append(_SHOUT)
    out.append(_LENGTH[min(len(infos), 16)])
    scope = 0
    present = 0
    n = len(infos)
    for i, info in enumerate(infos):
        out.extend(info.cues)
        if info.class_set:
            present |= info.class_bits
            # Pairs of word classes within two tokens: "non funziona" -> NEG+FUNCTION.
            for j in range(i + 1, min(i + 3, n)):
                if infos[j].class_set:
                    out.extend(_types.pair_row(info.class_set, infos[j].class_set))
        # Words in a negation scope: "non è mai arrivato" -> NOT:arrivato, NOT:ARRIVE.
        if info.negation:
            scope = _SCOPE
        elif scope:
            if info.breaks:
                scope = 0
            else:
                scope -= 1
                out.append(info.not_word)
                out.extend(info.not_classes)
    # Classes that occur together anywhere: praise + fault is usually sarcasm or "but".
    out.extend(_types.cooccur_row(present))


def _doc_types(docs: list[Doc]) -> list[numpy.ndarray]:
    """Each document's token type ids (kept on the document for its next batch)."""
    generation = _types.generation
    found: list[numpy.ndarray | None] = []
    todo: list[int] = []
    for i, doc in enumerate(docs):
        cached = doc.user_data.get(_BASE)
        if cached is not None and cached[0] == generation:
            found.append(cached[2])
        else:
            found.append(None)
            todo.append(i)
    if todo:
        flat = numpy.concatenate([docs[i].to_array(ORTH) for i in todo]).astype("uint64")
        types = _types.ids_of(flat.tolist(), docs[0].vocab.strings)
        end = 0
        for i in todo:
            start, end = end, end + len(docs[i])
            # Copies: a view would keep the whole batch's tokens alive with each document.
            doc_types = types[start:end].copy()
            docs[i].user_data[_BASE] = (generation, flat[start:end].copy(), doc_types)
            found[i] = doc_types
    return found  # type: ignore[return-value]


def orths(doc: Doc) -> list[int]:
    """The document's token ids (``ORTH``), read once with its type ids."""
    cached = doc.user_data.get(_BASE)
    found: list[int] = (cached[1] if cached is not None else doc.to_array(ORTH)).tolist()
    return found


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
    """What the classifiers of one batch share: its tokens' type ids, the word sequence, word
    n-grams, cues and character n-grams, and the ordered key layouts built from them.

    spaCy hands each component of the pipeline the same batch in turn, so the three
    classifiers compute all this once per batch instead of once each."""

    def __init__(self, docs: list[Doc]) -> None:
        if _types.reset_if_full():
            _batches.clear()
        self.docs = docs
        per_doc = _doc_types(docs)
        counts = [len(types) for types in per_doc]
        self.types = numpy.concatenate(per_doc) if per_doc else _EMPTY_IDS
        self.lengths = numpy.array(counts, dtype="int64")
        self.first = numpy.cumsum(self.lengths) - self.lengths  # each document's first token
        self.token_doc = numpy.repeat(numpy.arange(len(docs), dtype="int64"), self.lengths)
        self.nonempty_index = numpy.flatnonzero(self.lengths)
        self.lowers = _types.lower.data[self.types]
        # The word sequence: each non-empty document's lower-case tokens between markers.
        lowers = self.lowers.tolist()
        seq: list[int] = []
        end = 0
        for count in counts:
            if count:
                start, end = end, end + count
                seq.append(_BOS)
                seq.extend(lowers[start:end])
                seq.append(_EOS)
        self.arr = numpy.array(seq, dtype="uint64")
        marked = numpy.where(self.lengths > 0, self.lengths + 2, 0)
        self.doc_of = numpy.repeat(numpy.arange(len(docs), dtype="int64"), marked)
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
            return self.lowers, self.token_doc
        if isinstance(code, int) and code > 1:
            if len(arr) < code:
                return _EMPTY, _EMPTY_IDS
            grams = _ngram_hashes(arr, code)
            same_doc = doc_of[: len(grams)] == doc_of[code - 1 :]
            return grams[same_doc], doc_of[: len(grams)][same_doc]
        if code == _CUES:
            return self._cues()
        assert isinstance(code, tuple)
        strings = self.docs[0].vocab.strings
        rows = _types.chars(int(code[1]), int(code[2]), self.types, strings)
        keys, counts = rows.gather(self.types)
        return keys, numpy.repeat(self.token_doc, counts)

    def _cues(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        """The cue hashes (``_doc_cues``) of every document, and their documents."""
        tokens = _types.tokens
        infos = [tokens[tid] for tid in self.types.tolist()]
        keys: list[int] = []
        counts: list[int] = []
        for start, length in zip(
            self.first[self.nonempty_index].tolist(),
            self.lengths[self.nonempty_index].tolist(),
            strict=True,
        ):
            before = len(keys)
            _doc_cues(infos[start : start + length], keys)
            counts.append(len(keys) - before)
        return numpy.array(keys, dtype="uint64"), numpy.repeat(self.nonempty_index, counts)

    def language_evidence(self, limit: int) -> tuple[numpy.ndarray, numpy.ndarray]:
        """Each document's summed (English, Italian) evidence over its first ``limit`` tokens."""
        position = numpy.arange(len(self.types)) - numpy.repeat(self.first, self.lengths)
        kept = position < limit
        types, docs = self.types[kept], self.token_doc[kept]
        n = len(self.docs)
        en = numpy.bincount(docs, weights=_types.en.data[types], minlength=n)
        it = numpy.bincount(docs, weights=_types.it.data[types], minlength=n)
        return en, it

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


def language_evidence(docs: list[Doc], limit: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(English, Italian) evidence of each document's first ``limit`` tokens (``langdetect``
    scores, summed)."""
    return _batch(docs).language_evidence(limit)


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
    same as counting. Each document's keys are in the same order as before the features were
    shared and gathered (so the sums, and the scores, are the same to the last bit), and the
    classifiers of one batch share all of it (``_Batch``).
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
