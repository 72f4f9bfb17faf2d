from __future__ import annotations

import io
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from delegate.core import jobs
from delegate.core.models import SchedulerRun
from delegate.core.scheduler import JobRegistry, PeriodicJob, Scheduler, prune_runs

NOON = datetime(2030, 1, 7, 12, 0, 5, tzinfo=UTC)


@task
def heartbeat() -> None:
    """The periodic task of these tests; it is only enqueued, never run."""


HEARTBEAT = PeriodicJob(name="test.heartbeat", every_seconds=60, task_path=heartbeat.module_path)


class BlindScheduler(Scheduler):
    """A scheduler that always loses the cheap read race: it goes straight to the insert,
    so the unique constraint alone has to decide."""

    def is_claimed(self, job: PeriodicJob, slot: datetime) -> bool:
        return False


def enqueued(job: PeriodicJob = HEARTBEAT) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=job.task_path))


def test_it_floors_now_to_the_job_interval() -> None:
    assert HEARTBEAT.slot_at(NOON) == datetime(2030, 1, 7, 12, 0, tzinfo=UTC)
    daily = PeriodicJob(name="daily", every_seconds=86400, task_path=heartbeat.module_path)
    assert daily.slot_at(NOON) == datetime(2030, 1, 7, tzinfo=UTC)
    # Aware datetimes in another zone land in the same slot.
    berlin = NOON.astimezone(timezone.get_default_timezone())
    assert HEARTBEAT.slot_at(berlin) == HEARTBEAT.slot_at(NOON)


@pytest.mark.django_db
def test_it_enqueues_a_slot_once_across_two_instances() -> None:
    first = Scheduler([HEARTBEAT], instance="machine-a")
    second = Scheduler([HEARTBEAT], instance="machine-b")

    assert [c.job for c in first.tick(NOON)] == ["test.heartbeat"]
    assert second.tick(NOON + timedelta(seconds=20)) == []

    [result] = enqueued()
    assert result.status == TaskResultStatus.READY
    [run] = SchedulerRun.objects.all()
    assert (run.job, run.slot, run.claimed_by) == (
        "test.heartbeat",
        datetime(2030, 1, 7, 12, 0, tzinfo=UTC),
        "machine-a",
    )


@pytest.mark.django_db
def test_it_lets_the_unique_constraint_pick_the_winner() -> None:
    first = BlindScheduler([HEARTBEAT], instance="machine-a")
    second = BlindScheduler([HEARTBEAT], instance="machine-b")

    assert len(first.tick(NOON)) == 1
    assert second.tick(NOON) == []  # lost on IntegrityError, inside a savepoint

    # The connection is still usable after the lost race (PostgreSQL would refuse
    # every further query in an aborted transaction).
    assert len(enqueued()) == 1
    assert SchedulerRun.objects.get().claimed_by == "machine-a"


@pytest.mark.django_db
def test_it_enqueues_again_in_the_next_slot() -> None:
    first = Scheduler([HEARTBEAT], instance="machine-a")
    second = Scheduler([HEARTBEAT], instance="machine-b")
    first.tick(NOON)
    second.tick(NOON)

    assert [c.job for c in second.tick(NOON + timedelta(minutes=1))] == ["test.heartbeat"]
    assert first.tick(NOON + timedelta(minutes=1, seconds=30)) == []

    assert len(enqueued()) == 2
    assert list(SchedulerRun.objects.order_by("slot").values_list("slot", "claimed_by")) == [
        (datetime(2030, 1, 7, 12, 0, tzinfo=UTC), "machine-a"),
        (datetime(2030, 1, 7, 12, 1, tzinfo=UTC), "machine-b"),
    ]


@pytest.mark.django_db(transaction=True)
def test_it_enqueues_once_when_instances_race_in_threads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    is_in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()  # type: ignore[attr-defined]
    assert not is_in_memory, (
        "SQLite test databases must be files (TEST NAME in settings): threads on a shared "
        "in-memory database fail with 'table is locked' instead of waiting their turn"
    )
    racers = 6
    barrier = threading.Barrier(racers)
    claims: list[int] = []
    errors: list[BaseException] = []

    def race(number: int) -> None:
        try:
            scheduler = BlindScheduler([HEARTBEAT], instance=f"thread-{number}")
            barrier.wait(timeout=10)
            claims.append(len(scheduler.tick(NOON)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert sorted(claims) == [0] * (racers - 1) + [1]
    assert len(enqueued()) == 1
    assert SchedulerRun.objects.count() == 1


@pytest.mark.django_db
def test_it_releases_the_slot_when_enqueueing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    scheduler = Scheduler([HEARTBEAT], instance="machine-a")

    def broken_enqueue(*args: object, **kwargs: object) -> None:
        raise RuntimeError("queue unavailable")

    monkeypatch.setattr(type(heartbeat), "enqueue", broken_enqueue)
    assert scheduler.tick(NOON) == []
    assert not SchedulerRun.objects.exists()  # claim rolled back with the enqueue

    monkeypatch.undo()
    assert len(scheduler.tick(NOON)) == 1
    assert len(enqueued()) == 1


@pytest.mark.django_db
def test_it_keeps_ticking_the_other_jobs_when_one_is_broken() -> None:
    broken = PeriodicJob(name="test.broken", every_seconds=60, task_path="nowhere.to.be.found")
    scheduler = Scheduler([broken, HEARTBEAT], instance="machine-a")

    assert [c.job for c in scheduler.tick(NOON)] == ["test.heartbeat"]
    assert not SchedulerRun.objects.filter(job="test.broken").exists()


def test_it_refuses_a_job_name_registered_for_another_task() -> None:
    registry = JobRegistry()
    registry.register("test.heartbeat", every=60, task=heartbeat)
    registry.register("test.heartbeat", every=timedelta(minutes=1), task=heartbeat.module_path)
    assert len(registry) == 1

    with pytest.raises(ImproperlyConfigured):
        registry.register("test.heartbeat", every=120, task=heartbeat)
    with pytest.raises(ImproperlyConfigured):
        registry.register("test.zero", every=0, task=heartbeat)


def test_it_refuses_a_task_path_that_is_not_a_task() -> None:
    registry = JobRegistry()
    registry.register("test.not_a_task", every=60, task="delegate.core.scheduler.prune_runs")
    with pytest.raises(ImproperlyConfigured):
        registry.validate()


@pytest.mark.django_db
def test_it_runs_one_tick_with_the_once_flag() -> None:
    first, second = io.StringIO(), io.StringIO()
    call_command("scheduler", "--once", stdout=first)
    call_command("scheduler", "--once", stdout=second)

    assert "enqueued core.prune_history" in first.getvalue()
    assert second.getvalue() == ""

    assert SchedulerRun.objects.filter(job="core.prune_history").count() == 1
    assert DBTaskResult.objects.filter(task_path=jobs.prune_history.module_path).count() == 1


@pytest.mark.django_db
def test_it_prunes_old_claims_and_finished_results() -> None:
    now = timezone.now()
    old, recent = now - timedelta(days=30), now - timedelta(days=1)

    def result(status: TaskResultStatus, finished_at: datetime | None) -> DBTaskResult:
        return DBTaskResult.objects.create(
            task_path=heartbeat.module_path,
            args_kwargs={"args": [], "kwargs": {}},
            backend_name="default",
            run_after=now,
            status=status,
            finished_at=finished_at,
        )

    old_success = result(TaskResultStatus.SUCCESSFUL, old)
    old_failure = result(TaskResultStatus.FAILED, old)
    recent_success = result(TaskResultStatus.SUCCESSFUL, recent)
    waiting = result(TaskResultStatus.READY, None)

    for days in (40, 30, 1):
        SchedulerRun.objects.create(job="test.hourly", slot=now - timedelta(days=days))
    # A monthly job whose only claim is older than the retention keeps it: deleting it
    # would make its current slot look unclaimed.
    SchedulerRun.objects.create(job="test.monthly", slot=now - timedelta(days=20))

    outcome = jobs.prune_history.call(keep_days=14)

    assert outcome == {"task_results": 2, "scheduler_runs": 2}
    assert set(DBTaskResult.objects.values_list("id", flat=True)) == {
        recent_success.id,
        waiting.id,
    }
    assert not DBTaskResult.objects.filter(id__in=[old_success.id, old_failure.id]).exists()
    assert sorted(SchedulerRun.objects.values_list("job", flat=True)) == [
        "test.hourly",
        "test.monthly",
    ]
    # Safe to run twice.
    assert jobs.prune_history.call(keep_days=14) == {"task_results": 0, "scheduler_runs": 0}


@pytest.mark.django_db
def test_it_keeps_the_latest_claim_of_every_job() -> None:
    now = timezone.now()
    SchedulerRun.objects.create(job="test.yearly", slot=now - timedelta(days=200))
    assert prune_runs(before=now) == 0
    assert SchedulerRun.objects.count() == 1


def test_it_refreshes_sqlite_statistics(db: None) -> None:
    from django.db import connection

    from delegate.core.jobs import optimize_database

    expected = "optimized" if connection.vendor == "sqlite" else "skipped"
    assert optimize_database.call() == expected
