"""Keywords of a message: its content words, lower-cased, most frequent first.

Lemmatisation needs downloaded models, so keywords are plain tokens minus spaCy's stop words
for the message's language (and a few chat fillers), without punctuation, numbers-only tokens,
URLs, e-mails and one-letter words.
"""

from __future__ import annotations

from functools import lru_cache

from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP_WORDS
from spacy.lang.it.stop_words import STOP_WORDS as IT_STOP_WORDS
from spacy.lexeme import Lexeme
from spacy.tokens import Doc

from nlp.features import orths

MAX_KEYWORDS = 5


def _split_words(text: str) -> frozenset[str]:
    """A set from whitespace-separated words (keeps long word lists readable)."""
    return frozenset(text.split())


_FILLERS = _split_words(
    """
        ok okay pls plz please thanks thank thx hi hello hey guys yes yeah no lol ciao
        grazie salve buongiorno buonasera raga ragazzi cmq nn xké xke ke qnd x tipo boh
        mah eh beh vabbè vabbe po' c'è l' d' un' dell' all' nell' sull' dall' mille
    """
)
# English contractions: "won't", "i'd", "it's" are stop words too.
_EN_CLITICS = ("n't", "'s", "'d", "'m", "'ve", "'ll", "'re")


@lru_cache(maxsize=4)
def stop_words(language: str) -> frozenset[str]:
    """spaCy's stop words for the language, plus chat fillers of both languages."""
    base = IT_STOP_WORDS if language == "it" else EN_STOP_WORDS
    return frozenset(w.lower() for w in base) | _FILLERS


_MAX_WORD = 30
_CACHE_LIMIT = 200_000
# language -> ORTH hash -> the keyword form of that token, or "" when it is not a keyword.
_word_cache: dict[str, dict[int, str]] = {}


def keywords(doc: Doc, language: str, limit: int = MAX_KEYWORDS) -> tuple[str, ...]:
    """Up to ``limit`` content words, by frequency then first appearance."""
    cache = _word_cache.setdefault(language, {})
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    counts: dict[str, int] = {}
    vocab = doc.vocab
    for orth in orths(doc):
        word = cache.get(orth)
        if word is None:
            word = _keyword_form(vocab[orth], language)
            cache[orth] = word
        if word:
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])  # stable: first seen wins ties
    return tuple(word for word, _ in ranked[:limit])


def _keyword_form(lexeme: Lexeme, language: str) -> str:
    """The keyword a token stands for, or '' for stop words, punctuation, numbers, URLs."""
    if lexeme.is_punct or lexeme.is_space or lexeme.like_url or lexeme.like_email:
        return ""
    stops = stop_words(language)
    word = lexeme.lower_.strip("'’\"`*_-.,!?").replace("’", "'")
    if word.endswith(_EN_CLITICS):
        return ""
    if "'" in word:
        # Elided article glued on: "l'app" -> "app", "dell'offerta" -> "offerta".
        head, _, tail = word.rpartition("'")
        if len(tail) >= 2 and (head + "'" in stops or head in stops or len(head) <= 5):
            word = tail
    if (
        len(word) < 2
        or len(word) > _MAX_WORD
        or word in stops
        or not any(ch.isalpha() for ch in word)
    ):
        return ""
    return word
