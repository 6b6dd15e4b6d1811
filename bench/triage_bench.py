"""Benchmark of the shipped triage model.

Prints: model size on disk, load time, batched throughput (messages/s), single-message
latency (p50/p99), and the process's peak RSS. Messages are the held-out split (and the
corpus) repeated to the requested count, so lengths are realistic.

Two references run beside it, because this machine's speed changes from one minute to the
next: spaCy's tokenizer alone on the same messages, timed in turn with the triage runs (no
spaCy pipeline can be faster; the ratio holds across machines better than messages/s), and,
with ``--against FOLDER``, another checkout of this project (an earlier version, say), run
in its own process in turn with this one, three rounds each.

    python bench/triage_bench.py [--messages 10000] [--single 2000] [--model DIR] [--json]
    git worktree add ../before COMMIT && python bench/triage_bench.py --against ../before

Each side reads the corpus of its own checkout, so with ``--real`` the two message lists
differ where the real sources' files do.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
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
    parser.add_argument(
        "--against", type=Path, default=None, help="another checkout to run in turn with this"
    )
    args = parser.parse_args()
    if args.against is not None:
        return _against(args)

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
    tokenizer_runs = []
    make_doc = triager.nlp.make_doc
    for _ in range(3):
        started = time.perf_counter()
        for text in texts:
            make_doc(text)
        tokenizer_runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        triager.triage(texts)
        runs.append(time.perf_counter() - started)
    batched = len(texts) / min(runs)
    tokenized = len(texts) / min(tokenizer_runs)

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
        "tokenizer_messages_per_s": round(tokenized),
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
    print(
        f"reference: tokenizer    {tokenized:,.0f} messages/s; triage takes "
        f"{tokenized / batched:.2f}x the tokenizer's time"
    )
    print(f"single message          p50 {p50:.3f} ms, p99 {p99:.3f} ms ({len(singles):,} calls)")
    print(f"single 4,096 chars      {result['single_4096_chars_median_ms']:.3f} ms (median)")
    print(f"process RSS             {rss:.1f} MB (peak {peak:.1f} MB)")
    return 0


def _against(args: argparse.Namespace) -> int:
    """This checkout and ``args.against`` in turn, three rounds, each in its own process."""
    here = Path(__file__).resolve()
    other = args.against.resolve() / "bench" / "triage_bench.py"
    if not other.is_file():
        print(f"--against {args.against}: no bench/triage_bench.py there", file=sys.stderr)
        return 2
    common = ["--json", "--messages", str(args.messages), "--single", str(args.single)]
    if args.real:
        common.append("--real")
    rows: dict[str, list[dict[str, float]]] = {"this": [], "against": []}
    for _ in range(3):
        for name, script in (("against", other), ("this", here)):
            done = subprocess.run(
                [sys.executable, str(script), *common],
                capture_output=True,
                text=True,
                check=True,
                cwd=script.parent.parent,
            )
            rows[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    keys = ("batched_messages_per_s", "single_p50_ms", "single_p99_ms", "model_load_s")
    print(f"| round | {' | '.join(f'{k} against / this' for k in keys)} |")
    print(f"|---|{'---|' * len(keys)}")
    for i, (a, b) in enumerate(zip(rows["against"], rows["this"], strict=True), start=1):
        cells = " | ".join(f"{a.get(k, float('nan')):,} / {b[k]:,}" for k in keys)
        print(f"| {i} | {cells} |")
    best = {n: max(r["batched_messages_per_s"] for r in rows[n]) for n in rows}
    print(
        f"batched, best round: {best['against']:,} -> {best['this']:,} messages/s "
        f"({best['this'] / best['against']:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
