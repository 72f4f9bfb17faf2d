"""eval/triage: accuracy of triage per field on the hand-labelled messages in data/.

    .venv/bin/python eval/triage/run.py [--verbose]

Uses the shipped seed classifier and the deadline rules exactly as the service does
(``delegate.triage.engine.analyse``); needs no database. The last line printed is one
JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from delegate.triage.classifier import seed_classifier  # noqa: E402
from delegate.triage.engine import analyse  # noqa: E402
from eval.triage.dataset import load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    args = parser.parse_args()
    examples = load()
    started = time.perf_counter()
    classifier = seed_classifier()
    train_s = time.perf_counter() - started
    counts: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    flagged_right = flagged_wrong = 0
    for ex in examples:
        result = analyse(
            ex.text,
            classifier=classifier,
            received_at=ex.received_at,
            time_zone=ex.time_zone,
            region=ex.region,
        )
        counts["messages"] += 1
        category_ok = result.category == ex.category
        counts["category_ok"] += category_ok
        if not category_ok:
            confusions[(ex.category, result.category)] += 1
        counts["language_ok"] += result.language == ex.language
        counts[f"lang_{ex.language in ('de', 'en')}"] += 1
        counts[f"lang_ok_{ex.language in ('de', 'en')}"] += result.language == ex.language
        if ex.deadline is not None:
            counts["with_deadline"] += 1
            deadline_ok = result.due_at is not None and result.due_at == ex.deadline
            counts["deadline_ok"] += deadline_ok
        else:
            counts["without_deadline"] += 1
            deadline_ok = result.due_at is None
            counts["no_invented"] += deadline_ok
        all_ok = category_ok and deadline_ok
        if result.needs_check:
            counts["flagged"] += 1
            flagged_wrong += not all_ok
        else:
            flagged_right += not all_ok  # wrong but not flagged
        if args.verbose and not (category_ok and deadline_ok and result.language == ex.language):
            want = ex.deadline.strftime("%a %Y-%m-%d %H:%M") if ex.deadline else "-"
            got = result.due_at.strftime("%a %Y-%m-%d %H:%M") if result.due_at else "-"
            print(
                f"{ex.id}: category {ex.category}→{result.category} "
                f"({result.category_confidence:.2f}), deadline {want}→{got} "
                f"[{result.deadline_text}], language {ex.language}→{result.language}"
            )

    def share(ok: str, total: str) -> float:
        return round(counts[ok] / counts[total], 4) if counts[total] else 0.0

    figures = {
        "eval": "triage",
        "messages": counts["messages"],
        "category_accuracy": share("category_ok", "messages"),
        "deadline_exact": share("deadline_ok", "with_deadline"),
        "with_deadline": counts["with_deadline"],
        "no_invented_deadline": share("no_invented", "without_deadline"),
        "without_deadline": counts["without_deadline"],
        "language_accuracy": share("language_ok", "messages"),
        "language_accuracy_de_en": share("lang_ok_True", "lang_True"),
        "flagged_for_check": counts["flagged"],
        "wrong_and_flagged": flagged_wrong,
        "wrong_not_flagged": flagged_right,
        "seed_train_s": round(train_s, 2),
    }
    print(f"messages: {figures['messages']}")
    print(f"category accuracy: {figures['category_accuracy']:.1%} (target ≥ 90 %)")
    print(
        f"deadline exact to the minute: {figures['deadline_exact']:.1%} of "
        f"{figures['with_deadline']} with a deadline (target ≥ 90 %)"
    )
    print(
        f"no deadline invented: {figures['no_invented_deadline']:.1%} of "
        f"{figures['without_deadline']} without one (target ≥ 95 %)"
    )
    print(
        f"language: {figures['language_accuracy']:.1%} overall, "
        f"{figures['language_accuracy_de_en']:.1%} on German/English"
    )
    print(
        f"flagged for a human check: {figures['flagged_for_check']}; wrong category or "
        f"deadline: {flagged_wrong} flagged, {flagged_right} not flagged"
    )
    print("most common category confusions (label → guess):")
    for (want, got), n in confusions.most_common(8):
        print(f"  {want} → {got}: {n}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
