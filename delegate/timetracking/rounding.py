"""Rounding of billed time: up to the contract's increment, per entry or per task.

Pure functions on minutes, so the ledger, invoice runs and the desk agree."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

PER_ENTRY = "entry"
PER_TASK = "task"


def round_up(minutes: int, increment: int) -> int:
    """``minutes`` rounded up to a multiple of ``increment`` (1 means no rounding).
    Zero stays zero: an empty entry bills nothing."""
    if increment < 1:
        raise ValueError("increment must be at least one minute")
    if minutes <= 0:
        return 0
    return -(-minutes // increment) * increment


def rounded_total(entries: Iterable[tuple[Any, int]], *, increment: int, mode: str) -> int:
    """Billed minutes of ``(task_id, minutes)`` pairs: each entry rounded on its own
    (``PER_ENTRY``) or each task's sum rounded once (``PER_TASK``)."""
    if mode == PER_ENTRY:
        return sum(round_up(minutes, increment) for _task, minutes in entries)
    if mode != PER_TASK:
        raise ValueError(f"unknown rounding mode {mode!r}")
    per_task: dict[Any, int] = defaultdict(int)
    for task_id, minutes in entries:
        per_task[task_id] += minutes
    return sum(round_up(minutes, increment) for minutes in per_task.values())
