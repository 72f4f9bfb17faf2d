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
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from delegate.triage.classifier import seed_classifier  # noqa: E402
from delegate.triage.engine import analyse  # noqa: E402
from eval.triage.dataset import load  # noqa: E402

ENTITY_TYPES = ("email", "phone", "url", "amount", "place")


def _entity_key(kind: str, value: Any) -> str:
    """One comparable string per entity: see "Entities" in the README."""
    if kind == "amount":
        if isinstance(value, dict):
            number, currency = value["amount"], value["currency"]
        else:
            number, _, currency = str(value).partition(" ")
        try:
            return f"{Decimal(number).normalize()} {currency}"
        except InvalidOperation:
            return str(value)
    return str(value).lower().rstrip(".,;:!?")


def _entity_matches(kind: str, label: str, found: str) -> bool:
    if kind == "place":
        return label in found or found in label
    return label == found


def _score_entities(
    labels: tuple[tuple[str, str], ...], entities: list[dict[str, Any]], counts: Counter[str]
) -> None:
    """Per type: labels found (recall) and extracted entities that are labelled (precision)."""
    for kind in ENTITY_TYPES:
        wanted = [_entity_key(kind, v) for k, v in labels if k == kind]
        found = [_entity_key(kind, e["value"]) for e in entities if e["type"] == kind]
        counts[f"ent_{kind}_labels"] += len(wanted)
        counts[f"ent_{kind}_found"] += len(found)
        counts[f"ent_{kind}_hit"] += sum(
            any(_entity_matches(kind, w, f) for f in found) for w in wanted
        )
        counts[f"ent_{kind}_right"] += sum(
            any(_entity_matches(kind, w, f) for w in wanted) for f in found
        )


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
    priority_confusions: Counter[tuple[int, int]] = Counter()
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
        if ex.priority is not None:
            counts["with_priority"] += 1
            counts["priority_ok"] += result.priority == ex.priority
            counts["priority_near"] += abs(result.priority - ex.priority) <= 1
            priority_confusions[(ex.priority, result.priority)] += 1
        if ex.entities is not None:
            counts["with_entities"] += 1
            _score_entities(ex.entities, result.entities, counts)
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

    entity_figures: dict[str, dict[str, Any]] = {
        kind: {
            "labels": counts[f"ent_{kind}_labels"],
            "recall": share(f"ent_{kind}_hit", f"ent_{kind}_labels"),
            "precision": share(f"ent_{kind}_right", f"ent_{kind}_found"),
        }
        for kind in ENTITY_TYPES
    }
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
        "priority_accuracy": share("priority_ok", "with_priority"),
        "priority_within_one": share("priority_near", "with_priority"),
        "with_priority": counts["with_priority"],
        "with_entities": counts["with_entities"],
        "entities": entity_figures,
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
        f"priority: {figures['priority_accuracy']:.1%} exact, "
        f"{figures['priority_within_one']:.1%} within one step, of {figures['with_priority']}"
    )
    print(
        "  label → guess: "
        + ", ".join(
            f"{want}→{got}: {n}"
            for (want, got), n in sorted(priority_confusions.items())
            if want != got
        )
    )
    print(f"entities ({figures['with_entities']} messages labelled):")
    for kind, row in entity_figures.items():
        print(
            f"  {kind}: recall {row['recall']:.1%} of {row['labels']}, "
            f"precision {row['precision']:.1%}"
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
