"""Who gets a task, decided in memory: no database, no Django, so the same code routes
real tasks (``services``), replays a simulated day (``simulation``) and is measured alone
(``bench/routing``).

A ``Roster`` is a snapshot of one agency's assistants: skills, languages, level, weekly
capacity, open work and, for the next ``HORIZON_DAYS``, how many minutes each of them
works in every 15-minute slot (their weekly hours in their own time zone, without their
absences and the public holidays of their region). Everything a decision needs is an
array lookup, so one decision over a thousand assistants takes microseconds.

``decide`` follows the agency's order: the client's primary assistant; the stand-in named
for the primary's absence, or the client's backup; the best-suited member of the client's
team; the best-suited member of the agency. Each step explains itself in ``Reason``
codes that ``delegate.routing.reasons`` turns into German or English sentences.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import numpy as np

SLOT_SECONDS = 900
SLOT_MINUTES = SLOT_SECONDS // 60
HORIZON_DAYS = 14
DEFAULT_MINUTES = 30  # a task without an estimate counts as half an hour of work
NO_DEADLINE_DAYS = 5  # a task without a deadline should be done within a working week
LEVELS = {"junior": 0, "regular": 1, "senior": 2}
# Below this much spare working time before the deadline a candidate pays a penalty, so
# tight tasks go to whoever is working now (follow the sun) rather than the least loaded.
TIGHT_MINUTES = 240.0


@dataclass(frozen=True)
class Block:
    """Weekly working time in the assistant's own time zone (weekday 0 = Monday)."""

    weekday: int
    starts_at: dt.time
    ends_at: dt.time


@dataclass(frozen=True)
class Away:
    starts_on: dt.date
    ends_on: dt.date  # inclusive
    stand_in: str | None = None


@dataclass
class Assistant:
    id: str
    name: str
    agency_id: str
    level: str = "regular"
    time_zone: str = "Europe/Berlin"
    holiday_region: str = ""
    languages: frozenset[str] = frozenset()
    skills: Mapping[str, int] = field(default_factory=dict)
    hours: Sequence[Block] = ()
    absences: Sequence[Away] = ()
    capacity_minutes: float = 2400.0
    max_open_tasks: int = 25


@dataclass(frozen=True)
class OpenTask:
    """Work an assistant already has: it fills their time before later deadlines.
    ``count`` tasks of ``minutes`` in all (aggregated rows from the database)."""

    assignee: str
    due_ts: float | None
    minutes: float
    count: int = 1


@dataclass(frozen=True)
class Rules:
    """Agency rules: VIP clients go to assistants of at least ``vip_level``; a category
    listed in ``category_teams`` goes only to the members named for it."""

    vip_level: str = "senior"
    category_teams: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """The task to route, as routing sees it."""

    agency_id: str
    required_skills: tuple[str, ...] = ()
    language: str = ""
    due_ts: float | None = None
    minutes: int = DEFAULT_MINUTES
    category: str = ""
    is_vip: bool = False
    primary: str | None = None
    backup: str | None = None
    team: tuple[str, ...] = ()
    holder: str | None = None  # the assignee being replaced (away): their stand-in first


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, **self.params}


@dataclass
class Decision:
    assignee: str | None
    step: str  # primary, stand_in, backup, team, agency, late, none
    reasons: list[Reason]

    @property
    def is_late(self) -> bool:
        return self.step == "late"


# --- working time ----------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _holiday_calendar(region: str, year: int) -> frozenset[dt.date]:
    """Public holidays of ``region`` ("DE-BY", "US-NY", "PH"); unknown regions have none."""
    country, _sep, subdiv = region.upper().partition("-")
    try:
        days = holidays.country_holidays(country, subdiv=subdiv or None, years=year)
    except (NotImplementedError, KeyError, ValueError):
        return frozenset()
    return frozenset(days.keys())


def is_holiday(region: str, day: dt.date) -> bool:
    return bool(region) and day in _holiday_calendar(region, day.year)


def working_minutes(assistant: Assistant, *, epoch: float, slots: int) -> np.ndarray:
    """Minutes worked in each slot of ``SLOT_SECONDS`` from ``epoch`` on. Local dates and
    times are turned into instants through the assistant's zone, so DST changes move the
    hours in UTC as they move on the assistant's clock."""
    minutes = np.zeros(slots, dtype=np.float32)
    if not assistant.hours:
        return minutes
    zone = ZoneInfo(assistant.time_zone)
    end = epoch + slots * SLOT_SECONDS
    first = dt.datetime.fromtimestamp(epoch, dt.UTC).astimezone(zone).date() - dt.timedelta(1)
    last = dt.datetime.fromtimestamp(end, dt.UTC).astimezone(zone).date() + dt.timedelta(1)
    by_day: dict[int, list[Block]] = {}
    for block in assistant.hours:
        by_day.setdefault(block.weekday, []).append(block)
    day = first
    while day <= last:
        if day.weekday() in by_day and not _is_off(assistant, day):
            for block in by_day[day.weekday()]:
                start = dt.datetime.combine(day, block.starts_at, tzinfo=zone).timestamp()
                stop = dt.datetime.combine(day, block.ends_at, tzinfo=zone).timestamp()
                _fill(minutes, (max(start, epoch) - epoch), (min(stop, end) - epoch))
        day += dt.timedelta(1)
    return minutes


@functools.lru_cache(maxsize=4096)
def _cumulative_minutes(
    time_zone: str,
    holiday_region: str,
    hours: tuple[Block, ...],
    absences: tuple[Away, ...],
    epoch: float,
    slots: int,
) -> np.ndarray:
    """Cumulative working minutes per slot, shared by everyone with the same hours, zone,
    region and absences (most of a large team): computed once per slot of time."""
    probe = Assistant(
        "", "", "", time_zone=time_zone, holiday_region=holiday_region, hours=hours,
        absences=absences,
    )  # fmt: skip
    cumulative = np.cumsum(working_minutes(probe, epoch=epoch, slots=slots))
    cumulative.setflags(write=False)  # shared between rosters
    return cumulative


def _is_off(assistant: Assistant, day: dt.date) -> bool:
    if any(away.starts_on <= day <= away.ends_on for away in assistant.absences):
        return True
    return is_holiday(assistant.holiday_region, day)


def _fill(minutes: np.ndarray, start: float, stop: float) -> None:
    """Add the seconds [start, stop) (relative to the epoch) to the slots, as minutes."""
    if stop <= start:
        return
    first, last = int(start // SLOT_SECONDS), int((stop - 1e-9) // SLOT_SECONDS)
    if first == last:
        minutes[first] += (stop - start) / 60
        return
    minutes[first] += ((first + 1) * SLOT_SECONDS - start) / 60
    minutes[first + 1 : last] += SLOT_MINUTES
    minutes[last] += (stop - last * SLOT_SECONDS) / 60


# --- the roster ------------------------------------------------------------------------


class Roster:
    """One agency's assistants as arrays. Assistants of other agencies are dropped on the
    way in, so they can never be chosen."""

    def __init__(
        self,
        agency_id: str,
        assistants: Iterable[Assistant],
        open_tasks: Iterable[OpenTask] = (),
        *,
        now: dt.datetime,
        rules: Rules | None = None,
        horizon_days: int = HORIZON_DAYS,
    ) -> None:
        self.agency_id = agency_id
        self.rules = rules or Rules()
        self.assistants = [a for a in assistants if a.agency_id == agency_id]
        self.epoch = math.floor(now.timestamp() / SLOT_SECONDS) * SLOT_SECONDS
        self.slots = horizon_days * 24 * 3600 // SLOT_SECONDS
        n = len(self.assistants)
        self.ids = [a.id for a in self.assistants]
        self.index = {a.id: i for i, a in enumerate(self.assistants)}
        self.level = np.array([LEVELS.get(a.level, 1) for a in self.assistants], dtype=np.int8)
        self.capacity = np.array([a.capacity_minutes for a in self.assistants], dtype=np.float64)
        self.max_open = np.array([a.max_open_tasks for a in self.assistants], dtype=np.int64)
        self.skill_levels: dict[str, np.ndarray] = {}
        self.speaks: dict[str, np.ndarray] = {}
        for i, a in enumerate(self.assistants):
            for slug, level in a.skills.items():
                self.skill_levels.setdefault(slug, np.zeros(n, dtype=np.int8))[i] = level
            for language in a.languages:
                self.speaks.setdefault(language, np.zeros(n, dtype=bool))[i] = True
        # work_cum[i, s]: minutes assistant i works in slots [0, s).
        self.work_cum = np.zeros((n, self.slots + 1), dtype=np.float32)
        for i, a in enumerate(self.assistants):
            self.work_cum[i, 1:] = _cumulative_minutes(
                a.time_zone,
                a.holiday_region,
                tuple(sorted(a.hours, key=lambda b: (b.weekday, b.starts_at))),
                tuple(a.absences),
                self.epoch,
                self.slots,
            )
        self._category_masks = {
            category: np.array([a.id in members for a in self.assistants], dtype=bool)
            for category, members in self.rules.category_teams.items()
        }
        self.set_now(now)
        # due_cum[i, s]: minutes of i's open work due in slot s or earlier (overdue work
        # counts in slot 0; work without a deadline only in open_minutes).
        holders, dues, minutes, counts = [], [], [], []
        index = self.index
        for task in open_tasks:
            holder = index.get(task.assignee)
            if holder is not None:
                holders.append(holder)
                dues.append(np.nan if task.due_ts is None else task.due_ts)
                minutes.append(task.minutes)
                counts.append(task.count)
        who = np.array(holders, dtype=np.int64)
        weight = np.array(minutes, dtype=np.float64)
        self.open_count = np.rint(
            np.bincount(who, weights=np.array(counts, dtype=np.float64), minlength=n)
        ).astype(np.int64)
        self.open_minutes = np.bincount(who, weights=weight, minlength=n)
        due = np.array(dues, dtype=np.float64)
        dated = ~np.isnan(due)
        cols = np.clip((due[dated] - self.epoch) // SLOT_SECONDS, 0, self.slots).astype(np.int64)
        per_slot = np.zeros((n, self.slots + 1), dtype=np.float32)
        np.add.at(per_slot, (who[dated], cols), weight[dated])
        self.due_cum = np.cumsum(per_slot, axis=1)

    def set_now(self, now: dt.datetime) -> None:
        """Who is away at ``now``, by the date on each assistant's own calendar."""
        self.absence_now = [self._away_at(a, now) for a in self.assistants]
        self.absent_now = np.array([away is not None for away in self.absence_now], dtype=bool)

    @staticmethod
    def _away_at(assistant: Assistant, now: dt.datetime) -> Away | None:
        if not assistant.absences:
            return None
        day = now.astimezone(ZoneInfo(assistant.time_zone)).date()
        return next((a for a in assistant.absences if a.starts_on <= day <= a.ends_on), None)

    def __len__(self) -> int:
        return len(self.assistants)

    def slot_of(self, ts: float) -> int:
        """The slot an instant falls in, clamped to the horizon."""
        return min(max(int((ts - self.epoch) // SLOT_SECONDS), 0), self.slots)

    def slot_after(self, ts: float) -> int:
        """The first whole slot at or after an instant: work starts there."""
        return min(max(math.ceil((ts - self.epoch) / SLOT_SECONDS), 0), self.slots)

    # Simulations and batch assignment change the load as they go.
    def add_task(self, assistant_id: str, *, due_ts: float | None, minutes: int) -> None:
        self._change(assistant_id, due_ts, minutes, 1)

    def remove_task(self, assistant_id: str, *, due_ts: float | None, minutes: int) -> None:
        self._change(assistant_id, due_ts, minutes, -1)

    def _change(self, assistant_id: str, due_ts: float | None, minutes: int, sign: int) -> None:
        i = self.index[assistant_id]
        self.open_count[i] += sign
        self.open_minutes[i] += sign * minutes
        if due_ts is not None:
            self.due_cum[i, self.slot_of(due_ts) :] += sign * minutes

    # --- one decision ------------------------------------------------------------------

    def window(self, job: Job, now_ts: float) -> tuple[int, int]:
        """Slots from now to the deadline (a working week when there is none)."""
        start = self.slot_after(now_ts)
        due_ts = job.due_ts if job.due_ts is not None else now_ts + NO_DEADLINE_DAYS * 86400
        return start, max(self.slot_of(due_ts), start)

    def eligible(self, job: Job) -> np.ndarray:
        """Who may take the job at all: present, skilled, speaking the language, below
        their open-task limit and weekly capacity."""
        mask = ~self.absent_now
        for slug in job.required_skills:
            levels = self.skill_levels.get(slug)
            if levels is None:
                return np.zeros(len(self), dtype=bool)
            mask = mask & (levels > 0)
        if job.language:
            speaks = self.speaks.get(job.language)
            if speaks is None:
                return np.zeros(len(self), dtype=bool)
            mask = mask & speaks
        mask &= self.open_count < self.max_open
        mask &= self.open_minutes + job.minutes <= self.capacity
        return mask

    def rule_mask(self, job: Job) -> np.ndarray:
        """The agency's rules for chosen-by-routing assistants (not for the people a
        client has named: primary, stand-in, backup)."""
        mask = np.ones(len(self), dtype=bool)
        if job.is_vip:
            mask &= self.level >= LEVELS.get(self.rules.vip_level, 2)
        if job.category and job.category in self._category_masks:
            mask &= self._category_masks[job.category]
        return mask

    def slack(self, idx: np.ndarray, job: Job, start: int, stop: int) -> np.ndarray:
        """Working minutes left before the deadline once earlier-due work and this job
        are done; negative means it would be late."""
        free = self.work_cum[idx, stop] - self.work_cum[idx, start]
        return free - self.due_cum[idx, stop] - job.minutes

    def costs(self, idx: np.ndarray, job: Job, slack: np.ndarray) -> np.ndarray:
        """Lower is better: load against capacity and open-task limit, skill level,
        and a penalty for little spare time before the deadline."""
        load = np.maximum(
            self.open_minutes[idx] / np.maximum(self.capacity[idx], 1.0),
            self.open_count[idx] / np.maximum(self.max_open[idx], 1),
        )
        cost = 10.0 * load
        for slug in job.required_skills:
            cost = cost + 1.5 * (5 - self.skill_levels[slug][idx])
        return cost + 4.0 * np.clip(1.0 - slack / TIGHT_MINUTES, 0.0, 1.0)


def decide(roster: Roster, job: Job, *, now_ts: float) -> Decision:
    """Choose an assistant for ``job`` at ``now_ts`` (see the module docstring)."""
    if job.agency_id != roster.agency_id:
        raise ValueError("the job belongs to another agency")
    start, stop = roster.window(job, now_ts)
    eligible = roster.eligible(job)
    reasons: list[Reason] = []

    def named(step: str, member_id: str | None) -> Decision | None:
        if member_id is None:
            return None
        verdict = _named_verdict(roster, job, member_id, eligible, start, stop)
        if verdict.code == "fits":
            return Decision(member_id, step, [*reasons, Reason(step, verdict.params)])
        reasons.append(Reason(f"{step}_unfit", verdict.params | {"why": verdict.code}))
        return None

    if job.holder is not None:
        verdict = _named_verdict(roster, job, job.holder, eligible, start, stop)
        reasons.append(Reason("holder_unfit", verdict.params | {"why": verdict.code}))
    if job.primary != job.holder and (chosen := named("primary", job.primary)) is not None:
        return chosen
    tried = {job.primary, job.holder}
    for away_id in (job.holder, job.primary):
        i = roster.index.get(away_id) if away_id else None
        away = roster.absence_now[i] if i is not None else None
        if away is not None and away.stand_in and away.stand_in not in tried:
            tried.add(away.stand_in)
            if (chosen := named("stand_in", away.stand_in)) is not None:
                return chosen
    if job.backup not in tried and (chosen := named("backup", job.backup)) is not None:
        return chosen

    allowed = eligible & roster.rule_mask(job)
    _rule_reasons(roster, job, reasons)
    team = np.zeros(len(roster), dtype=bool)
    for member_id in job.team:
        if (i := roster.index.get(member_id)) is not None:
            team[i] = True
    for step, pool in (("team", allowed & team), ("agency", allowed)):
        idx = np.flatnonzero(pool)
        if not idx.size:
            continue
        slack = roster.slack(idx, job, start, stop)
        feasible = slack >= 0
        if feasible.any():
            cost = np.where(feasible, roster.costs(idx, job, slack), np.inf)
            best = int(np.argmin(cost))
            i = int(idx[best])
            return Decision(
                roster.ids[i],
                step,
                [*reasons, *_fit_reasons(roster, job, i, float(slack[best]), step)],
            )

    # Nobody finishes in time: whoever comes closest (working soonest, least loaded),
    # so the task is not left waiting; the deadline alert still tells a dispatcher.
    # Only people who work enough within the horizon at all.
    horizon_free = (
        roster.work_cum[:, roster.slots] - roster.work_cum[:, start] - roster.open_minutes
    )
    idx = np.flatnonzero(allowed & (horizon_free >= job.minutes))
    if idx.size:
        slack = roster.slack(idx, job, start, stop)
        best = int(np.argmax(slack))
        i = int(idx[best])
        reasons.append(Reason("nobody_in_time", {}))
        return Decision(
            roster.ids[i],
            "late",
            [*reasons, *_fit_reasons(roster, job, i, float(slack[best]), "late")],
        )
    reasons.append(
        Reason("nobody", {"skills": list(job.required_skills), "language": job.language})
    )
    return Decision(None, "none", reasons)


def _named_verdict(
    roster: Roster, job: Job, member_id: str, eligible: np.ndarray, start: int, stop: int
) -> Reason:
    """Whether a person the client named (primary, stand-in, backup) fits, and if not,
    the first reason why."""
    i = roster.index.get(member_id)
    if i is None:
        return Reason("not_available", {"name": ""})
    a = roster.assistants[i]
    params: dict[str, Any] = {"name": a.name}
    away = roster.absence_now[i]
    if away is not None:
        return Reason("absent", params | {"until": away.ends_on.isoformat()})
    for slug in job.required_skills:
        if a.skills.get(slug, 0) <= 0:
            return Reason("missing_skill", params | {"skill": slug})
    if job.language and job.language not in a.languages:
        return Reason("language", params | {"language": job.language})
    if roster.open_count[i] >= roster.max_open[i]:
        return Reason("too_many_tasks", params | {"open": int(roster.open_count[i])})
    if not eligible[i]:
        return Reason("over_capacity", params | _load_params(roster, i))
    slack = float(roster.slack(np.array([i]), job, start, stop)[0])
    if slack < 0:
        return Reason("no_time", params | {"short_minutes": round(-slack)})
    return Reason("fits", params | _detail_params(roster, job, i, slack))


def _load_params(roster: Roster, i: int) -> dict[str, Any]:
    return {
        "open": int(roster.open_count[i]),
        "max_open": int(roster.max_open[i]),
        "open_hours": round(float(roster.open_minutes[i]) / 60, 1),
        "capacity_hours": round(float(roster.capacity[i]) / 60, 1),
    }


def _detail_params(roster: Roster, job: Job, i: int, slack: float) -> dict[str, Any]:
    a = roster.assistants[i]
    return {
        "name": a.name,
        "skills": {slug: a.skills.get(slug, 0) for slug in job.required_skills},
        "free_minutes": round(slack + job.minutes),
        "has_deadline": job.due_ts is not None,
        **_load_params(roster, i),
    }


def _fit_reasons(roster: Roster, job: Job, i: int, slack: float, step: str) -> list[Reason]:
    return [Reason(step, _detail_params(roster, job, i, slack))]


def _rule_reasons(roster: Roster, job: Job, reasons: list[Reason]) -> None:
    if job.is_vip:
        reasons.append(Reason("vip_rule", {"level": roster.rules.vip_level}))
    if job.category and job.category in roster.rules.category_teams:
        reasons.append(Reason("category_rule", {"category": job.category}))
