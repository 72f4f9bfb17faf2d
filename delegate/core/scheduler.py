"""Periodic jobs, safe to run on several machines at once.

A periodic job is a name, an interval and a ``django.tasks`` Task. Time is cut into slots
of the job's interval, aligned to the Unix epoch (so a daily job's slot starts at 00:00
UTC). On every tick each scheduler instance computes the current slot of every job and
tries to claim it by inserting ``SchedulerRun(job, slot)``. The unique constraint on
(job, slot) lets exactly one insert win, whichever instance or machine it comes from, and
only the winner enqueues the task. Claim and enqueue share one transaction: with the
database task backend a slot is either claimed and enqueued, or neither (and the next
tick tries again).

Slots are not back-filled: a scheduler that was down for three slots enqueues only the
current one. Jobs shorter than ``SCHEDULER_INTERVAL_SECONDS`` skip slots.

Apps register their jobs in their ``jobs`` module, next to the task functions, which
the scheduler imports at start (see :func:`autodiscover`)::

    from delegate.core.scheduler import register

    @task
    def send_reminders() -> None: ...

    register("clients.reminders", every=timedelta(minutes=15), task=send_reminders)
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Max
from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules, import_string

from delegate.core.models import SchedulerRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: int
    task_path: str

    def slot_at(self, now: datetime) -> datetime:
        """Start of the slot ``now`` falls in: ``now`` floored to the interval."""
        seconds = int(now.timestamp())
        return datetime.fromtimestamp(seconds - seconds % self.every_seconds, tz=UTC)

    def get_task(self) -> Task[..., Any]:
        task = import_string(self.task_path)
        if not isinstance(task, Task):
            raise ImproperlyConfigured(
                f"Periodic job {self.name!r}: {self.task_path} is not a django.tasks Task "
                "(decorate the function with @task)"
            )
        return task


class JobRegistry:
    """The periodic jobs, by name. Registering the same job twice is harmless (modules
    may be imported again); registering another job under a taken name is an error."""

    def __init__(self) -> None:
        self._jobs: dict[str, PeriodicJob] = {}

    def register(
        self, name: str, *, every: int | timedelta, task: Task[..., Any] | str
    ) -> PeriodicJob:
        seconds = int(every.total_seconds()) if isinstance(every, timedelta) else every
        if seconds < 1:
            raise ImproperlyConfigured(f"Periodic job {name!r}: interval must be >= 1 second")
        task_path = task if isinstance(task, str) else task.module_path
        job = PeriodicJob(name=name, every_seconds=seconds, task_path=task_path)
        existing = self._jobs.get(name)
        if existing is not None and existing != job:
            raise ImproperlyConfigured(f"Periodic job {name!r} is already registered: {existing}")
        self._jobs[name] = job
        return job

    def validate(self) -> None:
        """Fail at start-up, not at the first slot, on a task path that does not resolve."""
        for job in self:
            job.get_task()

    def __iter__(self) -> Iterator[PeriodicJob]:
        return iter(sorted(self._jobs.values(), key=lambda job: job.name))

    def __len__(self) -> int:
        return len(self._jobs)


registry = JobRegistry()
register = registry.register


def autodiscover() -> JobRegistry:
    """Import the ``jobs`` module of every installed app so their jobs register."""
    autodiscover_modules("jobs")
    return registry


def default_instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


@dataclass(frozen=True)
class Claim:
    job: str
    slot: datetime


class Scheduler:
    """One scheduler instance. Run as many as you like; each slot is enqueued once."""

    def __init__(self, jobs: Iterable[PeriodicJob], *, instance: str | None = None) -> None:
        self.jobs = list(jobs)
        self.instance = instance or default_instance_name()

    def tick(self, now: datetime | None = None) -> list[Claim]:
        """Claim and enqueue the current slot of every job; return what this instance won."""
        now = now or timezone.now()
        won = []
        for job in self.jobs:
            slot = job.slot_at(now)
            try:
                if self.claim_and_enqueue(job, slot):
                    won.append(Claim(job.name, slot))
            except Exception:
                # One broken job (or a database hiccup) must not starve the others; the
                # slot stays unclaimed, so the next tick retries it.
                logger.exception("scheduler: job %s, slot %s failed", job.name, slot.isoformat())
        return won

    def is_claimed(self, job: PeriodicJob, slot: datetime) -> bool:
        # A cheap read before the insert, so the steady state (slot already taken) does not
        # make the database log a unique violation on every tick. Only an optimisation:
        # the unique constraint decides.
        return SchedulerRun.objects.filter(job=job.name, slot=slot).exists()

    def claim_and_enqueue(self, job: PeriodicJob, slot: datetime) -> bool:
        """Claim ``slot`` for ``job`` and enqueue its task; False if another instance
        already has it."""
        if self.is_claimed(job, slot):
            return False
        with transaction.atomic():
            try:
                # The savepoint keeps the outer transaction usable after a lost race
                # (PostgreSQL aborts the whole transaction on an error otherwise).
                with transaction.atomic():
                    SchedulerRun.objects.create(job=job.name, slot=slot, claimed_by=self.instance)
            except IntegrityError:
                logger.debug("scheduler: %s slot %s went to another instance", job.name, slot)
                return False
            job.get_task().enqueue()
        logger.info("scheduler: enqueued %s for slot %s", job.name, slot.isoformat())
        return True

    def run_forever(self, *, interval_seconds: float, stop: threading.Event) -> None:
        logger.info(
            "scheduler %s: %d job(s), tick every %ss",
            self.instance,
            len(self.jobs),
            interval_seconds,
        )
        while not stop.is_set():
            close_old_connections()
            self.tick()
            close_old_connections()
            stop.wait(interval_seconds)


def prune_runs(*, before: datetime) -> int:
    """Delete SchedulerRun rows of slots that started before ``before``, always keeping
    each job's latest row: without it, a job whose interval is longer than the retention
    would find its current slot unclaimed and run again."""
    deleted = 0
    latest_slots = SchedulerRun.objects.values("job").annotate(latest=Max("slot"))
    for row in latest_slots:
        cutoff = min(before, row["latest"])
        count, _ = SchedulerRun.objects.filter(job=row["job"], slot__lt=cutoff).delete()
        deleted += count
    return deleted
