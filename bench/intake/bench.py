"""bench/intake: mail sent over SMTP to the intake server until each is a task.

    .venv/bin/python bench/intake/bench.py [--db sqlite|postgresql] [--mails 10000]

See bench/intake/README.md. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

GERMAN = [
    "Bitte buchen Sie mir einen Flug nach Hamburg am Dienstag früh, Rückflug Mittwoch.",
    "Können Sie die Rechnungen vom Oktober prüfen und an die Buchhaltung weiterleiten?",
    "Bitte einen Tisch für vier Personen am Freitag um 19 Uhr reservieren.",
    "Die Präsentation für Montag braucht noch zwei Folien zu den Quartalszahlen.",
]
ENGLISH = [
    "Please book a hotel in Berlin for two nights next week, close to the venue.",
    "Could you reschedule my Thursday call with the supplier to Friday afternoon?",
    "Please send the signed contract to our lawyer and file a copy.",
    "Find three quotes for new office chairs, budget 400 EUR each.",
]


WORKER_COMMAND = ("db_worker", "--no-reload", "--interval", "0.1", "--queue-name", "*")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="server URL without database name; --pg-db is dropped and created",
    )
    parser.add_argument(
        "--pg-db",
        default=os.environ.get("BENCH_PG_DB", "delegate_bench_intake"),
        help="scratch database name (dropped and created)",
    )
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--senders", type=int, default=4, help="concurrent SMTP connections")
    parser.add_argument("--workers", type=int, default=2, help="db_worker processes")
    parser.add_argument("--seed", type=int, default=4711)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="record each server process with py-spy (on PATH) into DIR (collapsed stacks)",
    )
    return parser.parse_args()


def prepare_environment(args: argparse.Namespace, scratch: Path) -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "delegate.settings",
        "DELEGATE_DATA_DIR": str(scratch),
        "MEDIA_ROOT": str(scratch / "media"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "INTAKE_EMAIL_DOMAINS": "bench.test",
    }
    if args.db == "postgresql":
        import psycopg

        base = args.pg_url.rstrip("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.pg_db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.pg_db}"')
        env["DATABASE_URL"] = f"{base}/{args.pg_db}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ.update(env)


def manage(*argv: str, profile: str | None = None, name: str = "") -> subprocess.Popen[bytes]:
    command = [sys.executable, "manage.py", *argv]
    if profile:
        out = Path(profile) / f"{name}.txt"
        command = [
            "py-spy",
            "record",
            "--nonblocking",
            "--format",
            "raw",
            "--rate",
            "100",
            "-o",
            str(out),
            "--",
        ]
        command += [sys.executable, "manage.py", *argv]
    return subprocess.Popen(command, cwd=ROOT, env=os.environ)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants still running (Linux)."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except (OSError, ValueError, IndexError):
        pass
    return total


def postgres_cpu_seconds() -> float | None:
    """CPU time of the local PostgreSQL server: its postmaster, every process under it,
    and the backends that have exited (the postmaster's reaped children), or None when
    the server is not on this machine. Counts other databases' work on that server too."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        ppid = int(Path(f"/proc/{backend}/stat").read_text().rpartition(")")[2].split()[1])
        fields = Path(f"/proc/{ppid}/stat").read_text().rpartition(")")[2].split()
        reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return None
    return cpu_seconds(ppid) + reaped


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def create_agency() -> list[str]:
    from delegate.accounts.models import User
    from delegate.agencies import services as agencies
    from delegate.clients import services as clients

    owner = agencies.create_agency(
        User.objects.create_user("owner@bench.test", "bench pw 4711", name="Owner"),
        name="Bench",
        slug="bench",
    )
    senders = []
    for c in range(20):
        client = clients.create_client(owner, name=f"Client {c}")
        for k in range(5):
            email = f"person{k}@client{c}.test"
            clients.create_contact(owner, client, name=f"Person {k}", emails=[email])
            senders.append(email)
    return senders


def adversarial_html(rng: random.Random) -> str:
    if rng.random() < 0.5:
        links = "".join(f'<a href="https://x.test/{i}" onclick="x()">{i}</a> ' for i in range(5000))
        return f"<html><body><p>Bitte prüfen</p>{links}<script>alert(1)</script></body></html>"
    return "<div>" * 3000 + "Tief verschachtelt" + "</div>" * 3000


def build_mails(n: int, senders: list[str], rng: random.Random) -> list[bytes]:
    mails = []
    for i in range(n):
        msg = EmailMessage()
        sender = rng.choice(senders)
        german = rng.random() < 0.5
        text = rng.choice(GERMAN if german else ENGLISH)
        msg["From"] = sender
        msg["To"] = "bench@bench.test"
        msg["Subject"] = f"{'Anfrage' if german else 'Request'} {i}"
        msg["Message-ID"] = make_msgid(domain="bench.test")
        body = (text + "\n") * rng.choice((1, 3, 20, 200))
        msg.set_content(body + ("\nViele Grüße\n" if german else "\nBest regards\n"))
        roll = rng.random()
        if roll < 0.01:
            msg.add_alternative(adversarial_html(rng), subtype="html")
        elif roll < 0.06:
            size = rng.randint(100 * 1024, 3 * 1024 * 1024)
            msg.add_attachment(
                rng.randbytes(size), maintype="application", subtype="pdf", filename="scan.pdf"
            )
        mails.append(msg.as_bytes(policy=policy.SMTP))  # CRLF, as on the wire
    return mails


def send_all(port: int, mails: list[bytes], senders: int, sent_at: dict[int, float]) -> int:
    failures = 0
    lock = threading.Lock()
    queue = list(enumerate(mails))

    def sender() -> None:
        nonlocal failures
        client = smtplib.SMTP("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                index, raw = queue.pop()
            try:
                client.sendmail("x@bench.test", ["bench@bench.test"], raw)
                sent_at[index] = time.time()
            except (OSError, smtplib.SMTPException) as exc:
                with lock:
                    failures += 1
                    if failures <= 3:
                        print(f"send failed: {exc!r}"[:300], flush=True)
                client = smtplib.SMTP("127.0.0.1", port, timeout=60)
        client.quit()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> None:
    args = parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="delegate-bench-intake-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        prepare_environment(args, scratch)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connection
        from django.db.models import Count

        from delegate.intake.models import InboundMessage
        from delegate.tasks.models import Task

        rng = random.Random(args.seed)
        senders = create_agency()
        print(f"building {args.mails} mails …", flush=True)
        mails = build_mails(args.mails, senders, rng)
        megabytes = sum(len(m) for m in mails) / 1024 / 1024
        port = free_port()
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
        smtp = manage(
            "smtp_intake", "--bind", f"127.0.0.1:{port}", profile=args.profile, name="smtp"
        )
        processes.append(smtp)
        workers = [
            manage(*WORKER_COMMAND, profile=args.profile, name=f"worker{n}")
            for n in range(args.workers)
        ]
        processes += workers
        # Generous: a fresh Django process takes many seconds to import on a loaded machine.
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(5)  # let the workers finish importing too, so their start is not counted
        connection.close()
        print(f"sending {args.mails} mails ({megabytes:.0f} MB) over SMTP …", flush=True)
        load_before = os.getloadavg()
        cpu_before = {p.pid: cpu_seconds(p.pid) for p in processes}
        pg_before = postgres_cpu_seconds() if args.db == "postgresql" else None
        own_cpu_before = time.process_time()
        started = time.time()
        sent_at: dict[int, float] = {}
        failures = send_all(port, mails, args.senders, sent_at)
        sent_seconds = time.time() - started
        settled = InboundMessage.objects.exclude(state__in=["received", "parsed"])
        while settled.count() < len(sent_at) and time.time() - started < 3600:
            time.sleep(0.5)
        elapsed = time.time() - started
        cpu = {p.pid: cpu_seconds(p.pid) - cpu_before[p.pid] for p in processes}
        pg_after = postgres_cpu_seconds() if pg_before is not None else None
        own_cpu = time.process_time() - own_cpu_before
        load_after = os.getloadavg()
        rows = list(InboundMessage.objects.values_list("received_at", "processed_at", "state"))
        latencies = [
            (done - received).total_seconds() for received, done, _s in rows if done is not None
        ]
        states = dict(InboundMessage.objects.values_list("state").annotate(n=Count("pk")))
        figures: dict[str, Any] = {
            "bench": "intake",
            "db": args.db,
            "mails": args.mails,
            "megabytes": round(megabytes, 1),
            "send_failures": failures,
            "stored": len(rows),
            "tasks": Task.objects.filter(channel="email").count(),
            "states": states,
            "smtp_accept_per_s": round(len(sent_at) / sent_seconds, 1),
            "mails_per_s": round(len(latencies) / elapsed, 1),
            "receipt_to_task_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "receipt_to_task_p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
            "receipt_to_task_max_ms": round(max(latencies, default=0) * 1000, 1),
            "cpu_ms_per_mail_smtp": round(cpu[smtp.pid] * 1000 / max(1, len(rows)), 1),
            "cpu_ms_per_mail_workers": round(
                sum(cpu[w.pid] for w in workers) * 1000 / max(1, len(rows)), 1
            ),
            "cpu_ms_per_mail_sender": round(own_cpu * 1000 / max(1, len(rows)), 1),
            # The whole local server, so other databases' work during the run counts too.
            "cpu_ms_per_mail_postgres": (
                round((pg_after - pg_before) * 1000 / max(1, len(rows)), 1)
                if pg_before is not None and pg_after is not None
                else None
            ),
            "load_before": round(load_before[0], 2),
            "load_after": round(load_after[0], 2),
            "workers": args.workers,
            "senders": args.senders,
            "cpus": os.cpu_count(),
        }
        import json

        print(json.dumps(figures))
    finally:
        for process in processes:
            # py-spy writes its profile on SIGINT (and leaves its child behind on SIGTERM).
            process.send_signal(signal.SIGINT if args.profile else signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
