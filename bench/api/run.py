"""bench/api: creating tasks through the JSON API, and the assistant queue page with a
large agency, against the real production server (gunicorn, DEBUG off).

    .venv/bin/python bench/api/run.py [--db sqlite|postgresql] [--tasks 100000]

See bench/api/README.md. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "bench password 4711"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="server URL without database name; the database delegate_bench is dropped and created",
    )
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks in the agency")
    parser.add_argument(
        "--creates", type=int, default=2000, help="POST /api/v1/tasks calls (python client)"
    )
    parser.add_argument(
        "--duration", type=int, default=20, help="seconds of creating tasks (wrk client)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=50,
        help="tasks per POST /api/v1/tasks/batch in the batch phase (0 skips it; wrk only)",
    )
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk (installed with apt-get if missing) or Python threads",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent API clients")
    parser.add_argument("--queue-loads", type=int, default=200, help="GET /desk/ calls")
    parser.add_argument(
        "--workers", type=int, default=(os.cpu_count() or 1) + 1, help="gunicorn processes"
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument(
        "--no-idempotency-key", action="store_true", help="send creates without the header"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    return parser.parse_args()


# --- scratch environment ---------------------------------------------------------------


def prepare_environment(args: argparse.Namespace, scratch: Path) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "delegate.settings",
        "DELEGATE_DATA_DIR": str(scratch),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    if args.db == "postgresql":
        import psycopg

        base = args.pg_url.rstrip("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS delegate_bench WITH (FORCE)")
            conn.execute("CREATE DATABASE delegate_bench")
        env["DATABASE_URL"] = f"{base}/delegate_bench"
    else:
        env["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ.update(env)
    return env


def manage(*argv: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *argv, "-v", "0"], cwd=ROOT, check=True, env=os.environ
    )


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- data ------------------------------------------------------------------------------------


def create_agency() -> dict[str, Any]:
    from delegate.accounts.models import User
    from delegate.agencies import services as agencies
    from delegate.api.services import create_api_key
    from delegate.clients import services as clients

    owner_user = User.objects.create_user("owner@bench.test", PASSWORD, name="Olga Owner")
    owner = agencies.create_agency(owner_user, name="Bench Assist", slug="bench")
    assistants = [
        agencies.add_member(
            owner,
            email=f"assistant{i}@bench.test",
            name=f"Assistant {i}",
            role="assistant",
            password=PASSWORD,
        )
        for i in range(5)
    ]
    client_list = [
        clients.create_client(
            owner,
            name=f"Client {i:02d}",
            primary_assistant=assistants[i % 5],
            backup_assistant=assistants[(i + 1) % 5],
        )
        for i in range(20)
    ]
    _key, token = create_api_key(owner, name="bench", scope="read_write")
    return {
        "owner": owner,
        "assistants": assistants,
        "clients": client_list,
        "token": token,
        "queue_user": assistants[0].user.email,
    }


def bulk_fill(data: dict[str, Any], total: int) -> int:
    """Insert tasks until the agency holds ``total``: 80 % closed, 20 % open, spread over
    the clients; open tasks mostly assigned to the client's primary assistant."""
    from django.db import connection
    from django.utils import timezone

    from delegate.tasks.models import Task

    owner = data["owner"]
    have = Task.objects.filter(agency_id=owner.agency_id).count()
    missing = max(0, total - have)
    rng = random.Random(42)
    now = timezone.now()
    closed = [Task.Status.DONE] * 7 + [Task.Status.CANCELLED]
    S = Task.Status
    open_ = [S.NEW, S.TRIAGED, S.ASSIGNED, S.ASSIGNED, S.IN_PROGRESS, S.IN_PROGRESS,
             S.WAITING_ON_CLIENT]  # fmt: skip
    batch: list[Task] = []
    started = time.perf_counter()
    for i in range(missing):
        client = data["clients"][i % len(data["clients"])]
        status = rng.choice(open_) if rng.random() < 0.2 else rng.choice(closed)
        assignee = None
        if status not in (Task.Status.NEW, Task.Status.TRIAGED):
            assignee = client.primary_assistant if rng.random() < 0.8 else client.backup_assistant
        created = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 365))
        batch.append(Task(
            id=uuid.uuid4(), agency_id=owner.agency_id, client=client, title=f"Bulk task {i}",
            channel=Task.Channel.EMAIL, status=status, assignee=assignee,
            priority=rng.choice([1, 2, 2, 2, 3, 4]),
            due_at=created + dt.timedelta(days=rng.randint(1, 30)) if rng.random() < 0.7 else None,
            status_changed_at=created, done_at=created if status == Task.Status.DONE else None,
        ))  # fmt: skip
        if len(batch) == 5000:
            Task.objects.bulk_create(batch)
            batch = []
    if batch:
        Task.objects.bulk_create(batch)
    # bulk_create skips auto_now_add: spread created_at/updated_at like real history.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE tasks_task SET created_at = status_changed_at, "
                "updated_at = status_changed_at WHERE title LIKE 'Bulk task %%'"
            )
            cursor.execute("ANALYZE")
        else:
            cursor.execute(
                "UPDATE tasks_task SET created_at = status_changed_at, "
                "updated_at = status_changed_at WHERE title LIKE 'Bulk task %'"
            )
            cursor.execute("ANALYZE")
    print(f"bulk insert: {missing} tasks in {time.perf_counter() - started:.1f}s")
    return Task.objects.filter(agency_id=owner.agency_id).count()


# --- server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(args: argparse.Namespace, port: int, scratch: Path) -> subprocess.Popen[bytes]:
    log = open(scratch / "gunicorn.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "delegate.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited: see {scratch / 'gunicorn.log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start within 60 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- measuring -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def bench_creates(args: argparse.Namespace, port: int, data: dict[str, Any]) -> dict[str, Any]:
    client_ids = [str(c.pk) for c in data["clients"]]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    per_thread = [args.creates // args.concurrency] * args.concurrency
    for i in range(args.creates % args.concurrency):
        per_thread[i] += 1

    def worker(n: int, seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        for i in range(n):
            body = json.dumps({
                "client": rng.choice(client_ids), "title": f"API task {seed}-{i}",
                "priority": rng.choice([1, 2, 3, 4]), "description": "Created by bench/api.",
            })  # fmt: skip
            headers = {
                "Authorization": f"Bearer {data['token']}",
                "Content-Type": "application/json",
            }
            if not args.no_idempotency_key:
                headers["Idempotency-Key"] = f"bench-{seed}-{i}-{uuid.uuid4().hex}"
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/tasks", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                with lock:
                    failures.append(repr(exc))
                continue
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 201:
                with lock:
                    failures.append(f"{response.status} {payload[:200]!r}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(n, seed)) for seed, n in enumerate(per_thread)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        print(f"create failures: {len(failures)}, first: {failures[0]}")
    ok = len(latencies) - sum(1 for f in failures if f[:3].isdigit())
    return {
        "create_requests": args.creates,
        "create_failures": len(failures),
        "create_per_s": round(ok / wall, 1),
        "create_p50_ms": round(percentile(latencies, 50), 1),
        "create_p99_ms": round(percentile(latencies, 99), 1),
    }


WRK_SCRIPT = """
local counter = 0
local next_id = 0
local clients = {%(clients)s}
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end
function init(args)
  math.randomseed(id * 7919 + 17)
end
local function one_task()
  counter = counter + 1
  return string.format(
    '{"client": "%%s", "title": "API task %%d-%%d", "priority": %%d, '
    .. '"description": "Created by bench/api."}',
    clients[math.random(#clients)], id, counter, math.random(4))
end
request = function()
  local body
  if %(batch)d > 0 then
    local items = {}
    for i = 1, %(batch)d do items[i] = one_task() end
    body = '{"tasks": [' .. table.concat(items, ", ") .. ']}'
  else
    body = one_task()
  end
  local headers = {}
  headers["Authorization"] = "Bearer %(token)s"
  headers["Content-Type"] = "application/json"
  %(idempotency)s
  return wrk.format("POST", "%(path)s", headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format("WRK %%d %%d %%d %%.3f %%.3f %%d\\n", summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.duration))
end
"""


def find_wrk() -> str | None:
    """wrk (C, Debian package) loads the server without eating the CPU the server needs,
    as a Python client on the same two cores would; installed on first use."""
    found = shutil.which("wrk")
    if found or not shutil.which("apt-get") or os.geteuid() != 0:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True)
    return shutil.which("wrk")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def server_cpu(server: subprocess.Popen[bytes]) -> dict[str, float | None]:
    """CPU seconds used so far by the web server (gunicorn and its workers) and by the
    database server's backends for this database (PostgreSQL on this machine; None when
    they cannot be read). Differences of these give the CPU one request costs, a figure
    that other load on a shared machine disturbs far less than requests per second."""
    from django.db import connection

    web = [server.pid, *_children(server.pid)]
    database: list[int] = []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            database = [row[0] for row in cursor.fetchall()]
    web_times = [_cpu_seconds(pid) for pid in web]
    db_times = [_cpu_seconds(pid) for pid in database]
    return {
        "web": sum(t for t in web_times if t is not None),
        "db": sum(t for t in db_times if t is not None)
        if database and None not in db_times
        else None,
    }


def warm_up(port: int, data: dict[str, Any], *, workers: int) -> None:
    for i in range(workers * 10):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        body = json.dumps({"client": str(data["clients"][0].pk), "title": f"Warm-up {i}"})
        headers = {"Authorization": f"Bearer {data['token']}", "Content-Type": "application/json"}
        conn.request("POST", "/api/v1/tasks", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status != 201:
            raise SystemExit(f"warm-up request failed: {response.status}")


def bench_creates_wrk(
    args: argparse.Namespace,
    port: int,
    data: dict[str, Any],
    wrk: str,
    scratch: Path,
    server: subprocess.Popen[bytes],
    *,
    batch: int = 0,
) -> dict[str, Any]:
    """Tasks created per second: one per request, or ``batch`` per request through
    ``POST /api/v1/tasks/batch``. Counted in the database, not by the load generator."""
    from delegate.tasks.models import Task

    idempotency = (
        ""
        if args.no_idempotency_key
        else 'headers["Idempotency-Key"] = string.format("bench-%d-%d-%d", id, counter, '
        "math.random(1000000000))"
    )
    script = scratch / f"create-{batch}.lua"
    script.write_text(
        WRK_SCRIPT
        % {
            "clients": ", ".join(f'"{c.pk}"' for c in data["clients"]),
            "token": data["token"],
            "idempotency": idempotency,
            "batch": batch,
            "path": "/api/v1/tasks/batch" if batch else "/api/v1/tasks",
        }
    )
    threads = min(2, args.concurrency)
    # Warm up first: each worker's first requests import and build what it needs
    # (URLconf, the API schema, templates); the figures are for the steady state. On a
    # busy machine that takes seconds, so first wait until every worker has answered
    # (a fresh connection per request spreads them over the workers), then run wrk.
    warm_up(port, data, workers=args.workers)
    subprocess.run(
        [wrk, f"-t{threads}", f"-c{args.concurrency}", "-d3s", "-s", str(script),
         f"http://127.0.0.1:{port}/api/v1/tasks"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    before = Task.objects.filter(title__startswith="API task").count()
    # Backends of connections opened during the run are missed; with persistent
    # connections (DB_CONN_MAX_AGE) the warm-up has opened them all.
    cpu_before = server_cpu(server)
    result = subprocess.run(
        [wrk, f"-t{threads}", f"-c{args.concurrency}", f"-d{args.duration}s", "--timeout", "30s",
         "-s", str(script), f"http://127.0.0.1:{port}/api/v1/tasks"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(x for x in result.stdout.splitlines() if x.startswith("WRK "))
    requests, bad_status, socket_errors, p50, p99, duration_us = line.split()[1:]
    cpu_after = server_cpu(server)
    created = Task.objects.filter(title__startswith="API task").count() - before
    seconds = int(duration_us) / 1e6
    prefix = "batch" if batch else "create"
    figures: dict[str, Any] = {
        f"{prefix}_requests": int(requests),
        f"{prefix}_failures": int(bad_status) + int(socket_errors),
        # Counted in the database, not taken from the load generator's word.
        f"{prefix}_per_s": round(created / seconds, 1),
        f"{prefix}_p50_ms": round(float(p50), 1),
        f"{prefix}_p99_ms": round(float(p99), 1),
    }
    # CPU per task created: web server, and database backends where they can be read.
    for side in ("web", "db"):
        start, end = cpu_before[side], cpu_after[side]
        if start is not None and end is not None and created:
            figures[f"{prefix}_{side}_cpu_ms_per_task"] = round((end - start) * 1000 / created, 2)
    if batch:
        figures["batch_size"] = batch
    else:
        figures["create_client"] = "wrk"
    return figures


def login(port: int, email: str) -> str:
    """Log in through the real login form; returns the Cookie header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/accounts/login/")
    response = conn.getresponse()
    page = response.read().decode()
    cookies = _cookies(response)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        raise SystemExit("login page without CSRF token")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1), "username": email, "password": PASSWORD}
    )
    conn.request(
        "POST", "/accounts/login/", body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Cookie": _cookie_header(cookies), "Referer": f"http://127.0.0.1:{port}/"},
    )  # fmt: skip
    response = conn.getresponse()
    response.read()
    cookies.update(_cookies(response))
    conn.close()
    if response.status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"login failed: {response.status}")
    return _cookie_header(cookies)


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def bench_queue(args: argparse.Namespace, port: int, email: str) -> dict[str, Any]:
    cookie = login(port, email)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies: list[float] = []
    size = 0
    for i in range(args.queue_loads + 5):
        started = time.perf_counter()
        conn.request("GET", "/desk/", headers={"Cookie": cookie})
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise SystemExit(f"/desk/ answered {response.status}")
        if i >= 5:  # the first loads warm the workers' caches
            latencies.append(elapsed)
            size = len(body)
    conn.close()
    return {
        "queue_loads": args.queue_loads,
        "queue_bytes": size,
        "queue_p50_ms": round(percentile(latencies, 50), 1),
        "queue_p95_ms": round(percentile(latencies, 95), 1),
        "queue_p99_ms": round(percentile(latencies, 99), 1),
    }


def main() -> None:
    args = parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="delegate-bench-api-"))
    server = None
    try:
        prepare_environment(args, scratch)
        manage("migrate", "--noinput")
        manage("collectstatic", "--noinput")
        setup_django()
        data = create_agency()
        port = free_port()
        server = start_server(args, port, scratch)
        print(f"db={args.db} server=gunicorn workers={args.workers} threads={args.threads} "
              f"port={port} scratch={scratch}")  # fmt: skip
        wrk = find_wrk() if args.client in ("auto", "wrk") else None
        if args.client == "wrk" and wrk is None:
            raise SystemExit("wrk is not installed and could not be installed")
        if wrk:
            created = bench_creates_wrk(args, port, data, wrk, scratch, server)
        else:
            created = {"create_client": "python", **bench_creates(args, port, data)}
        print(f"(a) {created['create_requests']} creates ({created['create_client']}), "
              f"{args.concurrency} clients: "
              f"{created['create_per_s']}/s, p50 {created['create_p50_ms']} ms, "
              f"p99 {created['create_p99_ms']} ms")  # fmt: skip
        if "create_web_cpu_ms_per_task" in created:
            print(f"    CPU per created task: web {created['create_web_cpu_ms_per_task']} ms, "
                  f"database {created.get('create_db_cpu_ms_per_task', 'n/a')} ms")  # fmt: skip
        if wrk and args.batch_size:
            batches = bench_creates_wrk(
                args, port, data, wrk, scratch, server, batch=args.batch_size
            )
            created.update(batches)
            print(f"(a2) {batches['batch_requests']} batches of {args.batch_size}: "
                  f"{batches['batch_per_s']} tasks/s, p50 {batches['batch_p50_ms']} ms, "
                  f"p99 {batches['batch_p99_ms']} ms per batch")  # fmt: skip
        in_agency = bulk_fill(data, args.tasks)
        queue = bench_queue(args, port, data["queue_user"])
        print(f"(b) /desk/ with {in_agency} tasks, {args.queue_loads} loads: "
              f"p50 {queue['queue_p50_ms']} ms, p95 {queue['queue_p95_ms']} ms, "
              f"p99 {queue['queue_p99_ms']} ms, {queue['queue_bytes']} bytes")  # fmt: skip
        result = {
            "bench": "api",
            "db": args.db,
            **created,
            **queue,
            "tasks_in_agency": in_agency,
            "workers": args.workers,
            "threads": args.threads,
            "concurrency": args.concurrency,
            "cpus": os.cpu_count(),
        }
    finally:
        if server is not None:
            stop_server(server)
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
