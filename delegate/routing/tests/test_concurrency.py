"""Two workers routing the same task at the same moment: one assigns, the other finds
it assigned. Real threads, real connections, committed rows (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connections

from delegate.routing import services
from delegate.routing.core import Decision
from delegate.routing.tests.conftest import NOW, make_team, triaged_task
from delegate.tasks.models import Task, TaskEvent


@pytest.mark.django_db(transaction=True)
def test_two_workers_routing_one_task_assign_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    team = make_team()
    task = triaged_task(team)
    real_load = services.load_roster

    def slow_load(*args: Any, **kwargs: Any) -> Any:
        # Widen the window between reading the task and assigning it, so that without
        # the row lock both workers would decide and assign.
        time.sleep(0.3)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(services, "load_roster", slow_load)
    barrier = threading.Barrier(2)
    results: list[Decision | None] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(services.route_task(None, Task.objects.get(pk=task.pk), now=NOW))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    decided = [r for r in results if r is not None]
    assert len(results) == 2 and len(decided) == 1
    task.refresh_from_db()
    assert task.assignee == team.cast.bob
    assert TaskEvent.objects.filter(task=task, kind=TaskEvent.Kind.ASSIGNED).count() == 1
