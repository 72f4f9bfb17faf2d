from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from delegate.clients.addresses import save_address
from delegate.tasks import services as task_services
from delegate.tasks.models import Category, Task, TaskEvent
from delegate.testing import Cast
from delegate.triage import services
from delegate.triage.models import TriageResult

BERLIN = ZoneInfo("Europe/Berlin")
# Tuesday, 1 December 2026, 09:30 in Berlin.
RECEIVED = dt.datetime(2026, 12, 1, 9, 30, tzinfo=BERLIN)


def new_task(cast: Cast, description: str, *, title: str = "Anfrage", **fields: Any) -> Task:
    task = task_services.create_task(
        cast.carol,
        client=cast.acme,
        title=title,
        description=description,
        channel=Task.Channel.SMS,
        **fields,
    )
    # The receipt time decides the deadline; pin it.
    Task.objects.filter(pk=task.pk).update(created_at=RECEIVED)
    return task


def test_it_writes_the_guesses_onto_a_new_task(triage_cast: Cast) -> None:
    cast = triage_cast
    task = new_task(
        cast,
        "Hallo, bitte bis Freitag 10 Uhr ein Hotel in Hamburg buchen, max 150 € die Nacht. "
        "Rückfragen an carol@acme.test",
        title="Hotel Hamburg",
    )
    result = services.triage_task(task.pk)
    assert result is not None
    task.refresh_from_db()
    assert task.status == Task.Status.TRIAGED
    assert task.category is not None and task.category.slug == "travel"
    assert [s.slug for s in task.required_skills.all()] == ["travel"]
    assert task.due_at == dt.datetime(2026, 12, 4, 10, 0, tzinfo=BERLIN)
    assert task.language == "de"
    assert result.category_slug == "travel" and result.due_at == task.due_at
    kinds = {entity["type"] for entity in result.entities}
    assert {"amount", "email", "place", "datetime"} <= kinds
    amount = next(e for e in result.entities if e["type"] == "amount")
    assert amount["value"] == {"amount": "150", "currency": "EUR"}
    assert set(result.confidence) == {"language", "category", "deadline", "priority"}
    events = list(TaskEvent.objects.filter(task=task).order_by("created_at", "id"))
    assert [e.kind for e in events] == ["created", "updated", "status_changed"]
    assert events[-1].actor_member is None and events[-1].data == {"from": "new", "to": "triaged"}
    assert "due_at" in events[1].data and "category" in events[1].data


def test_it_keeps_what_a_person_set_at_creation(triage_cast: Cast) -> None:
    cast = triage_cast
    given_due = dt.datetime(2026, 12, 20, 12, 0, tzinfo=BERLIN)
    research = Category.objects.get(agency=cast.agency_a, slug="research")
    task = new_task(
        cast,
        "Bitte bis Freitag ein Hotel in Hamburg buchen",
        due_at=given_due,
        category=research,
        priority=Task.Priority.LOW,
        language="en",
    )
    result = services.triage_task(task.pk)
    assert result is not None
    task.refresh_from_db()
    assert (task.due_at, task.category, task.priority) == (given_due, research, 1)
    assert task.language == "en" and result.language == "de"
    # The skills come from the category the person chose, not from the guess.
    assert [s.slug for s in task.required_skills.all()] == ["research"]
    assert result.skill_slugs == ["travel"]
    # The guesses are still stored, marked as not applied.
    assert result.due_at == dt.datetime(2026, 12, 4, 17, 0, tzinfo=BERLIN)
    assert result.category_slug == "travel"
    assert not {"due_at", "category", "priority"} & set(result.applied)


def test_the_language_of_the_text_replaces_the_contacts_default(triage_cast: Cast) -> None:
    assert triage_cast.carol.effective_language == "de"
    task = new_task(triage_cast, "Could you please book a table for two at the Italian place?")
    assert Task.objects.get(pk=task.pk).language == "de"
    services.triage_task(task.pk)
    assert Task.objects.get(pk=task.pk).language == "en"


def test_running_it_twice_changes_nothing_the_second_time(triage_cast: Cast) -> None:
    task = new_task(triage_cast, "Please book a flight to Vienna by tomorrow")
    assert services.triage_task(task.pk) is not None
    events = TaskEvent.objects.filter(task=task).count()
    assert services.triage_task(task.pk) is None
    assert TriageResult.objects.filter(task=task).count() == 1
    assert TaskEvent.objects.filter(task=task).count() == events


def test_it_leaves_a_task_that_is_no_longer_new(triage_cast: Cast) -> None:
    cast = triage_cast
    task = new_task(cast, "Bitte Rechnung an Müller schreiben")
    task_services.assign_task(cast.dora, task, assistant=cast.bob)
    assert services.triage_task(task.pk) is None
    assert not TriageResult.objects.filter(task=task).exists()
    assert Task.objects.get(pk=task.pk).status == Task.Status.ASSIGNED
    assert services.triage_task("00000000-0000-0000-0000-000000000000") is None


@pytest.mark.parametrize(
    "description",
    [
        "",
        "🙏🙏🙏🎄🎄",
        "Bitte den Termin am 30. Februar eintragen",
        "Пожалуйста 予約 please bitte مرحبا ✈️",
        "Bitte Rechnung schreiben. " * 40_000,  # about 1 MB
    ],
)
def test_bad_input_gives_a_result_flagged_for_a_check(triage_cast: Cast, description: str) -> None:
    task = new_task(triage_cast, description, title="📎")
    result = services.triage_task(task.pk)
    assert result is not None
    assert result.needs_check
    assert result.reasons
    assert Task.objects.get(pk=task.pk).status == Task.Status.TRIAGED


def test_the_holiday_region_comes_from_the_clients_address(triage_cast: Cast) -> None:
    cast = triage_cast
    assert services.holiday_region(cast.acme) == "DE"
    save_address(cast.alice, cast.acme, kind="office", line1="Marienplatz 1",
                 postal_code="80331", city="München", region="Bayern", country="DE")  # fmt: skip
    assert services.holiday_region(cast.acme) == "DE-BY"
    save_address(cast.alice, cast.acme, kind="office", line1="1 Main St",
                 postal_code="10001", city="New York", region="NY", country="us")  # fmt: skip
    assert services.holiday_region(cast.acme) == "US"


def test_creating_tasks_enqueues_triage_on_commit(
    triage_cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    cast = triage_cast
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        task = new_task(cast, "Bitte Blumen bestellen")
    assert DBTaskResult.objects.count() == 0  # nothing before the commit
    for callback in callbacks:
        callback()
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "delegate.triage.jobs.triage_task"
    assert queued.args_kwargs["args"] == [str(task.pk)]
    DBTaskResult.objects.all().delete()
    specs = [
        task_services.NewTask(client=cast.acme, title=f"Task {i}", channel=Task.Channel.API)
        for i in range(3)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        created = task_services.create_tasks(cast.alice, specs)
    # Several tasks at once: one job triages them together.
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "delegate.triage.jobs.triage_tasks"
    assert sorted(queued.args_kwargs["args"][0]) == sorted(str(t.pk) for t in created)


# The worker closes its database connection when it is done, so this test runs outside
# the usual wrapping transaction.
@pytest.mark.django_db(transaction=True)
def test_the_worker_triages_a_new_task(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from delegate.tasks.categories import ensure_default_categories
    from delegate.testing import make_cast

    cast = make_cast()
    ensure_default_categories(cast.agency_a)
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        task = task_services.create_task(
            cast.carol,
            client=cast.acme,
            title="Social",
            description="Bitte den Post heute noch auf LinkedIn veröffentlichen",
            channel=Task.Channel.PORTAL,
        )
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    # Triage ran, and routing after it (the triaged task queued its own job).
    results = {r.task_path: r.status for r in DBTaskResult.objects.all()}
    assert results == {
        "delegate.triage.jobs.triage_task": "SUCCESSFUL",
        "delegate.routing.jobs.route_task": "SUCCESSFUL",
    }
    task.refresh_from_db()
    moves = list(task.events.filter(kind="status_changed").values_list("data__to", flat=True))
    assert moves == [Task.Status.TRIAGED]
    # Nobody in the cast has the social-media skill triage asked for: routing leaves the
    # task with the dispatchers and says why.
    assert task.status == Task.Status.TRIAGED and task.assignee is None
    note = task.events.get(kind="note").data["routing"]
    assert note["reasons"][0]["why"] == "missing_skill"
    assert note["reasons"][0]["skill"] == "social-media"
    assert task.category is not None and task.category.slug == "social-media"


def test_it_never_chooses_a_deactivated_category(triage_cast: Cast) -> None:
    cast = triage_cast
    Category.objects.filter(agency=cast.agency_a, slug="travel").update(is_active=False)
    task = new_task(cast, "Bitte einen Flug nach Wien und ein Hotel für zwei Nächte buchen")
    result = services.triage_task(task.pk)
    assert result is not None and result.category_slug == "travel"
    task.refresh_from_db()
    assert task.category is not None and task.category.slug != "travel"
    assert task.category.is_active
    assert result.needs_check and "category not in the agency's list" in result.reasons


def test_asap_uses_the_clients_hours_else_the_agencys(triage_cast: Cast) -> None:
    cast = triage_cast
    # The agency works 08:00–12:00 Monday to Friday; received Tuesday 09:30.
    cast.agency_a.work_starts_at, cast.agency_a.work_ends_at = dt.time(8), dt.time(12)
    cast.agency_a.save()
    task = new_task(cast, "Bitte asap die Unterlagen schicken")
    services.triage_task(task.pk)
    task.refresh_from_db()
    assert task.due_at == dt.datetime(2026, 12, 1, 11, 30, tzinfo=BERLIN)
    # The client's own days and hours win: Wednesdays only, 14:00–16:00.
    cast.acme.work_days, cast.acme.work_starts_at = "2", dt.time(14)
    cast.acme.work_ends_at = dt.time(16)
    cast.acme.save()
    other = new_task(cast, "Bitte asap die Unterlagen schicken")
    services.triage_task(other.pk)
    other.refresh_from_db()
    assert other.due_at == dt.datetime(2026, 12, 2, 16, 0, tzinfo=BERLIN)


def test_a_batch_triages_every_task_and_queues_one_routing_job(
    triage_cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    cast = triage_cast
    tasks = [new_task(cast, text) for text in ("Bitte Blumen bestellen", "Book a flight to Rome")]
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        results = services.triage_tasks([t.pk for t in tasks])
    assert all(results[str(t.pk)] is not None for t in tasks)
    statuses = {Task.objects.get(pk=t.pk).status for t in tasks}
    assert statuses == {Task.Status.TRIAGED}
    job = DBTaskResult.objects.get()
    assert job.task_path == "delegate.routing.jobs.route_tasks"
    assert sorted(job.args_kwargs["args"][0]) == sorted(str(t.pk) for t in tasks)
    # Again: nothing left to do, nothing queued.
    with django_capture_on_commit_callbacks(execute=True):
        again = services.triage_tasks([t.pk for t in tasks])
    assert again == {str(t.pk): None for t in tasks}
    assert DBTaskResult.objects.count() == 1


def test_one_task_failing_in_a_batch_leaves_the_others_triaged(
    triage_cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    cast = triage_cast
    tasks = [new_task(cast, f"Bitte Blumen bestellen, Nr. {n}") for n in range(3)]
    real = services._store

    def store(task: Task, *args: Any) -> TriageResult:
        if task.pk == tasks[1].pk:
            raise RuntimeError("broken task")
        return real(task, *args)

    monkeypatch.setattr(services, "_store", store)
    with pytest.raises(services.TriageFailed, match=str(tasks[1].pk)):
        services.triage_tasks([t.pk for t in tasks])
    statuses = [Task.objects.get(pk=t.pk).status for t in tasks]
    assert statuses == [Task.Status.TRIAGED, Task.Status.NEW, Task.Status.TRIAGED]
    assert not TriageResult.objects.filter(task=tasks[1]).exists()
