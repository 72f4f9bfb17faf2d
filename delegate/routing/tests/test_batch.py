"""Rebalance as a min-cost flow, in memory."""

from __future__ import annotations

import datetime as dt

from delegate.routing.batch import Movable, rebalance
from delegate.routing.core import Job, Roster
from delegate.routing.tests.test_core import NOW, job, person


def _tasks(count: int, *, holder: str | None, hours: float, minutes: int) -> list[Movable]:
    due = (NOW + dt.timedelta(hours=hours)).timestamp()
    return [
        Movable(f"{holder}-{hours}-{n}", job(due_ts=due, minutes=minutes), holder)
        for n in range(count)
    ]


def test_it_moves_what_would_be_late_and_leaves_the_rest() -> None:
    # Pia has four hours before the deadline and four 90-minute tasks: two fit.
    r = Roster("A", [person("pia"), person("ben"), person("tom")], now=NOW)
    tasks = _tasks(4, holder="pia", hours=4, minutes=90)
    plan = rebalance(r, tasks, now_ts=NOW.timestamp())
    assert (plan.at_risk_before, plan.at_risk_after) == (2, 0)
    targets = sorted(plan.assignment.values())  # type: ignore[type-var]
    assert targets.count("pia") == 2
    assert sorted(new for _task, new in plan.moves(tasks)) == ["ben", "tom"]


def test_nothing_moves_without_a_gain() -> None:
    r = Roster("A", [person("pia"), person("ben")], now=NOW)
    tasks = _tasks(2, holder="pia", hours=30, minutes=30) + _tasks(
        2, holder="ben", hours=30, minutes=30
    )
    plan = rebalance(r, tasks, now_ts=NOW.timestamp())
    assert plan.moves(tasks) == []


def test_unassigned_tasks_are_spread_by_load() -> None:
    r = Roster("A", [person("pia"), person("ben"), person("tom")], now=NOW)
    tasks = _tasks(9, holder=None, hours=48, minutes=30)
    plan = rebalance(r, tasks, now_ts=NOW.timestamp())
    counts = sorted(list(plan.assignment.values()).count(p) for p in ("pia", "ben", "tom"))
    assert counts == [3, 3, 3]


def test_a_task_nobody_may_take_gets_nobody() -> None:
    r = Roster("A", [person("pia"), person("ben")], now=NOW)
    tasks = [Movable("t", Job("A", ("surgery",), "de", None, 30), "pia")]
    plan = rebalance(r, tasks, now_ts=NOW.timestamp())
    assert plan.assignment == {"t": None}
    assert plan.moves(tasks) == []
