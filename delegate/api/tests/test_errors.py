from __future__ import annotations

import pytest

from delegate.api.tests.conftest import Api
from delegate.clients.models import Client
from delegate.tasks.models import Task, TaskEvent
from delegate.testing import Cast

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", ['{"title": "x",', "not json", "[1, 2]", '"text"'])
def test_malformed_json_is_a_422_and_writes_nothing(cast: Cast, alice_api: Api, raw: str) -> None:
    before = (Task.objects.count(), TaskEvent.objects.count())
    response = alice_api.post("/tasks", raw=raw, key="malformed")
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)
    patch = alice_api.patch(f"/tasks/{cast.task.pk}", raw=raw)
    assert patch.status_code == 422
    assert (Task.objects.count(), TaskEvent.objects.count()) == before
    cast.task.refresh_from_db()
    assert cast.task.title == "Book a flight to Hamburg"


def test_a_missing_field_names_the_field(cast: Cast, alice_api: Api) -> None:
    before = Client.objects.count()
    response = alice_api.post("/clients", {"kind": "person"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"name": ["Field required"]}
    assert Client.objects.count() == before


def test_a_malformed_id_in_the_path_is_a_422(cast: Cast, alice_api: Api) -> None:
    response = alice_api.get("/tasks/1")
    assert response.status_code == 422
    assert "task_id" in response.json()["errors"]
