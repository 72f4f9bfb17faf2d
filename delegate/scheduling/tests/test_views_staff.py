from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.urls import reverse

from delegate.scheduling import services
from delegate.scheduling.models import Calendar, Event, EventType
from delegate.testing import Cast, db_state

BERLIN = ZoneInfo("Europe/Berlin")


def test_the_assistant_keeps_a_client_calendar(cast: Cast, calendar: Calendar) -> None:
    http = cast.login(cast.bob)
    url = reverse("scheduling:calendar", args=[calendar.pk])
    assert http.get(url).status_code == 200
    response = http.post(
        url,
        {
            "summary": "Team call",
            "starts_at": "2030-01-07T10:00",
            "ends_at": "2030-01-07T11:00",
            "rrule": "FREQ=WEEKLY",
            "is_busy": "on",
        },
    )
    assert response.status_code == 302
    event = Event.objects.get(summary="Team call")
    assert event.rrule == "FREQ=WEEKLY" and event.tzid == "Europe/Berlin"
    assert event.starts_at == dt.datetime(2030, 1, 7, 9, tzinfo=dt.UTC)
    assert event.range_end is None  # endless


def test_calendars_list_only_what_the_member_may_see(cast: Cast, calendar: Calendar) -> None:
    own = services.create_calendar(cast.eve, owner=cast.eve, name="Eve private")
    page = cast.login(cast.eve).get(reverse("scheduling:calendars")).content.decode()
    assert "Eve private" in page and "Acme main" not in page
    page = cast.login(cast.bob).get(reverse("scheduling:calendars")).content.decode()
    assert "Acme main" in page and "Eve private" not in page
    assert own.pk


def test_outsiders_get_404_and_nothing_changes(
    cast: Cast, calendar: Calendar, page: EventType
) -> None:
    before = db_state(Calendar, Event, EventType)
    for who in (cast.mallory, cast.eve):
        http = cast.login(who)
        for url in (
            reverse("scheduling:calendar", args=[calendar.pk]),
            reverse("scheduling:event_type", args=[page.pk]),
            reverse("scheduling:task_appointment", args=[cast.task.pk]),
            reverse("scheduling:event_type_create", args=[cast.acme.pk]),
        ):
            assert http.get(url).status_code == 404
            assert http.post(url, {"summary": "x", "name": "x"}).status_code == 404
    assert db_state(Calendar, Event, EventType) == before


def test_a_client_contact_gets_403(cast: Cast, calendar: Calendar) -> None:
    http = cast.login(cast.carol)
    assert http.get(reverse("scheduling:calendars")).status_code == 403
    before = db_state(Event)
    assert (
        http.post(reverse("scheduling:calendar", args=[calendar.pk]), {"summary": "x"}).status_code
        == 403
    )
    assert db_state(Event) == before


def test_a_personal_calendar_is_read_only_for_a_manager(cast: Cast) -> None:
    own = services.create_calendar(cast.bob, owner=cast.bob, name="Bob private")
    http = cast.login(cast.alice)
    url = reverse("scheduling:calendar", args=[own.pk])
    assert http.get(url).status_code == 200
    before = db_state(Event)
    assert (
        http.post(
            url, {"summary": "x", "starts_at": "2030-01-07T10:00", "ends_at": "2030-01-07T11:00"}
        ).status_code
        == 403
    )
    assert db_state(Event) == before


def test_an_assistant_creates_a_booking_page(cast: Cast, calendar: Calendar) -> None:
    http = cast.login(cast.bob)
    response = http.post(
        reverse("scheduling:event_type_create", args=[cast.acme.pk]),
        {
            "name": "Consultation",
            "duration_minutes": 45,
            "step_minutes": 15,
            "buffer_before_minutes": 10,
            "buffer_after_minutes": 10,
            "min_notice_minutes": 120,
            "horizon_days": 21,
            "reminder_minutes": 60,
            "time_zone": "Europe/Berlin",
            "holiday_region": "DE-BY",
            "target_calendar": calendar.pk,
            "busy_calendars": [calendar.pk],
            "hours": "Mo-Fr 09:00-12:00\nMo-Do 13:00-17:00",
            "question_lines": "Topic?\nPhone?",
        },
    )
    assert response.status_code == 302, response.content.decode()
    page = EventType.objects.get(name="Consultation")
    assert page.working_hours["0"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert page.working_hours["4"] == [["09:00", "12:00"]]
    assert page.questions == ["Topic?", "Phone?"]
    assert list(page.busy_calendars.all()) == [calendar]


def test_a_booking_page_cannot_use_another_clients_calendar(cast: Cast, calendar: Calendar) -> None:
    mallory_calendar = services.create_calendar(cast.mallory, client=cast.globex, name="Globex")
    http = cast.login(cast.bob)
    response = http.post(
        reverse("scheduling:event_type_create", args=[cast.acme.pk]),
        {
            "name": "X",
            "duration_minutes": 30,
            "step_minutes": 15,
            "buffer_before_minutes": 0,
            "buffer_after_minutes": 0,
            "min_notice_minutes": 0,
            "horizon_days": 7,
            "reminder_minutes": 60,
            "time_zone": "Europe/Berlin",
            "target_calendar": mallory_calendar.pk,
            "hours": "Mo-Fr 09:00-17:00",
        },
    )
    assert response.status_code == 400
    assert not EventType.objects.filter(name="X").exists()


def test_an_assistant_books_an_appointment_from_the_task(cast: Cast, calendar: Calendar) -> None:
    http = cast.login(cast.bob)
    url = reverse("scheduling:task_appointment", args=[cast.task.pk])
    response = http.get(url)
    assert response.status_code == 200
    proposals = services.propose_times(cast.bob, cast.task)
    assert proposals[0].astimezone(calendar.zone).isoformat() in response.content.decode()
    response = http.post(
        url,
        {
            "start": proposals[0].isoformat(),
            "calendar": calendar.pk,
            "summary": "Flight planning",
            "attendees": "carol@acme.test",
        },
    )
    assert response.status_code == 302
    event = Event.objects.get(summary="Flight planning")
    assert event.starts_at == proposals[0] and event.attendees[0]["email"] == "carol@acme.test"


def test_an_assistant_offers_free_times_to_the_client(cast: Cast, calendar: Calendar) -> None:
    from delegate.tasks.models import Message

    cast.acme.language = "de"
    cast.acme.save()
    proposals = services.propose_times(cast.bob, cast.task)[:2]
    http = cast.login(cast.bob)
    url = reverse("scheduling:task_appointment", args=[cast.task.pk])
    response = http.post(url, {"action": "propose", "start": [p.isoformat() for p in proposals]})
    assert response.status_code == 302
    message = Message.objects.filter(task=cast.task).latest("created_at")
    assert message.direction == Message.Direction.OUTBOUND and not message.is_internal
    assert "Welche dieser Zeiten" in message.text
    for proposal in proposals:
        assert proposal.astimezone(calendar.zone).strftime("%H:%M") in message.text
    before = db_state(Event)
    assert http.post(url, {"action": "propose"}).status_code == 400  # nothing chosen
    assert db_state(Event) == before


def test_an_assistant_skips_one_occurrence_of_a_repeating_event(
    cast: Cast, calendar: Calendar
) -> None:
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    zone = ZoneInfo("Europe/Berlin")
    start = (timezone.now() + dt.timedelta(days=1)).astimezone(zone)
    start = start.replace(hour=8, minute=0, second=0, microsecond=0)
    event = services.save_event(
        cast.bob,
        calendar,
        summary="Standup",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=15),
        rrule="FREQ=DAILY;COUNT=3",
    )
    http = cast.login(cast.bob)
    page = http.get(reverse("scheduling:calendar", args=[calendar.pk])).content.decode()
    assert page.count("Standup") >= 3 and "skip this one" in page
    second = start + dt.timedelta(days=1)
    skip = reverse("scheduling:occurrence_skip", args=[event.pk])
    before = db_state(Event)
    assert cast.login(cast.eve).post(skip, {"occurrence": second.isoformat()}).status_code == 404
    assert db_state(Event) == before
    assert http.post(skip, {"occurrence": second.isoformat()}).status_code == 302
    event.refresh_from_db()
    assert event.sequence == 1 and len(event.exdates) == 1
    busy = services.busy_intervals(
        [calendar],
        start=int(start.timestamp()),
        end=int((start + dt.timedelta(days=3)).timestamp()),
    )
    assert [dt.datetime.fromtimestamp(a, tz=zone).date() for a, _b in busy] == [
        start.date(),
        (start + dt.timedelta(days=2)).date(),
    ]


def _daily_standup(cast: Cast, calendar: Calendar) -> tuple[Event, dt.datetime]:
    start = dt.datetime(2030, 1, 7, 8, tzinfo=BERLIN)
    event = services.save_event(
        cast.bob,
        calendar,
        summary="Standup",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=15),
        rrule="FREQ=DAILY;COUNT=5",
    )
    return event, start


def _starts(calendar: Calendar, start: dt.datetime) -> list[dt.datetime]:
    from delegate.scheduling.recurrence import occurrences

    zone = calendar.zone
    found = occurrences(
        [e.spec(zone) for e in calendar.events.all()],
        zone=zone,
        start=int(start.timestamp()),
        end=int((start + dt.timedelta(days=7)).timestamp()),
    )
    return [dt.datetime.fromtimestamp(o.start, tz=zone) for o in found]


def test_an_assistant_edits_an_event_and_outsiders_cannot(cast: Cast, calendar: Calendar) -> None:
    event, start = _daily_standup(cast, calendar)
    url = reverse("scheduling:event_edit", args=[event.pk])
    data = {
        "summary": "Daily",
        "starts_at": "2030-01-07T08:30",
        "ends_at": "2030-01-07T08:45",
        "rrule": "FREQ=DAILY;COUNT=3",
        "location": "Raum 2",
        "is_busy": "on",
    }
    before = db_state(Event)
    for outsider in (cast.mallory, cast.eve):
        assert cast.login(outsider).get(url).status_code == 404
        assert cast.login(outsider).post(url, data).status_code == 404
    assert db_state(Event) == before
    http = cast.login(cast.bob)
    assert 'value="Standup"' in http.get(url).content.decode()
    assert http.post(url, data).status_code == 302
    event.refresh_from_db()
    assert (event.summary, event.location, event.sequence) == ("Daily", "Raum 2", 1)
    assert event.starts_at == start + dt.timedelta(minutes=30)  # read in the event's zone
    assert len(_starts(calendar, start)) == 3
    refused = http.post(url, data | {"ends_at": "2030-01-07T08:00"})
    assert refused.status_code == 400
    event.refresh_from_db()
    assert event.sequence == 1


def test_an_assistant_moves_then_cancels_one_occurrence(cast: Cast, calendar: Calendar) -> None:
    event, start = _daily_standup(cast, calendar)
    second = start + dt.timedelta(days=1)
    http = cast.login(cast.bob)
    page = http.get(reverse("scheduling:calendar", args=[calendar.pk]))
    assert page.status_code == 200
    url = reverse("scheduling:occurrence_move", args=[event.pk])
    query = {"occurrence": second.isoformat()}
    assert cast.login(cast.eve).get(url, query).status_code == 404
    assert http.get(url, query).status_code == 200
    assert http.get(url, {"occurrence": "garbage"}).status_code == 404
    moved = {
        "occurrence": second.isoformat(),
        "summary": "Standup (later)",
        "starts_at": "2030-01-08T15:00",
        "ends_at": "2030-01-08T15:15",
    }
    assert http.post(url, moved).status_code == 302
    override = Event.objects.get(uid=event.uid, recurrence_id=second.isoformat())
    assert override.summary == "Standup (later)" and override.sequence == 1
    starts = _starts(calendar, start)
    assert second not in starts and second.replace(hour=15) in starts and len(starts) == 5
    # not an occurrence of the event: refused, nothing made
    wrong = moved | {"occurrence": (second + dt.timedelta(hours=1)).isoformat()}
    assert http.post(url, wrong).status_code == 400
    assert Event.objects.filter(uid=event.uid).count() == 2

    skip = reverse("scheduling:occurrence_skip", args=[event.pk])
    assert http.post(skip, {"occurrence": second.isoformat()}).status_code == 302
    assert not Event.objects.filter(recurrence_id__gt="").exists()  # the override went too
    assert len(_starts(calendar, start)) == 4


def test_an_appointment_from_a_task_is_moved_and_cancelled_with_rising_sequence(
    cast: Cast, calendar: Calendar, django_capture_on_commit_callbacks: Any
) -> None:
    import icalendar
    from django.core import mail

    from delegate.scheduling import mail as scheduling_mail

    start = dt.datetime(2030, 1, 7, 10, tzinfo=BERLIN)
    event = services.book_appointment(
        cast.bob, cast.task, calendar=calendar, starts_at=start,
        ends_at=start + dt.timedelta(hours=1), summary="Kick-off", attendees=["carol@acme.test"],
    )  # fmt: skip
    url = reverse("scheduling:task_appointment", args=[cast.task.pk])
    http = cast.login(cast.bob)
    assert "Kick-off" in http.get(url).content.decode()
    before = db_state(Event)
    for outsider in (cast.mallory, cast.eve):
        response = cast.login(outsider).post(url, {"action": "cancel", "event": event.pk})
        assert response.status_code == 404
    assert db_state(Event) == before
    other = services.save_event(cast.bob, calendar, summary="Other", starts_at=start,
                                ends_at=start + dt.timedelta(hours=1))  # fmt: skip
    assert http.post(url, {"action": "cancel", "event": other.pk}).status_code == 404
    assert Event.objects.get(pk=event.pk).sequence == 0
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False):
        response = http.post(
            url, {"action": "reschedule", "event": event.pk, "start": "2030-01-08T14:00"}
        )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.starts_at == dt.datetime(2030, 1, 8, 13, tzinfo=dt.UTC) and event.sequence == 1
    assert scheduling_mail.send_invitation_once(str(event.pk), "REQUEST", 1)
    assert http.post(url, {"action": "cancel", "event": event.pk}).status_code == 302
    event.refresh_from_db()
    assert event.status == "cancelled" and event.sequence == 2
    assert scheduling_mail.send_invitation_once(str(event.pk), "CANCEL", 2)
    update, cancel = (
        icalendar.Calendar.from_ical(m.attachments[0].content) for m in mail.outbox[-2:]
    )
    assert [str(c["method"]) for c in (update, cancel)] == ["REQUEST", "CANCEL"]
    assert [int(str(c.walk("VEVENT")[0]["sequence"])) for c in (update, cancel)] == [1, 2]
    assert {str(c.walk("VEVENT")[0]["uid"]) for c in (update, cancel)} == {event.uid}
    notes = list(cast.task.messages.filter(is_internal=True).values_list("text", flat=True))
    assert any("moved" in n or "verschoben" in n for n in notes)
    assert any("cancelled" in n or "abgesagt" in n for n in notes)
