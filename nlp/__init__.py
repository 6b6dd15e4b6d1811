"""Triage of customer messages: kind (care / idea / other), sentiment, topic, language and
keywords, from a small spaCy pipeline trained on the corpus in ``nlp/corpus/``.

    from nlp import load_triager
    triager = load_triager()
    triager.triage_one("la fibra non va da ieri").kind   # 'care'
"""

from nlp.triage import (
    KINDS,
    SENTIMENTS,
    TOPICS,
    Triager,
    TriageResult,
    load_triager,
)

__all__ = ["KINDS", "SENTIMENTS", "TOPICS", "TriageResult", "Triager", "load_triager"]
