from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.utils import timezone

from delegate.api.tests.conftest import Api
from delegate.tasks import services
from delegate.tasks.models import Task, TaskEvent
from delegate.testing import Cast

pytestmark = pytest.mark.django_db


def _ids(response: object) -> list[str]:
    return [item["id"] for item in response.json()["items"]]  # type: ignore[attr-defined]


def test_it_lists_the_agencys_tasks_with_uuids(cast: Cast, alice_api: Api) -> None:
    response = alice_api.get("/tasks")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["limit"] == 50 and body["offset"] == 0
    item = body["items"][0]
    assert item["id"] == str(cast.task.pk)
    assert item["client"] == str(cast.acme.pk)
    assert item["assignee"] == str(cast.bob.pk)
    assert item["requester"] == str(cast.carol.pk)
    assert item["status"] == "assigned"
    for field in ("id", "client", "assignee", "requester"):
        uuid.UUID(item[field])


def test_it_creates_a_task(cast: Cast, alice_api: Api) -> None:
    due = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)
    response = alice_api.post("/tasks", {
        "client": str(cast.acme.pk), "title": "  Renew domain ", "priority": 3,
        "requester": str(cast.carol.pk), "due_at": due.isoformat(), "estimate_minutes": 30,
    })  # fmt: skip
    assert response.status_code == 201, response.json()
    task = Task.objects.get(pk=response.json()["id"])
    assert (task.title, task.priority, task.channel, task.due_at) == ("Renew domain", 3, "api", due)
    assert task.requester == cast.carol and task.agency == cast.agency_a
    assert TaskEvent.objects.filter(task=task, kind="created", actor_member=cast.alice).exists()
    assert response.json()["status"] == "new"


def test_it_lets_an_assistant_create_tasks_for_their_client(cast: Cast, bob_api: Api) -> None:
    response = bob_api.post("/tasks", {"client": str(cast.acme.pk), "title": "Call back"})
    assert response.status_code == 201


@pytest.mark.parametrize("who", ["mallory", "eve"])
def test_it_refuses_to_create_for_a_client_outside_view(
    cast: Cast, mallory_api: Api, eve_api: Api, who: str
) -> None:
    api = {"mallory": mallory_api, "eve": eve_api}[who]
    before = Task.objects.count()
    response = api.post("/tasks", {"client": str(cast.acme.pk), "title": "Sneaky"})
    assert response.status_code == 404
    assert Task.objects.count() == before


def test_it_refuses_a_requester_of_another_client(
    cast: Cast, alice_api: Api, mallory_api: Api
) -> None:
    before = Task.objects.count()
    other = mallory_api.post("/tasks", {"client": str(cast.globex.pk), "title": "x",
                                        "requester": str(cast.carol.pk)})  # fmt: skip
    assert other.status_code == 404
    from delegate.clients.services import create_client, create_contact

    umbrella = create_client(cast.alice, name="Umbrella")
    stranger = create_contact(cast.alice, umbrella, name="Stan")
    wrong = alice_api.post("/tasks", {"client": str(cast.acme.pk), "title": "x",
                                      "requester": str(stranger.pk)})  # fmt: skip
    assert wrong.status_code == 422
    assert "requester" in wrong.json()["errors"]
    assert Task.objects.count() == before


def test_it_refuses_a_body_that_does_not_fit_the_schema(cast: Cast, alice_api: Api) -> None:
    before = Task.objects.count()
    response = alice_api.post("/tasks", {"client": str(cast.acme.pk), "title": "", "priority": 9})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Invalid request."
    assert set(body["errors"]) == {"title", "priority"}
    assert Task.objects.count() == before


def test_it_gets_a_task(cast: Cast, bob_api: Api) -> None:
    response = bob_api.get(f"/tasks/{cast.task.pk}")
    assert response.status_code == 200
    assert response.json()["title"] == cast.task.title


def test_it_updates_fields_and_records_an_event(cast: Cast, alice_api: Api) -> None:
    response = alice_api.patch(f"/tasks/{cast.task.pk}", {"title": "Book a train", "due_at": None})
    assert response.status_code == 200, response.json()
    cast.task.refresh_from_db()
    assert cast.task.title == "Book a train" and cast.task.due_at is None
    assert cast.task.priority == 2  # not sent, not changed
    event = TaskEvent.objects.filter(task=cast.task, kind="updated").get()
    assert set(event.data) == {"title", "due_at"}


def test_it_refuses_null_for_a_required_field(cast: Cast, alice_api: Api) -> None:
    response = alice_api.patch(f"/tasks/{cast.task.pk}", {"title": None})
    assert response.status_code == 422
    cast.task.refresh_from_db()
    assert cast.task.title == "Book a flight to Hamburg"


def test_it_moves_a_task_through_the_status_machine(cast: Cast, bob_api: Api) -> None:
    response = bob_api.patch(f"/tasks/{cast.task.pk}", {"status": "in_progress"})
    assert response.status_code == 200
    assert response.json()["status"] == "in_progress"
    cast.task.refresh_from_db()
    assert cast.task.status == "in_progress"


def test_an_invalid_transition_is_a_409_and_changes_nothing(cast: Cast, alice_api: Api) -> None:
    events = TaskEvent.objects.count()
    response = alice_api.patch(f"/tasks/{cast.task.pk}", {"title": "Changed", "status": "new"})
    assert response.status_code == 409
    assert "assigned to new" in response.json()["detail"]
    cast.task.refresh_from_db()
    assert (cast.task.status, cast.task.title) == ("assigned", "Book a flight to Hamburg")
    assert TaskEvent.objects.count() == events


def test_a_forbidden_transition_is_a_403_and_changes_nothing(cast: Cast, bob_api: Api) -> None:
    events = TaskEvent.objects.count()
    response = bob_api.patch(f"/tasks/{cast.task.pk}", {"status": "cancelled"})
    assert response.status_code == 403
    cast.task.refresh_from_db()
    assert cast.task.status == "assigned"
    assert TaskEvent.objects.count() == events


def test_an_unknown_status_is_a_422(cast: Cast, alice_api: Api) -> None:
    response = alice_api.patch(f"/tasks/{cast.task.pk}", {"status": "archived"})
    assert response.status_code == 422
    assert "status" in response.json()["errors"]


def test_it_assigns_and_unassigns(cast: Cast, alice_api: Api, mallory_api: Api) -> None:
    response = alice_api.patch(f"/tasks/{cast.task.pk}", {"assignee": str(cast.eve.pk)})
    assert response.status_code == 200
    assert response.json()["assignee"] == str(cast.eve.pk)
    response = alice_api.patch(f"/tasks/{cast.task.pk}", {"assignee": None})
    assert response.json()["assignee"] is None
    assert response.json()["status"] == "triaged"
    # A member of another agency is not someone to assign to.
    response = alice_api.patch(f"/tasks/{cast.task.pk}", {"assignee": str(cast.mallory.pk)})
    assert response.status_code == 404
    cast.task.refresh_from_db()
    assert cast.task.assignee is None


def test_an_assistant_key_sees_only_the_assistants_clients(
    cast: Cast, bob_api: Api, eve_api: Api
) -> None:
    assert _ids(bob_api.get("/tasks")) == [str(cast.task.pk)]
    assert eve_api.get("/tasks").json() == {"items": [], "count": 0, "limit": 50, "offset": 0}
    assert eve_api.get(f"/tasks/{cast.task.pk}").status_code == 404
    assert eve_api.get("/tasks", {"client": str(cast.acme.pk)}).status_code == 404
    before = Task.objects.values().get(pk=cast.task.pk)
    assert eve_api.patch(f"/tasks/{cast.task.pk}", {"title": "x"}).status_code == 404
    assert Task.objects.values().get(pk=cast.task.pk) == before


@pytest.fixture
def many(cast: Cast) -> list[Task]:
    """Five more acme tasks: priorities 1..4,1; due in 1..5 days; two unassigned."""
    now = timezone.now()
    tasks = []
    for i in range(5):
        task = services.create_task(
            cast.alice, client=cast.acme, title=f"T{i}", channel="api", priority=[1, 2, 3, 4, 1][i],
            due_at=now + dt.timedelta(days=i + 1),
        )  # fmt: skip
        if i < 3:
            task = services.assign_task(cast.alice, task, assistant=cast.eve if i else cast.bob)
        tasks.append(task)
    return tasks


def test_it_filters_tasks(cast: Cast, alice_api: Api, many: list[Task]) -> None:
    def ids(**params: object) -> set[str]:
        response = alice_api.get("/tasks", params)
        assert response.status_code == 200, response.json()
        return set(_ids(response))

    def of(*tasks: Task) -> set[str]:
        return {str(t.pk) for t in tasks}

    assert ids(status="new") == of(many[3], many[4])
    assert ids(status=["new", "assigned"]) == of(cast.task, *many)
    assert ids(priority=1) == of(many[0], many[4])
    assert ids(priority=[3, 4]) == of(many[2], many[3])
    assert ids(assignee=str(cast.eve.pk)) == of(many[1], many[2])
    assert ids(unassigned="true") == of(many[3], many[4])
    assert ids(client=str(cast.acme.pk)) == of(cast.task, *many)
    now = timezone.now()
    assert ids(due_before=(now + dt.timedelta(days=2, hours=12)).isoformat()) == of(
        cast.task, many[0], many[1]
    )
    assert ids(due_after=(now + dt.timedelta(days=4)).isoformat()) == of(many[4])
    Task.objects.filter(pk=many[2].pk).update(updated_at=now + dt.timedelta(hours=1))
    assert ids(updated_since=(now + dt.timedelta(minutes=30)).isoformat()) == of(many[2])
    assert alice_api.get("/tasks", {"assignee": str(cast.mallory.pk)}).status_code == 404
    assert alice_api.get("/tasks", {"due_before": "tomorrow"}).status_code == 422


def test_it_orders_and_paginates(cast: Cast, alice_api: Api, many: list[Task]) -> None:
    response = alice_api.get("/tasks", {"ordering": "due_at", "limit": 2})
    body = response.json()
    assert body["count"] == 6 and body["limit"] == 2
    assert _ids(response) == [str(many[0].pk), str(cast.task.pk)]  # due in 1 and 2 days
    second = alice_api.get("/tasks", {"ordering": "due_at", "limit": 2, "offset": 2})
    assert _ids(second) == [str(many[1].pk), str(many[2].pk)]
    last = alice_api.get("/tasks", {"ordering": "due_at", "limit": 2, "offset": 6})
    assert last.json()["items"] == [] and last.json()["count"] == 6
    by_priority = _ids(alice_api.get("/tasks", {"ordering": "-priority"}))
    assert by_priority[0] == str(many[3].pk)
    assert alice_api.get("/tasks", {"limit": 201}).status_code == 422
    assert alice_api.get("/tasks", {"limit": 0}).status_code == 422
    assert alice_api.get("/tasks", {"offset": -1}).status_code == 422
    assert alice_api.get("/tasks", {"ordering": "title"}).status_code == 422


def _categories(cast: Cast) -> tuple[Any, Any]:
    from delegate.tasks.categories import ensure_default_categories

    ensure_default_categories(cast.agency_a)
    travel = cast.agency_a.categories.get(slug="travel")
    return travel, travel.skills.get()


def test_it_sets_category_and_skills(cast: Cast, alice_api: Api) -> None:
    travel, booking = _categories(cast)
    response = alice_api.post(
        "/tasks",
        {"client": str(cast.acme.pk), "title": "Train to Kiel", "category": str(travel.pk),
         "required_skills": [str(booking.pk)]},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["category"] == str(travel.pk)
    assert body["required_skills"] == [str(booking.pk)]
    task = Task.objects.get(pk=body["id"])
    assert list(task.required_skills.all()) == [booking]

    response = alice_api.patch(f"/tasks/{task.pk}", {"category": None, "required_skills": []})
    assert response.status_code == 200, response.content
    task.refresh_from_db()
    assert task.category is None
    assert task.required_skills.count() == 0
    listed = alice_api.get("/tasks", {"client": str(cast.acme.pk)}).json()["items"]
    assert all(isinstance(item["required_skills"], list) for item in listed)


def test_it_refuses_another_agencys_category_or_skill(cast: Cast, alice_api: Api) -> None:
    from delegate.tasks.categories import ensure_default_categories

    ensure_default_categories(cast.agency_b)
    foreign = cast.agency_b.categories.get(slug="travel")
    before = Task.objects.count()
    for body in ({"category": str(foreign.pk)},
                 {"required_skills": [str(foreign.skills.get().pk)]}):  # fmt: skip
        response = alice_api.post("/tasks", {"client": str(cast.acme.pk), "title": "x", **body})
        assert response.status_code == 404
        assert alice_api.patch(f"/tasks/{cast.task.pk}", body).status_code == 404
    assert Task.objects.count() == before
    cast.task.refresh_from_db()
    assert cast.task.category is None


def test_it_creates_a_batch_of_tasks_in_order(cast: Cast, alice_api: Api) -> None:
    items = [{"client": str(cast.acme.pk), "title": f"Import {i}"} for i in range(30)]
    response = alice_api.post("/tasks/batch", {"tasks": items}, key="import-1")
    assert response.status_code == 201, response.content
    titles = [item["title"] for item in response.json()["items"]]
    assert titles == [f"Import {i}" for i in range(30)]
    assert Task.objects.filter(title__startswith="Import ", channel="api").count() == 30
    # The same request again replays the answer and creates nothing.
    again = alice_api.post("/tasks/batch", {"tasks": items}, key="import-1")
    assert again.status_code == 201
    assert again.json() == response.json()
    assert Task.objects.filter(title__startswith="Import ").count() == 30


@pytest.mark.parametrize(
    "bad",
    [
        {"title": ""},  # invalid item → 422
        {"client": "GLOBEX"},  # another agency's client → 404
        {"requester": "GINA"},  # another agency's contact → 404
    ],
)
def test_it_creates_all_of_a_batch_or_nothing(cast: Cast, alice_api: Api, bad: dict) -> None:
    replace = {"GLOBEX": str(cast.globex.pk), "GINA": str(cast.gina.pk)}
    broken = {"client": str(cast.acme.pk), "title": "Broken"}
    broken.update({k: replace.get(v, v) for k, v in bad.items()})
    items = [{"client": str(cast.acme.pk), "title": "Fine 1"}, broken,
             {"client": str(cast.acme.pk), "title": "Fine 2"}]  # fmt: skip
    before = (Task.objects.count(), TaskEvent.objects.count())
    response = alice_api.post("/tasks/batch", {"tasks": items})
    assert response.status_code in (404, 422)
    assert (Task.objects.count(), TaskEvent.objects.count()) == before


def test_it_limits_a_batch(cast: Cast, alice_api: Api, bob_api: Api) -> None:
    item = {"client": str(cast.acme.pk), "title": "x"}
    assert alice_api.post("/tasks/batch", {"tasks": [item] * 101}).status_code == 422
    assert alice_api.post("/tasks/batch", {"tasks": []}).status_code == 422
    assert not Task.objects.filter(title="x").exists()
