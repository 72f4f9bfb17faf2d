"""Rebalancing: one min-cost assignment of many open tasks at once, in memory.

Each task may go to its ``CANDIDATES`` cheapest eligible assistants (the same costs as a
single decision: skill level, spare time before the deadline) or stay where it is (a
small bonus, so nothing moves without a reason). Solved as a min-cost flow (OR-Tools):

    task ─(1, cost)→ (assistant, deadline bucket of the task)
    (assistant, bucket b) ─(as many tasks as fit before the end of b)→ (assistant, b+1)
    (assistant, bucket b) ─(late: very dear)→ (assistant, all)
    (assistant, all) ─(segments of rising cost up to the open-task limit)→ sink
    task ─(1, dearer still)→ nobody → sink

The chain of deadline buckets carries the work due up to each bucket's end, so an
assistant takes no more tasks due by then than their working time before then allows
(counted in tasks of the average length: an approximation); the rising segments make
load convex, so work spreads instead of filling the cheapest person first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow

from delegate.routing.core import SLOT_SECONDS, TIGHT_MINUTES, Job, Roster

CANDIDATES = 12
SCALE = 100  # costs are integers in the flow
LATE_COST = 100.0  # per task that would miss its deadline (plus its hours late)
STAY_BONUS = 0.5  # a move must gain more than this
UNASSIGNED_COST = 10_000 * SCALE
LOAD_SEGMENTS = 64  # per assistant: fine enough that each further task costs more
CHUNK = 1024  # tasks per cost-matrix block (bounded memory)
# Deadline buckets: ends, in hours from now (the last one is the horizon).
BUCKET_HOURS = (1, 2, 4, 8, 24, 72)


@dataclass(frozen=True)
class Movable:
    id: str
    job: Job
    current: str | None  # assistant id, None when unassigned


@dataclass
class Plan:
    assignment: dict[str, str | None]  # task id → assistant id (None: nobody fits)
    at_risk_before: int  # tasks that would miss their deadline as assigned now (or nobody)
    at_risk_after: int
    max_load_before: float  # highest open tasks / limit among the assistants
    max_load_after: float

    def moves(self, tasks: Sequence[Movable]) -> list[tuple[Movable, str]]:
        return [
            (t, new)
            for t in tasks
            if (new := self.assignment.get(t.id)) is not None and new != t.current
        ]


def _signature(job: Job) -> tuple[object, ...]:
    return (job.required_skills, job.language, job.is_vip, job.category)


def _block_costs(
    roster: Roster,
    stops: np.ndarray,
    minutes: np.ndarray,
    mask: np.ndarray,
    skill_cost: np.ndarray,
    start: int,
) -> np.ndarray:
    """Cost (tasks × assistants, inf where not allowed) for tasks sharing one signature."""
    free = roster.work_cum[:, stops].T - roster.work_cum[:, start][None, :]
    slack = free - roster.due_cum[:, stops].T - minutes[:, None]
    cost = skill_cost[None, :] + 4.0 * np.clip(1.0 - slack / TIGHT_MINUTES, 0.0, 1.0)
    late = slack < 0
    cost = np.where(late, cost + LATE_COST - slack / 60.0, cost)
    cost[:, ~mask] = np.inf
    return cost


def rebalance(
    roster: Roster, tasks: Sequence[Movable], *, now_ts: float, candidates: int = CANDIDATES
) -> Plan:
    """The cheapest assignment of ``tasks``. ``roster`` must not count them as load
    already (build it without them)."""
    n = len(roster)
    if not n or not tasks:
        return Plan({t.id: None for t in tasks}, len(tasks), len(tasks), 0.0, 0.0)
    start = roster.slot_after(now_ts)
    stops = np.array([roster.window(t.job, now_ts)[1] for t in tasks], dtype=np.int64)
    minutes = np.array([t.job.minutes for t in tasks], dtype=np.float64)
    current_all = np.array([roster.index.get(t.current or "", -1) for t in tasks], dtype=np.int64)
    k = max(1, min(candidates, n))
    arc_task: list[np.ndarray] = []
    arc_to: list[np.ndarray] = []
    arc_cost: list[np.ndarray] = []
    groups: dict[tuple[object, ...], list[int]] = {}
    for pos, task in enumerate(tasks):
        groups.setdefault(_signature(task.job), []).append(pos)
    for positions in groups.values():
        sample = tasks[positions[0]].job
        mask = roster.eligible(sample) & roster.rule_mask(sample)
        skill_cost = np.zeros(n)
        for slug in sample.required_skills:
            if slug in roster.skill_levels:
                skill_cost += 1.5 * (5 - roster.skill_levels[slug])
        for begin in range(0, len(positions), CHUNK):
            chunk = np.array(positions[begin : begin + CHUNK])
            cost = _block_costs(roster, stops[chunk], minutes[chunk], mask, skill_cost, start)
            current = current_all[chunk]
            rows = np.flatnonzero(current >= 0)
            cost[rows, current[rows]] -= STAY_BONUS
            best = (
                np.argpartition(cost, k - 1, axis=1)[:, :k]
                if k < n
                else np.tile(np.arange(n), (len(chunk), 1))
            )
            # The current assignee is always a choice (staying put).
            best = np.concatenate([best, np.maximum(current, 0)[:, None]], axis=1)
            picked = np.take_along_axis(cost, best, axis=1)
            keep = np.isfinite(picked)
            keep[:, -1] &= current >= 0
            # Avoid a duplicate arc when the current assignee is among the best already.
            keep[:, -1] &= ~(best[:, :-1] == best[:, -1:]).any(axis=1)
            task_rows = np.repeat(chunk[:, None], best.shape[1], axis=1)
            arc_task.append(task_rows[keep])
            arc_to.append(best[keep])
            arc_cost.append(picked[keep])
    tails = np.concatenate(arc_task) if arc_task else np.zeros(0, dtype=np.int64)
    heads = np.concatenate(arc_to) if arc_to else np.zeros(0, dtype=np.int64)
    costs = np.concatenate(arc_cost) if arc_cost else np.zeros(0)
    assignment = _solve(roster, start, stops, minutes, tails, heads, costs)
    current = current_all
    plan_ids = {
        task.id: (roster.ids[chosen] if chosen >= 0 else None)
        for task, chosen in zip(tasks, assignment.tolist(), strict=True)
    }
    return Plan(
        assignment=plan_ids,
        at_risk_before=int(_late(roster, current, start, stops, minutes).sum()),
        at_risk_after=int(_late(roster, assignment, start, stops, minutes).sum()),
        max_load_before=_max_load(roster, current),
        max_load_after=_max_load(roster, assignment),
    )


def _max_load(roster: Roster, chosen: np.ndarray) -> float:
    if not len(roster):
        return 0.0
    counts = roster.open_count + np.bincount(chosen[chosen >= 0], minlength=len(roster))
    return float((counts / np.maximum(roster.max_open, 1)).max())


def _late(
    roster: Roster, chosen: np.ndarray, start: int, stops: np.ndarray, minutes: np.ndarray
) -> np.ndarray:
    """Whether each task misses its deadline when every assistant works their tasks
    earliest deadline first (after their other open work), or has nobody."""
    late = chosen < 0
    order = np.lexsort((stops, chosen))
    order = order[chosen[order] >= 0]
    if not order.size:
        return late
    who, due = chosen[order], stops[order]
    done = np.cumsum(minutes[order])
    # Subtract what the same assistant's earlier groups used: cumulative sum per group.
    first = np.r_[True, who[1:] != who[:-1]]
    offsets = np.maximum.accumulate(np.where(first, np.arange(len(who)), 0))
    before = np.where(offsets > 0, done[offsets - 1], 0.0)
    queued = done - before
    free = roster.work_cum[who, due] - roster.work_cum[who, start] - roster.due_cum[who, due]
    late[order] = free - queued < 0
    return late


def _solve(
    roster: Roster,
    start: int,
    stops: np.ndarray,
    minutes: np.ndarray,
    tails: np.ndarray,
    heads: np.ndarray,
    costs: np.ndarray,
) -> np.ndarray:
    """Assistant index per task (-1: nobody)."""
    n, t_count = len(roster), len(stops)
    ends = np.array(
        [min(start + h * 3600 // SLOT_SECONDS, roster.slots) for h in BUCKET_HOURS]
        + [roster.slots],
        dtype=np.int64,
    )
    b_count = len(ends)
    bucket = np.minimum(np.searchsorted(ends, stops, side="left"), b_count - 1)

    def node(assistant: np.ndarray, b: np.ndarray | int) -> np.ndarray:
        return np.asarray(t_count + assistant * (b_count + 1) + b)

    nobody = t_count + n * (b_count + 1)
    sink = nobody + 1
    flow = min_cost_flow.SimpleMinCostFlow()

    def arcs(tail: np.ndarray, head: np.ndarray, cap: Any, cost: Any) -> np.ndarray:
        return flow.add_arcs_with_capacity_and_unit_cost(
            np.asarray(tail, dtype=np.int32),
            np.asarray(head, dtype=np.int32),
            np.asarray(cap, dtype=np.int64),
            np.asarray(cost, dtype=np.int64),
        )

    ones = np.ones(len(tails), dtype=np.int64)
    task_arcs = arcs(tails, node(heads, bucket[tails]), ones, np.rint(costs * SCALE))
    everyone = np.arange(t_count)
    arcs(everyone, np.full(t_count, nobody), np.ones(t_count), np.full(t_count, UNASSIGNED_COST))
    flow.add_arc_with_capacity_and_unit_cost(nobody, sink, t_count, 0)
    if n:
        # How many tasks of average length fit before each bucket's end (the average
        # of the tasks due by then).
        overall = float(minutes.mean()) if t_count else 30.0
        sums = np.cumsum(np.bincount(bucket, weights=minutes, minlength=b_count))
        counts = np.cumsum(np.bincount(bucket, minlength=b_count))
        average = np.where(counts > 0, sums / np.maximum(counts, 1), overall)
        free = roster.work_cum[:, ends] - roster.work_cum[:, [start]] - roster.due_cum[:, ends]
        fits = np.floor(np.maximum(free, 0) / np.maximum(average, 1.0)[None, :]).astype(np.int64)
        fits = np.maximum.accumulate(fits, axis=1)
        people = np.repeat(np.arange(n), b_count)
        b_idx = np.tile(np.arange(b_count), n)
        arcs(node(people, b_idx), node(people, b_idx + 1), fits.reshape(-1), np.zeros(n * b_count))
        arcs(
            node(people, b_idx),
            node(people, b_count),
            np.full(n * b_count, t_count),
            np.full(n * b_count, int(LATE_COST * SCALE)),
        )
    # Convex load: up to LOAD_SEGMENTS arcs per assistant, each dearer than the one before.
    room = np.maximum(roster.max_open - roster.open_count, 0)
    size = np.maximum(1, -(-room // LOAD_SEGMENTS))
    segments = -(-room // size)
    who = np.repeat(np.arange(n), segments)
    step = np.arange(len(who)) - np.repeat(np.cumsum(segments) - segments, segments)
    capacity = np.minimum(size[who], room[who] - step * size[who])
    ratio = (roster.open_count[who] + step * size[who] + capacity / 2) / np.maximum(
        roster.max_open[who], 1
    )
    arcs(node(who, b_count), np.full(len(who), sink), capacity, np.rint(10.0 * ratio * SCALE))
    flow.set_nodes_supplies(
        np.r_[everyone, sink].astype(np.int32),
        np.r_[np.ones(t_count, dtype=np.int64), -t_count].astype(np.int64),
    )
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"rebalance: min-cost flow ended with status {status}")
    chosen = np.full(t_count, -1, dtype=np.int64)
    used = np.flatnonzero(flow.flows(task_arcs) > 0)
    chosen[tails[used]] = heads[used]
    return chosen
