"""Choosing the classifier's settings on the *seed* set, never on the eval set: grouped
4-fold cross-validation (all variants of one phrase or request in the same fold), each
candidate trained on three folds and scored on the fourth.

    .venv/bin/python eval/triage/seed_dev.py [--confusion]

Prints accuracy per candidate (on all held-out variants, and on the held-out whole
requests and messages only, which read most like real messages), for the shipped model
how many held-out requests a category check threshold would flag and how many wrong
guesses it would catch, and with ``--confusion`` the most frequent confusions; the last
line is JSON.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sklearn.base import clone  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from delegate.triage import classifier as triage_classifier  # noqa: E402
from delegate.triage.seed import seed_groups  # noqa: E402
from delegate.triage.text import prepare  # noqa: E402

FOLDS = 4


def _fold(group: str) -> int:
    return hashlib.sha256(group.encode()).digest()[1] % FOLDS


def _variant(**params: Any) -> Callable[[], Pipeline]:
    """The shipped pipeline with some parameters changed (``set_params`` names, e.g.
    ``model__C``); estimators given as parameters are cloned for each training."""

    def make() -> Pipeline:
        pipeline = triage_classifier._pipeline()
        pipeline.set_params(
            **{k: clone(v) if hasattr(v, "get_params") else v for k, v in params.items()}
        )
        return pipeline

    return make


def _keywords(weight: float) -> dict[str, float]:
    return {"chars": 1.0, "words": 1.0, "keywords": weight}


CANDIDATES: dict[str, Callable[[], Pipeline]] = {
    "shipped": triage_classifier._pipeline,
    "no keywords": _variant(features__keywords="drop"),
    "kw 0.1": _variant(features__transformer_weights=_keywords(0.1)),
    "kw 0.3": _variant(features__transformer_weights=_keywords(0.3)),
    "kw 0.5": _variant(features__transformer_weights=_keywords(0.5)),
    "words 1-2": _variant(features__words__ngram_range=(1, 2)),
    "C=30": _variant(model__C=30),
    "LinearSVC C=1": _variant(model=LinearSVC(C=1.0)),
}
THRESHOLDS = (0.2, 0.4, 0.5, 0.6, 0.7)


def _source(group: str) -> str:
    """Which part of the seed set an example comes from (see ``seed.seed_groups``)."""
    if "/request/" not in group:
        return "phrases"
    index = group.rsplit("/", 1)[1]
    return {"n": "seed_messages", "c": "seed_context"}.get(index[:1], "seed_requests")


def main() -> None:
    groups = seed_groups()
    data = [(prepare(t).body, s, g) for g, t, s in groups]
    print(f"seed: {len(data)} examples, {len({g for _, _, g in data})} groups, {FOLDS} folds")
    figures: dict[str, object] = {"eval": "triage-seed-cv", "examples": len(data)}
    confusion: Counter[tuple[str, str]] = Counter()
    for name, make in CANDIDATES.items():
        started = time.process_time()
        right: list[bool] = []
        requests: list[bool] = []
        confidences: list[float] = []
        by_source: dict[str, list[bool]] = {}
        for fold in range(FOLDS):
            train = [(t, s) for t, s, g in data if _fold(g) != fold]
            held = [(t, s, "/request/" in g) for t, s, g in data if _fold(g) == fold]
            sources = [_source(g) for _, _, g in data if _fold(g) == fold]
            pipeline = make()
            pipeline.fit([t for t, _ in train], [s for _, s in train])
            if name == "shipped":
                predictions = triage_classifier.Classifier(pipeline).predict_many(
                    [t for t, _, _ in held]
                )
                guesses = [p.slug for p in predictions]
                confidences += [
                    p.confidence for p, (_, _, r) in zip(predictions, held, strict=True) if r
                ]
            else:
                guesses = list(pipeline.predict([t for t, _, _ in held]))
            for guess, (_, slug, is_request), source in zip(guesses, held, sources, strict=True):
                right.append(guess == slug)
                by_source.setdefault(source, []).append(guess == slug)
                if is_request:
                    requests.append(guess == slug)
                if name == "shipped" and guess != slug:
                    confusion[(slug, guess)] += 1
        accuracy = sum(right) / len(right)
        request_accuracy = sum(requests) / len(requests)
        print(
            f"{name:>14}: {accuracy:.1%} of all held-out, {request_accuracy:.1%} of "
            f"{len(requests)} held-out requests ({time.process_time() - started:.1f} s CPU)"
        )
        figures[name] = {"cv": round(accuracy, 4), "cv_requests": round(request_accuracy, 4)}
        if name == "shipped":
            # By part of the seed set: seed_requests holds the requests written before
            # session 11, a fixed yardstick while the other parts grow.
            for source, oks in sorted(by_source.items()):
                print(f"{'':>16}{source}: {sum(oks) / len(oks):.1%} of {len(oks)}")
                figures[f"shipped {source}"] = round(sum(oks) / len(oks), 4)
            wrong = [not ok for ok in requests]
            for threshold in THRESHOLDS:
                flagged = [c < threshold for c in confidences]
                caught = sum(f and w for f, w in zip(flagged, wrong, strict=True))
                print(
                    f"{'':>16}category confidence < {threshold}: {sum(flagged)} of "
                    f"{len(flagged)} requests flagged, {caught} of {sum(wrong)} wrong caught"
                )
    if "--confusion" in sys.argv:
        for (slug, guess), count in confusion.most_common(15):
            print(f"{slug:>14} -> {guess:<14} {count}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
