"""A fast bag-of-features text classifier for spaCy's ``textcat`` component.

``spacy.TextCatBOW.v3`` hashes n-grams of the exact token text (``ORTH``), so "Potreste",
"potreste" and "potresti" share nothing. Customer messages are full of case changes, typos,
missing accents and inflections, so this architecture uses, per document:

* word n-grams (1..``ngram_size``) of the lower-cased tokens, with start and end markers
  (so "could you" at the start of a message is its own feature);
* character n-grams (``char_min``..``char_max``) of each lower-cased, accent-stripped word,
  with word-boundary markers, weighted by ``char_weight``.

The features feed a hashed sparse linear layer (thinc's ``SparseLinear_v2``) and a softmax
(exclusive classes) or logistic output: one multiply-add per feature, so prediction costs
microseconds. The model has no state beyond its weights; the per-word character features are
cached in-process, and a document's features are computed once and shared by all components
with the same feature settings.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy
from spacy.attrs import LOWER, ORTH
from spacy.ml.models.textcat import resize_and_set_ref
from spacy.strings import hash_string
from spacy.tokens import Doc
from spacy.util import registry
from nlp import cues as _cues
from thinc.layers.resizable import resizable, resize_linear_weighted
from thinc.api import (
    Logistic,
    Model,
    SparseLinear_v2,
    chain,
    softmax_activation,
    with_cpu,
)

ARCHITECTURE = "feedbackbot.HashBOW.v1"

_BOS = numpy.uint64(hash_string("<feedbackbot-bos>"))
_EOS = numpy.uint64(hash_string("<feedbackbot-eos>"))
_NEG_VALUE = -5000.0
_CACHE_LIMIT = 500_000
_EMPTY = numpy.zeros((0,), dtype="uint64")

# word (lower-case hash) -> its character n-gram hashes, for one (min, max) setting.
_char_cache: dict[tuple[int, int], dict[int, numpy.ndarray]] = {}
# token (ORTH hash) -> (hashes of its cue features, its word classes, question-start flag)
_cue_cache: dict[int, tuple[numpy.ndarray, tuple[str, ...], bool]] = {}


def _cue_hash(name: str) -> int:
    return hash_string("cue\x1f" + name)


_COOCCUR = True
_SCOPE_BREAKS = frozenset(",.;:!?()[]\"-–—") | {"but", "ma", "però", "pero", "and", "e"}
_DOC_CUES = {
    name: _cue_hash(name)
    for name in ("Q_START", "Q_END", "SHOUT", "LEN_1_2", "LEN_3_6", "LEN_7_15", "LEN_16_PLUS")
}


def _token_cues(text: str) -> tuple[numpy.ndarray, tuple[str, ...], bool]:
    plain = strip_accents(text.lower()).replace("’", "'")
    names = tuple(dict.fromkeys(_cues.token_cues(text, plain)))
    classes = tuple(name for name in names if name in _cues.CLASS_NAMES)
    hashes = numpy.asarray([_cue_hash(name) for name in names], dtype="uint64")
    return hashes, classes, _cues.is_question_start(plain)


def cue_features(doc: Doc) -> numpy.ndarray:
    """Hashes of the word-class, class-pair and message-shape cues of a document."""
    if len(_cue_cache) > _CACHE_LIMIT:
        _cue_cache.clear()
    strings = doc.vocab.strings
    parts: list[numpy.ndarray] = []
    classes: list[tuple[str, ...]] = []
    upper = 0
    upper_hash = _cue_hash("UPPER_WORD")
    q_mark = _cue_hash("Q_MARK")
    first = True
    extra: list[int] = []
    last_hashes = _EMPTY
    for orth in doc.to_array(ORTH).tolist():
        info = _cue_cache.get(orth)
        if info is None:
            info = _token_cues(strings[orth])
            _cue_cache[orth] = info
        hashes, token_classes, question = info
        if first:
            if question:
                extra.append(_DOC_CUES["Q_START"])
            first = False
        if len(hashes):
            parts.append(hashes)
            if upper_hash in hashes:
                upper += 1
        classes.append(token_classes)
        last_hashes = hashes
    if q_mark in last_hashes:
        extra.append(_DOC_CUES["Q_END"])
    if upper >= 2:
        extra.append(_DOC_CUES["SHOUT"])
    extra.append(_DOC_CUES[_cues.length_cue(len(doc))])
    # Words in a negation scope (up to 3 words after "non", "not", "never"...):
    # "non è mai arrivato" -> NOT:arrivato, NOT:ARRIVE.
    lowers = doc.to_array(LOWER).tolist()
    scope = 0
    for i, token_classes in enumerate(classes):
        if _cues.NEGATION in token_classes:
            scope = 3
            continue
        if scope:
            if strings[lowers[i]] in _SCOPE_BREAKS:
                scope = 0
                continue
            scope -= 1
            extra.append(hash_string("not\x1f" + strings[lowers[i]]))
            for name in token_classes:
                extra.append(_cue_hash("NOT:" + name))
    # Classes that occur together anywhere: praise + fault is usually sarcasm or "but".
    if _COOCCUR:
        present = sorted({name for token_classes in classes for name in token_classes})
        for i, a in enumerate(present):
            for b in present[i + 1 :]:
                extra.append(_cue_hash("CO:" + a + "+" + b))
    # Pairs of word classes within two tokens: "non funziona" -> NEG+FUNCTION.
    for i, left in enumerate(classes):
        if not left:
            continue
        for right in classes[i + 1 : i + 3]:
            for a in left:
                for b in right:
                    extra.append(_cue_hash(a + "+" + b))
    parts.append(numpy.asarray(extra, dtype="uint64"))
    return numpy.concatenate(parts)


def strip_accents(text: str) -> str:
    """'perché' -> 'perche': customers often leave accents out, or type "e'"."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def _char_ngrams(word: str, lo: int, hi: int) -> numpy.ndarray:
    """Hashes of the character n-grams of one word (with boundary markers)."""
    plain = strip_accents(word).replace("’", "'")
    if not any(ch.isalnum() for ch in plain):
        return _EMPTY
    marked = f"<{plain}>"
    grams = {
        marked[i : i + n]
        for n in range(lo, hi + 1)
        for i in range(max(len(marked) - n + 1, 0))
    }
    if not grams:
        return _EMPTY
    return numpy.asarray(sorted(hash_string("c\x1f" + g) for g in grams), dtype="uint64")


def doc_features(
    doc: Doc,
    ngram_size: int,
    char_min: int,
    char_max: int,
    char_weight: float,
    cue_weight: float = 0.0,
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The (keys, values) of one document; cached on the doc for the other components.

    Keys may repeat: the sparse linear layer sums over them, which is the same as counting.
    """
    settings = ("feedbackbot.features", ngram_size, char_min, char_max, char_weight, cue_weight)
    cached = doc.user_data.get(settings)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    if len(doc) == 0:
        result = (_EMPTY, numpy.zeros((0,), dtype="f"))
        doc.user_data[settings] = result
        return result
    lowers = doc.to_array(LOWER).astype("uint64", copy=False)
    parts = [lowers]
    if ngram_size > 1:
        words = numpy.concatenate(([_BOS], lowers, [_EOS])).astype("uint64")
        for n in range(2, ngram_size + 1):
            if len(words) >= n:
                parts.append(_ngrams(words, n))
    n_word = sum(len(part) for part in parts)
    n_cue = 0
    if cue_weight > 0:
        cue_keys = cue_features(doc)
        parts.append(cue_keys)
        n_cue = len(cue_keys)
    if char_max >= char_min > 0 and char_weight > 0:
        cache = _char_cache.setdefault((char_min, char_max), {})
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        strings = doc.vocab.strings
        for key in lowers.tolist():
            grams = cache.get(key)
            if grams is None:
                grams = _char_ngrams(strings[key], char_min, char_max)
                cache[key] = grams
            parts.append(grams)
    keys = numpy.concatenate(parts)
    values = numpy.ones((len(keys),), dtype="f")
    values[n_word : n_word + n_cue] = cue_weight
    values[n_word + n_cue :] = char_weight
    result = (keys, values)
    doc.user_data[settings] = result
    return result


def _ngrams(words: numpy.ndarray, n: int) -> numpy.ndarray:
    """Order-sensitive hashes of the n-grams of a uint64 array (vectorised)."""
    # A simple polynomial mix of 64-bit hashes; wrap-around is intended.
    with numpy.errstate(over="ignore"):
        out = words[: len(words) - n + 1].copy()
        for i in range(1, n):
            out = out * numpy.uint64(1_000_003) ^ words[i : len(words) - n + 1 + i]
        out ^= numpy.uint64(n)
    return out


def _extract_forward(
    model: Model, docs: list[Doc], is_train: bool
) -> tuple[tuple[Any, Any, Any], Callable[[Any], list[Any]]]:
    ngram_size = model.attrs["ngram_size"]
    char_min = model.attrs["char_min"]
    char_max = model.attrs["char_max"]
    char_weight = model.attrs["char_weight"]
    cue_weight = model.attrs["cue_weight"]
    batch_keys = []
    batch_vals = []
    for doc in docs:
        keys, vals = doc_features(doc, ngram_size, char_min, char_max, char_weight, cue_weight)
        batch_keys.append(keys)
        batch_vals.append(vals)
    lengths = numpy.asarray([len(k) for k in batch_keys], dtype="int32")
    keys_arr = numpy.concatenate(batch_keys) if batch_keys else _EMPTY
    vals_arr = numpy.concatenate(batch_vals).astype("f") if batch_vals else numpy.zeros((0,), "f")
    ops = model.ops
    out = (ops.asarray(keys_arr), ops.asarray(vals_arr), ops.asarray(lengths))

    def backprop(d_output: Any) -> list[Any]:
        return []

    return out, backprop


def extract_features(
    ngram_size: int, char_min: int, char_max: int, char_weight: float, cue_weight: float
) -> Model:
    """thinc layer: list of Docs -> (keys, values, lengths) for a sparse linear layer."""
    return Model(
        "feedbackbot_features",
        _extract_forward,
        attrs={
            "ngram_size": ngram_size,
            "char_min": char_min,
            "char_max": char_max,
            "char_weight": char_weight,
            "cue_weight": cue_weight,
        },
    )


@registry.architectures(ARCHITECTURE)
def build_hash_bow(
    exclusive_classes: bool,
    ngram_size: int = 2,
    char_min: int = 3,
    char_max: int = 5,
    char_weight: float = 0.25,
    cue_weight: float = 0.0,
    length: int = 131072,
    nO: int | None = None,
) -> Model[list[Doc], Any]:
    """Hashed bag of word n-grams and character n-grams, then a linear softmax/logistic."""
    length = 2 ** (max(length, 2) - 1).bit_length()
    fill_defaults = {"b": _NEG_VALUE, "W": 0}
    sparse = SparseLinear_v2(nO=nO, length=length)
    resizable_layer = resizable(
        sparse, resize_layer=partial(resize_linear_weighted, fill_defaults=fill_defaults)
    )
    output = softmax_activation() if exclusive_classes else Logistic()
    model = chain(
        extract_features(ngram_size, char_min, char_max, char_weight, cue_weight), resizable_layer
    )
    model = with_cpu(model, model.ops)
    model = chain(model, with_cpu(output, output.ops))
    if nO is not None:
        model.set_dim("nO", nO)
    model.set_ref("output_layer", sparse)
    model.attrs["multi_label"] = not exclusive_classes
    model.attrs["resize_output"] = partial(resize_and_set_ref, resizable_layer=resizable_layer)
    return model
