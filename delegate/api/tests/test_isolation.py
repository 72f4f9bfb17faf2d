"""Every id-bearing operation, from the OpenAPI document, called by outsiders: another
agency's owner (mallory) and, for assistant-scoped objects, the assistant of agency A
who is not assigned to acme (eve). A new route with an unknown path parameter fails
here until it gets a case."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.forms.models import model_to_dict

from delegate.agencies.models import Member
from delegate.api.models import IdempotencyKey
from delegate.api.tests.conftest import Api
from delegate.api.urls import api
from delegate.billing.models import Invoice, InvoiceLine
from delegate.clients.models import Client, Contact
from delegate.scheduling.models import Booking, Calendar, Event, EventType
from delegate.tasks.categories import ensure_default_categories
from delegate.tasks.models import Category, Message, Task, TaskEvent
from delegate.testing import Cast

pytestmark = pytest.mark.django_db

# path parameter → (cast attribute, seen only by assistants assigned to the client?);
# "invoice" is made on demand and is for managers only (assistants get 403).
PARAMS = {
    "invoice_id": ("invoice", True),
    "task_id": ("task", True),
    "message_id": ("reply", True),
    "client_id": ("acme", True),
    "contact_id": ("carol", True),
    "member_id": ("bob", False),
    "calendar_id": ("calendar", True),
    "event_id": ("event", True),
    "event_type_id": ("event_type", True),
    "booking_id": ("booking", True),
    "category_id": ("category", False),
}
BODIES = {
    "/tasks/{task_id}": {"title": "pwned", "status": "cancelled"},
    "/tasks/{task_id}/messages": {"text": "pwned"},
    "/tasks/{task_id}/messages/{message_id}": {"text": "pwned"},
    "/clients/{client_id}": {"name": "pwned"},
    "/clients/{client_id}/contacts": {"name": "pwned"},
    "/contacts/{contact_id}": {"name": "pwned"},
    "/members/{member_id}": {"role": "owner"},
    "/invoices/{invoice_id}": {"note": "pwned"},
    "/invoices/{invoice_id}/issue": {},
    "/invoices/{invoice_id}/credit-notes": {
        "reason": "pwned",
        "lines": [{"line": "00000000-0000-0000-0000-000000000001", "amount": "1.00"}],
    },
    "/calendars/{calendar_id}/events": {
        "summary": "pwned", "starts_at": "2030-01-07T09:00:00+01:00",
        "ends_at": "2030-01-07T10:00:00+01:00",
    },
    "/events/{event_id}": {"summary": "pwned"},
    "/events/{event_id}/skip": {"occurrence": "2030-01-07T09:00:00+01:00"},
    "/events/{event_id}/move": {
        "occurrence": "2030-01-07T09:00:00+01:00", "starts_at": "2030-01-07T11:00:00+01:00",
        "ends_at": "2030-01-07T12:00:00+01:00",
    },
    "/clients/{client_id}/event-types": {
        "name": "pwned", "target_calendar": "00000000-0000-0000-0000-000000000001",
    },
    "/event-types/{event_type_id}": {"name": "pwned", "is_active": False},
    "/event-types/{event_type_id}/bookings": {
        "starts_at": "2030-01-07T09:00:00+01:00", "name": "pwned", "email": "p@evil.test",
    },
    "/bookings/{booking_id}/cancel": {},
    "/bookings/{booking_id}/reschedule": {"starts_at": "2030-01-07T09:00:00+01:00"},
    "/categories/{category_id}": {"name_en": "pwned", "is_active": False},
}  # fmt: skip
MANAGER_ONLY = {"invoice_id"}


def _operations() -> list[tuple[str, str, list[str]]]:
    schema = api.get_openapi_schema()
    found = []
    for path, methods in schema["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if params:
            for method in methods:
                found.append((method, path.removeprefix("/api/v1"), params))
    return found


OPERATIONS = _operations()


SNAPSHOT_MODELS = (
    Task, Message, TaskEvent, Client, Contact, Member, IdempotencyKey, Invoice, InvoiceLine,
    Calendar, Event, EventType, Booking,
    Category,
)  # fmt: skip


def _snapshot() -> dict[str, Any]:
    return {
        model.__name__: sorted((str(row) for row in model.objects.values()), key=str)
        for model in SNAPSHOT_MODELS
    }


def _target(cast: Cast, name: str) -> Any:
    if name == "invoice" and not hasattr(cast, "invoice"):
        from delegate.billing.tests.helpers import draft, issuer

        cast.invoice = draft(cast, issuer(cast))  # type: ignore[attr-defined]
    if name in {"calendar", "event", "event_type", "booking"} and not hasattr(cast, name):
        _scheduling(cast)
    if name == "category" and not hasattr(cast, "category"):
        by_slug = {c.slug: c for c in ensure_default_categories(cast.agency_a)}
        cast.category = by_slug["travel"]  # type: ignore[attr-defined]
    return getattr(cast, name)


def _scheduling(cast: Cast) -> None:
    """Acme's calendar with a weekly event, a booking page and a booking on it."""
    from delegate.scheduling import services
    from delegate.scheduling.tests.conftest import make_booking_page

    page = make_booking_page(cast)
    start = dt.datetime(2030, 1, 7, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    cast.calendar = page.target_calendar  # type: ignore[attr-defined]
    cast.event = services.save_event(  # type: ignore[attr-defined]
        cast.bob, page.target_calendar, summary="Jour fixe", starts_at=start,
        ends_at=start + dt.timedelta(hours=1), rrule="FREQ=WEEKLY",
    )  # fmt: skip
    cast.event_type = page  # type: ignore[attr-defined]
    cast.booking = services.book(  # type: ignore[attr-defined]
        page,
        starts_at=services.available_slots(page)[0],
        visitor=services.Visitor("Vera", "vera@example.test", {}),
    )


def _prepare(cast: Cast, params: list[str]) -> None:
    """Objects made on demand exist before the snapshot is taken."""
    for param in params:
        _target(cast, PARAMS[param][0])


def _call(api_client: Api, cast: Cast, method: str, path: str, params: list[str]) -> Any:
    url = path
    for param in params:
        assert param in PARAMS, f"add a case for path parameter {param} in {path}"
        url = url.replace(f"{{{param}}}", str(_target(cast, PARAMS[param][0]).pk))
    if method == "get":
        return api_client.get(url)
    if method == "delete":
        return api_client.delete(url)
    body = BODIES[path]
    if method == "post":
        return api_client.post(url, body, key="outsider-1")
    return getattr(api_client, method)(url, body)


def test_the_cases_cover_the_api() -> None:
    assert len(OPERATIONS) >= 10
    for method, path, params in OPERATIONS:
        assert all(p in PARAMS for p in params), path
        assert method == "get" or path in BODIES, f"add a body for {method} {path}"


@pytest.mark.parametrize(("method", "path", "params"), OPERATIONS)
def test_another_agency_gets_404(
    cast: Cast, mallory_api: Api, method: str, path: str, params: list[str]
) -> None:
    _prepare(cast, params)
    before = _snapshot()
    response = _call(mallory_api, cast, method, path, params)
    assert response.status_code == 404, (method, path, response.content)
    assert set(response.json()) == {"detail"}
    assert _snapshot() == before


@pytest.mark.parametrize(("method", "path", "params"), OPERATIONS)
def test_an_unassigned_assistant_gets_404_on_client_scoped_objects(
    cast: Cast, eve_api: Api, method: str, path: str, params: list[str]
) -> None:
    _prepare(cast, params)
    before = _snapshot()
    response = _call(eve_api, cast, method, path, params)
    if any(p in MANAGER_ONLY for p in params):
        assert response.status_code == 403, (method, path)
    elif any(PARAMS[p][1] for p in params):
        assert response.status_code == 404, (method, path)
    else:  # the team: visible to every member, changed only by managers
        assert response.status_code == (200 if method == "get" else 403), (method, path)
    assert _snapshot() == before


def test_unknown_and_malformed_ids_are_404(cast: Cast, alice_api: Api) -> None:
    assert alice_api.get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 404
    assert alice_api.get("/tasks/1").status_code in (404, 422)
    assert alice_api.get(f"/tasks/{cast.task_b.pk}").status_code == 404
    assert alice_api.get(f"/contacts/{cast.gina.pk}").status_code == 404
    assert alice_api.get(f"/members/{cast.mallory.pk}").status_code == 404
    assert model_to_dict(cast.task_b) == model_to_dict(Task.objects.get(pk=cast.task_b.pk))
