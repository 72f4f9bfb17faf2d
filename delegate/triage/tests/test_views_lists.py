""" "Needs a check" in the task lists: a badge on the desk and the dispatcher board, a desk
filter and a board section; checked tasks drop out; other people's tasks never show."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from delegate.tasks import services as task_services
from delegate.tasks.models import Task
from delegate.testing import Cast
from delegate.triage import services
from delegate.triage.models import TriageResult

CHECK = "?scope=all&status=open&check=needed"


def _triaged(cast: Cast, title: str, *, needs_check: bool) -> Task:
    task = task_services.create_task(
        cast.carol, client=cast.acme, title=title, description="Bitte ein Hotel buchen",
        channel=Task.Channel.SMS,
    )  # fmt: skip
    assert services.triage_task(task.pk) is not None
    TriageResult.objects.filter(task=task).update(needs_check=needs_check)
    return task


@pytest.fixture
def flagged(triage_cast: Cast) -> Task:
    _triaged(triage_cast, "Sure thing", needs_check=False)
    return _triaged(triage_cast, "Unsure thing", needs_check=True)


def test_the_desk_marks_and_filters_tasks_that_need_a_check(
    triage_cast: Cast, flagged: Task
) -> None:
    http = triage_cast.login(triage_cast.dora)
    everything = http.get(reverse("tasks:queue") + "?scope=all&status=open").content.decode()
    assert "Sure thing" in everything and "Unsure thing" in everything
    assert everything.count('badge prio-3">Needs a check') == 1
    only = http.get(reverse("tasks:queue") + CHECK).content.decode()
    assert "Unsure thing" in only and "Sure thing" not in only
    TriageResult.objects.filter(task=flagged).update(checked_at=timezone.now())
    after = http.get(reverse("tasks:queue") + CHECK).content.decode()
    assert "Unsure thing" not in after


def test_the_board_has_a_section_for_them(triage_cast: Cast, flagged: Task) -> None:
    page = triage_cast.login(triage_cast.dora).get(reverse("tasks:dispatch")).content.decode()
    section = page.split('id="section-needs_check"')[1].split("</section>")[0]
    assert "Unsure thing" in section and "Sure thing" not in section


def test_outsiders_do_not_see_them(triage_cast: Cast, flagged: Task) -> None:
    for outsider in (triage_cast.mallory, triage_cast.eve):
        http = triage_cast.login(outsider)
        assert "Unsure thing" not in http.get(reverse("tasks:queue") + CHECK).content.decode()
        assert "Unsure thing" not in http.get(reverse("tasks:dispatch")).content.decode()
