"""Background jobs of triage, and their schedule. Thin: they take ids and call services."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from delegate.core.scheduler import register
from delegate.triage import services


@task()
def triage_task(task_id: str) -> str:
    """Triage a new task. Safe to run twice: a task that is no longer new is skipped."""
    result = services.triage_task(task_id)
    return "triaged" if result is not None else "skipped"


@task()
def triage_tasks(task_ids: list[str]) -> dict[str, int]:
    """Triage a batch of new tasks (intake's bursts): one classifier call for all of
    them. Safe to run twice, like ``triage_task``."""
    results = services.triage_tasks(task_ids)
    triaged = sum(1 for result in results.values() if result is not None)
    return {"triaged": triaged, "skipped": len(task_ids) - triaged}


@task()
def retrain_classifiers() -> list[dict[str, object]]:
    """Retrain the category classifier of every agency with new corrections; a
    candidate replaces the model in use only if it scores better."""
    return [outcome.__dict__ for outcome in services.retrain_all()]


register("triage.retrain", every=timedelta(days=1), task=retrain_classifiers)
