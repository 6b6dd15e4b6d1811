"""Ticket priority, from the customer's sentiment and words that say it cannot wait."""

from __future__ import annotations

import re

from nlp import TriageResult

# Words customers use when something cannot wait, in the languages the bot speaks.
_URGENT = re.compile(
    r"\b(urgent[ei]?|urgently|asap|emergency|immediately|right now|still (down|not)|"
    r"subito|urgenza|emergenza|immediatamente|al più presto|ancora (giù|non)|"
    r"da (giorni|settimane)|for (days|weeks))\b",
    re.IGNORECASE,
)


def priority_of(triage: TriageResult, text: str) -> str:
    """high, normal or low."""
    urgent = bool(_URGENT.search(text))
    if urgent and triage.sentiment == "negative":
        return "high"
    if urgent or triage.sentiment == "negative":
        return "normal"
    return "low"
