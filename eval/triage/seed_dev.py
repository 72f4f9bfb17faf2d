"""Choosing the classifier's settings on a dev split of the *seed* set, never on the eval
set: a quarter of the seed phrases and requests (all variants of one together) are held
out, the candidates are trained on the rest and scored on them.

    .venv/bin/python eval/triage/seed_dev.py

Prints accuracy per candidate (on all held-out variants, and on the held-out whole
requests only, which read most like real messages); the last line is JSON.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import FeatureUnion, Pipeline  # noqa: E402

from delegate.triage import classifier as triage_classifier  # noqa: E402
from delegate.triage.keywords import keyword_features  # noqa: E402
from delegate.triage.seed import seed_groups  # noqa: E402
from delegate.triage.text import prepare  # noqa: E402


def _is_dev(group: str) -> bool:
    return hashlib.sha256(group.encode()).digest()[0] < 64  # a quarter


def _variant(
    chars: tuple[int, int] = (2, 5),
    words: tuple[int, int] = (1, 2),
    c: float = 5.0,
    balanced: bool = False,
    keywords: float = 0.0,
) -> Callable[[], Pipeline]:
    def make() -> Pipeline:
        extra = (
            [("keywords", TfidfVectorizer(analyzer=keyword_features, sublinear_tf=True))]
            if keywords
            else []
        )
        weights = {"chars": 1.0, "words": 1.0, **({"keywords": keywords} if keywords else {})}
        return Pipeline(
            [
                (
                    "features",
                    FeatureUnion(
                        [
                            (
                                "chars",
                                TfidfVectorizer(
                                    analyzer="char_wb", ngram_range=chars, sublinear_tf=True
                                ),
                            ),
                            (
                                "words",
                                TfidfVectorizer(
                                    ngram_range=words,
                                    sublinear_tf=True,
                                    token_pattern=r"(?u)\b\w\w+\b",
                                ),
                            ),
                            *extra,
                        ],
                        transformer_weights=weights,
                    ),
                ),
                (
                    "model",
                    LogisticRegression(
                        C=c,
                        solver="newton-cg",
                        max_iter=300,
                        class_weight="balanced" if balanced else None,
                    ),
                ),
            ]
        )

    return make


CANDIDATES: dict[str, Callable[[], Pipeline]] = {
    "shipped": triage_classifier._pipeline,
    "words 1-1": _variant(words=(1, 1), c=10),
    "kw 0.3": _variant(c=10, keywords=0.3),
    "kw 0.5": _variant(c=10, keywords=0.5),
    "kw 0.7": _variant(c=10, keywords=0.7),
    "kw 0.5 words 1-1": _variant(words=(1, 1), c=10, keywords=0.5),
    "kw 0.5 C=20": _variant(c=20, keywords=0.5),
    "kw 0.5 C=5": _variant(c=5, keywords=0.5),
}


def main() -> None:
    groups = seed_groups()
    train = [(prepare(t).body, s) for g, t, s in groups if not _is_dev(g)]
    dev = [(prepare(t).body, s, "/request/" in g) for g, t, s in groups if _is_dev(g)]
    print(f"seed: {len(train)} training, {len(dev)} dev examples")
    figures: dict[str, object] = {"eval": "triage-seed-dev", "train": len(train), "dev": len(dev)}
    for name, make in CANDIDATES.items():
        started = time.process_time()
        pipeline = make()
        pipeline.fit([t for t, _ in train], [s for _, s in train])
        fit_s = time.process_time() - started
        guesses = pipeline.predict([t for t, _, _ in dev])
        right = [g == s for g, (_, s, _) in zip(guesses, dev, strict=True)]
        requests = [ok for ok, (_, _, is_request) in zip(right, dev, strict=True) if is_request]
        accuracy = sum(right) / len(right)
        request_accuracy = sum(requests) / len(requests)
        print(
            f"{name:>14}: {accuracy:.1%} of all held-out, {request_accuracy:.1%} of "
            f"{len(requests)} held-out requests (fit {fit_s:.1f} s CPU)"
        )
        figures[name] = {"dev": round(accuracy, 4), "dev_requests": round(request_accuracy, 4)}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
