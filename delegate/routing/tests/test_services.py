from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from delegate.agencies import services as agency_services
from delegate.clients import services as client_services
from delegate.routing import services
from delegate.routing.jobs import move_absent_work
from delegate.routing.jobs import route_task as route_task_job
from delegate.routing.models import RoutingAlert
from delegate.routing.tests.conftest import NOW, Team, triaged_task
from delegate.tasks import services as task_services
from delegate.tasks.models import Task, TaskEvent
from delegate.tasks.notifications import send_event_notifications
from delegate.tasks.queries import describe_event
from delegate.testing import db_state


def _assigned_events(task: Task) -> list[TaskEvent]:
    return list(TaskEvent.objects.filter(task=task, kind=TaskEvent.Kind.ASSIGNED))


def test_it_gives_the_task_to_the_primary_and_records_why(team: Team) -> None:
    task = triaged_task(team)
    decision = services.route_task(None, task, now=NOW)
    assert decision is not None and decision.step == "primary"
    task.refresh_from_db()
    assert (task.assignee, task.status) == (team.cast.bob, Task.Status.ASSIGNED)
    (event,) = _assigned_events(task)
    assert event.actor_member is None
    assert event.data["routing"]["step"] == "primary"
    line = describe_event(event)
    assert "Delegate assigned the task to Bob Becker." in line
    assert "primary assistant Bob Becker" in line
    assert "bookkeeping (3/5)" in line
    assert "4 h free before the deadline" in line
    with translation.override("de"):
        german = describe_event(event)
    assert "Hauptassistenz Bob Becker" in german
    assert "4 Std. frei bis zur Frist" in german


def test_it_takes_the_stand_in_while_the_primary_is_away(team: Team) -> None:
    cast = team.cast
    agency_services.add_absence(
        cast.alice,
        cast.bob,
        starts_on=dt.date(2026, 11, 30),
        ends_on=dt.date(2026, 12, 2),
        stand_in=cast.eve,
    )
    task = triaged_task(team)
    decision = services.route_task(None, task, now=NOW)
    assert decision is not None and decision.step == "stand_in"
    task.refresh_from_db()
    assert task.assignee == cast.eve
    line = describe_event(_assigned_events(task)[0])
    assert "Primary assistant: Bob Becker is away until 12/02/2026" in line
    assert "stand-in Eve Engel" in line


def test_it_takes_the_backup_when_the_primary_is_away_without_a_stand_in(team: Team) -> None:
    agency_services.add_absence(
        team.cast.alice, team.cast.bob, starts_on=dt.date(2026, 12, 1), ends_on=dt.date(2026, 12, 1)
    )
    task = triaged_task(team)
    assert services.route_task(None, task, now=NOW).step == "backup"  # type: ignore[union-attr]
    task.refresh_from_db()
    assert task.assignee == team.mia


def test_it_never_chooses_an_assistant_of_another_agency(team: Team) -> None:
    # Nobody of agency A has the skill; zed of agency B has it and always works.
    cast = team.cast
    for member in (cast.bob, cast.eve, team.mia):
        agency_services.set_skills(cast.alice, member, levels={}, new_skills={"Travel": 4})
    task = triaged_task(team)
    decision = services.route_task(None, task, now=NOW)
    assert decision is not None and (decision.assignee, decision.step) == (None, "none")
    task.refresh_from_db()
    assert (task.assignee, task.status) == (None, Task.Status.TRIAGED)
    note = TaskEvent.objects.get(task=task, kind=TaskEvent.Kind.NOTE)
    assert "nobody available has the skills" in describe_event(note)
    assert not TaskEvent.objects.filter(
        kind=TaskEvent.Kind.ASSIGNED, data__to=str(team.zed.pk)
    ).exists()


def test_it_does_nothing_for_a_task_already_assigned(team: Team) -> None:
    task = triaged_task(team)
    task_services.assign_task(team.cast.dora, task, assistant=team.cast.eve)
    before = db_state(Task, TaskEvent)
    assert services.route_task(None, task, now=NOW) is None
    assert db_state(Task, TaskEvent) == before


def test_only_managers_route_by_hand(team: Team) -> None:
    task = triaged_task(team)
    before = db_state(Task, TaskEvent)
    with pytest.raises(PermissionDenied):
        services.route_task(team.cast.bob, task, now=NOW)
    with pytest.raises(PermissionDenied):
        services.route_task(team.cast.mallory, task, now=NOW)
    assert db_state(Task, TaskEvent) == before


def test_triage_enqueues_routing_on_commit_and_the_job_assigns(
    team: Team, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    # Round the clock, every day, so the job (which routes at the real "now") finds
    # bob working whenever the test runs.
    agency_services.set_working_hours(
        team.cast.alice,
        team.cast.bob,
        blocks=[(day, dt.time(0), dt.time(23, 59)) for day in range(7)],
    )
    task = task_services.create_task(
        team.cast.dora, client=team.cast.acme, title="Invoices", channel=Task.Channel.EMAIL
    )
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        task_services.change_status(None, task, to=Task.Status.TRIAGED)
    (queued,) = DBTaskResult.objects.all()
    assert queued.task_path == "delegate.routing.jobs.route_task"
    assert queued.args_kwargs["args"] == [str(task.pk)]
    assert route_task_job.call(str(task.pk)) == "primary"
    assert route_task_job.call(str(task.pk)) == "skipped"  # safe to run twice
    task.refresh_from_db()
    assert task.assignee == team.cast.bob
    assert len(_assigned_events(task)) == 1


def test_an_absence_moves_open_tasks_to_the_stand_in_with_a_notification(team: Team) -> None:
    cast = team.cast
    task = triaged_task(team)
    services.route_task(None, task, now=NOW)
    # Entered late: the absence began yesterday.
    agency_services.add_absence(
        cast.alice,
        cast.bob,
        starts_on=dt.date(2026, 11, 30),
        ends_on=dt.date(2026, 12, 4),
        stand_in=cast.eve,
    )
    moved = services.move_tasks_of_absent(now=NOW)
    # The cast's own task (assigned to bob, no skills needed) moves too.
    assert (moved.moved, moved.kept) == (2, 0)
    task.refresh_from_db()
    cast.task.refresh_from_db()
    assert task.assignee == cast.eve and cast.task.assignee == cast.eve
    event = _assigned_events(task)[-1]
    assert event.data["reason"] == "absence"
    assert "Assignee: Bob Becker is away until 12/04/2026" in describe_event(event)
    mail.outbox.clear()
    assert send_event_notifications(event.pk) == 1
    assert mail.outbox[0].to == ["eve@alpha.test"]
    # Running again moves nothing.
    assert services.move_tasks_of_absent(now=NOW) == services.Moved(0, 0)


def test_a_task_nobody_can_take_stays_and_is_noted_once(team: Team) -> None:
    cast = team.cast
    task = triaged_task(team)
    services.route_task(None, task, now=NOW)
    for member in (cast.eve, team.mia):
        agency_services.set_skills(cast.alice, member, levels={}, new_skills={"Travel": 4})
    agency_services.add_absence(
        cast.alice, cast.bob, starts_on=dt.date(2026, 12, 1), ends_on=dt.date(2026, 12, 4)
    )
    assert services.move_tasks_of_absent(now=NOW).kept >= 1
    services.move_tasks_of_absent(now=NOW)
    task.refresh_from_db()
    assert task.assignee == cast.bob
    assert RoutingAlert.objects.filter(task=task, kind="absent_unmoved").count() == 1
    assert TaskEvent.objects.filter(task=task, kind=TaskEvent.Kind.NOTE).count() == 1


def test_deadline_alerts_reach_the_dispatchers_once(team: Team) -> None:
    cast = team.cast
    waiting = triaged_task(team, hours=1.5)
    started_late = triaged_task(team, hours=1)
    task_services.assign_task(cast.dora, started_late, assistant=cast.eve)
    later = triaged_task(team, hours=5)
    mail.outbox.clear()
    assert services.alert_deadlines(now=NOW) == 2
    recipients = sorted(address for email in mail.outbox for address in email.to)
    assert recipients == sorted(["alice@alpha.test", "dora@alpha.test"] * 2)
    subjects = {email.subject for email in mail.outbox}
    # The cast reads German.
    assert (
        f"[{waiting.code}] Noch niemand hat diese Aufgabe: Book the November receipts" in subjects
    )
    assert any(s.startswith(f"[{started_late.code}] Noch nicht begonnen") for s in subjects)
    assert services.alert_deadlines(now=NOW) == 0
    assert len(mail.outbox) == 4
    assert not RoutingAlert.objects.filter(task=later).exists()
    assert [a.task for a in services.open_alerts(cast.dora, now=NOW)] == [started_late, waiting]
    # Once the cause is gone the board stops listing the alert.
    task_services.change_status(cast.eve, started_late, to=Task.Status.IN_PROGRESS)
    task_services.assign_task(cast.dora, waiting, assistant=cast.eve)
    assert services.open_alerts(cast.dora, now=NOW) == []


def test_waiting_tasks_are_routed_again_when_someone_can_take_them(team: Team) -> None:
    cast = team.cast
    client_services.update_client(cast.alice, cast.acme, backup_assistant=None)
    for member in (cast.bob, cast.eve, team.mia):
        agency_services.set_working_hours(cast.alice, member, blocks=[])
    task = triaged_task(team, hours=30)
    assert services.route_task(None, task, now=NOW).step == "none"  # type: ignore[union-attr]
    assert services.route_waiting(now=NOW) == 0
    agency_services.set_working_hours(
        cast.alice, cast.eve, blocks=[(day, dt.time(8), dt.time(18)) for day in range(7)]
    )
    assert services.route_waiting(now=NOW) == 1
    task.refresh_from_db()
    assert task.assignee == cast.eve
    # One note from the first attempt; the retries that found nobody added none.
    assert TaskEvent.objects.filter(task=task, kind=TaskEvent.Kind.NOTE).count() == 1


def test_public_holidays_of_the_assistants_region_count(team: Team) -> None:
    # Epiphany (6 January 2027, a Wednesday) is a holiday in Bavaria, where bob lives.
    agency_services.update_profile(team.cast.alice, team.cast.bob, holiday_region="DE-BY")
    epiphany = dt.datetime(2027, 1, 6, 10, 0, tzinfo=dt.UTC)
    task = triaged_task(team)
    task_services.update_task(team.cast.dora, task, due_at=epiphany + dt.timedelta(hours=4))
    decision = services.route_task(None, task, now=epiphany)
    assert decision is not None and decision.step == "backup"
    assert decision.reasons[0].params["why"] == "no_time"


def test_a_full_primary_passes_the_task_on(team: Team) -> None:
    agency_services.update_profile(team.cast.alice, team.cast.bob, max_open_tasks=1)
    task = triaged_task(team)  # bob already has the cast's task
    decision = services.route_task(None, task, now=NOW)
    assert decision is not None and decision.step == "backup"
    assert decision.reasons[0].params["why"] == "too_many_tasks"


def test_an_absence_starts_on_the_assistants_own_calendar(team: Team) -> None:
    # Bob lives in Manila; his absence starts on 2 December there, which begins at
    # 16:00 UTC on the 1st.
    cast = team.cast
    agency_services.update_profile(cast.alice, cast.bob, time_zone="Asia/Manila")
    agency_services.add_absence(
        cast.alice,
        cast.bob,
        starts_on=dt.date(2026, 12, 2),
        ends_on=dt.date(2026, 12, 4),
        stand_in=cast.eve,
    )
    assert services.move_tasks_of_absent(now=NOW) == services.Moved(0, 0)  # 18:00 there
    later = NOW + dt.timedelta(hours=7)  # 01:00 on the 2nd in Manila
    assert services.move_tasks_of_absent(now=later).moved == 1
    cast.task.refresh_from_db()
    assert cast.task.assignee == cast.eve


def test_muted_imports_and_demo_data_queue_no_routing(
    team: Team, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    task = task_services.create_task(
        team.cast.dora, client=team.cast.acme, title="Imported", channel=Task.Channel.EMAIL
    )
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True), task_services.notifications_muted():
        task_services.change_status(None, task, to=Task.Status.TRIAGED)
    assert not DBTaskResult.objects.exists()


def test_the_periodic_job_is_registered_and_runs(team: Team) -> None:
    from delegate.core.scheduler import autodiscover
    from delegate.routing.jobs import keep_routing_right

    job = next(j for j in autodiscover() if j.name == "routing.keep_right")
    assert job.task_path == "delegate.routing.jobs.keep_routing_right"
    assert job.every_seconds == 600
    result = keep_routing_right.call()
    assert set(result) == {"moved", "kept", "routed", "alerts"}


def test_summed_open_work_gives_the_same_decision_inputs(team: Team) -> None:
    cast = team.cast
    for hours, minutes in ((1, 45), (3, None), (30, 90), (-2, 20)):
        extra = triaged_task(team, hours=hours, minutes=minutes or 0)
        task_services.update_task(cast.dora, extra, estimate_minutes=minutes)
        task_services.assign_task(cast.dora, extra, assistant=cast.bob)
    task = triaged_task(team, hours=5)
    job = services.job_for(task)
    assert task.due_at is not None
    per_task, _ = services.load_roster(cast.agency_a.pk, now=NOW)
    summed, _ = services.load_roster(cast.agency_a.pk, now=NOW, deadline=task.due_at)
    start, stop = per_task.window(job, NOW.timestamp())
    everyone = np.arange(len(per_task))
    assert list(summed.ids) == list(per_task.ids)
    assert list(summed.open_count) == list(per_task.open_count)
    assert list(summed.open_minutes) == list(per_task.open_minutes)
    assert list(summed.slack(everyone, job, start, stop)) == list(
        per_task.slack(everyone, job, start, stop)
    )
    i = per_task.index[str(cast.bob.pk)]
    # Due before this task: 45, 30 (no estimate) and 20 (overdue); not the 90 due later,
    # nor the cast's task (due in two days).
    assert per_task.due_cum[i, stop] == summed.due_cum[i, stop] == 45 + 30 + 20


@pytest.mark.parametrize(
    ("starts", "queued"),
    [(0, True), (-3, True), (2, False)],  # today, entered late, next week's
)
def test_an_absence_covering_today_moves_the_work_at_once(
    team: Team,
    django_capture_on_commit_callbacks: Callable[..., Any],
    starts: int,
    queued: bool,
) -> None:
    cast = team.cast
    today = timezone.now().date()
    # Eve is away too, with a task of her own: a job queued for Bob's absence leaves it.
    hers = task_services.create_task(
        cast.alice, client=cast.acme, title="Eve's", channel=Task.Channel.DESK
    )
    hers = task_services.assign_task(cast.alice, hers, assistant=cast.eve)
    agency_services.add_absence(
        cast.alice, cast.eve, starts_on=today, ends_on=today, stand_in=team.mia
    )
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        agency_services.add_absence(
            cast.alice,
            cast.bob,
            starts_on=today + dt.timedelta(days=starts),
            ends_on=today + dt.timedelta(days=max(starts, 0) + 3),
            stand_in=team.mia,
        )
    jobs = [(r.task_path, r.args_kwargs["args"]) for r in DBTaskResult.objects.all()]
    absence = cast.bob.absences.get()
    expected = [("delegate.routing.jobs.move_absent_work", [str(absence.pk)])]
    assert jobs == (expected if queued else [])
    if queued:
        # The queued job is the real move: bob's open task goes to his stand-in.
        assert move_absent_work.call(str(absence.pk))["moved"] >= 1
        cast.task.refresh_from_db()
        assert cast.task.assignee == team.mia
        hers.refresh_from_db()
        assert hers.assignee == cast.eve


def test_a_batch_reads_the_roster_once_and_counts_its_own_assignments(team: Team) -> None:
    # bob may hold two open tasks and already has the cast's: of three tasks routed
    # together, the first goes to him, the next ones to the backup, as three jobs one
    # after the other would decide. One already assigned is skipped.
    agency_services.update_profile(team.cast.alice, team.cast.bob, max_open_tasks=2)
    tasks = [triaged_task(team, hours=4 + n) for n in range(3)]
    taken = triaged_task(team)
    task_services.assign_task(team.cast.dora, taken, assistant=team.cast.eve)
    decisions = services.route_tasks([t.pk for t in [*tasks, taken]], now=NOW)
    steps = [decisions[str(t.pk)].step for t in tasks]  # type: ignore[union-attr]
    assert steps == ["primary", "backup", "backup"]
    assert decisions[str(taken.pk)] is None
    assignees = [Task.objects.get(pk=t.pk).assignee for t in tasks]
    assert assignees == [team.cast.bob, team.mia, team.mia]


def test_one_task_failing_in_a_batch_leaves_the_others_routed(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = [triaged_task(team, hours=4 + n) for n in range(3)]
    real = services.job_for

    def job_for(task: Task) -> Any:
        if task.pk == tasks[1].pk:
            raise RuntimeError("broken task")
        return real(task)

    monkeypatch.setattr(services, "job_for", job_for)
    with pytest.raises(services.RoutingFailed, match=str(tasks[1].pk)):
        services.route_tasks([t.pk for t in tasks], now=NOW)
    states = [Task.objects.get(pk=t.pk).assignee is not None for t in tasks]
    assert states == [True, False, True]
