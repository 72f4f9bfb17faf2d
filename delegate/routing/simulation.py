"""Replay a day of demand against a team, with Delegate's routing and with round robin.

Pure Python on top of ``core`` (no database). Time moves in slots of
``core.SLOT_SECONDS``. Tasks arrive, are routed at once (round robin: to the next person
in a fixed rotation, whoever they are; Delegate: ``core.decide`` on the live load, with
tasks nobody can take retried every slot) and are worked by their assignee during their
working hours, earliest deadline first. Someone without a task's skills takes twice as
long, someone without the client's language too; someone away does no work.

The shipped scenario (``shipped_scenario``) is synthetic and seeded: a Tuesday with a
team in Berlin, New York and Manila (a public holiday there), one assistant away with a
named stand-in, clients in German and English with primaries, backups and VIPs, and
tasks that need one skill each. ``scenario_to_json``/``scenario_from_json`` write and read
scenarios as JSON, so an agency's own history (``services.scenario_from_agency``) can be
exported, edited and replayed.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from delegate.routing import core

SKILLS = ("bookkeeping", "travel", "calendar", "social-media", "research", "support")


@dataclass(frozen=True)
class ClientSpec:
    id: str
    language: str
    primary: str | None
    backup: str | None
    is_vip: bool = False
    team: tuple[str, ...] = ()


@dataclass(frozen=True)
class Arrival:
    id: str
    client: str
    arrives_ts: float
    due_ts: float
    minutes: int
    skills: tuple[str, ...]


@dataclass
class Scenario:
    name: str
    start: dt.datetime
    hours: int  # simulated time from start (arrivals come in the first 24 hours)
    assistants: list[core.Assistant]
    clients: dict[str, ClientSpec]
    arrivals: list[Arrival]


@dataclass
class _Work:
    arrival: Arrival
    remaining: float  # minutes of work left, slowed down for a poor match
    effort: float = 0.0  # minutes the assignee needs in all
    assignee: str | None = None
    first_work_ts: float | None = None
    done_ts: float | None = None


@dataclass
class Result:
    policy: str
    tasks: int
    sla: float  # share finished before due_at
    finished: float  # share finished at all within the simulated time
    utilisation: float  # worked minutes / working minutes of people present
    productive: float  # the same counting only the work's nominal length (no slow-down)
    fairness: float  # Jain's index of per-assistant utilisation (1 = perfectly even)
    first_response_median_min: float | None
    first_response_p90_min: float | None
    never_started: int
    per_assistant: dict[str, float] = field(default_factory=dict)


Policy = Callable[[Arrival, "Simulator"], str | None]


class Simulator:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.people = {a.id: a for a in scenario.assistants}
        agency = scenario.assistants[0].agency_id
        self.roster = core.Roster(agency, scenario.assistants, now=scenario.start, horizon_days=3)
        self.slots = scenario.hours * 3600 // core.SLOT_SECONDS
        # Minutes each person works per slot (their hours, absences and holidays).
        self.grid = np.diff(self.roster.work_cum[:, : self.slots + 1], axis=1)
        self.queues: dict[str, list[_Work]] = {a.id: [] for a in scenario.assistants}
        self.worked = {a.id: 0.0 for a in scenario.assistants}
        self.nominal = {a.id: 0.0 for a in scenario.assistants}
        self.rotation = 0
        self.now_ts: float = self.roster.epoch

    def job(self, arrival: Arrival) -> core.Job:
        client = self.scenario.clients[arrival.client]
        return core.Job(
            agency_id=self.roster.agency_id,
            required_skills=arrival.skills,
            language=client.language,
            due_ts=arrival.due_ts,
            minutes=arrival.minutes,
            is_vip=client.is_vip,
            primary=client.primary,
            backup=client.backup,
            team=client.team,
        )

    def effort(self, arrival: Arrival, person: str) -> float:
        """Minutes the person needs: longer without the skill or the language."""
        a = self.people[person]
        factor = 1.0 if all(a.skills.get(s, 0) > 0 for s in arrival.skills) else 2.0
        if self.scenario.clients[arrival.client].language not in a.languages:
            factor *= 2.0
        return arrival.minutes * factor

    def run(self, policy_name: str, policy: Policy) -> Result:
        arrivals = sorted(self.scenario.arrivals, key=lambda a: a.arrives_ts)
        works: list[_Work] = []
        waiting: list[_Work] = []
        epoch = self.roster.epoch
        nxt = 0
        for slot in range(self.slots):
            slot_start = epoch + slot * core.SLOT_SECONDS
            self.roster.set_now(dt.datetime.fromtimestamp(slot_start, dt.UTC))
            while nxt < len(arrivals) and arrivals[nxt].arrives_ts < slot_start + core.SLOT_SECONDS:
                work = _Work(arrivals[nxt], arrivals[nxt].minutes)
                works.append(work)
                waiting.append(work)
                nxt += 1
            still = []
            for work in waiting:
                self.now_ts = max(slot_start, work.arrival.arrives_ts)
                person = policy(work.arrival, self)
                if person is None:
                    still.append(work)
                    continue
                self._assign(work, person)
            waiting = still
            self._work_slot(slot, slot_start)
        return self._result(policy_name, works)

    def _assign(self, work: _Work, person: str) -> None:
        work.assignee = person
        work.remaining = work.effort = self.effort(work.arrival, person)
        self.queues[person].append(work)
        self.roster.add_task(person, due_ts=work.arrival.due_ts, minutes=work.arrival.minutes)

    def _work_slot(self, slot: int, slot_start: float) -> None:
        for i, person in enumerate(self.roster.ids):
            available = float(self.grid[i, slot])
            queue = self.queues[person]
            if available <= 0 or not queue:
                continue
            queue.sort(key=lambda w: (w.arrival.due_ts, w.arrival.arrives_ts))
            used = 0.0
            for work in list(queue):
                if work.arrival.arrives_ts > slot_start + used * 60:
                    continue  # arrived later within this slot
                if used >= available:
                    break
                if work.first_work_ts is None:
                    work.first_work_ts = slot_start + used * 60
                step = min(work.remaining, available - used)
                work.remaining -= step
                used += step
                self.nominal[person] += step * work.arrival.minutes / work.effort
                if work.remaining <= 1e-9:
                    work.done_ts = slot_start + used * 60
                    queue.remove(work)
                    self.roster.remove_task(
                        person, due_ts=work.arrival.due_ts, minutes=work.arrival.minutes
                    )
            self.worked[person] += used

    def _result(self, policy: str, works: Sequence[_Work]) -> Result:
        total = len(works)
        in_time = sum(1 for w in works if w.done_ts is not None and w.done_ts <= w.arrival.due_ts)
        finished = sum(1 for w in works if w.done_ts is not None)
        responses = sorted(
            (w.first_work_ts - w.arrival.arrives_ts) / 60
            for w in works
            if w.first_work_ts is not None
        )
        available = self.grid.sum(axis=1)
        shares = {
            person: self.worked[person] / float(available[i])
            for i, person in enumerate(self.roster.ids)
            if available[i] > 0
        }
        values = list(shares.values())
        jain = (
            (sum(values) ** 2) / (len(values) * sum(v * v for v in values)) if any(values) else 0.0
        )
        return Result(
            policy=policy,
            tasks=total,
            sla=in_time / total if total else 0.0,
            finished=finished / total if total else 0.0,
            utilisation=_share(sum(self.worked.values()), float(available.sum())),
            productive=_share(sum(self.nominal.values()), float(available.sum())),
            fairness=jain,
            first_response_median_min=statistics.median(responses) if responses else None,
            first_response_p90_min=responses[int(0.9 * (len(responses) - 1))]
            if responses
            else None,
            never_started=total - len(responses),
            per_assistant=shares,
        )


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def round_robin(arrival: Arrival, sim: Simulator) -> str:
    """What most helpdesks do: the next person in the rotation, whoever they are."""
    person = sim.roster.ids[sim.rotation % len(sim.roster.ids)]
    sim.rotation += 1
    return person


def delegate_routing(arrival: Arrival, sim: Simulator) -> str | None:
    return core.decide(sim.roster, sim.job(arrival), now_ts=sim.now_ts).assignee


def compare(scenario: Scenario) -> list[Result]:
    """Delegate's routing and round robin on fresh copies of the same scenario."""
    return [
        Simulator(scenario).run("delegate", delegate_routing),
        Simulator(scenario).run("round_robin", round_robin),
    ]


# --- the shipped scenario ----------------------------------------------------------------


def shipped_scenario(seed: int = 7) -> Scenario:
    rng = random.Random(seed)
    day = dt.date(2026, 12, 8)  # a Tuesday; a public holiday in the Philippines
    start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    weekdays = range(5)

    def hours(begin: int, end: int) -> tuple[core.Block, ...]:
        return tuple(core.Block(d, dt.time(begin), dt.time(end)) for d in weekdays)

    offices = [
        ("ber", "Europe/Berlin", "DE-BE", frozenset({"de", "en"}), 6, (8, 16)),
        ("nyc", "America/New_York", "US-NY", frozenset({"en"}), 4, (9, 17)),
        ("mnl", "Asia/Manila", "PH", frozenset({"en"}), 3, (9, 17)),
    ]
    assistants = []
    for prefix, zone, region, languages, count, (begin, end) in offices:
        for n in range(count):
            held = rng.sample(SKILLS, 3)
            assistants.append(
                core.Assistant(
                    id=f"{prefix}{n}",
                    name=f"{prefix.upper()} {n}",
                    agency_id="sim",
                    level="senior" if n == 0 else "regular",
                    time_zone=zone,
                    holiday_region=region,
                    languages=languages,
                    skills={skill: rng.randint(2, 5) for skill in held},
                    hours=hours(begin, end),
                    capacity_minutes=2400,
                    max_open_tasks=25,
                )
            )
    # ber1 is away all week; ber2 stands in.
    away = core.Away(day - dt.timedelta(days=1), day + dt.timedelta(days=3), stand_in="ber2")
    assistants[1].absences = (away,)
    ids = [a.id for a in assistants]
    german = [a.id for a in assistants if "de" in a.languages]
    clients = {}
    for n in range(30):
        language = "de" if n % 2 == 0 else "en"
        pool = german if language == "de" else ids
        primary, backup = rng.sample(pool, 2)
        if n in (0, 1, 2):
            primary = "ber1"  # the absent assistant's clients
        team = tuple(rng.sample(pool, 3))
        clients[f"c{n}"] = ClientSpec(f"c{n}", language, primary, backup, n % 7 == 0, team)
    arrivals = []
    for n in range(160):
        client = clients[f"c{rng.randrange(30)}"]
        # German clients write in their office hours (07-18 UTC), English ones across
        # Europe and America (08-23 UTC).
        begin, end = (7, 18) if client.language == "de" else (8, 23)
        arrives = start + dt.timedelta(hours=rng.uniform(begin, end))
        urgency = rng.random()
        within = (
            rng.uniform(1, 3)
            if urgency < 0.3
            else rng.uniform(4, 10)
            if urgency < 0.8
            else rng.uniform(20, 30)
        )
        arrivals.append(
            Arrival(
                id=f"t{n}",
                client=client.id,
                arrives_ts=arrives.timestamp(),
                due_ts=(arrives + dt.timedelta(hours=within)).timestamp(),
                minutes=rng.choice((15, 20, 30, 45, 60)),
                skills=(rng.choice(SKILLS),),
            )
        )
    name = f"shipped: Tuesday 8 December 2026 (seed {seed})"
    return Scenario(name, start, 48, assistants, clients, arrivals)


# --- scenarios as JSON -------------------------------------------------------------------


def _hm(value: dt.time) -> str:
    return value.strftime("%H:%M")


def scenario_to_json(scenario: Scenario) -> dict[str, object]:
    return {
        "name": scenario.name,
        "start": scenario.start.isoformat(),
        "hours": scenario.hours,
        "assistants": [
            {
                "id": a.id,
                "name": a.name,
                "level": a.level,
                "time_zone": a.time_zone,
                "holiday_region": a.holiday_region,
                "languages": sorted(a.languages),
                "skills": dict(a.skills),
                "hours": [[b.weekday, _hm(b.starts_at), _hm(b.ends_at)] for b in a.hours],
                "absences": [
                    [w.starts_on.isoformat(), w.ends_on.isoformat(), w.stand_in] for w in a.absences
                ],
                "capacity_minutes": a.capacity_minutes,
                "max_open_tasks": a.max_open_tasks,
            }
            for a in scenario.assistants
        ],
        "clients": [
            {
                "id": c.id,
                "language": c.language,
                "primary": c.primary,
                "backup": c.backup,
                "is_vip": c.is_vip,
                "team": list(c.team),
            }
            for c in scenario.clients.values()
        ],
        "arrivals": [
            {
                "id": t.id,
                "client": t.client,
                "arrives_at": dt.datetime.fromtimestamp(t.arrives_ts, dt.UTC).isoformat(),
                "due_at": dt.datetime.fromtimestamp(t.due_ts, dt.UTC).isoformat(),
                "minutes": t.minutes,
                "skills": list(t.skills),
            }
            for t in scenario.arrivals
        ],
    }


def scenario_from_json(data: dict[str, Any]) -> Scenario:
    def ts(value: str) -> float:
        return dt.datetime.fromisoformat(value).timestamp()

    assistants = [
        core.Assistant(
            id=a["id"],
            name=a.get("name", a["id"]),
            agency_id="sim",
            level=a.get("level", "regular"),
            time_zone=a.get("time_zone", "Europe/Berlin"),
            holiday_region=a.get("holiday_region", ""),
            languages=frozenset(a.get("languages", ())),
            skills={str(k): int(v) for k, v in a.get("skills", {}).items()},
            hours=tuple(
                core.Block(int(d), dt.time.fromisoformat(b), dt.time.fromisoformat(e))
                for d, b, e in a.get("hours", ())
            ),
            absences=tuple(
                core.Away(dt.date.fromisoformat(b), dt.date.fromisoformat(e), stand_in)
                for b, e, stand_in in a.get("absences", ())
            ),
            capacity_minutes=float(a.get("capacity_minutes", 2400)),
            max_open_tasks=int(a.get("max_open_tasks", 25)),
        )
        for a in data["assistants"]
    ]
    clients = {
        c["id"]: ClientSpec(
            c["id"],
            c.get("language", ""),
            c.get("primary"),
            c.get("backup"),
            bool(c.get("is_vip")),
            tuple(c.get("team", ())),
        )
        for c in data["clients"]
    }
    arrivals = [
        Arrival(
            t["id"],
            t["client"],
            ts(t["arrives_at"]),
            ts(t["due_at"]),
            int(t["minutes"]),
            tuple(t.get("skills", ())),
        )
        for t in data["arrivals"]
    ]
    return Scenario(
        data.get("name", "scenario"),
        dt.datetime.fromisoformat(data["start"]),
        int(data.get("hours", 48)),
        assistants,
        clients,
        arrivals,
    )
