"""bench/routing/db.py: routing one task end to end through the database, in a large agency.

    .venv/bin/python bench/routing/db.py [--db sqlite|postgresql] [--assistants 1000]
        [--open-tasks 100000] [--routes 30]

Seeds a scratch database (SQLite file, or the PostgreSQL database ``delegate_routing_bench``,
dropped and created) with one agency: ``--assistants`` assistants with skills, languages,
weekly hours in four time zones and a few absences, 200 clients, ``--open-tasks`` open
tasks assigned to them. Then routes ``--routes`` triaged tasks with
``services.route_task`` (lock, load the roster, decide, assign, record the reasons) and
times each call (it sums the open work per assistant in the database), and times
``services.load_roster`` reading every open task as a row, as the periodic jobs and the
rebalance do. Unlike ``run.py``, which measures the decision in memory, these figures
include the database.

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)  # a Tuesday, 11:00 in Berlin
ZONES = [
    ("Europe/Berlin", "DE-BE", ["de", "en"]),
    ("America/New_York", "US-NY", ["en"]),
    ("Asia/Manila", "PH", ["en"]),
    ("Europe/Lisbon", "PT", ["en", "de"]),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="server URL without database name",
    )
    parser.add_argument("--assistants", type=int, default=1000)
    parser.add_argument("--open-tasks", type=int, default=100_000)
    parser.add_argument("--routes", type=int, default=30)
    return parser.parse_args()


def prepare(args: argparse.Namespace, scratch: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "delegate.settings",
            "DELEGATE_DATA_DIR": str(scratch),
            "DEBUG": "0",
            "SECRET_KEY": "bench-routing-" + "x" * 40,
            "LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        }
    )
    if args.db == "postgresql":
        import psycopg

        base = args.pg_url.rstrip("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS delegate_routing_bench WITH (FORCE)")
            conn.execute("CREATE DATABASE delegate_routing_bench")
        os.environ["DATABASE_URL"] = f"{base}/delegate_routing_bench"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(args: argparse.Namespace) -> tuple[Any, list[Any]]:
    from delegate.accounts.models import User
    from delegate.agencies import services as agencies
    from delegate.agencies.models import (
        Absence,
        AssistantProfile,
        AssistantSkill,
        Member,
        Skill,
        WorkingHours,
    )
    from delegate.clients.models import Client, ClientTeamMember
    from delegate.tasks.models import Task

    rng = random.Random(1)
    owner = agencies.create_agency(
        User.objects.create_user("owner@bench.test", None, name="Owner"), name="Bench", slug="bench"
    )
    agency = owner.agency
    users = User.objects.bulk_create(
        User(email=f"a{n}@bench.test", name=f"Assistant {n}", password="!")
        for n in range(args.assistants)
    )
    members = Member.objects.bulk_create(
        Member(agency=agency, user=user, role=Member.Role.ASSISTANT) for user in users
    )
    profiles = AssistantProfile.objects.bulk_create(
        AssistantProfile(
            agency=agency,
            member=m,
            time_zone=ZONES[n % 4][0],
            holiday_region=ZONES[n % 4][1],
            languages=ZONES[n % 4][2],
            level=rng.choice(["junior", "regular", "regular", "senior"]),
            max_open_tasks=200,
            capacity_hours_per_week=60,
        )
        for n, m in enumerate(members)
    )
    skills = Skill.objects.bulk_create(
        Skill(agency=agency, slug=f"skill-{n}", name=f"Skill {n}") for n in range(20)
    )
    AssistantSkill.objects.bulk_create(
        AssistantSkill(agency=agency, profile=p, skill=s, level=rng.randint(1, 5))
        for p in profiles
        for s in rng.sample(skills, 5)
    )
    WorkingHours.objects.bulk_create(
        WorkingHours(
            agency=agency, profile=p, weekday=d, starts_at=dt.time(h), ends_at=dt.time(h + 8)
        )
        for p in profiles
        for h in [rng.choice((7, 8, 9, 10))]
        for d in range(5)
    )
    Absence.objects.bulk_create(
        Absence(
            agency=agency,
            member=m,
            starts_on=dt.date(2026, 11, 30),
            ends_on=dt.date(2026, 12, 4),
            stand_in=rng.choice(members),
        )
        for m in rng.sample(members, max(1, len(members) * 3 // 100))
    )
    clients = Client.objects.bulk_create(
        Client(
            agency=agency,
            name=f"Client {n}",
            language=rng.choice(["de", "en"]),
            primary_assistant=primary,
            backup_assistant=backup,
        )
        for n in range(200)
        for primary, backup in [rng.sample(members, 2)]
    )
    ClientTeamMember.objects.bulk_create(
        ClientTeamMember(agency=agency, client=c, member=m)
        for c in clients
        for m in rng.sample(members, 3)
    )
    Task.objects.bulk_create(
        (
            Task(
                agency=agency,
                client=rng.choice(clients),
                title="Open work",
                channel=Task.Channel.EMAIL,
                status=Task.Status.ASSIGNED,
                assignee=rng.choice(members),
                due_at=NOW + dt.timedelta(hours=rng.uniform(-12, 24 * 7)),
                estimate_minutes=rng.choice((10, 15, 20, 30)),
            )
            for _ in range(args.open_tasks)
        ),
        batch_size=5000,
    )
    waiting = Task.objects.bulk_create(
        Task(
            agency=agency,
            client=rng.choice(clients),
            title=f"To route {n}",
            channel=Task.Channel.EMAIL,
            status=Task.Status.TRIAGED,
            due_at=NOW + dt.timedelta(hours=rng.uniform(2, 48)),
            estimate_minutes=30,
            language=rng.choice(["de", "en"]),
        )
        for n in range(args.routes)
    )
    Task.required_skills.through.objects.bulk_create(
        Task.required_skills.through(task_id=t.pk, skill_id=rng.choice(skills).pk) for t in waiting
    )
    return agency.pk, list(waiting)


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-routing-") as folder:
        prepare(args, Path(folder))
        from django.db import connection

        from delegate.routing import services

        started = time.perf_counter()
        agency_id, waiting = seed(args)
        print(f"seeded {args.assistants} assistants and {args.open_tasks} open tasks "
              f"on {connection.vendor} in {time.perf_counter() - started:.0f} s")  # fmt: skip
        loads = []
        for _ in range(5):
            t0 = time.perf_counter()
            roster, _members = services.load_roster(agency_id, now=NOW)
            loads.append(time.perf_counter() - t0)
        print(f"load_roster, every open task as a row (periodic jobs, rebalance): "
              f"{[round(x, 3) for x in loads]} s ({len(roster)} assistants)")  # fmt: skip
        routes: list[float] = []
        steps: dict[str, int] = {}
        for task in waiting:
            t0 = time.perf_counter()
            decision = services.route_task(None, task, now=NOW)
            routes.append(time.perf_counter() - t0)
            if decision is not None:
                steps[decision.step] = steps.get(decision.step, 0) + 1
        routes.sort()
        p50 = routes[len(routes) // 2]
        p90 = routes[int(len(routes) * 0.9)]
        print(f"route_task: p50 {p50 * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, "
              f"max {routes[-1] * 1000:.0f} ms; steps {steps}")  # fmt: skip
        print(
            json.dumps(
                {
                    "bench": "routing_db",
                    "db": connection.vendor,
                    "assistants": args.assistants,
                    "open_tasks": args.open_tasks,
                    "load_roster_all_rows_median_ms": round(statistics.median(loads) * 1000),
                    "route_task_p50_ms": round(p50 * 1000),
                    "route_task_p90_ms": round(p90 * 1000),
                    "routes": len(routes),
                    "steps": steps,
                    "load_avg": os.getloadavg()[0],
                }
            )
        )
        connection.close()


if __name__ == "__main__":
    main()
