from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from delegate.tasks import services
from delegate.tasks.models import NotificationDelivery, TaskEvent
from delegate.tasks.notifications import send_event_notifications
from delegate.testing import Cast


def _run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


# The worker closes its database connection when it is done, so this test runs outside
# the usual wrapping transaction.
@pytest.mark.django_db(transaction=True)
def test_it_enqueues_on_commit_and_the_worker_sends(
    cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    mail.outbox.clear()
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(cast.carol, cast.task, text="Lieber Hamburg Airport")
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    _run_worker()
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["bob@alpha.test"]
    assert email.extra_headers["Auto-Submitted"] == "auto-generated"
    assert "Lieber Hamburg Airport" in email.body
    assert cast.task.code in email.subject


def test_it_does_not_enqueue_when_the_transaction_rolls_back(
    cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.post_message(cast.carol, cast.task, text="hello")
    assert len(callbacks) == 1  # deferred until commit, not sent inline
    assert DBTaskResult.objects.count() == 0


def test_it_is_idempotent(cast: Cast) -> None:
    mail.outbox.clear()
    message = services.post_message(cast.bob, cast.task, text="Erledigt!")
    event = TaskEvent.objects.get(task=cast.task, data__message=str(message.pk))
    assert send_event_notifications(event.pk) == 1
    assert send_event_notifications(event.pk) == 0
    assert len(mail.outbox) == 1
    assert NotificationDelivery.objects.filter(event=event).count() == 1


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de", "Neue Antwort"), ("en", "New reply")],
)
def test_it_writes_in_the_recipients_language(cast: Cast, language: str, expected: str) -> None:
    cast.carol.language = language
    cast.carol.save()
    mail.outbox.clear()
    message = services.post_message(cast.bob, cast.task, text="Ready")
    event = TaskEvent.objects.get(task=cast.task, data__message=str(message.pk))
    send_event_notifications(event.pk)
    assert mail.outbox[0].to == ["carol@acme.test"]
    assert expected in mail.outbox[0].subject


def test_it_tells_the_assignee_and_the_client_the_right_things(cast: Cast) -> None:
    mail.outbox.clear()
    task = services.assign_task(cast.dora, cast.task, assistant=cast.eve)
    note = services.post_message(cast.eve, task, text="secret", is_internal=True)
    task = services.change_status(cast.eve, task, to="in_progress")
    task = services.change_status(cast.eve, task, to="done")
    for event in TaskEvent.objects.filter(task=task).order_by("id"):
        send_event_notifications(event.pk)
    recipients = [(m.to[0], m.subject) for m in mail.outbox]
    assert any(to == "eve@alpha.test" for to, _ in recipients)  # assigned to you
    assert any(to == "carol@acme.test" for to, _ in recipients)  # done
    assert all("secret" not in m.body for m in mail.outbox)
    assert not NotificationDelivery.objects.filter(event__data__message=str(note.pk)).exists()


def test_it_does_not_mail_the_actor_about_their_own_action(cast: Cast) -> None:
    mail.outbox.clear()
    task = services.assign_task(cast.dora, cast.task, assistant=cast.dora)
    send_event_notifications(task.events.latest("id").pk)
    assert mail.outbox == []
