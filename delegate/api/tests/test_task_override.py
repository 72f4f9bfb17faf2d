"""A dispatcher's override through the API records its reason on the event."""

from __future__ import annotations

from delegate.api.tests.conftest import Api
from delegate.tasks.models import TaskEvent
from delegate.testing import Cast


def test_an_assignment_carries_its_reason(cast: Cast, alice_api: Api) -> None:
    response = alice_api.patch(
        f"/tasks/{cast.task.pk}",
        {"assignee": str(cast.eve.pk), "assignee_reason": "  Bob is on a training  "},
    )
    assert response.status_code == 200
    event = TaskEvent.objects.filter(task=cast.task, kind=TaskEvent.Kind.ASSIGNED).last()
    assert event is not None
    assert (event.data["to"], event.data["reason"]) == (str(cast.eve.pk), "Bob is on a training")


def test_a_reason_too_long_is_refused_and_nothing_changes(cast: Cast, alice_api: Api) -> None:
    events = TaskEvent.objects.count()
    response = alice_api.patch(
        f"/tasks/{cast.task.pk}", {"assignee": str(cast.eve.pk), "assignee_reason": "x" * 201}
    )
    assert response.status_code == 422
    cast.task.refresh_from_db()
    assert cast.task.assignee == cast.bob
    assert TaskEvent.objects.count() == events
