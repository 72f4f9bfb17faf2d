"""``manage.py scheduler``: enqueue periodic jobs (see ``delegate.core.scheduler``)."""

from __future__ import annotations

import signal
import threading
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from delegate.core.scheduler import Scheduler, autodiscover


class Command(BaseCommand):
    help = (
        "Enqueue periodic jobs into the task queue. Safe to run on several machines at once: "
        "each job's slot is enqueued exactly once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one tick, then exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between ticks (default: the SCHEDULER_INTERVAL_SECONDS setting).",
        )
        parser.add_argument(
            "--list", action="store_true", dest="list_jobs", help="List the jobs and exit."
        )

    def handle(
        self, *args: Any, once: bool, interval: float | None, list_jobs: bool, **options: Any
    ) -> None:
        jobs = autodiscover()
        try:
            jobs.validate()
        except (ImproperlyConfigured, ImportError) as exc:
            raise CommandError(str(exc)) from exc

        if list_jobs:
            for job in jobs:
                self.stdout.write(f"{job.name}\tevery {job.every_seconds}s\t{job.task_path}")
            return

        scheduler = Scheduler(jobs)
        if once:
            for claim in scheduler.tick():
                self.stdout.write(f"enqueued {claim.job} for slot {claim.slot.isoformat()}")
            return

        if interval is None:
            interval = float(settings.SCHEDULER_INTERVAL_SECONDS)
        if interval <= 0:
            raise CommandError("--interval must be positive")

        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        scheduler.run_forever(interval_seconds=interval, stop=stop)
