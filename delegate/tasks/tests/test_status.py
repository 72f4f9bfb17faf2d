from __future__ import annotations

import itertools

import pytest

from delegate.tasks import services
from delegate.tasks.models import Task, TaskEvent
from delegate.tasks.status import (
    TRANSITIONS,
    TransitionError,
    TransitionForbidden,
    allowed_targets,
    check_transition,
)
from delegate.testing import Cast

S = Task.Status


def test_it_defines_every_status() -> None:
    assert set(TRANSITIONS) == set(S.values)
    for targets in TRANSITIONS.values():
        assert set(targets) <= set(S.values)


def test_it_walks_the_happy_path() -> None:
    path = [S.NEW, S.TRIAGED, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_ON_CLIENT, S.IN_PROGRESS, S.DONE]
    roles = ["dispatcher", "dispatcher", "assignee", "assignee", "client", "assignee"]
    for (current, target), role in zip(itertools.pairwise(path), roles, strict=True):
        check_transition(current, target, role)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.NEW, S.DONE), (S.DONE, S.CANCELLED), (S.CANCELLED, S.DONE), (S.NEW, S.WAITING_ON_CLIENT)],
)
def test_it_refuses_transitions_that_do_not_exist(current: str, target: str) -> None:
    with pytest.raises(TransitionError):
        check_transition(current, target, "owner")


def test_it_refuses_unknown_status() -> None:
    with pytest.raises(TransitionError):
        check_transition(S.NEW, "archived", "owner")


@pytest.mark.parametrize(
    ("current", "target", "role"),
    [
        (S.IN_PROGRESS, S.DONE, "client"),
        (S.IN_PROGRESS, S.DONE, "assistant"),
        (S.NEW, S.TRIAGED, "assignee"),
        (S.IN_PROGRESS, S.CANCELLED, "client"),
        (S.CANCELLED, S.TRIAGED, "assignee"),
    ],
)
def test_it_refuses_the_wrong_role(current: str, target: str, role: str) -> None:
    with pytest.raises(TransitionForbidden):
        check_transition(current, target, role)  # type: ignore[arg-type]


def test_it_lists_allowed_targets_per_role() -> None:
    assert set(allowed_targets(S.WAITING_ON_CLIENT, "client")) == {
        S.IN_PROGRESS,
        S.TRIAGED,
        S.CANCELLED,
    }
    assert allowed_targets(S.DONE, "assistant") == []
    assert S.DONE in allowed_targets(S.IN_PROGRESS, "assignee")


def test_it_changes_status_and_records_the_event(cast: Cast) -> None:
    task = services.change_status(cast.bob, cast.task, to=S.IN_PROGRESS)
    task.refresh_from_db()
    assert task.status == S.IN_PROGRESS
    event = TaskEvent.objects.filter(task=task).latest("id")
    assert event.kind == "status_changed"
    assert event.data == {"from": "assigned", "to": "in_progress"}
    assert event.actor_member == cast.bob


def test_it_leaves_the_task_unchanged_on_a_refused_transition(cast: Cast) -> None:
    before = TaskEvent.objects.count()
    with pytest.raises(TransitionForbidden):
        services.change_status(cast.carol, cast.task, to=S.DONE)
    with pytest.raises(TransitionError):
        services.change_status(cast.dora, cast.task, to=S.NEW)
    cast.task.refresh_from_db()
    assert cast.task.status == S.ASSIGNED
    assert TaskEvent.objects.count() == before


def test_it_sets_and_clears_done_at(cast: Cast) -> None:
    task = services.change_status(cast.bob, cast.task, to=S.IN_PROGRESS)
    task = services.change_status(cast.bob, task, to=S.DONE)
    assert task.done_at is not None
    task = services.change_status(cast.bob, task, to=S.IN_PROGRESS)
    assert task.done_at is None


def test_it_needs_an_assignee_to_start_work(cast: Cast) -> None:
    services.assign_task(cast.dora, cast.task, assistant=None)
    cast.task.refresh_from_db()
    assert cast.task.status == S.TRIAGED
    with pytest.raises(TransitionError):
        services.change_status(cast.dora, cast.task, to=S.ASSIGNED)
