from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from delegate.core.scheduler import autodiscover
from delegate.scheduling import jobs, services
from delegate.testing import make_cast


def test_reminders_and_calendar_refresh_are_periodic_jobs() -> None:
    registered = {job.name: job for job in autodiscover()}
    assert registered["scheduling.reminders"].task_path == jobs.send_booking_reminders.module_path
    assert registered["scheduling.reminders"].every_seconds == 300
    assert registered["scheduling.refresh"].task_path == jobs.refresh_calendars.module_path
    for job in registered.values():
        job.get_task()  # resolves


@pytest.mark.django_db(transaction=True)
def test_a_booking_is_confirmed_by_the_worker(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from delegate.scheduling.tests.conftest import make_booking_page

    mail.outbox.clear()
    DBTaskResult.objects.all().delete()
    page = make_booking_page(make_cast())
    with django_capture_on_commit_callbacks(execute=True):
        services.book(
            page,
            starts_at=services.available_slots(page)[0],
            visitor=services.Visitor("Vera", "vera@example.test", {}, language="en"),
        )
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    notice = DBTaskResult.objects.get(task_path__endswith="send_booking_notice")
    assert notice.status == "SUCCESSFUL"
    (email,) = [m for m in mail.outbox if m.to == ["vera@example.test"]]
    assert email.subject.startswith("Confirmed")
    assert email.attachments[0].mimetype.startswith("text/calendar")
