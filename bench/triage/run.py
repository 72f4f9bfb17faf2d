"""bench/triage: how fast triage understands a message, alone and in batch.

    .venv/bin/python bench/triage/run.py [--rounds 20] [--batch 6000] [--processes 2]

Times ``delegate.triage.engine.analyse`` (language, category, deadline, priority,
entities; exactly what the triage job runs, without its database writes) on the eval
messages: one message at a time (p50/p99 over every message, several rounds), a batch
spread over ``--processes`` worker processes (each loads the model once), and the bad
inputs the issue names. Needs no database. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from delegate.triage.classifier import Classifier, seed_classifier  # noqa: E402
from delegate.triage.engine import Message, analyse, analyse_many  # noqa: E402
from eval.triage.dataset import Example, load  # noqa: E402

BAD_INPUTS = {
    "empty": "",
    "attachment only": "📎 scan_0042.pdf",
    "1 MB of text": "Bitte die Rechnung bis Freitag schreiben. " * 25_000,
    "emoji": "🙏🙏🙏 🎄✈️📅 !!! 😬" * 20,
    "mixed scripts": "Пожалуйста 予約 please bitte مرحبا ✈️ bis morgen 10 Uhr",
    "30. Februar": "Bitte den Termin am 30. Februar eintragen, bis 30.02. bestätigen",
    # Worst cases for the bounds (text.MAX_CHARS/MAX_LINES, the *_CHARS prefixes):
    "1 MB in one word": "x" * 1_000_000,
    "1 MB, one word per line": "Bitte\n" * 170_000,
    "1 MB of dates": "30.02. " * 150_000,
}


def _one(classifier: Classifier, ex: Example) -> None:
    analyse(
        ex.text,
        classifier=classifier,
        received_at=ex.received_at,
        time_zone=ex.time_zone,
        region=ex.region,
    )


_worker_classifier: Classifier | None = None


def _init_worker() -> None:
    global _worker_classifier
    _worker_classifier = seed_classifier()


def _chunk(examples: list[Example]) -> int:
    """A slice of the batch, through ``analyse_many`` in groups of 100."""
    assert _worker_classifier is not None
    for start in range(0, len(examples), 100):
        messages = [
            Message(ex.text, ex.received_at, ex.time_zone, ex.region)
            for ex in examples[start : start + 100]
        ]
        analyse_many(messages, classifier=_worker_classifier)
    return len(examples)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="passes over the eval set")
    parser.add_argument("--batch", type=int, default=6000, help="messages in the batch phase")
    parser.add_argument("--processes", type=int, default=2, help="worker processes in batch")
    args = parser.parse_args()
    examples = load()

    started = time.perf_counter()
    classifier = seed_classifier()
    load_s = time.perf_counter() - started
    print(f"seed model trained in {load_s:.2f} s (once per process)")
    for ex in examples[:20]:  # warm caches (holidays, regexes)
        _one(classifier, ex)

    times: list[float] = []
    cpu_times: list[float] = []  # this process's CPU time: what other load cannot inflate
    for _ in range(args.rounds):
        for ex in examples:
            t0, c0 = time.perf_counter(), time.thread_time()
            _one(classifier, ex)
            times.append((time.perf_counter() - t0) * 1000)
            cpu_times.append((time.thread_time() - c0) * 1000)
    p50, p99, worst = percentile(times, 0.5), percentile(times, 0.99), max(times)
    cpu_p50, cpu_p99 = percentile(cpu_times, 0.5), percentile(cpu_times, 0.99)
    print(f"one message: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {worst:.2f} ms "
          f"({len(times)} calls); CPU time p50 {cpu_p50:.2f} ms, p99 {cpu_p99:.2f} ms")  # fmt: skip

    bad: dict[str, float] = {}
    bad_cpu: dict[str, float] = {}
    for name, text in BAD_INPUTS.items():
        runs, cpu_runs = [], []
        for _ in range(5):
            t0, c0 = time.perf_counter(), time.thread_time()
            result = analyse(text, classifier=classifier, received_at=examples[0].received_at)
            runs.append((time.perf_counter() - t0) * 1000)
            cpu_runs.append((time.thread_time() - c0) * 1000)
        bad[name], bad_cpu[name] = round(max(runs), 2), round(max(cpu_runs), 2)
        print(f"bad input {name!r}: max {bad[name]} ms (CPU {bad_cpu[name]} ms), needs check: "
              f"{result.needs_check} ({', '.join(result.reasons)})")  # fmt: skip

    batch = [examples[i % len(examples)] for i in range(args.batch)]
    size = max(1, len(batch) // (args.processes * 8))
    chunks = [batch[i : i + size] for i in range(0, len(batch), size)]
    context = multiprocessing.get_context("fork")
    with context.Pool(args.processes, initializer=_init_worker) as pool:
        pool.map(_chunk, [examples[:10]] * args.processes)  # every worker has its model
        t0 = time.perf_counter()
        done = sum(pool.map(_chunk, chunks))
        elapsed = time.perf_counter() - t0
    per_s = done / elapsed
    print(f"batch: {done} messages in {elapsed:.2f} s on {args.processes} processes "
          f"= {per_s:.0f} messages/s (cores: {os.cpu_count()})")  # fmt: skip

    figures: dict[str, Any] = {
        "bench": "triage",
        "p50_ms": round(p50, 3),
        "p99_ms": round(p99, 3),
        "max_ms": round(worst, 3),
        "cpu_p50_ms": round(cpu_p50, 3),
        "cpu_p99_ms": round(cpu_p99, 3),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "batch_per_s": round(per_s),
        "processes": args.processes,
        "bad_input_max_ms": bad,
        "bad_input_max_cpu_ms": bad_cpu,
        "model_train_s": round(load_s, 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
