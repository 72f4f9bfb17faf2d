"""bench/intake/stages.py: CPU time per mail of each step from SMTP to a routed task,
measured in one process (no queue, no other processes), so the figures say where the
CPU goes however loaded the machine is.

    .venv/bin/python bench/intake/stages.py [--db sqlite|postgresql] [--mails 300]

Steps: storing the raw mail as the SMTP server does at the end of DATA (with its wake-up
job), parsing alone, processing as the worker does (claimed in batches: parse, senders,
tasks, events, attachments), processing one message at a time (retries, the sweep),
triage and routing of the new tasks in the batch jobs intake queues, the one-time
loading of the triage model per worker process (kept apart from the per-task figure),
and the queue's own cost per job (claim and finish, as ``db_worker`` does). The last
line printed is one JSON object with the figures.
"""

from __future__ import annotations

import importlib
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/intake/bench.py, the SMTP benchmark next to this file (its set-up is shared).
bench: Any = importlib.import_module("bench")


def cpu_ms(function: Callable[[], Any], count: int) -> float:
    started = time.process_time()
    function()
    return round((time.process_time() - started) * 1000 / max(1, count), 2)


def main() -> None:
    args = bench.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="delegate-bench-intake-stages-"))
    try:
        bench.prepare_environment(args, scratch)
        import subprocess

        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=bench.ROOT, check=True
        )
        sys.path.insert(0, str(bench.ROOT))
        import django

        django.setup()
        from aiosmtpd.smtp import Envelope
        from django.db import connection
        from django_tasks_db.models import DBTaskResult

        import delegate.routing.jobs
        import delegate.triage.jobs  # noqa: F401  (imported before measuring)
        from delegate.intake import services
        from delegate.intake.jobs import process_inbound
        from delegate.intake.mail.parse import parse_email
        from delegate.intake.mail.smtp import _store
        from delegate.intake.models import InboundMessage
        from delegate.routing.jobs import route_tasks
        from delegate.triage import services as triage
        from delegate.triage.jobs import triage_tasks

        senders = bench.create_agency()
        mails = bench.build_mails(args.mails, senders, random.Random(args.seed))
        n = len(mails)
        plain = [m for m in mails if len(m) < 100_000]
        figures: dict[str, Any] = {"bench": "intake-stages", "db": connection.vendor, "mails": n}
        figures["parse_ms"] = cpu_ms(lambda: [parse_email(m) for m in mails], n)
        figures["parse_ms_without_attachments"] = cpu_ms(
            lambda: [parse_email(m) for m in plain], len(plain)
        )

        def store(raws: list[bytes]) -> None:
            for raw in raws:
                envelope = Envelope()
                envelope.mail_from = "x@bench.test"
                envelope.rcpt_tos = ["bench@bench.test"]
                envelope.original_content = raw
                _store(envelope)

        figures["store_ms"] = cpu_ms(lambda: store(mails), n)
        figures["process_ms"] = cpu_ms(services.process_pending, n)
        # One at a time, as retries and the sweep's jobs go: the same mails once more
        # (each with a changed header, so they are new messages and new tasks).
        again = [m.replace(b"Subject: ", b"Subject: Re-sent ", 1) for m in mails[: n // 2]]
        store(again)
        pending = list(InboundMessage.objects.filter(state="received").values_list("pk", flat=True))
        figures["process_one_at_a_time_ms"] = cpu_ms(
            lambda: [services.process_inbound(i) for i in pending], len(pending)
        )
        figures["triage_model_load_ms"] = cpu_ms(
            lambda: triage.classifier_for(
                InboundMessage.objects.values_list("agency_id", flat=True).first()
            ),
            1,
        )
        batches = DBTaskResult.objects.filter(task_path=triage_tasks.module_path)
        triage_args = [job["args"] for job in batches.values_list("args_kwargs", flat=True)]
        triaged = sum(len(a[0]) for a in triage_args)
        figures["triage_ms"] = cpu_ms(lambda: [triage_tasks.call(*a) for a in triage_args], triaged)
        routes = DBTaskResult.objects.filter(task_path=route_tasks.module_path)
        route_args = [job["args"] for job in routes.values_list("args_kwargs", flat=True)]
        figures["route_ms"] = cpu_ms(
            lambda: [route_tasks.call(*a) for a in route_args],
            sum(len(a[0]) for a in route_args),
        )
        ids = list(InboundMessage.objects.values_list("pk", flat=True))

        # The queue: claim a job the way db_worker does, then mark it done.
        DBTaskResult.objects.all().delete()
        for inbound_id in ids:
            process_inbound.enqueue(str(inbound_id))

        def claim_and_finish() -> None:
            from django_tasks_db.utils import exclusive_transaction

            while True:
                with exclusive_transaction(DBTaskResult.objects.db):
                    job = DBTaskResult.objects.ready().get_locked()
                    if job is None:
                        return
                    job.claim("bench")
                job.set_successful(None)

        figures["queue_ms_per_job"] = cpu_ms(claim_and_finish, len(ids))
        print(json.dumps(figures))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
