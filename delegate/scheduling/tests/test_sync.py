from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from caldav.davclient import DAVClient
from caldav.lib.error import ETagMismatchError

from delegate.scheduling import services, sync
from delegate.scheduling.models import Calendar, Event, EventType
from delegate.testing import Cast

BERLIN = ZoneInfo("Europe/Berlin")
pytestmark = pytest.mark.usefixtures("allow_local_sync")

WEEKLY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//phone//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20250101T000000Z
DTSTART;TZID=Europe/Berlin:{start}
DTEND;TZID=Europe/Berlin:{end}
RRULE:FREQ=DAILY;COUNT=5
EXDATE;TZID=Europe/Berlin:{exdate}
SUMMARY:{summary}
END:VEVENT
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20250101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:{moved_from}
DTSTART;TZID=Europe/Berlin:{moved_to}
DTEND;TZID=Europe/Berlin:{moved_to_end}
SUMMARY:{summary} (moved)
END:VEVENT
END:VCALENDAR
"""


def _fmt(value: dt.datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


def daily_series(first: dt.datetime, summary: str = "Standup", uid: str = "series-1") -> str:
    """Five daily 10:00–11:00 events from ``first``: the 2nd left out, the 3rd moved to 15:00."""
    day = dt.timedelta(days=1)
    return WEEKLY.format(
        uid=uid,
        summary=summary,
        start=_fmt(first),
        end=_fmt(first + dt.timedelta(hours=1)),
        exdate=_fmt(first + day),
        moved_from=_fmt(first + 2 * day),
        moved_to=_fmt(first + 2 * day + dt.timedelta(hours=5)),
        moved_to_end=_fmt(first + 2 * day + dt.timedelta(hours=6)),
    ).replace("\n", "\r\n")


def busy_hours(calendar: Calendar, first: dt.datetime) -> list[tuple[int, int]]:
    """(day offset, local hour) of each busy block in the five days from ``first``."""
    start = int(first.timestamp()) - 3600
    busy = services.busy_intervals([calendar], start=start, end=start + 6 * 86400)
    return [
        (
            (dt.datetime.fromtimestamp(a, tz=BERLIN).date() - first.date()).days,
            dt.datetime.fromtimestamp(a, tz=BERLIN).hour,
        )
        for a, _b in busy
    ]


def next_monday_10() -> dt.datetime:
    today = dt.date.today()
    monday = today + dt.timedelta(days=7 - today.weekday())
    return dt.datetime.combine(monday, dt.time(10), tzinfo=BERLIN)


def test_an_ics_subscription_mirrors_the_feed_on_its_interval(
    cast: Cast, feed_server: Callable[[bytes], str]
) -> None:
    first = next_monday_10()
    url = feed_server(daily_series(first).encode())
    calendar = services.create_calendar(
        cast.bob, client=cast.acme, name="Feed", source="ics", source_url=url, refresh_minutes=30
    )
    assert sync.refresh_due_calendars() == 1
    assert busy_hours(calendar, first) == [(0, 10), (2, 15), (3, 10), (4, 10)]
    # changed upstream, but not refreshed before its interval has passed
    feed_server(daily_series(first, summary="Renamed", uid="series-2").encode())
    assert sync.refresh_due_calendars() == 0
    calendar.refresh_from_db()
    assert calendar.last_synced_at is not None
    later = calendar.last_synced_at + dt.timedelta(minutes=31)
    assert sync.refresh_due_calendars(later) == 1
    assert set(Event.objects.filter(calendar=calendar).values_list("uid", flat=True)) == {
        "series-2"
    }
    assert not calendar.is_writable


def test_caldav_sync_is_incremental_and_writes_back(
    cast: Cast, radicale_url: str, calendar: Calendar
) -> None:
    first = next_monday_10()
    user = f"acme-{uuid.uuid4().hex[:8]}"
    with DAVClient(url=radicale_url, username=user, password="x") as client:
        remote = client.principal().make_calendar(name="Acme", cal_id="main")
        remote_url = str(remote.url)
        obj = remote.add_event(daily_series(first))
        remote.add_event(daily_series(first + dt.timedelta(hours=3), summary="Lunch", uid="lunch"))
    mirrored = services.create_calendar(
        cast.bob,
        client=cast.acme,
        name="Phone",
        source="caldav",
        source_url=remote_url,
        username=user,
        password="x",
    )
    result = sync.sync_caldav(mirrored)
    assert (result.created, result.deleted) == (4, 0)  # two masters, two overrides
    assert mirrored.sync_token
    assert busy_hours(mirrored, first) == [
        (0, 10),
        (0, 13),
        (2, 15),
        (2, 18),
        (3, 10),
        (3, 13),
        (4, 10),
        (4, 13),
    ]
    token = mirrored.sync_token

    # the server changes one object and deletes another: only those come back
    with DAVClient(url=radicale_url, username=user, password="x") as client:
        remote = client.calendar(url=remote_url)
        remote.event_by_uid("lunch").delete()
        changed = remote.event_by_uid("series-1")
        changed.data = daily_series(first, summary="Standup (new)")
        changed.save()
    result = sync.sync_caldav(mirrored)
    assert mirrored.sync_token != token
    assert result.deleted == 2 and result.created == 0 and result.updated == 2
    assert set(Event.objects.filter(calendar=mirrored).values_list("summary", flat=True)) == {
        "Standup (new)",
        "Standup (new) (moved)",
    }
    assert sync.sync_caldav(mirrored).updated == 0  # nothing new

    # an appointment booked in Delegate goes to the server, and so do its changes
    start = first + dt.timedelta(days=1, hours=4)
    event = services.book_appointment(
        cast.bob,
        cast.task,
        calendar=mirrored,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        summary="Kick-off",
        attendees=["carol@acme.test"],
    )
    sync.push_event(event)
    event.refresh_from_db()
    assert event.href.startswith(remote_url) and event.etag
    services.reschedule_appointment(
        cast.bob,
        event,
        starts_at=start + dt.timedelta(hours=1),
        ends_at=start + dt.timedelta(hours=2),
    )
    event.refresh_from_db()
    sync.push_event(event)
    with DAVClient(url=radicale_url, username=user, password="x") as client:
        stored = client.calendar(url=remote_url).event_by_uid(event.uid)
        vevent: Any = icalendar.Calendar.from_ical(stored.data).walk("VEVENT")[0]
    assert vevent.start == start + dt.timedelta(hours=1)
    assert int(vevent["sequence"]) == 1
    assert obj is not None

    # someone changes it on the server meanwhile: our next write fails instead of
    # overwriting their change
    with DAVClient(url=radicale_url, username=user, password="x") as client:
        theirs = client.calendar(url=remote_url).event_by_uid(event.uid)
        theirs.data = theirs.data.replace("Kick-off", "Kick-off (their title)")
        theirs.save()
    services.cancel_appointment(cast.bob, event)
    with pytest.raises(ETagMismatchError):
        sync.push_event(event)


def test_booking_page_slots_respect_a_synced_calendar(
    cast: Cast, page: EventType, feed_server: Callable[[bytes], str]
) -> None:
    first = next_monday_10()
    url = feed_server(daily_series(first).encode())
    feed = services.create_calendar(
        cast.bob, client=cast.acme, name="Feed", source="ics", source_url=url
    )
    sync.refresh_calendar(feed)
    page.busy_calendars.add(feed)
    slots = services.available_slots(
        page, start=first - dt.timedelta(hours=1), end=first + dt.timedelta(hours=2)
    )
    local = [s.astimezone(BERLIN).strftime("%H:%M") for s in slots]
    assert "10:00" not in local and "10:30" not in local and "09:00" in local and "11:00" in local


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/feed.ics",
        "webcal://localhost/x.ics",
        "http://10.0.0.5/a.ics",
        "http://[::1]/a.ics",
        "file:///etc/passwd",
        "ftp://example.com/a.ics",
    ],
)
def test_urls_into_the_internal_network_are_refused(url: str, settings: Any) -> None:
    settings.CALENDAR_SYNC_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(ValueError):
        sync.check_public_url(url)
    settings.CALENDAR_SYNC_ALLOW_PRIVATE_HOSTS = True
    if url.startswith(("http", "webcal")):
        assert sync.check_public_url(url).startswith("http")


def test_changes_made_in_delegate_go_to_the_caldav_server(
    cast: Cast, radicale_url: str, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    user = f"acme-{uuid.uuid4().hex[:8]}"
    with DAVClient(url=radicale_url, username=user, password="x") as client:
        remote_url = str(client.principal().make_calendar(name="Acme", cal_id="main").url)
    mirrored = services.create_calendar(
        cast.bob,
        client=cast.acme,
        name="Phone",
        source="caldav",
        source_url=remote_url,
        username=user,
        password="x",
    )
    start = next_monday_10()
    with django_capture_on_commit_callbacks(execute=True):
        event = services.save_event(
            cast.bob,
            mirrored,
            summary="Dentist",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
        )
    pushes = DBTaskResult.objects.filter(task_path__endswith="push_calendar_event")
    assert list(pushes.values_list("args_kwargs", flat=True)) == [
        {"args": [str(event.pk)], "kwargs": {}}
    ]
    assert sync.push_event_by_id(str(event.pk))  # what the worker runs
    event.refresh_from_db()
    with DAVClient(url=radicale_url, username=user, password="x") as client:
        assert client.calendar(url=remote_url).event_by_uid(event.uid) is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_event(cast.bob, event)
    deletes = DBTaskResult.objects.filter(task_path__endswith="delete_remote_object")
    assert deletes.count() == 1
    assert sync.delete_remote_object(str(mirrored.pk), event.href)
    assert sync.sync_caldav(mirrored).created == 0
    assert not Event.objects.filter(calendar=mirrored).exists()


def test_an_unreadable_event_does_not_stop_the_feed(cast: Cast) -> None:
    calendar = services.create_calendar(cast.bob, client=cast.acme, name="Feed", source="ics")
    first = next_monday_10()
    broken = "BEGIN:VEVENT\r\nUID:broken\r\nSUMMARY:no start\r\nEND:VEVENT\r\n"
    data = daily_series(first).replace("END:VCALENDAR", broken + "END:VCALENDAR")
    result = sync.import_feed(calendar, data.encode())
    assert result.created == 2
    assert busy_hours(calendar, first) == [(0, 10), (2, 15), (3, 10), (4, 10)]


def test_a_moved_occurrence_goes_into_its_series_object_on_the_server(
    cast: Cast, radicale_url: str
) -> None:
    user = f"acme-{uuid.uuid4().hex[:8]}"
    with DAVClient(url=radicale_url, username=user, password="x") as client:
        remote_url = str(client.principal().make_calendar(name="Acme", cal_id="main").url)
    mirrored = services.create_calendar(
        cast.bob, client=cast.acme, name="Phone", source="caldav", source_url=remote_url,
        username=user, password="x",
    )  # fmt: skip
    start = next_monday_10()
    series = services.save_event(
        cast.bob, mirrored, summary="Standup", starts_at=start,
        ends_at=start + dt.timedelta(minutes=15), rrule="FREQ=DAILY;COUNT=3",
    )  # fmt: skip
    assert sync.push_event_by_id(str(series.pk))
    second = start + dt.timedelta(days=1)
    moved = services.move_occurrence(
        cast.bob, series, occurrence=second, starts_at=second + dt.timedelta(hours=3),
        ends_at=second + dt.timedelta(hours=3, minutes=15),
    )  # fmt: skip
    assert sync.push_event_by_id(str(moved.pk))
    with DAVClient(url=radicale_url, username=user, password="x") as client:
        objects = client.calendar(url=remote_url).events()
        assert len(objects) == 1  # one object holds the series and its override
        vevents = objects[0].icalendar_instance.walk("VEVENT")
    assert len(vevents) == 2
    (override,) = [v for v in vevents if v.get("recurrence-id")]
    assert override.decoded("recurrence-id") == second
    assert override.decoded("dtstart") == second + dt.timedelta(hours=3)
    # pulling it back changes nothing
    result = sync.sync_caldav(mirrored)
    assert result.created == 0
    assert Event.objects.filter(calendar=mirrored).count() == 2
