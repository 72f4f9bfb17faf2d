"""The client's assistant hears of what visitors do on a public booking page (and not
of what staff do through the API or the desk)."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from delegate.scheduling import mail as scheduling_mail
from delegate.scheduling import services
from delegate.scheduling.models import Booking, BookingNotice, EventType
from delegate.testing import Cast


def _staff_jobs() -> list[list[Any]]:
    return [
        list(r.args_kwargs["args"])
        for r in DBTaskResult.objects.filter(task_path__endswith="send_staff_booking_notice")
    ]


def test_the_assistant_hears_of_a_visitors_booking_move_and_cancellation(
    cast: Cast, page: EventType, django_capture_on_commit_callbacks: Any
) -> None:
    DBTaskResult.objects.all().delete()
    slots = services.available_slots(page)
    http = HttpClient()
    data = {"start": slots[0].isoformat(), "tz": "Europe/Berlin", "lang": "en"}
    data |= {"name": "Vera Visitor", "email": "vera@example.test", "q0": "Offsite"}
    with django_capture_on_commit_callbacks(execute=True):
        assert http.post(reverse("booking:form", args=[page.slug]), data).status_code == 200
    booking = Booking.objects.get()
    assert _staff_jobs() == [[str(booking.pk), "confirmed", 0]]

    mail.outbox.clear()
    assert scheduling_mail.send_staff_notice(str(booking.pk), "confirmed", 0)
    assert not scheduling_mail.send_staff_notice(str(booking.pk), "confirmed", 0)  # once
    (email,) = mail.outbox
    assert email.to == [cast.bob.user.email]  # acme's primary assistant
    assert email.subject.startswith("Neue Buchung von Vera Visitor: Acme GmbH")  # bob's language
    assert "vera@example.test" in email.body and "What about?: Offsite" in email.body
    assert reverse("scheduling:event_type", args=[page.pk]) in email.body
    notice = BookingNotice.objects.get(channel="staff")
    assert (notice.kind, notice.recipient) == ("confirmed", cast.bob.user.email)

    manage = reverse("booking:manage", args=[services.booking_token(booking)])
    with django_capture_on_commit_callbacks(execute=True):
        http.post(manage, {"start": slots[4].isoformat(), "tz": "Europe/Berlin"})
    with django_capture_on_commit_callbacks(execute=True):
        http.post(manage, {"action": "cancel"})
    assert _staff_jobs()[1:] == [
        [str(booking.pk), "rescheduled", 1],
        [str(booking.pk), "cancelled", 2],
    ]
    assert not scheduling_mail.send_staff_notice(str(booking.pk), "rescheduled", 1)  # superseded
    assert scheduling_mail.send_staff_notice(str(booking.pk), "cancelled", 2)
    assert mail.outbox[-1].subject.startswith("Abgesagt von Vera Visitor")

    page_html = cast.login(cast.bob).get(reverse("scheduling:event_type", args=[page.pk]))
    assert "Vera Visitor" in page_html.content.decode()  # the booking page's activity


def test_without_an_assistant_the_managers_hear_of_it_and_staff_actions_stay_quiet(
    cast: Cast, page: EventType, django_capture_on_commit_callbacks: Any
) -> None:
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        booking = services.book(
            page,
            starts_at=services.available_slots(page)[0],
            visitor=services.Visitor("Otto", "otto@example.test", {}),
        )
        services.cancel_booking(booking)
    assert _staff_jobs() == []  # booked and cancelled by staff: no notice to themselves

    cast.acme.primary_assistant = None
    cast.acme.save()
    visitor = services.Visitor("Vera", "vera@example.test", {})
    booking = services.book(
        page, starts_at=services.available_slots(page)[0], visitor=visitor, by_visitor=True
    )
    assert {m.pk for m in scheduling_mail.staff_recipients(booking)} == {
        cast.alice.pk, cast.dora.pk,
    }  # fmt: skip
    mail.outbox.clear()
    assert scheduling_mail.send_staff_notice(str(booking.pk), "confirmed", 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [cast.alice.user.email, cast.dora.user.email]
    )
