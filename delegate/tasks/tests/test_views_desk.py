"""The assistant desk: the queue's filters, sorting, pagination, htmx partial and
visibility, and the manual new-task form."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from delegate.access import clients_visible_to
from delegate.agencies.models import Member
from delegate.clients import services as client_services
from delegate.clients.models import Client
from delegate.tasks.models import Attachment, Task, TaskEvent
from delegate.tasks.queries import PAGE_SIZE
from delegate.testing import Cast

QUEUE = reverse("tasks:queue")
NEW = reverse("tasks:new")


def make_task(cast: Cast, *, client: Client | None = None, **fields: Any) -> Task:
    """A task straight in the table: these tests are about reading, not the services."""
    client = client or cast.acme
    fields.setdefault("title", "Some task")
    fields.setdefault("channel", Task.Channel.DESK)
    return Task.objects.create(agency_id=client.agency_id, client=client, **fields)


def titles(html: str) -> list[str]:
    """Task titles in table order."""
    return [unescape(t) for t in re.findall(r'<a href="/tasks/[0-9a-f-]+/">([^<]+)</a>', html)]


def get(cast: Cast, who: Member, query: str = "", **headers: Any) -> Any:
    return cast.login(who).get(QUEUE + query, **headers)


# --- who sees what -----------------------------------------------------------------------


def test_it_shows_an_assistant_the_tasks_assigned_to_them(cast: Cast) -> None:
    response = get(cast, cast.bob)
    assert response.status_code == 200
    assert titles(response.content.decode()) == [cast.task.title]


def test_it_hides_other_peoples_tasks_by_default_and_shows_them_on_request(cast: Cast) -> None:
    other = make_task(cast, title="Dora's own", assignee=cast.dora, status="assigned")
    unassigned = make_task(cast, title="Nobody's", status="new")
    assert titles(get(cast, cast.alice).content.decode()) == []
    everything = titles(get(cast, cast.alice, "?scope=all").content.decode())
    assert sorted(everything) == sorted([cast.task.title, other.title, unassigned.title])
    assert titles(get(cast, cast.alice, "?scope=unassigned").content.decode()) == [unassigned.title]


def test_it_never_shows_another_agencys_or_an_unassigned_clients_tasks(cast: Cast) -> None:
    # eve is not on acme's team: even "all visible" leaves acme out.
    assert cast.task.title not in get(cast, cast.eve, "?scope=all").content.decode()
    mallory_page = get(cast, cast.mallory, "?scope=all&status=all").content.decode()
    assert cast.task.title not in mallory_page
    assert cast.task_b.title in mallory_page


def test_it_lists_only_visible_clients_in_the_dropdown(cast: Cast) -> None:
    other = client_services.create_client(cast.alice, name="Zeta KG")
    bob_page = get(cast, cast.bob).content.decode()
    assert str(cast.acme.pk) in bob_page
    assert str(other.pk) not in bob_page
    assert str(cast.globex.pk) not in bob_page
    alice_page = get(cast, cast.alice).content.decode()
    assert str(other.pk) in alice_page and str(cast.globex.pk) not in alice_page


def test_it_refuses_a_foreign_client_filter_without_leaking(cast: Cast) -> None:
    response = get(cast, cast.mallory, f"?scope=all&client={cast.acme.pk}")
    assert response.status_code == 400
    assert titles(response.content.decode()) == []
    response = get(cast, cast.bob, f"?client={cast.globex.pk}")
    assert response.status_code == 400
    assert cast.task_b.title not in response.content.decode()


def test_it_sends_anonymous_visitors_to_login_and_refuses_contacts(cast: Cast) -> None:
    from django.test import Client as HttpClient

    response = HttpClient().get(QUEUE)
    assert response.status_code == 302 and "/accounts/" in response["Location"]
    assert cast.login(cast.carol).get(QUEUE).status_code == 403


# --- filters and sorting -----------------------------------------------------------------


def test_it_filters_by_status_client_priority_and_due(cast: Cast) -> None:
    now = timezone.now()
    beta = client_services.create_client(cast.alice, name="Beta OHG", primary_assistant=cast.bob)
    done = make_task(cast, title="Finished", assignee=cast.bob, status="done")
    urgent = make_task(
        cast,
        title="Urgent one",
        assignee=cast.bob,
        status="in_progress",
        priority=Task.Priority.URGENT,
        client=beta,
    )
    late = make_task(
        cast,
        title="Late one",
        assignee=cast.bob,
        status="assigned",
        due_at=now - dt.timedelta(hours=3),
    )
    undated = make_task(cast, title="Whenever", assignee=cast.bob, status="assigned")

    def shown(query: str) -> set[str]:
        response = get(cast, cast.bob, query)
        assert response.status_code == 200
        return set(titles(response.content.decode()))

    open_titles = {cast.task.title, urgent.title, late.title, undated.title}
    assert shown("") == open_titles
    assert shown("?status=done") == {done.title}
    assert shown("?status=all") == open_titles | {done.title}
    assert shown(f"?client={beta.pk}") == {urgent.title}
    assert shown("?priority=4") == {urgent.title}
    assert shown("?due=overdue") == {late.title}
    assert shown("?due=soon") == {cast.task.title}  # due 48 h after the cast was made
    assert shown("?due=none") == {urgent.title, undated.title}


def test_it_sorts_by_due_date_and_priority(cast: Cast) -> None:
    now = timezone.now()
    Task.objects.filter(pk=cast.task.pk).update(due_at=now + dt.timedelta(days=5))
    soon = make_task(
        cast,
        title="Soon",
        assignee=cast.bob,
        status="assigned",
        due_at=now + dt.timedelta(hours=1),
        priority=Task.Priority.LOW,
    )
    later = make_task(
        cast,
        title="Later",
        assignee=cast.bob,
        status="assigned",
        due_at=now + dt.timedelta(days=9),
        priority=Task.Priority.URGENT,
    )
    undated = make_task(
        cast, title="Undated", assignee=cast.bob, status="assigned", priority=Task.Priority.HIGH
    )
    page = lambda query: titles(get(cast, cast.bob, query).content.decode())  # noqa: E731
    assert page("") == [soon.title, cast.task.title, later.title, undated.title]
    # undated tasks count as due last, so "latest first" starts with them
    assert page("?sort=-due") == [undated.title, later.title, cast.task.title, soon.title]
    assert page("?sort=priority") == [later.title, undated.title, cast.task.title, soon.title]
    assert page("?sort=-priority") == [soon.title, cast.task.title, undated.title, later.title]


def test_it_rejects_unknown_filter_values(cast: Cast) -> None:
    for query in ("?status=bogus", "?sort=title", "?priority=9", "?page=0", "?page=x"):
        response = get(cast, cast.bob, query)
        assert response.status_code == 400, query
        assert titles(response.content.decode()) == []


def test_it_highlights_overdue_tasks_and_shows_badges(cast: Cast) -> None:
    make_task(
        cast,
        title="Late one",
        assignee=cast.bob,
        status="in_progress",
        due_at=timezone.now() - dt.timedelta(days=1),
        priority=Task.Priority.URGENT,
    )
    html = get(cast, cast.bob).content.decode()
    assert html.count('class="overdue"') == 1
    assert "badge prio-4" in html and "badge status-in_progress" in html
    assert "badge status-assigned" in html


def test_it_shows_due_dates_in_the_viewers_time_zone(cast: Cast) -> None:
    due = dt.datetime(2031, 3, 4, 12, 0, tzinfo=dt.UTC)
    Task.objects.filter(pk=cast.task.pk).update(due_at=due)
    html = get(cast, cast.bob, "", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "13:00" in html or "1 p.m." in html  # Europe/Berlin, winter time


# --- pagination and the htmx partial -----------------------------------------------------


def test_it_paginates_without_overlap(cast: Cast) -> None:
    start = timezone.now() + dt.timedelta(days=3)
    for number in range(PAGE_SIZE + 5):
        make_task(
            cast,
            title=f"Task {number:02}",
            assignee=cast.bob,
            status="assigned",
            due_at=start + dt.timedelta(hours=number),
        )
    first = get(cast, cast.bob).content.decode()
    second = get(cast, cast.bob, "?page=2").content.decode()
    assert len(titles(first)) == PAGE_SIZE
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert len(titles(second)) == 6
    assert 'rel="next"' not in second and 'rel="prev"' in second
    assert set(titles(first)).isdisjoint(titles(second))
    assert titles(first)[0] == cast.task.title  # due in two days: first
    assert titles(second)[-1] == f"Task {PAGE_SIZE + 4:02}"


def test_it_keeps_the_filters_in_page_and_sort_links(cast: Cast) -> None:
    for number in range(PAGE_SIZE + 1):
        make_task(cast, title=f"Task {number}", assignee=cast.bob, status="assigned")
    html = get(cast, cast.bob, "?status=assigned&sort=priority").content.decode()
    assert "?status=assigned&amp;sort=priority&amp;page=2" in html


def test_it_answers_htmx_with_the_results_partial(cast: Cast) -> None:
    response = get(cast, cast.bob, "?status=open", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="queue-results"')
    assert "<html" not in html and titles(html) == [cast.task.title]
    assert "HX-Request" in response["Vary"]
    # A history restore needs the whole page.
    restore = get(
        cast, cast.bob, "", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in restore.content.decode()


def test_it_runs_a_bounded_number_of_queries(cast: Cast) -> None:
    def page_queries() -> int:
        client = cast.login(cast.dora)
        client.get(QUEUE + "?scope=all")  # warm up the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(QUEUE + "?scope=all")
        assert len(titles(response.content.decode())) == min(PAGE_SIZE, Task.objects.count() - 1)
        return len(queries)

    for number in range(30):
        make_task(cast, title=f"Task {number}", assignee=cast.bob, status="assigned")
    few = page_queries()
    for number in range(60):
        make_task(
            cast,
            title=f"More {number}",
            assignee=cast.bob,
            status="in_progress",
            due_at=timezone.now() + dt.timedelta(hours=number),
        )
    assert page_queries() <= few
    # login, identity, time zone, client list, and at most one query per phase of the page
    assert few <= 14


# --- a new task from the desk ------------------------------------------------------------


def _state() -> tuple[int, int, int]:
    return Task.objects.count(), Attachment.objects.count(), TaskEvent.objects.count()


def test_it_offers_only_visible_clients_and_their_contacts(cast: Cast) -> None:
    other = client_services.create_client(cast.alice, name="Zeta KG")
    html = cast.login(cast.bob).get(NEW).content.decode()
    assert str(cast.acme.pk) in html and str(cast.carol.pk) in html
    assert str(other.pk) not in html and str(cast.globex.pk) not in html
    assert str(cast.gina.pk) not in html
    assert {c.pk for c in clients_visible_to(cast.bob)} == {cast.acme.pk}


def test_it_narrows_the_requesters_to_the_chosen_client_with_htmx(cast: Cast) -> None:
    other = client_services.create_client(cast.alice, name="Zeta KG")
    zed = client_services.create_contact(cast.alice, other, name="Zed Zimmer")
    client = cast.login(cast.alice)
    response = client.get(NEW + f"?client={cast.acme.pk}", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="requester-field"')
    assert str(cast.carol.pk) in html and str(zed.pk) not in html
    assert client.get(NEW + f"?client={cast.globex.pk}").status_code == 404


def test_it_creates_a_desk_task_with_files(cast: Cast) -> None:
    due = "2031-05-06T09:30"
    response = cast.login(cast.bob).post(
        NEW,
        {
            "client": cast.acme.pk,
            "requester": cast.carol.pk,
            "title": "Call the tax advisor",
            "description": "About the Q3 return",
            "priority": "3",
            "due_at": due,
            "files": [SimpleUploadedFile("brief.txt", b"notes")],
        },
    )
    task = Task.objects.get(title="Call the tax advisor")
    assert response.status_code == 302
    assert response["Location"] == reverse("tasks:detail", args=[task.pk])
    assert task.channel == Task.Channel.DESK and task.requester == cast.carol
    assert task.priority == 3 and task.client == cast.acme
    assert timezone.localtime(task.due_at).strftime("%Y-%m-%dT%H:%M") == due  # Berlin
    assert task.attachments.get().filename == "brief.txt"


@pytest.mark.parametrize("case", ["requester_of_other_client", "foreign_client", "no_title"])
def test_it_refuses_a_bad_new_task_and_writes_nothing(cast: Cast, case: str) -> None:
    other = client_services.create_client(cast.alice, name="Zeta KG", primary_assistant=cast.bob)
    zed = client_services.create_contact(cast.alice, other, name="Zed Zimmer")
    data: dict[str, Any] = {"client": cast.acme.pk, "title": "Something", "priority": "2"}
    if case == "requester_of_other_client":
        data["requester"] = zed.pk
    elif case == "foreign_client":
        data["client"] = cast.globex.pk
    else:
        data["title"] = ""
    before = _state()
    response = cast.login(cast.bob).post(NEW, data)
    assert response.status_code == 400
    assert _state() == before


def test_it_refuses_an_oversize_file_on_a_new_task(cast: Cast, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10
    before = _state()
    response = cast.login(cast.bob).post(
        NEW,
        {
            "client": cast.acme.pk,
            "title": "With a big file",
            "priority": "2",
            "files": [SimpleUploadedFile("big.bin", b"x" * 100)],
        },
    )
    assert response.status_code == 400
    assert "big.bin" in response.content.decode()
    assert _state() == before
