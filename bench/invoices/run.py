"""bench/invoices: an invoice run for many clients with PDF and XML: invoices per second.

    .venv/bin/python bench/invoices/run.py [--db sqlite|postgresql] [--clients 1000]

See bench/invoices/README.md. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MONTH = dt.date(2026, 10, 1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="server URL without database name; delegate_bench_invoices is dropped and created",
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=5, help="time entries per client")
    parser.add_argument(
        "--processes", type=int, default=os.cpu_count() or 1, help="processes rendering PDF+XML"
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="run the invoices in this process under cProfile, print the top functions "
        "and write the stats to FILE (for snakeviz or pstats)",
    )
    return parser.parse_args()


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(args: argparse.Namespace, scratch: Path) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "delegate.settings",
        "DELEGATE_DATA_DIR": str(scratch),
        "SECRET_KEY": "bench",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    if args.db == "postgresql":
        name = "delegate_bench_invoices"
        base = args.pg_url.rstrip("/")
        subprocess.run(["psql", f"{base}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"],
                       check=True)  # fmt: skip
        subprocess.run(["psql", f"{base}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
        env["DATABASE_URL"] = f"{base}/{name}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env={**os.environ, **env}, check=True,
    )  # fmt: skip
    return env


def seed(clients: int, entries: int) -> tuple[Any, Any]:
    from django.db import transaction

    from delegate.accounts.models import User
    from delegate.agencies import services as agency_services
    from delegate.billing import services as billing_services
    from delegate.billing.models import Contract
    from delegate.clients.models import Address, Client
    from delegate.tasks.models import Task
    from delegate.timetracking.models import TimeEntry

    owner_user = User.objects.create_user("owner@bench.test", "x", name="Olga Owner")
    owner = agency_services.create_agency(owner_user, name="Bench Büro", slug="bench")
    assistant = agency_services.add_member(
        owner, email="anna@bench.test", name="Anna", role="assistant", password="x"
    )
    issuer = billing_services.create_issuer(
        owner, legal_name="Bench Büro GmbH", street="Hafenstraße 1", postal_code="20457",
        city="Hamburg", vat_id="DE136695976", tax_number="22/815/08154",
        email="billing@bench.test", phone="+49 40 1234567", iban="DE89370400440532013000",
    )  # fmt: skip
    started = dt.datetime(2026, 10, 6, 9, tzinfo=dt.UTC)
    with transaction.atomic():
        rows = Client.objects.bulk_create(
            Client(agency=owner.agency, name=f"Client {n:04d} GmbH", email=f"c{n}@bench.test",
                   language="de" if n % 3 else "en")
            for n in range(clients)
        )  # fmt: skip
        Address.objects.bulk_create(
            Address(agency=owner.agency, client=c, line1="Am Markt 5", postal_code="28195",
                    city="Bremen")
            for c in rows
        )  # fmt: skip
        Contract.objects.bulk_create(
            Contract(agency=owner.agency, client=c, starts_on=dt.date(2026, 1, 1),
                     hourly_rate=Decimal("60.00"), rounding_increment=15,
                     monthly_fee=Decimal("49.00") if n % 2 else Decimal("0"))
            for n, c in enumerate(rows)
        )  # fmt: skip
        tasks = Task.objects.bulk_create(
            Task(agency=owner.agency, client=c, title="Monthly bookkeeping", channel="api")
            for c in rows
        )
        TimeEntry.objects.bulk_create(
            TimeEntry(agency=owner.agency, task=t, client_id=t.client_id, member=assistant,
                      started_at=started + dt.timedelta(days=i),
                      ended_at=started + dt.timedelta(days=i, minutes=17 + i),
                      minutes=17 + i)
            for t in tasks
            for i in range(entries)
        )  # fmt: skip
    return owner, issuer


def invoice_clients(
    job: tuple[list[str], str, str],
) -> tuple[int, float, float, float, float, float, float, float, float]:
    """One worker's share of the run: draft, issue, PDF and XML for each of its clients.
    Returns (document bytes, seconds drafting, issuing, rendering, CPU seconds, and CPU
    seconds drafting, issuing, rendering)."""
    from django.db import connection

    from delegate.agencies.models import Member
    from delegate.billing import invoicing
    from delegate.billing.models import Issuer
    from delegate.billing.pdf import invoice_documents
    from delegate.clients.models import Client

    client_ids, owner_id, issuer_id = job
    waited = [0.0]

    def lock_timer(execute: Any, sql: str, *args: Any) -> Any:
        """Time the statements that wait for a lock: SQLite's BEGIN IMMEDIATE (one
        writer at a time) and SELECT … FOR UPDATE (PostgreSQL's row locks)."""
        if not (sql.startswith("BEGIN") or sql.endswith("FOR UPDATE")):
            return execute(sql, *args)
        started = time.perf_counter()
        try:
            return execute(sql, *args)
        finally:
            waited[0] += time.perf_counter() - started

    connection.execute_wrappers.append(lock_timer)
    owner = Member.objects.select_related("agency").get(pk=owner_id)
    issuer = Issuer.objects.get(pk=issuer_id)
    size, drafting, issuing, rendering = 0, 0.0, 0.0, 0.0
    stage_cpu = [0.0, 0.0, 0.0]
    cpu = time.process_time()
    for client in Client.objects.filter(pk__in=client_ids):
        t0, c0 = time.perf_counter(), time.process_time()
        draft = invoicing.draft_month(owner, client, issuer=issuer, month=MONTH)
        t1, c1 = time.perf_counter(), time.process_time()
        issued = invoicing.issue_invoice(owner, draft)
        t2, c2 = time.perf_counter(), time.process_time()
        pdf, xml = invoice_documents(issued)
        size += len(pdf) + len(xml)
        t3, c3 = time.perf_counter(), time.process_time()
        drafting, issuing, rendering = drafting + t1 - t0, issuing + t2 - t1, rendering + t3 - t2
        stage_cpu = [stage_cpu[0] + c1 - c0, stage_cpu[1] + c2 - c1, stage_cpu[2] + c3 - c2]
    cpu = time.process_time() - cpu
    connection.execute_wrappers.remove(lock_timer)
    connection.close()
    return (size, drafting, issuing, rendering, cpu, stage_cpu[0], stage_cpu[1], stage_cpu[2],
            waited[0])  # fmt: skip


def profile(
    client_ids: list[str], owner_id: str, issuer_id: str, path: str
) -> tuple[list[tuple[int, float, float, float, float, float, float, float, float]], float, float]:
    """All invoices in this process under cProfile; prints where the time went."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    started = time.perf_counter()
    result = profiler.runcall(invoice_clients, (client_ids, owner_id, issuer_id))
    rendered = time.perf_counter()
    profiler.dump_stats(path)
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    return [result], started, rendered


def _init_worker(env: dict[str, str]) -> None:
    setup_django(env)


def main() -> None:
    args = parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="delegate-bench-invoices-"))
    try:
        env = prepare(args, scratch)
        setup_django(env)
        from django.db import connection

        from delegate.billing.models import Invoice

        owner, issuer = seed(args.clients, args.entries)
        print(f"seeded {args.clients} clients × {args.entries} time entries ({args.db})")

        from delegate.clients.models import Client

        client_ids = [str(pk) for pk in Client.objects.values_list("pk", flat=True)]
        jobs = [
            (client_ids[n :: args.processes], str(owner.pk), str(issuer.pk))
            for n in range(args.processes)
        ]
        connection.close()
        from delegate.billing.pdf import warm_up

        warm_up()  # as a long-running worker would have: imports, font subset
        load_before = os.getloadavg()
        if args.profile:
            results, started, rendered = profile(client_ids, str(owner.pk), str(issuer.pk),
                                                 args.profile)  # fmt: skip
        else:
            context = multiprocessing.get_context("fork")
            with context.Pool(args.processes, initializer=_init_worker, initargs=(env,)) as pool:
                started = time.perf_counter()
                results = pool.map(invoice_clients, jobs)
                rendered = time.perf_counter()
        load_after = os.getloadavg()
        ids = list(Invoice.objects.exclude(status="draft").values_list("pk", flat=True))
        sizes = [r[0] for r in results]
        drafting, issuing, rendering, cpu, *stage_cpu, waited = (
            sum(r[k] for r in results) for k in (1, 2, 3, 4, 5, 6, 7, 8)
        )
        count = len(ids)
        assert count == args.clients, f"{count} invoices for {args.clients} clients"
        total = rendered - started
        figures = {
            "bench": "invoices",
            "db": args.db,
            "clients": args.clients,
            "invoices": count,
            "processes": 1 if args.profile else args.processes,
            # per process: invoices per second of that stage's own time
            "draft_ms": round(drafting / count * 1000, 1),
            "issue_ms": round(issuing / count * 1000, 1),
            "pdf_xml_ms": round(rendering / count * 1000, 1),
            "invoices_per_s": round(count / total, 1),
            # CPU time of the worker processes per invoice: comparable on a busy machine
            "cpu_ms_per_invoice": round(cpu / count * 1000, 1),
            "draft_cpu_ms": round(stage_cpu[0] / count * 1000, 1),
            "issue_cpu_ms": round(stage_cpu[1] / count * 1000, 1),
            "pdf_xml_cpu_ms": round(stage_cpu[2] / count * 1000, 1),
            # wall time in BEGIN (SQLite's write lock) and SELECT … FOR UPDATE
            "lock_wait_ms": round(waited / count * 1000, 1),
            "load_avg_1m": [round(load_before[0], 2), round(load_after[0], 2)],
            "mean_document_kb": round(sum(sizes) / count / 1024, 1),
            "seconds": round(total, 1),
        }
        print(f"per invoice: draft {figures['draft_ms']} ms, issue {figures['issue_ms']} ms, "
              f"PDF+XML {figures['pdf_xml_ms']} ms; {figures['processes']} processes")  # fmt: skip
        print(f"CPU ms per invoice: draft {figures['draft_cpu_ms']}, issue "
              f"{figures['issue_cpu_ms']}, PDF+XML {figures['pdf_xml_cpu_ms']}; waiting for "
              f"locks {figures['lock_wait_ms']} ms (wall)")  # fmt: skip
        print(f"CPU time per invoice: {figures['cpu_ms_per_invoice']} ms "
              f"(load average {load_before[0]:.2f} before, {load_after[0]:.2f} after)")  # fmt: skip
        print(f"{count} invoices with PDF and XML in {total:.1f} s: "
              f"{figures['invoices_per_s']} invoices/s")  # fmt: skip
        print(json.dumps(figures))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
