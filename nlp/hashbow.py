"""The triage classifiers' architecture, ``feedbackbot.HashBOW.v2``: the document features of
``features`` feed a hashed sparse linear layer (thinc's ``SparseLinear_v2``) and a softmax
(exclusive classes) or logistic output. One multiply-add per feature, so prediction costs
microseconds; the model has no state beyond its weights. Importing this module registers the
architecture, and the ``feedbackbot_textcat`` component that runs it, with spaCy (a pipeline
that uses them loads only after that).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from spacy.language import Language
from spacy.ml.models.textcat import resize_and_set_ref
from spacy.pipeline.textcat import TextCategorizer, textcat_score
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Logistic, Model, SparseLinear_v2, chain, softmax_activation, with_cpu
from thinc.layers.resizable import resizable, resize_linear_weighted

from nlp.features import batch_features

ARCHITECTURE = "feedbackbot.HashBOW.v2"
ARCHITECTURE_V1 = "feedbackbot.HashBOW.v1"
FACTORY = "feedbackbot_textcat"

_NEG_VALUE = -5000.0


def _extract_forward(
    model: Model, docs: list[Doc], is_train: bool
) -> tuple[tuple[Any, Any, Any], Callable[[Any], list[Any]]]:
    attrs = model.attrs
    keys, values, lengths = batch_features(
        docs,
        attrs["ngram_size"],
        attrs["char_min"],
        attrs["char_max"],
        attrs["char_weight"],
        attrs["cue_weight"],
        attrs.get("length_norm", 0.0),
        attrs.get("length_ref", 12),
    )
    # Plain numpy arrays: the model runs on the CPU, which is what SparseLinear expects.
    out = (keys, values, lengths)

    def backprop(d_output: Any) -> list[Any]:
        return []

    return out, backprop


def extract_features(
    ngram_size: int,
    char_min: int,
    char_max: int,
    char_weight: float,
    cue_weight: float,
    length_norm: float = 0.0,
    length_ref: int = 12,
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
            "length_norm": length_norm,
            "length_ref": length_ref,
        },
    )


def _hash_bow(
    exclusive_classes: bool,
    ngram_size: int,
    char_min: int,
    char_max: int,
    char_weight: float,
    cue_weight: float,
    length: int,
    nO: int | None,
    length_norm: float,
    length_ref: int,
    *,
    cpu_wrappers: bool,
) -> Model[list[Doc], Any]:
    length = 2 ** (max(length, 2) - 1).bit_length()
    fill_defaults = {"b": _NEG_VALUE, "W": 0}
    sparse = SparseLinear_v2(nO=nO, length=length)
    resizable_layer: Model[Any, Any] = resizable(
        sparse, resize_layer=partial(resize_linear_weighted, fill_defaults=fill_defaults)
    )
    output = softmax_activation() if exclusive_classes else Logistic()
    features = extract_features(
        ngram_size, char_min, char_max, char_weight, cue_weight, length_norm, length_ref
    )
    model: Model[list[Doc], Any]
    if cpu_wrappers:
        model = with_cpu(chain(features, resizable_layer), features.ops)
        model = chain(model, with_cpu(output, output.ops))
    else:
        model = chain(features, resizable_layer, output)
    if nO is not None:
        model.set_dim("nO", nO)
    model.set_ref("output_layer", sparse)
    model.attrs["multi_label"] = not exclusive_classes
    model.attrs["resize_output"] = partial(resize_and_set_ref, resizable_layer=resizable_layer)
    return model


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
    length_norm: float = 0.0,
    length_ref: int = 12,
) -> Model[list[Doc], Any]:
    """Hashed bag of word n-grams and character n-grams, then a linear softmax/logistic.

    ``length_norm`` > 0 scales a document's feature values by ``(length_ref / tokens) **
    length_norm`` when it has more than ``length_ref`` tokens (0: plain counts). Unlike v1,
    no ``with_cpu`` wrappers (spaCy's own bag of words has them for GPU set-ups): this model
    only ever runs on the CPU, and they cost a walk over every batch's documents."""
    return _hash_bow(
        exclusive_classes,
        ngram_size,
        char_min,
        char_max,
        char_weight,
        cue_weight,
        length,
        nO,
        length_norm,
        length_ref,
        cpu_wrappers=False,
    )


# The signature is v2's again on purpose: spaCy checks a config's arguments against the
# registered function's own parameters, and refuses a **kwargs or functools.partial wrapper.
@registry.architectures(ARCHITECTURE_V1)
def build_hash_bow_v1(
    exclusive_classes: bool,
    ngram_size: int = 2,
    char_min: int = 3,
    char_max: int = 5,
    char_weight: float = 0.25,
    cue_weight: float = 0.0,
    length: int = 131072,
    nO: int | None = None,
    length_norm: float = 0.0,
    length_ref: int = 12,
) -> Model[list[Doc], Any]:
    """The same model inside ``with_cpu`` wrappers, as models saved before 2026-12-07 were
    built: they load with it (their weights are the same kind)."""
    return _hash_bow(
        exclusive_classes,
        ngram_size,
        char_min,
        char_max,
        char_weight,
        cue_weight,
        length,
        nO,
        length_norm,
        length_ref,
        cpu_wrappers=True,
    )


class HashBOWTextCategorizer(TextCategorizer):
    """spaCy's single-label text categorizer, with a leaner ``set_annotations``: the stock one
    reads the ``labels`` property (a new tuple) once per label per document, which was a
    tenth of the triage time."""

    def set_annotations(self, docs: Any, scores: Any) -> None:
        labels = self.labels
        for doc, row in zip(docs, self.model.ops.to_numpy(scores).tolist(), strict=True):
            cats = doc.cats
            for label, score in zip(labels, row, strict=True):
                cats[label] = score


@Language.factory(
    FACTORY,
    assigns=["doc.cats"],
    default_config={"threshold": 0.0, "scorer": {"@scorers": "spacy.textcat_scorer.v2"}},
    default_score_weights={"cats_score": 1.0},
)
def make_textcat(
    nlp: Language, name: str, model: Model, threshold: float, scorer: Any = textcat_score
) -> HashBOWTextCategorizer:
    """The ``textcat`` factory's component, with ``HashBOWTextCategorizer``."""
    return HashBOWTextCategorizer(nlp.vocab, model, name, threshold=threshold, scorer=scorer)
