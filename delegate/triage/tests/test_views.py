from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from delegate.tasks.models import Category, Task, TaskEvent
from delegate.testing import Cast, db_state
from delegate.triage import services
from delegate.triage.models import TriageCorrection, TriageResult


@pytest.fixture
def triaged(triage_cast: Cast) -> Task:
    from delegate.tasks import services as task_services

    task = task_services.create_task(
        triage_cast.carol,
        client=triage_cast.acme,
        title="Hotel",
        description="Bitte bis Freitag ein Hotel in Hamburg buchen",
        channel=Task.Channel.SMS,
    )
    assert services.triage_task(task.pk) is not None
    return Task.objects.get(pk=task.pk)


def url(task: Task) -> str:
    return reverse("triage:correct", args=[task.pk])


def test_one_click_corrects_the_category_and_keeps_the_guess(
    triage_cast: Cast, triaged: Task
) -> None:
    research = Category.objects.get(agency=triage_cast.agency_a, slug="research")
    response = triage_cast.login(triage_cast.bob).post(url(triaged), {"category": research.pk})
    assert response.status_code == 302
    task = Task.objects.get(pk=triaged.pk)
    assert task.category == research
    # The skills that came with the guessed category follow the correction.
    assert [s.slug for s in task.required_skills.all()] == ["research"]
    correction = TriageCorrection.objects.get(task=task)
    assert (correction.field, correction.guessed, correction.corrected) == (
        "category",
        "travel",
        "research",
    )
    assert correction.member == triage_cast.bob and "Hotel in Hamburg" in correction.text
    event = TaskEvent.objects.filter(task=task, kind="updated").latest("created_at")
    assert event.actor_member == triage_cast.bob and "category" in event.data
    assert TriageResult.objects.get(task=task).checked_by == triage_cast.bob


def test_the_full_form_corrects_deadline_priority_and_skills(
    triage_cast: Cast, triaged: Task
) -> None:
    http = triage_cast.login(triage_cast.dora)
    response = http.post(
        url(triaged),
        {"due_at": "2026-12-24T12:00", "priority": "4", "skills_shown": "True", "skills": []},
    )
    assert response.status_code == 302
    task = Task.objects.get(pk=triaged.pk)
    assert task.priority == Task.Priority.URGENT
    assert task.due_at is not None and task.due_at.date() == dt.date(2026, 12, 24)
    assert list(task.required_skills.all()) == []
    fields = set(TriageCorrection.objects.filter(task=task).values_list("field", flat=True))
    assert fields == {"due_at", "priority", "skills"}


def test_confirming_records_no_correction(triage_cast: Cast, triaged: Task) -> None:
    response = triage_cast.login(triage_cast.bob).post(url(triaged), {"confirm": "1"})
    assert response.status_code == 302
    assert not TriageCorrection.objects.exists()
    assert TriageResult.objects.get(task=triaged).checked_at is not None


def test_the_task_page_shows_the_card_in_both_languages(triage_cast: Cast, triaged: Task) -> None:
    http = triage_cast.login(triage_cast.bob)
    page = http.get(reverse("tasks:detail", args=[triaged.pk])).content.decode()
    assert 'id="triage"' in page and "Looks right" in page
    assert url(triaged) in page
    with translation.override("de"):
        page = http.get(
            reverse("tasks:detail", args=[triaged.pk]), HTTP_ACCEPT_LANGUAGE="de"
        ).content.decode()
    assert "Sieht richtig aus" in page


def _state() -> dict[str, list[dict[str, Any]]]:
    return db_state(Task, TriageCorrection, TriageResult, TaskEvent)


@pytest.mark.parametrize("outsider", ["mallory", "eve"])
def test_outsiders_get_404_and_change_nothing(
    triage_cast: Cast, triaged: Task, outsider: str
) -> None:
    research = Category.objects.get(agency=triage_cast.agency_a, slug="research")
    before = _state()
    http = triage_cast.login(getattr(triage_cast, outsider))
    assert http.post(url(triaged), {"category": research.pk, "priority": "4"}).status_code == 404
    assert _state() == before


@pytest.mark.parametrize("contact", ["carol", "gina"])
def test_client_contacts_get_403_and_change_nothing(
    triage_cast: Cast, triaged: Task, contact: str
) -> None:
    before = _state()
    http = triage_cast.login(getattr(triage_cast, contact))
    assert http.post(url(triaged), {"priority": "4"}).status_code == 403
    assert _state() == before


def test_a_category_of_another_agency_is_refused(triage_cast: Cast, triaged: Task) -> None:
    foreign = Category.objects.get(agency=triage_cast.agency_b, slug="research")
    before = _state()
    response = triage_cast.login(triage_cast.bob).post(url(triaged), {"category": foreign.pk})
    assert response.status_code == 302  # back to the page with the form error
    assert _state() == before


def test_get_is_not_allowed(triage_cast: Cast, triaged: Task) -> None:
    assert triage_cast.login(triage_cast.bob).get(url(triaged)).status_code == 405
