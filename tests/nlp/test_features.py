"""The classifiers' features: shared by the three classifiers of a batch, never mixed up
between batches."""

from __future__ import annotations

import gc
import hashlib
import math

import numpy
import pytest
import spacy
from spacy.tokens import Doc

from nlp import features, langdetect, rules
from nlp.triage import DEFAULT_MODEL_DIR, Triager

TEXTS = [
    "la fibra non va da ieri e nessuno mi risponde",
    "could you add a dark mode? the app is great otherwise",
    "grazie mille, tutto risolto!",
    "my bill doubled this month, why??",
    "",
    "👍",
    "Bolletta <b>sbagliata</b> & doppio addebito",
    "NON FUNZIONA NIENTE",
]

# (ngram_size, char_min, char_max, char_weight, cue_weight): the shipped classifiers' settings
# and two that differ from them.
SETTINGS = [(2, 3, 5, 0.1, 2.0), (3, 3, 5, 0.25, 2.0), (2, 3, 5, 0.25, 2.0), (1, 2, 4, 0.5, 0.0)]
# What each classifier computed on its own before the features were shared (commit 44046e9):
# the first 16 hex digits of sha1(keys + values + lengths) of TEXTS, and the number of keys.
BEFORE_SHARING = {
    SETTINGS[0]: ("f06e311c1f50408e", 616),
    SETTINGS[1]: ("f230fcba3f706e0c", 668),
    SETTINGS[2]: ("bd52c92636841357", 616),
    SETTINGS[3]: ("93d03355af329b41", 583),
}


def _fresh(docs: list, setting: tuple) -> tuple[numpy.ndarray, ...]:
    features._batches.clear()
    return features.batch_features(docs, *setting)


@pytest.mark.parametrize("first", range(len(SETTINGS)))
def test_a_shared_batch_gives_each_setting_its_own_features(triager: Triager, first: int) -> None:
    docs = [triager.nlp.make_doc(text) for text in TEXTS]
    expected = {setting: _fresh(docs, setting) for setting in SETTINGS}
    features._batches.clear()
    order = [SETTINGS[first], *[s for i, s in enumerate(SETTINGS) if i != first]]
    for setting in order:
        keys, values, lengths = features.batch_features(docs, *setting)
        want_keys, want_values, want_lengths = expected[setting]
        assert numpy.array_equal(keys, want_keys)
        assert numpy.array_equal(values, want_values)
        assert numpy.array_equal(lengths, want_lengths)
    assert len(expected[SETTINGS[1]][0]) > len(expected[SETTINGS[0]][0])  # trigrams count
    assert lengths.sum() == len(keys) and lengths[TEXTS.index("")] == 0


@pytest.mark.parametrize("setting", SETTINGS)
def test_the_shared_features_are_those_each_classifier_computed_alone(
    triager: Triager, setting: tuple
) -> None:
    docs = [triager.nlp.make_doc(text) for text in TEXTS]
    keys, values, lengths = _fresh(docs, setting)
    digest = hashlib.sha1(keys.tobytes() + values.tobytes() + lengths.tobytes()).hexdigest()
    assert (digest[:16], len(keys)) == BEFORE_SHARING[setting]


def test_no_text_outlives_the_call_that_triaged_it(triager: Triager) -> None:
    triager.triage(TEXTS)
    assert features._batches == []
    triager.triage_one(TEXTS[0])
    assert features._batches == []


def test_the_three_classifiers_share_one_computation_per_batch(
    triager: Triager, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[int] = []

    class Counted(features._Batch):
        def __init__(self, docs: list) -> None:
            built.append(len(docs))
            super().__init__(docs)

    monkeypatch.setattr(features, "_Batch", Counted)
    features._batches.clear()
    texts = [f"{text} ({i})" for i in range(100) for text in TEXTS if text]
    triager.triage(texts)
    assert len(built) == math.ceil(len(texts) / 256)
    assert sum(built) == len(texts)


def test_many_batches_give_what_each_message_alone_gives(triager: Triager) -> None:
    # Numbered so that no two batches hold the same texts: a batch's shared features must
    # never be taken for another's.
    texts = [f"{text} {i}" if text else text for i in range(90) for text in TEXTS]
    batched = triager.triage(texts)
    for text, result in zip(texts[::7], batched[::7], strict=True):
        assert result == triager.triage_one(text)


def test_a_full_type_cache_starts_again_between_batches_and_nothing_changes(
    triager: Triager, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [f"{text} n{i}" if text else text for i in range(120) for text in TEXTS]
    expected = triager.triage(texts)
    resets: list[bool] = []
    reset_if_full = features._types.reset_if_full

    def counted() -> bool:
        resets.append(reset_if_full())
        return resets[-1]

    monkeypatch.setattr(features._types, "reset_if_full", counted)
    # Every new number is a new type: the cache is over the limit before every batch.
    monkeypatch.setattr(features, "_CACHE_LIMIT", 50)
    assert triager.triage(texts) == expected
    assert resets == [True] * math.ceil(len([text for text in texts if text]) / 256)
    assert len(features._types.tokens) < 600
    # A document kept from before a reset (as training keeps its examples) is read again.
    docs = [triager.nlp.make_doc(text) for text in TEXTS]
    setting = SETTINGS[1]
    before = _fresh(docs, setting)
    triager.triage(texts)
    after = _fresh(docs, setting)
    for old, new in zip(before, after, strict=True):
        assert numpy.array_equal(old, new)


def test_a_pipeline_with_a_rule_component_is_run_whole_with_the_same_results(
    triager: Triager,
) -> None:
    nlp = spacy.load(DEFAULT_MODEL_DIR)
    nlp.add_pipe(rules.FACTORY, config={"boost": 0.0})
    whole = Triager(nlp)
    texts = [f"{text} {i}" if text else text for i in range(40) for text in TEXTS]
    assert whole.triage(texts) == triager.triage(texts)
    assert whole.triage_one(TEXTS[1]) == triager.triage_one(TEXTS[1])
    # And the rules do act when they may (the component is not skipped).
    nlp.get_pipe(rules.FACTORY).boost = 0.4
    boosted = whole.triage_one(TEXTS[1]).probabilities["idea"]
    assert boosted > triager.triage_one(TEXTS[1]).probabilities["idea"]


def test_a_document_read_back_elsewhere_gets_its_features_anew(
    triager: Triager, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "my bill doubled this month, why??"
    doc = triager.nlp.make_doc(text)
    features._batches.clear()
    features.batch_features([doc], *SETTINGS[0])
    assert features._BASE in doc.user_data  # the type ids travel with the document
    data = doc.to_bytes()
    # Another process: its own type ids, handed out in its own order.
    monkeypatch.setattr(features, "_types", features._Types())
    features.batch_features([triager.nlp.make_doc("la fibra non va")], *SETTINGS[0])
    read_back = Doc(triager.nlp.vocab).from_bytes(data)
    fresh = triager.nlp.make_doc(text)
    got_and_want = zip(_fresh([read_back], SETTINGS[0]), _fresh([fresh], SETTINGS[0]), strict=True)
    for got, want in got_and_want:
        assert numpy.array_equal(got, want)
    assert features.language_evidence([read_back], 400) == features.language_evidence([fresh], 400)


def test_a_document_keeps_only_its_own_tokens(triager: Triager) -> None:
    docs = [triager.nlp.make_doc(text) for text in TEXTS]
    _fresh(docs, SETTINGS[0])
    for doc in docs:
        _, orths, types = doc.user_data[features._BASE]
        assert len(orths) == len(types) == len(doc)
        assert orths.base is None and types.base is None  # not views of the whole batch


def test_no_word_of_a_message_is_kept_as_text_by_the_features(triager: Triager) -> None:
    triager.triage(["il router zorblattissimo non si connette", "zorblattissimo!"])
    seen: set[int] = set()
    todo: list[object] = [features._types, features._batches]
    texts: list[str] = []
    tokens = 0
    while todo:
        item = todo.pop()
        if id(item) in seen or isinstance(item, type):
            continue
        seen.add(id(item))
        tokens += isinstance(item, features._Token)
        if isinstance(item, str):
            texts.append(item)
        elif not isinstance(item, (int, float, bytes)):
            todo.extend(gc.get_referents(item))
    assert tokens >= 7  # the walk reached the cached types, these messages' among them
    assert not [text for text in texts if "zorblatt" in text]


def test_the_language_is_read_from_the_first_400_tokens(triager: Triager) -> None:
    text = "the network is down again " * 90 + "la rete non funziona ancora " * 60
    doc = triager.nlp.make_doc(text)
    en, it = features.language_evidence([doc], 400)
    scores = [langdetect.token_score(token.text) for token in doc[:400]]
    assert (en[0], it[0]) == (sum(e for e, _ in scores), sum(i for _, i in scores))
    assert triager.triage_one(text).language == "en"
    assert triager.triage_one(text[text.index("la rete") :]).language == "it"


def test_words_met_by_another_pipeline_are_never_read_from_this_one_s_vocabulary(
    triager: Triager,
) -> None:
    # Another pipeline (its own vocabulary) meets a word first, with no character n-grams.
    other = spacy.load(DEFAULT_MODEL_DIR)
    features._batches.clear()
    features.batch_features([other.make_doc("Il Quaxolfon non va")], 2, 3, 5, 0.0, 2.0)
    assert "quaxolfon" not in triager.nlp.vocab.strings
    # The shipped pipeline's batches then need character n-grams, without that word...
    docs = [triager.nlp.make_doc(text) for text in TEXTS]
    keys, values, lengths = _fresh(docs, SETTINGS[0])
    digest = hashlib.sha1(keys.tobytes() + values.tobytes() + lengths.tobytes()).hexdigest()
    assert (digest[:16], len(keys)) == BEFORE_SHARING[SETTINGS[0]]
    # ... and with it.
    doc = triager.nlp.make_doc("Il Quaxolfon non va")
    keys = _fresh([doc], SETTINGS[0])[0]
    features._types._start()  # as a new process would compute them
    again = _fresh([triager.nlp.make_doc("Il Quaxolfon non va")], SETTINGS[0])[0]
    assert numpy.array_equal(keys, again)
