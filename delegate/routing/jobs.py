"""Background routing. Thin: the jobs take ids and call ``delegate.routing.services``;
each is safe to run twice and on several workers at once."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from delegate.core.scheduler import register
from delegate.routing import services
from delegate.tasks.models import Task


@task()
def route_task(task_id: str) -> str:
    """Route a task that became triaged; does nothing if it is assigned meanwhile."""
    found = Task.objects.filter(pk=task_id).first()
    if found is None:
        return "gone"
    decision = services.route_task(None, found)
    if decision is None:
        return "skipped"
    return decision.step


@task()
def route_tasks(task_ids: list[str]) -> dict[str, int]:
    """Route tasks that became triaged together (a batch from triage): one roster per
    agency. Safe to run twice, like ``route_task``."""
    decisions = services.route_tasks(task_ids)
    routed = sum(1 for decision in decisions.values() if decision is not None)
    return {"routed": routed, "skipped": len(task_ids) - routed}


@task()
def move_absent_work(absence_id: str) -> dict[str, int]:
    """Move the open tasks of the assistant an absence concerns, if they are away now;
    queued when an absence that covers today is entered, so the work moves at once
    instead of at the next periodic run (which still catches what this one misses)."""
    moved = services.move_tasks_of_absent(absence_id=absence_id)
    return {"moved": moved.moved, "kept": moved.kept}


@task()
def keep_routing_right() -> dict[str, int]:
    """Move the work of people who are away today, retry unassigned tasks and alert
    dispatchers about deadlines at risk."""
    moved = services.move_tasks_of_absent()
    return {
        "moved": moved.moved,
        "kept": moved.kept,
        "routed": services.route_waiting(),
        "alerts": services.alert_deadlines(),
    }


register("routing.keep_right", every=timedelta(minutes=10), task=keep_routing_right)
