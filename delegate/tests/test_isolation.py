"""Route × role isolation, built from the URL resolver.

Every route that takes an id is called (GET and POST) by each outsider: mallory (owner
of another agency), gina (client contact of another agency) and eve (assistant of the
same agency who is not assigned to the client). Each must be refused — 404 where the
role could otherwise act, never a success — and the database must be unchanged.

A new id-bearing route without an entry in ``TARGETS`` makes this test fail: add how to
build its ids for agency A's objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from delegate.agencies import services as agency_services
from delegate.routing import services as routing_services
from delegate.testing import Cast
from delegate.timetracking import services as timetracking_services

Kwargs = Callable[[Cast], dict[str, Any]]

# Namespaces handled elsewhere: the admin is for superusers only (no tenant user is
# staff), the API authenticates by key and has its own isolation tests.
SKIPPED_NAMESPACES = {"admin", "api"}


def _absence(cast: Cast) -> Any:
    return agency_services.add_absence(
        cast.alice, cast.bob, starts_on=dt.date(2030, 1, 1), ends_on=dt.date(2030, 1, 2)
    )


def _category(cast: Cast) -> Any:
    from delegate.tasks.models import Category

    category, _created = Category.objects.get_or_create(
        agency=cast.agency_a, slug="isolation", defaults={"name_en": "I", "name_de": "I"}
    )
    return category


def _proposal(c: Cast) -> dict[str, Any]:
    return {"proposal_id": routing_services.propose_rebalance(c.alice).pk}


def _time_entry(cast: Cast) -> Any:
    return timetracking_services.log_time(
        cast.bob, cast.task, started_at=timezone.now() - dt.timedelta(hours=1), minutes=10
    )


def _invoice(cast: Cast, *, issued: bool = False) -> Any:
    from delegate.billing import invoicing
    from delegate.billing.tests.helpers import draft, issuer
    from delegate.core.models import new_code

    invoice = draft(cast, issuer(cast, number_prefix=f"{new_code(4)}-"))
    return invoicing.issue_invoice(cast.alice, invoice) if issued else invoice


def _contract(c: Cast) -> dict[str, Any]:
    import datetime as dt

    from delegate.billing.models import Contract
    from delegate.billing.tests.helpers import contract

    # After the months the other routes' invoices cover, which keep their terms.
    found = Contract.objects.filter(client=c.acme).first() or contract(
        c, starts_on=dt.date(2099, 1, 1)
    )
    return {"contract_id": found.pk}


def _task(c: Cast) -> dict[str, Any]:
    return {"task_id": c.task.pk}


def _member(c: Cast) -> dict[str, Any]:
    return {"member_id": c.bob.pk}


def _client(c: Cast) -> dict[str, Any]:
    return {"client_id": c.acme.pk}


def _contact(c: Cast) -> dict[str, Any]:
    return {"contact_id": c.carol.pk}


def _inbound(cast: Cast) -> dict[str, Any]:
    from delegate.intake import services as intake_services

    raw = b"From: stranger@example.org\r\nSubject: Hallo\r\n\r\nBitte helfen.\r\n"
    inbound, _new = intake_services.receive(cast.agency_a, channel="email", raw=raw)
    intake_services.process_inbound(inbound.pk)  # quarantined: every action applies
    return {"inbound_id": inbound.pk}


def _booking_page(cast: Cast) -> Any:
    from delegate.scheduling.tests.conftest import make_booking_page

    return make_booking_page(cast)


def _calendar(c: Cast) -> dict[str, Any]:
    return {"calendar_id": _booking_page(c).target_calendar_id}


def _calendar_event(c: Cast) -> dict[str, Any]:
    from delegate.scheduling import services as scheduling

    start = dt.datetime(2030, 1, 7, 10, tzinfo=dt.UTC)
    calendar = _booking_page(c).target_calendar
    event = scheduling.save_event(
        c.bob, calendar, summary="x", starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )
    return {"event_id": event.pk}


def _booking_token(c: Cast) -> dict[str, Any]:
    from delegate.scheduling import services as scheduling

    page = _booking_page(c)
    slot = scheduling.available_slots(page)[0]
    booking = scheduling.book(page, starts_at=slot, visitor=scheduling.Visitor("V", "v@x.test", {}))
    return {"token": scheduling.booking_token(booking)}


TARGETS: dict[str, Kwargs] = {
    "intake:detail": _inbound,
    "intake:raw": _inbound,
    "intake:retry": _inbound,
    "intake:release": _inbound,
    "intake:reject": _inbound,
    "tasks:detail": _task,
    "tasks:reply": _task,
    "tasks:note": _task,
    "tasks:status": _task,
    "tasks:assign": _task,
    "tasks:edit": _task,
    "tasks:quick_assign": _task,
    "triage:correct": _task,
    "triage:category_edit": lambda c: {"category_id": _category(c).pk},
    "triage:category_delete": lambda c: {"category_id": _category(c).pk},
    "tasks:attachment": lambda c: {"task_id": c.task.pk, "attachment_id": c.attachment.pk},
    "routing:route": _task,
    "routing:proposal": _proposal,
    "routing:apply": _proposal,
    "routing:discard": _proposal,
    "portal:task": _task,
    "portal:reply": _task,
    "portal:cancel": _task,
    "portal:attachment": lambda c: {"task_id": c.task.pk, "attachment_id": c.attachment.pk},
    "clients:detail": _client,
    "clients:edit": _client,
    "clients:address_edit": lambda c: {"client_id": c.acme.pk, "kind": "billing"},
    "clients:contact_create": _client,
    "clients:contact_edit": _contact,
    "clients:portal_grant": _contact,
    "clients:portal_revoke": _contact,
    "timetracking:task_time": _task,
    "timetracking:start": _task,
    "timetracking:stop": _task,
    "timetracking:log": _task,
    "timetracking:edit_entry": lambda c: {"entry_id": _time_entry(c).pk},
    "timetracking:delete_entry": lambda c: {"entry_id": _time_entry(c).pk},
    "billing:invoice": lambda c: {"invoice_id": _invoice(c).pk},
    "billing:edit": lambda c: {"invoice_id": _invoice(c).pk},
    "billing:add_line": lambda c: {"invoice_id": _invoice(c).pk},
    "billing:delete": lambda c: {"invoice_id": _invoice(c).pk},
    "billing:issue": lambda c: {"invoice_id": _invoice(c).pk},
    "billing:send": lambda c: {"invoice_id": _invoice(c, issued=True).pk},
    "billing:payment": lambda c: {"invoice_id": _invoice(c, issued=True).pk},
    "billing:cancel": lambda c: {"invoice_id": _invoice(c, issued=True).pk},
    "billing:credit": lambda c: {"invoice_id": _invoice(c, issued=True).pk},
    "billing:pdf": lambda c: {"invoice_id": _invoice(c, issued=True).pk},
    "billing:xml": lambda c: {"invoice_id": _invoice(c, issued=True).pk},
    "billing:remove_line": lambda c: {"line_id": _invoice(c).lines.get().pk},
    "billing:client": _client,
    "billing:add_contract": _client,
    "billing:edit_contract": _contract,
    "portal:invoice": lambda c: {"invoice_id": _invoice(c, issued=True).pk},
    "agencies:member": _member,
    "agencies:member_update": _member,
    "agencies:profile_update": _member,
    "agencies:skills_update": _member,
    "agencies:hours_update": _member,
    "agencies:absence_add": _member,
    "agencies:absence_delete": lambda c: {"absence_id": _absence(c).pk},
    "agencies:my_absence_delete": lambda c: {"absence_id": _absence(c).pk},
    "scheduling:calendar": _calendar,
    "scheduling:calendar_sync": _calendar,
    "scheduling:event_delete": _calendar_event,
    "scheduling:occurrence_skip": _calendar_event,
    "scheduling:event_edit": _calendar_event,
    "scheduling:occurrence_move": _calendar_event,
    "scheduling:event_type_create": _client,
    "scheduling:event_type": lambda c: {"event_type_id": _booking_page(c).pk},
    "scheduling:task_appointment": _task,
    # Public by design (opaque slug, signed token, secret feed token): anyone may read
    # them; the test checks that an outsider's request changes nothing there.
    "booking:page": lambda c: {"slug": _booking_page(c).slug},
    "booking:form": lambda c: {"slug": _booking_page(c).slug},
    "booking:manage": _booking_token,
    "booking:feed": lambda c: {"token": _booking_page(c).target_calendar.feed_token},
}
PUBLIC_ROUTES = {"booking:page", "booking:form", "booking:manage", "booking:feed"}

# Tenant data whose change would show a leak.
SNAPSHOT_APPS = (
    "accounts",
    "agencies",
    "clients",
    "tasks",
    "triage",
    "routing",
    "intake",
    "scheduling",
    "timetracking",
    "billing",
    "api",
)


def id_routes() -> Iterator[tuple[str, list[str]]]:
    """(namespaced name, parameter names) of every named route that takes parameters."""

    def walk(
        patterns: list[Any], namespace: str, params: list[str]
    ) -> Iterator[tuple[str, list[str]]]:
        for entry in patterns:
            converters = list(entry.pattern.converters)
            if isinstance(entry, URLResolver):
                ns = entry.namespace or ""
                full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
                if ns in SKIPPED_NAMESPACES or full_ns.split(":")[0] in SKIPPED_NAMESPACES:
                    continue
                yield from walk(entry.url_patterns, full_ns, params + converters)
            elif isinstance(entry, URLPattern) and entry.name:
                all_params = params + converters
                if all_params:
                    name = f"{namespace}:{entry.name}" if namespace else entry.name
                    yield name, all_params

    yield from walk(get_resolver().url_patterns, "", [])


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    state = {}
    for label in SNAPSHOT_APPS:
        for model in apps.get_app_config(label).get_models():
            fields = [f.attname for f in model._meta.concrete_fields]
            rows = model._default_manager.order_by("pk").values_list(*fields)
            state[model._meta.label] = [tuple(str(v) for v in row) for row in rows]
    return state


POST_PAYLOAD = {
    "text": "leaked",
    "title": "leaked",
    "name": "leaked",
    "to": "done",
    "status": "done",
    "priority": "4",
    "is_internal": "",
    "role": "owner",
    "reason": "leaked",
}


def test_it_has_a_case_for_every_id_route() -> None:
    missing = sorted(name for name, _params in id_routes() if name not in TARGETS)
    assert missing == [], f"add these id-bearing routes to TARGETS: {missing}"


@pytest.mark.parametrize("outsider", ["mallory", "gina", "eve"])
def test_it_refuses_outsiders_on_every_id_route(cast: Cast, outsider: str) -> None:
    who = getattr(cast, outsider)
    http = cast.login(who)
    # Every route's objects first, then one snapshot around all the requests: a snapshot
    # of every tenant table per route made this test the slowest of the suite.
    urls = [(name, reverse(name, kwargs=TARGETS[name](cast))) for name, _params in id_routes()]
    failures: list[str] = []

    def call_all(routes: list[tuple[str, str]]) -> None:
        for name, url in routes:
            for method in ("get", "post"):
                response = getattr(http, method)(url, POST_PAYLOAD if method == "post" else None)
                expected = _expected_statuses(name, outsider) | {405}
                if response.status_code not in expected:
                    failures.append(f"{outsider} {method.upper()} {name}: {response.status_code}")

    before = snapshot()
    call_all(urls)
    after = snapshot()
    if after != before:
        changed = sorted(label for label in before if before[label] != after[label])
        failures.append(f"{outsider} changed data in {changed}")
        # Name the routes too where a second call changes data again.
        for route in urls:
            before = snapshot()
            call_all([route])
            if snapshot() != before:
                failures.append(f"{outsider} changed data through {route[0]}")
    assert failures == []


def _expected_statuses(name: str, outsider: str) -> set[int]:
    if name in PUBLIC_ROUTES:
        # Public pages answer anyone (GET 200); a stray POST is refused as invalid (400)
        # or with no time chosen (404); the snapshot proves it changed nothing.
        return {200, 400, 404}
    portal = name.startswith("portal:")
    # The outsider whose role fits the route must get 404 (the object is not theirs);
    # a role that does not fit the route at all gets 403; both are refusals.
    if (outsider == "mallory" and not portal) or (outsider == "gina" and portal):
        return {404}
    return {403, 404}
