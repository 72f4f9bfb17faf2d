from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail

from delegate.scheduling import mail as scheduling_mail
from delegate.scheduling import services
from delegate.scheduling.models import Booking, BookingNotice, Calendar, Event, EventType
from delegate.testing import Cast

BERLIN = ZoneInfo("Europe/Berlin")
VISITOR = services.Visitor(
    name="Vera Visitor",
    email="vera@example.test",
    answers={"What about?": "Offsite"},
    language="de",
    time_zone="America/New_York",
)


def first_slot(page: EventType) -> dt.datetime:
    return services.available_slots(page)[0]


def ics_of(email: Any) -> icalendar.Calendar:
    (attachment,) = [a for a in email.attachments if a.mimetype.startswith("text/calendar")]
    return icalendar.Calendar.from_ical(attachment.content)


def test_it_books_a_free_slot_into_the_target_calendar_and_confirms_with_an_ics(
    page: EventType, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    mail.outbox.clear()
    slot = first_slot(page)
    with django_capture_on_commit_callbacks(execute=True):
        booking = services.book(page, starts_at=slot, visitor=VISITOR)
    assert scheduling_mail.send_booking_notice(str(booking.pk), "confirmed", 0)
    assert not scheduling_mail.send_booking_notice(str(booking.pk), "confirmed", 0)  # once
    event = Event.objects.get(calendar=page.target_calendar)
    assert (event.starts_at, event.ends_at) == (slot, slot + dt.timedelta(minutes=30))
    assert slot not in services.available_slots(page)
    (email,) = mail.outbox
    assert email.to == ["vera@example.test"]
    assert email.extra_headers["Auto-Submitted"] == "auto-generated"
    assert "Bestätigt" in email.subject  # the visitor's language
    # times in the visitor's zone
    assert slot.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") in email.body
    cal = ics_of(email)
    assert str(cal["method"]) == "REQUEST"
    vevent: Any = cal.walk("VEVENT")[0]
    assert vevent.start == slot
    assert str(vevent["uid"]) == event.uid


def test_the_token_link_cancels_with_a_cancel_message_for_the_same_uid(page: EventType) -> None:
    mail.outbox.clear()
    booking = services.book(page, starts_at=first_slot(page), visitor=VISITOR)
    assert services.booking_from_token(services.booking_token(booking)) == booking
    assert services.booking_from_token(services.booking_token(booking) + "x") is None
    services.cancel_booking(booking)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.sequence == 1
    assert scheduling_mail.send_booking_notice(str(booking.pk), "cancelled", 1)
    cal = ics_of(mail.outbox[-1])
    assert str(cal["method"]) == "CANCEL"
    (vevent,) = cal.walk("VEVENT")
    assert booking.event is not None
    assert str(vevent["uid"]) == booking.event.uid and int(str(vevent["sequence"])) == 1
    assert booking.starts_at in services.available_slots(page)  # free again


def test_rescheduling_moves_the_event_and_refuses_a_taken_time(page: EventType) -> None:
    slots = services.available_slots(page)
    booking = services.book(page, starts_at=slots[0], visitor=VISITOR)
    other = services.book(page, starts_at=slots[4], visitor=VISITOR)
    with pytest.raises(services.SlotUnavailable):
        services.reschedule_booking(booking, starts_at=other.starts_at)
    moved = services.reschedule_booking(booking, starts_at=slots[8])
    assert moved.starts_at == slots[8] and moved.sequence == 1
    assert moved.event_id is not None
    event = Event.objects.get(pk=moved.event_id)
    assert event.starts_at == slots[8] and event.sequence == 1 and event.is_busy
    assert Event.objects.filter(calendar=page.target_calendar).count() == 2
    assert slots[0] in services.available_slots(page)


def test_it_refuses_times_that_are_not_free(page: EventType, cast: Cast) -> None:
    slot = first_slot(page)
    services.save_event(
        cast.bob,
        page.target_calendar,
        summary="Dentist",
        starts_at=slot.astimezone(BERLIN),
        ends_at=(slot + dt.timedelta(hours=1)).astimezone(BERLIN),
    )
    with pytest.raises(services.SlotUnavailable):
        services.book(page, starts_at=slot, visitor=VISITOR)
    with pytest.raises(services.SlotUnavailable):  # not on the step grid
        services.book(page, starts_at=slot + dt.timedelta(hours=2, minutes=7), visitor=VISITOR)
    assert Booking.objects.count() == 0


def test_other_calendars_count_as_busy_only_when_chosen(page: EventType, cast: Cast) -> None:
    private = services.create_calendar(cast.bob, client=cast.acme, name="Private")
    slot = first_slot(page)
    services.save_event(
        cast.bob,
        private,
        summary="Gym",
        starts_at=slot.astimezone(BERLIN),
        ends_at=(slot + dt.timedelta(minutes=30)).astimezone(BERLIN),
    )
    assert slot in services.available_slots(page)
    page.busy_calendars.add(private)
    assert slot not in services.available_slots(page)


def test_the_daily_limit_closes_the_day(page: EventType) -> None:
    page.daily_limit = 1
    page.save()
    slot = first_slot(page)
    services.book(page, starts_at=slot, visitor=VISITOR)
    day = slot.astimezone(BERLIN).date()
    assert all(s.astimezone(BERLIN).date() != day for s in services.available_slots(page))


def test_reminders_go_once_when_due(page: EventType) -> None:
    mail.outbox.clear()
    booking = services.book(page, starts_at=first_slot(page), visitor=VISITOR)
    early = booking.starts_at - dt.timedelta(days=2)
    assert scheduling_mail.send_due_reminders(early) == 0
    due = booking.starts_at - dt.timedelta(hours=2)
    assert scheduling_mail.send_due_reminders(due) == 1
    assert scheduling_mail.send_due_reminders(due) == 0
    assert BookingNotice.objects.filter(kind="reminder").count() == 1
    assert "Erinnerung" in mail.outbox[-1].subject


def test_appointments_from_a_task_send_request_update_and_cancel(
    cast: Cast, calendar: Calendar
) -> None:
    mail.outbox.clear()
    proposals = services.propose_times(cast.bob, cast.task, duration_minutes=60)
    assert proposals
    client_zone = ZoneInfo(cast.acme.time_zone)
    assert all(9 <= p.astimezone(client_zone).hour < 17 for p in proposals)
    start = proposals[0]
    event = services.book_appointment(
        cast.bob,
        cast.task,
        calendar=calendar,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        summary="Kick-off",
        attendees=["carol@acme.test"],
    )
    assert start not in services.propose_times(cast.bob, cast.task, duration_minutes=60)
    assert cast.task.messages.filter(is_internal=True, text__contains="Kick-off").exists()
    assert scheduling_mail.send_invitation_once(str(event.pk), "REQUEST", 0)
    assert not scheduling_mail.send_invitation_once(str(event.pk), "REQUEST", 0)
    moved = services.reschedule_appointment(
        cast.bob,
        event,
        starts_at=start + dt.timedelta(days=1),
        ends_at=start + dt.timedelta(days=1, hours=1),
    )
    assert moved.sequence == 1 and moved.uid == event.uid
    assert scheduling_mail.send_invitation_once(str(event.pk), "REQUEST", 1)
    cancelled = services.cancel_appointment(cast.bob, moved)
    assert scheduling_mail.send_invitation_once(str(event.pk), "CANCEL", 2)
    methods = [
        (str(ics_of(m)["method"]), int(str(ics_of(m).walk("VEVENT")[0]["sequence"])))
        for m in mail.outbox
    ]
    assert methods == [("REQUEST", 0), ("REQUEST", 1), ("CANCEL", 2)]
    uids = {str(ics_of(m).walk("VEVENT")[0]["uid"]) for m in mail.outbox}
    assert uids == {event.uid}
    assert cancelled.status == Event.Status.CANCELLED


def test_a_member_of_another_agency_cannot_book_into_the_calendar(
    cast: Cast, calendar: Calendar
) -> None:
    from django.core.exceptions import PermissionDenied

    start = dt.datetime(2030, 1, 7, 10, tzinfo=BERLIN)
    with pytest.raises(PermissionDenied):
        services.book_appointment(
            cast.mallory,
            cast.task,
            calendar=calendar,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            summary="x",
            attendees=[],
        )
    assert Event.objects.count() == 0
