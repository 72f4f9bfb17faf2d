"""The time card in the desk: timer, manual entries, edits; outsiders get 404, a client
contact 403, and refused requests change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from delegate.testing import Cast, db_state
from delegate.timetracking import services
from delegate.timetracking.models import TimeEntry


def _url(name: str, obj_id: object) -> str:
    return reverse(f"timetracking:{name}", args=[obj_id])


def test_it_starts_and_stops_a_timer_with_htmx(cast: Cast) -> None:
    http = cast.login(cast.bob)
    response = http.post(_url("start", cast.task.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Stop timer" in response.text and "<html" not in response.text
    # The card shows the running timer after a reload too.
    assert "Stop timer" in http.get(_url("task_time", cast.task.pk)).text
    response = http.post(_url("stop", cast.task.pk), HTTP_HX_REQUEST="true")
    assert "Start timer" in response.text
    assert TimeEntry.objects.get().ended_at is not None


def test_it_logs_time_by_hand_and_refuses_bad_input(cast: Cast) -> None:
    http = cast.login(cast.bob)
    local = timezone.localtime(timezone.now() - dt.timedelta(hours=2))
    data = {"started_at": local.strftime("%Y-%m-%dT%H:%M"), "minutes": "25", "is_billable": "on"}
    response = http.post(_url("log", cast.task.pk), data)
    assert response.status_code == 302
    assert TimeEntry.objects.get().minutes == 25
    before = db_state(TimeEntry)
    response = http.post(_url("log", cast.task.pk), {**data, "minutes": "0"})
    assert response.status_code == 400
    assert db_state(TimeEntry) == before


def test_it_deletes_an_entry_until_it_is_approved(cast: Cast) -> None:
    entry = services.log_time(
        cast.bob, cast.task, started_at=timezone.now() - dt.timedelta(hours=1), minutes=10
    )
    services.approve_entries(cast.alice, [entry])
    http = cast.login(cast.bob)
    before = db_state(TimeEntry)
    response = http.post(_url("delete_entry", entry.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert db_state(TimeEntry) == before


@pytest.mark.parametrize("who", ["mallory", "eve"])
def test_it_hides_the_task_and_entries_from_outsiders(cast: Cast, who: str) -> None:
    entry = services.log_time(
        cast.bob, cast.task, started_at=timezone.now() - dt.timedelta(hours=1), minutes=10
    )
    http = cast.login(getattr(cast, who))
    before = db_state(TimeEntry)
    for name in ("task_time", "start", "stop", "log"):
        assert http.post(_url(name, cast.task.pk), {"minutes": "5"}).status_code == 404
    for name in ("edit_entry", "delete_entry"):
        assert http.post(_url(name, entry.pk), {"minutes": "5"}).status_code == 404
    assert db_state(TimeEntry) == before


def test_it_refuses_client_contacts_with_403(cast: Cast) -> None:
    http = cast.login(cast.carol)
    before = db_state(TimeEntry)
    assert http.post(_url("start", cast.task.pk)).status_code == 403
    assert db_state(TimeEntry) == before


def test_it_edits_an_entry_in_the_viewers_time_zone(cast: Cast) -> None:
    entry = services.log_time(
        cast.bob, cast.task, started_at=timezone.now() - dt.timedelta(days=1), minutes=10
    )
    http = cast.login(cast.bob)
    data = {"started_at": "2026-03-02T09:15", "minutes": "40", "note": "call"}
    assert http.post(_url("edit_entry", entry.pk), data).status_code == 302
    entry.refresh_from_db()
    assert (entry.minutes, entry.note, entry.is_billable) == (40, "call", False)
    # bob has no profile: the agency's zone (Berlin, UTC+1 in March) reads the input.
    assert entry.started_at == dt.datetime(2026, 3, 2, 8, 15, tzinfo=dt.UTC)


def test_a_manager_approves_ticked_entries_of_the_agency_only(cast: Cast) -> None:
    started = timezone.now() - dt.timedelta(hours=3)
    first = services.log_time(cast.bob, cast.task, started_at=started, minutes=30)
    second = services.log_time(cast.bob, cast.task, started_at=started, minutes=15)
    theirs = services.log_time(cast.mallory, cast.task_b, started_at=started, minutes=20)
    http = cast.login(cast.alice)
    page = http.get(reverse("timetracking:approvals"))
    assert page.status_code == 200
    assert str(first.pk) in page.text and str(theirs.pk) not in page.text
    response = http.post(
        reverse("timetracking:approvals"),
        {"entry": [str(first.pk), str(theirs.pk), "not-an-id"]},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    theirs.refresh_from_db()
    assert first.approved_by_member == cast.alice
    assert second.approved_at is None  # not ticked
    assert theirs.approved_at is None  # another agency's


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_only_managers_reach_the_approvals(cast: Cast, who: str) -> None:
    entry = services.log_time(
        cast.bob, cast.task, started_at=timezone.now() - dt.timedelta(hours=1), minutes=10
    )
    http = cast.login(getattr(cast, who))
    before = db_state(TimeEntry)
    assert http.get(reverse("timetracking:approvals")).status_code == 403
    assert http.post(reverse("timetracking:approvals"), {"entry": [entry.pk]}).status_code == 403
    assert db_state(TimeEntry) == before
