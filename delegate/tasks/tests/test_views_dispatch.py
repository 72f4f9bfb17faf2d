"""The dispatcher board: who may see it, its sections, team load and quick-assign."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from delegate.agencies import services as agency_services
from delegate.agencies.models import Member
from delegate.clients.models import Client
from delegate.tasks.models import Message, Task, TaskEvent
from delegate.testing import Cast

BOARD = reverse("tasks:dispatch")


def make_task(cast: Cast, *, client: Client | None = None, **fields: Any) -> Task:
    client = client or cast.acme
    fields.setdefault("title", "Some task")
    fields.setdefault("channel", Task.Channel.DESK)
    return Task.objects.create(agency_id=client.agency_id, client=client, **fields)


def section(html: str, key: str) -> list[str]:
    """Task titles in one section of the board."""
    start = html.index(f'aria-labelledby="section-{key}"')
    end = html.find("<section", start)
    part = html[start : end if end != -1 else len(html)]
    return [unescape(t) for t in re.findall(r'<a href="/tasks/[0-9a-f-]+/">([^<]+)</a>', part)]


def db_state() -> tuple[Any, ...]:
    return (
        TaskEvent.objects.count(),
        Message.objects.count(),
        tuple(Task.objects.order_by("pk").values_list("pk", "status", "assignee_id", "updated_at")),
    )


def test_it_is_for_managers_only(cast: Cast) -> None:
    for manager in (cast.alice, cast.dora, cast.mallory):
        assert cast.login(manager).get(BOARD).status_code == 200
    for other in (cast.bob, cast.eve, cast.carol):
        assert cast.login(other).get(BOARD).status_code == 403


def test_it_shows_unassigned_overdue_and_due_soon_tasks(cast: Cast) -> None:
    now = timezone.now()
    fresh = make_task(cast, title="Fresh request", status="new")
    late = make_task(
        cast,
        title="Late work",
        status="in_progress",
        assignee=cast.bob,
        due_at=now - dt.timedelta(hours=2),
    )
    closed_late = make_task(
        cast, title="Done late", status="done", assignee=cast.bob, due_at=now - dt.timedelta(days=2)
    )
    far = make_task(
        cast,
        title="Far away",
        status="assigned",
        assignee=cast.bob,
        due_at=now + dt.timedelta(days=30),
    )
    html = cast.login(cast.dora).get(BOARD).content.decode()
    assert section(html, "unassigned") == [fresh.title]
    assert section(html, "overdue") == [late.title]
    assert section(html, "soon") == [cast.task.title]
    for absent in (closed_late.title, far.title, cast.task_b.title):
        assert absent not in html


def test_it_shows_another_agency_nothing_of_ours(cast: Cast) -> None:
    make_task(cast, title="Fresh request", status="new")
    html = cast.login(cast.mallory).get(BOARD).content.decode()
    assert "Fresh request" not in html and cast.task.title not in html
    assert cast.task_b.title in html
    assert "Bob Becker" not in html and "Eve Engel" not in html


def test_it_counts_beyond_the_rows_it_shows(cast: Cast) -> None:
    for number in range(25):
        make_task(cast, title=f"New {number}", status="new")
    html = cast.login(cast.dora).get(BOARD).content.decode()
    assert len(section(html, "unassigned")) == 20
    assert '<span class="badge">25</span>' in html
    assert f'href="{reverse("tasks:queue")}?scope=unassigned"' in html


def test_it_shows_team_load_against_capacity_and_absences(cast: Cast) -> None:
    agency_services.update_profile(
        cast.alice, cast.bob, max_open_tasks=2, capacity_hours_per_week=10
    )
    Task.objects.filter(pk=cast.task.pk).update(estimate_minutes=90)
    make_task(cast, title="Second", status="in_progress", assignee=cast.bob, estimate_minutes=30)
    make_task(cast, title="Third", status="waiting_on_client", assignee=cast.bob)
    make_task(cast, title="Closed", status="done", assignee=cast.bob, estimate_minutes=600)
    today = timezone.localdate()
    agency_services.add_absence(
        cast.alice, cast.eve, starts_on=today, ends_on=today, stand_in=cast.bob
    )
    html = cast.login(cast.alice).get(BOARD, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    team = html[html.index('id="team-title"') : html.index("</table>")]
    bob_row = team[team.index("Bob Becker") : team.index("</tr>", team.index("Bob Becker"))]
    assert "3 / 2" in bob_row  # open tasks vs maximum
    assert 'class="load over"' in bob_row
    assert "2.0 / 10" in bob_row  # 120 estimated minutes against 10 h a week
    eve_row = team[team.index("Eve Engel") : team.index("</tr>", team.index("Eve Engel"))]
    assert "Absent" in eve_row and "stand-in: Bob Becker" in eve_row
    assert "Absent" not in bob_row


def test_it_runs_a_fixed_number_of_queries(cast: Cast, django_assert_max_num_queries: Any) -> None:
    for number in range(5):
        member = agency_services.add_member(
            cast.alice, email=f"a{number}@alpha.test", name=f"Assistant {number}", role="assistant"
        )
        for _ in range(3):
            make_task(
                cast,
                status="assigned",
                assignee=member,
                due_at=timezone.now() - dt.timedelta(hours=1),
            )
        make_task(cast, status="new")
    client = cast.login(cast.dora)
    # 18: one of them reads routing's deadline alerts, one the "triage needs a check"
    # section.
    with django_assert_max_num_queries(18):
        assert client.get(BOARD).status_code == 200


# --- quick assign --------------------------------------------------------------------------


def quick(task: Task) -> str:
    return reverse("tasks:quick_assign", args=[task.pk])


def test_it_quick_assigns_from_the_board(cast: Cast) -> None:
    fresh = make_task(cast, title="Fresh request", status="new")
    response = cast.login(cast.dora).post(quick(fresh), {"assignee": str(cast.bob.pk)})
    assert response.status_code == 302 and response["Location"] == BOARD
    fresh.refresh_from_db()
    assert fresh.assignee == cast.bob and fresh.status == Task.Status.ASSIGNED
    assert TaskEvent.objects.filter(task=fresh, kind="assigned").count() == 1


def test_it_answers_htmx_with_the_updated_row(cast: Cast) -> None:
    fresh = make_task(cast, title="Fresh request", status="new")
    response = cast.login(cast.alice).post(
        quick(fresh),
        {"assignee": str(cast.eve.pk)},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith("<tr>") and "<html" not in html
    assert "Assigned to Eve Engel." in html and "badge status-assigned" in html


def test_it_refuses_a_quick_assign_by_an_assistant(cast: Cast) -> None:
    fresh = make_task(cast, title="Fresh request", status="new")
    before = db_state()
    assert (
        cast.login(cast.bob).post(quick(fresh), {"assignee": str(cast.bob.pk)}).status_code == 403
    )
    # eve does not see acme's tasks at all
    assert (
        cast.login(cast.eve).post(quick(fresh), {"assignee": str(cast.eve.pk)}).status_code == 404
    )
    assert db_state() == before


@pytest.mark.parametrize("who", ["mallory", "eve", "bob"])
def test_it_hides_the_task_or_refuses_the_role_and_changes_nothing(cast: Cast, who: str) -> None:
    fresh = make_task(cast, title="Fresh request", status="new")
    member: Member = getattr(cast, who)
    before = db_state()
    for verb in ("get", "post"):
        response = getattr(cast.login(member), verb)(quick(fresh), {"assignee": str(member.pk)})
        assert response.status_code == (403 if who == "bob" else 404)
    assert db_state() == before


@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_REQUEST": "true"}])
def test_it_refuses_a_bad_quick_assign_with_400(cast: Cast, headers: dict[str, Any]) -> None:
    fresh = make_task(cast, title="Fresh request", status="new")
    closed = make_task(cast, title="Closed", status="done")
    before = db_state()
    client = cast.login(cast.dora)
    for task, value in ((fresh, str(cast.mallory.pk)), (fresh, ""), (closed, str(cast.bob.pk))):
        response = client.post(quick(task), {"assignee": value}, **headers)
        assert response.status_code == 400
        assert 'role="alert"' in response.content.decode()
    assert db_state() == before
