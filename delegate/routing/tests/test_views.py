"""The dispatcher's routing pages: rebalance proposals, routing on demand, overrides
with a reason, and deadline alerts on the board."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from delegate.agencies import services as agency_services
from delegate.routing import services
from delegate.routing.models import RebalanceProposal, RoutingAlert
from delegate.routing.tests.conftest import Team
from delegate.tasks import services as task_services
from delegate.tasks.models import Task, TaskEvent
from delegate.testing import db_state

ALWAYS = [(day, dt.time(0), dt.time(23, 59)) for day in range(7)]


@pytest.fixture
def busy(team: Team) -> list[Task]:
    """Four 90-minute tasks due in four hours, all on bob, who works around the clock
    (as do eve and mia): he can finish two in time, so two should move. The views
    route at the real time, so the hours must not depend on it."""
    cast = team.cast
    for member in (cast.bob, cast.eve, team.mia):
        agency_services.set_working_hours(cast.alice, member, blocks=ALWAYS)
    tasks = []
    for number in range(4):
        task = task_services.create_task(
            cast.dora,
            client=cast.acme,
            title=f"Receipts {number}",
            channel=Task.Channel.EMAIL,
            due_at=timezone.now() + dt.timedelta(hours=4),
            required_skills=[team.bookkeeping],
            estimate_minutes=90,
        )
        tasks.append(task_services.assign_task(cast.dora, task, assistant=cast.bob))
    return tasks


def _state() -> dict[str, list[dict[str, Any]]]:
    return db_state(Task, TaskEvent, RebalanceProposal)


def test_a_dispatcher_computes_reviews_and_applies_a_rebalance(
    team: Team, busy: list[Task]
) -> None:
    http = team.cast.login(team.cast.dora)
    response = http.post(reverse("routing:rebalance"))
    proposal = RebalanceProposal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("routing:proposal", args=[proposal.pk])
    moved_ids = {move["task"] for move in proposal.moves}
    assert len(moved_ids) == 2 and moved_ids <= {str(t.pk) for t in busy}
    assert {move["to_name"] for move in proposal.moves} <= {"Eve Engel", "Mia Moser"}
    assert proposal.summary["at_risk_after"] < proposal.summary["at_risk_before"]
    page = http.get(reverse("routing:proposal", args=[proposal.pk]))
    assert page.status_code == 200
    assert "Apply the checked moves" in page.content.decode()
    # Nothing moved yet.
    assert Task.objects.filter(assignee=team.cast.bob, title__startswith="Receipts").count() == 4

    first = sorted(moved_ids)[0]
    response = http.post(reverse("routing:apply", args=[proposal.pk]), {"task": [first]})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == RebalanceProposal.Status.APPLIED
    assert (proposal.summary["moved"], proposal.summary["skipped"]) == (1, 0)
    moved = Task.objects.get(pk=first)
    assert moved.assignee != team.cast.bob
    event = TaskEvent.objects.filter(task=moved, kind=TaskEvent.Kind.ASSIGNED).last()
    assert event is not None and event.data["reason"] == "rebalance"
    assert event.actor_member == team.cast.dora
    # A decided proposal cannot be applied again.
    before = _state()
    http.post(reverse("routing:apply", args=[proposal.pk]))
    assert _state() == before


def test_moves_of_tasks_changed_meanwhile_are_skipped(team: Team, busy: list[Task]) -> None:
    proposal = services.propose_rebalance(team.cast.dora)
    changed = Task.objects.get(pk=proposal.moves[0]["task"])
    task_services.change_status(team.cast.bob, changed, to=Task.Status.IN_PROGRESS)
    result = services.apply_rebalance(team.cast.dora, proposal)
    assert (result.moved, result.skipped) == (len(proposal.moves) - 1, 1)
    changed.refresh_from_db()
    assert changed.assignee == team.cast.bob


def test_a_dispatcher_discards_a_proposal(team: Team, busy: list[Task]) -> None:
    proposal = services.propose_rebalance(team.cast.dora)
    before = db_state(Task, TaskEvent)
    response = team.cast.login(team.cast.alice).post(reverse("routing:discard", args=[proposal.pk]))
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == RebalanceProposal.Status.DISCARDED
    assert db_state(Task, TaskEvent) == before


@pytest.mark.parametrize("name", ["routing:proposal", "routing:apply", "routing:discard"])
def test_outsiders_get_404_and_assistants_403(team: Team, busy: list[Task], name: str) -> None:
    proposal = services.propose_rebalance(team.cast.dora)
    url = reverse(name, args=[proposal.pk])
    before = _state()
    assert team.cast.login(team.cast.mallory).post(url).status_code == 404
    assert team.cast.login(team.cast.mallory).get(url).status_code in (404, 405)
    assert team.cast.login(team.cast.bob).post(url).status_code == 403
    assert team.cast.login(team.cast.carol).post(url).status_code == 403
    assert _state() == before


def test_assistants_cannot_compute_proposals(team: Team) -> None:
    before = _state()
    response = team.cast.login(team.cast.bob).post(reverse("routing:rebalance"))
    assert response.status_code == 403
    assert _state() == before


def test_a_dispatcher_lets_routing_choose_and_sees_why(team: Team) -> None:
    cast = team.cast
    agency_services.set_working_hours(cast.alice, cast.bob, blocks=ALWAYS)
    task = task_services.create_task(
        cast.dora, client=cast.acme, title="Invoices", channel=Task.Channel.EMAIL
    )
    url = reverse("routing:route", args=[task.pk])
    before = _state()
    assert cast.login(cast.mallory).post(url).status_code == 404
    assert cast.login(cast.eve).post(url).status_code == 404  # not her client
    assert cast.login(cast.bob).post(url).status_code == 403  # sees it, not a manager
    assert _state() == before
    response = cast.login(cast.dora).post(url)
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == cast.bob
    page = cast.login(cast.dora).get(reverse("tasks:detail", args=[task.pk])).content.decode()
    assert "primary assistant Bob Becker" in page
    assert 'id="routing-reason"' in page


def test_an_override_records_the_dispatchers_reason(team: Team) -> None:
    cast = team.cast
    response = cast.login(cast.dora).post(
        reverse("tasks:assign", args=[cast.task.pk]),
        {"assignee": str(cast.eve.pk), "reason": "Bob is at the client all day"},
    )
    assert response.status_code == 302
    event = TaskEvent.objects.filter(task=cast.task, kind=TaskEvent.Kind.ASSIGNED).last()
    assert event is not None
    assert (event.data["to"], event.data["reason"]) == (
        str(cast.eve.pk),
        "Bob is at the client all day",
    )
    page = cast.login(cast.dora).get(reverse("tasks:detail", args=[cast.task.pk])).content
    assert "Reason: Bob is at the client all day" in page.decode()


def test_the_board_lists_deadline_alerts(team: Team) -> None:
    cast = team.cast
    task = task_services.create_task(
        cast.dora,
        client=cast.acme,
        title="Urgent payroll",
        channel=Task.Channel.EMAIL,
        due_at=timezone.now() + dt.timedelta(minutes=30),
    )
    assert services.alert_deadlines() == 1
    assert RoutingAlert.objects.filter(task=task).count() == 1
    page = cast.login(cast.dora).get(reverse("tasks:dispatch")).content.decode()
    assert "Deadline alerts" in page
    assert "Urgent payroll" in page


def test_the_proposal_and_the_reasons_read_in_german(team: Team, busy: list[Task]) -> None:
    cast = team.cast
    proposal = services.propose_rebalance(cast.dora)
    http = cast.login(cast.dora)
    page = http.get(
        reverse("routing:proposal", args=[proposal.pk]), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Vorschlag zur Neuverteilung" in page
    assert "Angehakte Verschiebungen übernehmen" in page
    task = task_services.create_task(
        cast.dora, client=cast.acme, title="Invoices", channel=Task.Channel.EMAIL
    )
    services.route_task(cast.dora, task)
    page = http.get(
        reverse("tasks:detail", args=[task.pk]), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Warum" in page
    assert "→ Hauptassistenz Bob Becker" in page
