"""Benchmark of the shipped triage model.

Prints: model size on disk, load time, batched throughput (messages/s), single-message
latency (p50/p99), and the process's peak RSS. Messages are the held-out split (and the
corpus) repeated to the requested count, so lengths are realistic.

    python bench/triage_bench.py [--messages 10000] [--single 2000] [--model DIR] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size in MB (Linux /proc; peak from getrusage)."""
    current = 0.0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


def _messages(count: int, real: bool = False) -> list[str]:
    """The hand-written corpus (en, it) and its held-out split; with ``real``, the extra
    sources' files (app reviews, forum sentences: longer) instead."""
    corpus = ROOT / "nlp" / "corpus"
    if real:
        paths = sorted(p for p in corpus.glob("*/*.jsonl") if p.parent.name not in ("en", "it"))
    else:
        paths = [*sorted(corpus.glob("en/*.jsonl")), *sorted(corpus.glob("it/*.jsonl"))]
        paths.append(corpus / "heldout.jsonl")
    texts: list[str] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                texts.append(json.loads(line)["text"])
            except (ValueError, KeyError, TypeError):
                continue
    if not texts:
        texts = ["la fibra non va da ieri", "could you add a dark mode?", "thanks!"]
    return [texts[i % len(texts)] for i in range(count)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="batched messages")
    parser.add_argument("--single", type=int, default=2_000, help="single-message calls")
    parser.add_argument("--model", type=Path, default=None, help="model folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--real", action="store_true", help="messages from the extra real sources (longer)"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    import spacy  # noqa: F401  (import cost is reported separately from loading)

    import_s = time.perf_counter() - started
    from nlp import load_triager
    from nlp.triage import DEFAULT_MODEL_DIR

    model_dir = args.model or DEFAULT_MODEL_DIR
    size = sum(p.stat().st_size for p in Path(model_dir).rglob("*") if p.is_file())
    started = time.perf_counter()
    triager = load_triager(model_dir)
    load_s = time.perf_counter() - started

    texts = _messages(args.messages, args.real)
    triager.triage(texts[:500])  # warm-up: caches, first-call allocations
    gc.collect()
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        triager.triage(texts)
        runs.append(time.perf_counter() - started)
    batched = len(texts) / min(runs)

    singles = texts[: args.single]
    latencies = []
    for text in singles:
        started = time.perf_counter()
        triager.triage_one(text)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, round(0.99 * len(latencies)) - 1)]
    long_text = ("la fibra non va da ieri e nessuno mi risponde. " * 100)[:4096]
    long_ms = []
    for _ in range(50):
        started = time.perf_counter()
        triager.triage_one(long_text)
        long_ms.append((time.perf_counter() - started) * 1000)
    rss, peak = _rss_mb()
    result = {
        "model_size_mb": round(size / 1e6, 2),
        "import_spacy_s": round(import_s, 3),
        "model_load_s": round(load_s, 3),
        "batched_messages": len(texts),
        "batched_messages_per_s": round(batched),
        "single_p50_ms": round(p50, 3),
        "single_p99_ms": round(p99, 3),
        "single_4096_chars_median_ms": round(statistics.median(long_ms), 3),
        "rss_mb": round(rss, 1),
        "peak_rss_mb": round(peak, 1),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"model size on disk      {result['model_size_mb']:.2f} MB")
    print(f"import spacy            {import_s:.3f} s")
    print(f"model load              {load_s:.3f} s")
    print(f"batched                 {batched:,.0f} messages/s ({len(texts):,} messages, best of 3)")
    print(f"single message          p50 {p50:.3f} ms, p99 {p99:.3f} ms ({len(singles):,} calls)")
    print(f"single 4,096 chars      {result['single_4096_chars_median_ms']:.3f} ms (median)")
    print(f"process RSS             {rss:.1f} MB (peak {peak:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
