"""Optional rule layer: spaCy Matcher patterns for suggestion phrasing.

"would be nice", "could you add", "sarebbe bello", "potreste aggiungere": when such a phrase
is present, the component moves ``boost`` of probability mass to ``idea`` from the other two
kinds (in proportion), unless the message also carries a strong fault cue. The component is
in the shipped pipeline only if ``[triage] use_rules`` in ``nlp/config.cfg`` says so; keep it
there only while held-out measurement (``python -m nlp.train`` prints both) shows it helps.
"""

from __future__ import annotations

from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

FACTORY = "feedbackbot_suggestion_rules"

# Each pattern: a list of lower-case token sequences (alternatives for each position).
_SUGGESTION_PHRASES = [
    # English
    "would be nice",
    "would be great",
    "would be cool",
    "would be good",
    "would be helpful",
    "would be useful",
    "would love",
    "it'd be nice",
    "could you add",
    "can you add",
    "could you make",
    "could you offer",
    "why not add",
    "why don't you",
    "you should add",
    "you should offer",
    "you should make",
    "please add",
    "i suggest",
    "i'd suggest",
    "suggestion :",
    "my suggestion",
    "feature request",
    "how about adding",
    "what about adding",
    "i wish",
    "i would like to see",
    "it would help",
    "consider adding",
    "idea :",
    # Italian
    "sarebbe bello",
    "sarebbe comodo",
    "sarebbe utile",
    "sarebbe carino",
    "sarebbe meglio",
    "sarebbe fantastico",
    "sarebbe top",
    "potreste aggiungere",
    "potreste mettere",
    "potreste fare",
    "potreste creare",
    "potreste introdurre",
    "perché non fate",
    "perche non fate",
    "perché non mettete",
    "perche non mettete",
    "dovreste aggiungere",
    "dovreste mettere",
    "dovreste fare",
    "vi propongo",
    "propongo",
    "proposta :",
    "suggerimento :",
    "suggerisco",
    "mi piacerebbe",
    "ci vorrebbe",
    "servirebbe",
    "che ne dite",
    "idea :",
    "aggiungete",
    "mettete",
]

# Cues of a current fault: when present, rules do not push towards idea.
_FAULT_WORDS = [
    "not working",
    "doesn't work",
    "does not work",
    "broken",
    "error",
    "can't",
    "cannot",
    "charged",
    "refund",
    "no signal",
    "down",
    "non funziona",
    "non va",
    "non riesco",
    "errore",
    "bloccata",
    "bloccato",
    "guasto",
    "addebitato",
    "rimborso",
    "niente segnale",
    "non mi",
    "da ieri",
    "da giorni",
    "since yesterday",
    "for days",
]


def _patterns(phrases: list[str]) -> list[list[dict[str, Any]]]:
    return [[{"LOWER": word} for word in phrase.split()] for phrase in phrases]


class SuggestionRules:
    """Adjusts ``doc.cats`` of the kind classifier after it ran."""

    def __init__(self, nlp: Language, name: str, boost: float, fault_guard: bool) -> None:
        self.name = name
        self.boost = boost
        self.fault_guard = fault_guard
        self.suggestions = Matcher(nlp.vocab)
        self.suggestions.add("SUGGESTION", _patterns(_SUGGESTION_PHRASES))
        self.faults = Matcher(nlp.vocab)
        self.faults.add("FAULT", _patterns(_FAULT_WORDS))

    def __call__(self, doc: Doc) -> Doc:
        if self.boost <= 0 or "idea" not in doc.cats:
            return doc
        if not self.suggestions(doc):
            return doc
        if self.fault_guard and self.faults(doc):
            return doc
        cats = doc.cats
        idea = cats["idea"]
        rest = 1.0 - idea
        if rest <= 0:
            return doc
        moved = min(self.boost, rest)
        for label in ("care", "other"):
            if label in cats:
                cats[label] = cats[label] - moved * cats[label] / rest
        cats["idea"] = idea + moved
        return doc


@Language.factory(FACTORY, default_config={"boost": 0.25, "fault_guard": True})
def make_suggestion_rules(
    nlp: Language, name: str, boost: float, fault_guard: bool
) -> SuggestionRules:
    return SuggestionRules(nlp, name, boost, fault_guard)
