from __future__ import annotations

import datetime as dt

from django.urls import reverse

from delegate.scheduling import services
from delegate.scheduling.models import Calendar, Event, EventType
from delegate.testing import Cast, db_state


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
