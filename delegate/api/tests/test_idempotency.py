from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.test import override_settings
from django.utils import timezone

from delegate.api.jobs import prune_idempotency_keys
from delegate.api.models import IdempotencyKey
from delegate.api.tests.conftest import Api, api_for
from delegate.tasks.models import Message, Task
from delegate.testing import Cast, make_cast


@pytest.mark.django_db
def test_the_same_key_and_body_replays_the_response(cast: Cast, alice_api: Api) -> None:
    body = {"client": str(cast.acme.pk), "title": "Once"}
    first = alice_api.post("/tasks", body, key="k-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    # Same JSON, other key order and spacing: the same request.
    raw = json.dumps({"title": "Once", "client": str(cast.acme.pk)}, indent=2)
    second = alice_api.post("/tasks", raw=raw, key="k-1")
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Task.objects.filter(title="Once").count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_422(cast: Cast, alice_api: Api) -> None:
    alice_api.post("/tasks", {"client": str(cast.acme.pk), "title": "Once"}, key="k-2")
    response = alice_api.post("/tasks", {"client": str(cast.acme.pk), "title": "Twice"}, key="k-2")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["errors"]
    # Another endpoint with the same key is another request too.
    other = alice_api.post(f"/tasks/{cast.task.pk}/messages", {"title": "Once"}, key="k-2")
    assert other.status_code == 422
    assert not Task.objects.filter(title="Twice").exists()
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_per_agency(cast: Cast, alice_api: Api, mallory_api: Api) -> None:
    a = alice_api.post("/tasks", {"client": str(cast.acme.pk), "title": "A"}, key="shared")
    b = mallory_api.post("/tasks", {"client": str(cast.globex.pk), "title": "B"}, key="shared")
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]


@pytest.mark.django_db
def test_a_failed_request_is_not_remembered(cast: Cast, alice_api: Api) -> None:
    bad = alice_api.post(f"/tasks/{cast.task.pk}/messages", {"text": " "}, key="k-3")
    assert bad.status_code == 422
    assert not IdempotencyKey.objects.exists()
    good = alice_api.post(f"/tasks/{cast.task.pk}/messages", {"text": "hi"}, key="k-3")
    assert good.status_code == 201
    assert Message.objects.filter(text="hi").count() == 1


@pytest.mark.django_db
def test_it_refuses_an_invalid_key_header(cast: Cast, alice_api: Api) -> None:
    before = Task.objects.count()
    for key in ("", "x" * 256, "naïve"):
        response = alice_api.post("/tasks", {"client": str(cast.acme.pk), "title": "x"}, key=key)
        assert response.status_code == 422, key
    assert Task.objects.count() == before


@pytest.mark.django_db
def test_expired_keys_are_pruned_and_may_be_reused(cast: Cast, alice_api: Api) -> None:
    body = {"client": str(cast.acme.pk), "title": "Daily"}
    assert alice_api.post("/tasks", body, key="daily").status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    again = alice_api.post("/tasks", body, key="daily")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Task.objects.filter(title="Daily").count() == 2
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    IdempotencyKey.objects.create(agency=cast.agency_a, key="fresh", request_hash="x",
                                  status_code=201, response_body="{}")  # fmt: skip
    with override_settings(API_IDEMPOTENCY_TTL_HOURS=24):
        assert prune_idempotency_keys.call() == 1
        assert prune_idempotency_keys.call() == 0
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_object() -> None:
    cast = make_cast()
    api = api_for(cast.alice)
    body = {"client": str(cast.acme.pk), "title": "Race"}
    barrier = threading.Barrier(4)
    results: list[tuple[int, dict[str, object]]] = []

    def send() -> None:
        from django.db import connections

        barrier.wait()
        response = api.post("/tasks", body, key="race")
        results.append((response.status_code, response.json()))
        connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Task.objects.filter(title="Race").count() == 1
    created = {payload["id"] for status, payload in results if status == 201}
    assert len(created) == 1
    assert all(status in (201, 409) for status, _payload in results)
