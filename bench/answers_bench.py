# ruff: noqa: E501 -- the labelled data reads best one entry a line
"""Self-service answers: how the match threshold is chosen, and how fast matching is.

1. Threshold: labelled care requests (each with the answer that solves it, or none) against a
   small answer book in English and Italian; precision, recall and F1 of "the right answer is
   among those suggested" for each threshold. ANSWER_MATCH_THRESHOLD is the threshold with the
   best F1 among those whose precision is at least 0.95 (a wrong suggestion costs the customer
   a read and a press; a missed one only costs the wait they would have had anyway).
2. Speed: one message against 1,000 answers with the cached index (built once, outside any
   transaction): p50/p99 per match, and the time to build the index.

    .venv/bin/python bench/answers_bench.py
"""

from __future__ import annotations

import random
import statistics
import time

from bot.domain.answers import AnswerIndex

BOOK = [
    (
        1,
        "en",
        "Turn on roaming before a trip",
        "Open the app, Settings, Roaming, switch roaming on before you travel abroad.",
    ),
    (
        2,
        "en",
        "Router drops the wifi",
        "Restart the router, move it away from the microwave and set the wifi channel to automatic.",
    ),
    (
        3,
        "en",
        "Charged twice on a bill",
        "A double charge is refunded within 5 days; check your invoice in the app under Billing.",
    ),
    (
        4,
        "en",
        "Change the SIM PIN",
        "In the phone settings, SIM lock, enter the old PIN and the new one; the PUK is on the SIM card.",
    ),
    (
        5,
        "en",
        "Fibre light is red",
        "A red light on the fibre modem means no signal: check the cable is plugged in, then restart the modem.",
    ),
    (
        6,
        "it",
        "Attivare il roaming prima di un viaggio",
        "Apri l'app, Impostazioni, Roaming, e attiva il roaming prima di partire per l'estero.",
    ),
    (
        7,
        "it",
        "Il router perde il wifi",
        "Riavvia il router, allontanalo dal microonde e imposta il canale wifi su automatico.",
    ),
    (
        8,
        "it",
        "Addebito doppio in bolletta",
        "Un addebito doppio viene rimborsato entro 5 giorni; controlla la bolletta nell'app.",
    ),
]
QUESTIONS = [
    ("en", "How do I activate roaming for my trip abroad?", 1),
    ("en", "Roaming does not work abroad, how do I turn it on?", 1),
    ("en", "How can I turn on roaming before travelling?", 1),
    ("en", "I am going abroad next week, do I need to switch something on?", 1),
    ("en", "My router keeps dropping the wifi every evening", 2),
    ("en", "The wifi from my router disconnects every night", 2),
    ("en", "Wifi keeps disconnecting at home", 2),
    ("en", "I was charged twice on my last bill", 3),
    ("en", "Double charge on my invoice this month", 3),
    ("en", "How do I change the PIN of my SIM?", 4),
    ("en", "I forgot my SIM PIN, where is the PUK?", 4),
    ("en", "The light on the fibre modem is red", 5),
    ("en", "No internet, the modem shows a red light", 5),
    ("en", "The shop assistant was rude to me yesterday", None),
    ("en", "I want to cancel my contract", None),
    ("en", "The app crashes every time I open it", None),
    ("en", "My phone has no signal in the city centre", None),
    ("en", "When will my new phone be delivered?", None),
    ("it", "Come attivo il roaming per il mio viaggio all'estero?", 6),
    ("it", "Il roaming non funziona all'estero", 6),
    ("it", "Il wifi del router si disconnette ogni sera", 7),
    ("it", "Mi avete addebitato due volte la bolletta", 8),
    ("it", "Addebito doppio sulla bolletta di questo mese", 8),
    ("it", "Voglio disdire il contratto", None),
    ("it", "L'app si blocca quando la apro", None),
    ("it", "Il negozio era chiuso in orario di apertura", None),
]


def choose_threshold() -> float:
    index = AnswerIndex.build(BOOK)
    print("threshold  precision  recall  F1   (right answer among the suggested)")
    best: tuple[float, float] = (0.0, 0.0)
    for step in range(5, 61, 5):
        threshold = step / 100
        suggested = right = 0
        wanted = sum(1 for *_, expected in QUESTIONS if expected is not None)
        for language, text, expected in QUESTIONS:
            found = [a for a, _ in index.match(text, language, threshold=threshold)]
            if found:
                suggested += 1
                right += expected in found
        precision = right / suggested if suggested else 1.0
        recall = right / wanted
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(f"  {threshold:.2f}      {precision:.2f}      {recall:.2f}   {f1:.2f}")
        if precision >= 0.95 and f1 > best[1]:
            best = (threshold, f1)
    print(f"chosen: {best[0]:.2f} (best F1 with precision >= 0.95)")
    return best[0]


def speed(threshold: float) -> None:
    rng = random.Random(17)
    words = [w for _, _, title, text in BOOK for w in f"{title} {text}".split() if len(w) > 3]
    words += [f"term{n}" for n in range(3000)]
    book = [
        (
            n,
            "en" if n % 2 else "it",
            " ".join(rng.choices(words, k=5)),
            " ".join(rng.choices(words, k=30)),
        )
        for n in range(1, 1001)
    ]
    started = time.perf_counter()
    index = AnswerIndex.build(book)
    built = time.perf_counter() - started
    queries = [(lang, text) for lang, text, _ in QUESTIONS] * 80
    timings = []
    for language, text in queries:
        started = time.perf_counter()
        index.match(text, language, threshold=threshold)
        timings.append(time.perf_counter() - started)
    timings.sort()
    p50 = statistics.median(timings) * 1000
    p99 = timings[int(len(timings) * 0.99) - 1] * 1000
    print(f"1,000 answers: index built in {built * 1000:.1f} ms (once per change, in a thread)")
    print(
        f"{len(timings)} matches: p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {timings[-1] * 1000:.3f} ms"
    )
    assert p99 < 2.0, "matching must stay under 2 ms at p99"


if __name__ == "__main__":
    speed(choose_threshold())
