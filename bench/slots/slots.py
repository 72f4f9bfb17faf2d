"""bench/slots: free slots for a team, in the engine and through the booking page.

    .venv/bin/python bench/slots/slots.py [--db sqlite|postgresql] [--persons 20] [--days 30]

See bench/slots/README.md. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import importlib.util
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

# Server start-up, scratch environment and percentiles are shared with bench/api.
_spec = importlib.util.spec_from_file_location("bench_api", ROOT / "bench" / "api" / "run.py")
assert _spec is not None and _spec.loader is not None
api_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api_bench)

ZONES = ["Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata", "Europe/Vienna"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="server URL without database name; the database delegate_bench_slots is dropped "
        "and created",
    )
    parser.add_argument("--persons", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events", type=int, default=1000, help="busy events per person")
    parser.add_argument("--rounds", type=int, default=15, help="engine rounds (median taken)")
    parser.add_argument("--requests", type=int, default=200, help="slot requests to the page")
    parser.add_argument(
        "--workers", type=int, default=(os.cpu_count() or 1) + 1, help="gunicorn processes"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-page", action="store_true", help="engine only, no server")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    return parser.parse_args()


# --- a person's calendar -------------------------------------------------------------------


def person_events(
    rng: random.Random, zone: ZoneInfo, first: dt.date, days: int, count: int
) -> list[Any]:
    """``count`` busy events in the ``days`` from ``first``: single events of 5–30
    minutes starting between 06:00 and 22:00 local, 1 % all-day, plus recurring series (a daily
    stand-up with an exception and a moved occurrence, a weekly meeting, a fortnightly
    one-to-one) that count towards ``count`` with their occurrences in the window."""
    from delegate.scheduling.recurrence import EventSpec

    start = dt.datetime.combine(first, dt.time(9), tzinfo=zone)
    series = [
        EventSpec(
            "standup",
            start,
            start + dt.timedelta(minutes=15),
            rrule="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
            exdates=(start + dt.timedelta(days=3),),
        ),
        EventSpec(
            "standup",
            start + dt.timedelta(days=4, hours=2),
            start + dt.timedelta(days=4, hours=2, minutes=15),
            recurrence_id=start + dt.timedelta(days=4),
        ),
        EventSpec(
            "weekly",
            start + dt.timedelta(hours=5),
            start + dt.timedelta(hours=6),
            rrule="FREQ=WEEKLY",
        ),
        EventSpec(
            "one-to-one",
            start + dt.timedelta(days=1, hours=3),
            start + dt.timedelta(days=1, hours=3, minutes=45),
            rrule="FREQ=WEEKLY;INTERVAL=2",
        ),
    ]
    occurrences = days * 5 // 7 + days // 7 + days // 14
    events = list(series)
    for i in range(max(0, count - occurrences)):
        day = first + dt.timedelta(days=rng.randrange(days))
        if rng.random() < 0.01:
            events.append(EventSpec(f"allday-{i}", day, day + dt.timedelta(days=1)))
            continue
        begin = dt.datetime.combine(day, dt.time(6), tzinfo=zone) + dt.timedelta(
            minutes=5 * rng.randrange(192)
        )
        events.append(
            EventSpec(f"e{i}", begin, begin + dt.timedelta(minutes=5 * rng.randint(1, 6)))
        )
    return events


def rules(zone: ZoneInfo, days: int, holidays: frozenset[dt.date]) -> Any:
    from delegate.scheduling.slots import Rules

    hours = {d: [(dt.time(9), dt.time(12, 30)), (dt.time(13, 30), dt.time(18))] for d in range(5)}
    return Rules(
        zone=zone,
        weekly_hours=hours,
        duration=30 * 60,
        step=15 * 60,
        buffer_before=10 * 60,
        buffer_after=5 * 60,
        min_notice=4 * 3600,
        horizon=days * 86400,
        daily_limit=6,
        holidays=holidays,
    )


def bench_engine(args: argparse.Namespace) -> dict[str, Any]:
    from delegate.scheduling.recurrence import expand
    from delegate.scheduling.services import holiday_dates
    from delegate.scheduling.slots import free_slots

    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    first = now.date()
    holidays = holiday_dates("DE-BY", {first.year, first.year + 1})
    team = []
    for person in range(args.persons):
        zone = ZoneInfo(ZONES[person % len(ZONES)])
        events = person_events(rng, zone, first, args.days, args.events)
        booked = [int(now.timestamp()) + rng.randrange(args.days * 86400) for _ in range(20)]
        team.append((zone, events, booked, rules(zone, args.days, holidays)))
    lo, hi = int(now.timestamp()) - 86400, int(now.timestamp()) + (args.days + 1) * 86400
    now_ts = int(now.timestamp())
    busy = [expand(events, zone=zone, start=lo, end=hi) for zone, events, _b, _r in team]
    expand_rounds, engine_rounds, engine_cpu_rounds, found = [], [], [], 0
    for _ in range(args.rounds):
        started = time.perf_counter()
        busy = [expand(events, zone=zone, start=lo, end=hi) for zone, events, _b, _r in team]
        expand_rounds.append(time.perf_counter() - started)
        started = time.perf_counter()
        cpu_started = time.process_time()
        results = [
            free_slots(r, busy=b, now=now_ts, booked=booked)
            for (_z, _e, booked, r), b in zip(team, busy, strict=True)
        ]
        engine_rounds.append(time.perf_counter() - started)
        engine_cpu_rounds.append(time.process_time() - cpu_started)
        found = sum(len(slots) for slots in results)
    per = args.persons * args.days / 30
    busy_blocks = sum(len(b) for b in busy) / args.persons
    print(
        f"engine: {args.persons} persons × {args.days} days, {args.events} busy events each "
        f"({busy_blocks:.0f} merged busy blocks), {found / args.persons:.0f} free slots each"
    )
    return {
        "engine_ms_per_person_month": round(statistics.median(engine_rounds) * 1000 / per, 3),
        # CPU time of this process: on a shared machine, wall time also counts waiting
        # for a core.
        "engine_cpu_ms_per_person_month": round(
            statistics.median(engine_cpu_rounds) * 1000 / per, 3
        ),
        "expand_ms_per_person_month": round(statistics.median(expand_rounds) * 1000 / per, 3),
        "team_engine_ms": round(statistics.median(engine_rounds) * 1000, 2),
        "free_slots_per_person": round(found / args.persons),
    }


# --- the booking page, end to end ------------------------------------------------------------


def seed_booking_page(args: argparse.Namespace) -> str:
    from delegate.accounts.models import User
    from delegate.agencies import services as agencies
    from delegate.clients import services as clients
    from delegate.scheduling import services as scheduling
    from delegate.scheduling.models import EventType

    owner_user = User.objects.create_user("owner@bench.test", "bench password 4711", name="Olga")
    owner = agencies.create_agency(owner_user, name="Bench Assist", slug="bench")
    client = clients.create_client(owner, name="Client")
    calendar = scheduling.create_calendar(owner, client=client, name="Main")
    rng = random.Random(11)
    zone = ZoneInfo("Europe/Berlin")
    first = dt.date.today()
    for spec in person_events(rng, zone, first, args.days, args.events):
        extra = {"rrule": spec.rrule} if spec.rrule else {}
        rid = spec.recurrence_id.isoformat() if spec.recurrence_id else ""
        if spec.exdates:
            extra["exdates"] = [x.isoformat() for x in spec.exdates]
        scheduling.save_event(
            None,
            calendar,
            summary="busy",
            starts_at=spec.start,
            ends_at=spec.end,
            uid=spec.uid,
            recurrence_id=rid,
            **extra,
        )
    hours = {str(d): [["09:00", "12:30"], ["13:30", "18:00"]] for d in range(5)}
    page = EventType.objects.create(
        agency=owner.agency,
        client=client,
        name="Call",
        duration_minutes=30,
        step_minutes=15,
        buffer_before_minutes=10,
        buffer_after_minutes=5,
        min_notice_minutes=240,
        horizon_days=args.days,
        daily_limit=6,
        working_hours=hours,
        holiday_region="DE-BY",
        target_calendar=calendar,
    )
    page.busy_calendars.add(calendar)
    return page.slug


def bench_page(args: argparse.Namespace, port: int, slug: str) -> dict[str, Any]:
    today = dt.date.today()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    timings: list[float] = []
    size = 0
    for i in range(args.requests + 5):
        # a week of slots, as the page's htmx request asks for it, walking through the month
        day = today + dt.timedelta(days=(i % max(1, args.days // 7)) * 7)
        path = f"/book/{slug}/?day={day.isoformat()}&tz=America%2FNew_York&lang=en"
        started = time.perf_counter()
        conn.request("GET", path, headers={"HX-Request": "true"})
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status}")
        if i >= 5:
            timings.append(elapsed * 1000)
            size = len(body)
    conn.close()
    return {
        "page_requests": len(timings),
        "slot_bytes": size,
        "slot_p50_ms": round(api_bench.percentile(timings, 50), 1),
        "slot_p95_ms": round(api_bench.percentile(timings, 95), 1),
        "slot_p99_ms": round(api_bench.percentile(timings, 99), 1),
    }


def prepare_environment(args: argparse.Namespace, scratch: Path) -> None:
    """bench/api's scratch environment, with a database of its own on PostgreSQL so the
    two benchmarks never drop each other's."""
    db = args.db
    args.db = "sqlite"
    api_bench.prepare_environment(args, scratch)
    args.db = db
    if db == "postgresql":
        import psycopg

        base = args.pg_url.rstrip("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS delegate_bench_slots WITH (FORCE)")
            conn.execute("CREATE DATABASE delegate_bench_slots")
        os.environ["DATABASE_URL"] = f"{base}/delegate_bench_slots"


def main() -> None:
    args = parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="delegate-bench-slots-"))
    figures: dict[str, Any] = {
        "bench": "slots",
        "db": args.db,
        "persons": args.persons,
        "days": args.days,
        "busy_events_per_person": args.events,
    }
    server = None
    try:
        prepare_environment(args, scratch)
        api_bench.setup_django()
        figures.update(bench_engine(args))
        if not args.skip_page:
            api_bench.manage("migrate", "--no-input")
            api_bench.manage("collectstatic", "--no-input")
            slug = seed_booking_page(args)
            port = api_bench.free_port()
            server = api_bench.start_server(args, port, scratch)
            figures.update(bench_page(args, port, slug))
            figures.update(workers=args.workers, threads=args.threads)
    finally:
        if server is not None:
            api_bench.stop_server(server)
        if args.keep:
            print(f"scratch folder kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    figures["cpus"] = os.cpu_count()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
