"""/calendars, /events, /event-types and /bookings: what the endpoints do, with their
access rules (outsiders in test_isolation)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from delegate.api.tests.conftest import Api
from delegate.scheduling import services
from delegate.scheduling.models import Booking, Calendar, Event, EventType
from delegate.scheduling.tests.conftest import make_booking_page
from delegate.testing import Cast, db_state

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = dt.datetime(2030, 3, 18, 9, tzinfo=BERLIN)  # DST starts on 31 March 2030


def _calendar(api: Api, cast: Cast) -> dict[str, Any]:
    response = api.post("/calendars", {"name": "Acme", "client": str(cast.acme.pk)}, key="c1")
    assert response.status_code == 201, response.content
    return dict(response.json())


def test_a_recurring_event_is_created_expanded_moved_and_skipped(cast: Cast, bob_api: Api) -> None:
    calendar = _calendar(bob_api, cast)
    assert calendar["client"] == str(cast.acme.pk) and calendar["time_zone"] == "Europe/Berlin"
    body = {
        "summary": "Jour fixe",
        "starts_at": MONDAY.isoformat(),
        "ends_at": (MONDAY + dt.timedelta(hours=1)).isoformat(),
        "rrule": "FREQ=WEEKLY;COUNT=4",
    }
    created = bob_api.post(f"/calendars/{calendar['id']}/events", body, key="e1")
    assert created.status_code == 201, created.content
    event = created.json()
    assert event["time_zone"] == "Europe/Berlin" and event["rrule"] == "FREQ=WEEKLY;COUNT=4"
    replay = bob_api.post(f"/calendars/{calendar['id']}/events", body, key="e1")
    assert replay["Idempotent-Replayed"] == "true" and Event.objects.count() == 1

    window = {"start": MONDAY.isoformat(), "end": (MONDAY + dt.timedelta(days=30)).isoformat()}
    items = bob_api.get(f"/calendars/{calendar['id']}/occurrences", window).json()["items"]
    # 09:00 Berlin every week, across the change to summer time
    assert [dt.datetime.fromisoformat(o["starts_at"]).astimezone(BERLIN).hour for o in items] == [
        9, 9, 9, 9,
    ]  # fmt: skip
    second, third = (dt.datetime.fromisoformat(o["starts_at"]) for o in items[1:3])

    moved = bob_api.post(
        f"/events/{event['id']}/move",
        {
            "occurrence": second.isoformat(),
            "starts_at": (second + dt.timedelta(hours=5)).isoformat(),
            "ends_at": (second + dt.timedelta(hours=6)).isoformat(),
        },
    )
    assert moved.status_code == 201, moved.content
    assert moved.json()["recurrence_id"] and moved.json()["uid"] == event["uid"]
    skipped = bob_api.post(f"/events/{event['id']}/skip", {"occurrence": third.isoformat()})
    assert skipped.status_code == 200 and len(skipped.json()["exdates"]) == 1
    assert skipped.json()["sequence"] == 1
    items = bob_api.get(f"/calendars/{calendar['id']}/occurrences", window).json()["items"]
    starts = [dt.datetime.fromisoformat(o["starts_at"]) for o in items]
    assert starts == [MONDAY, second + dt.timedelta(hours=5), starts[2]]
    assert items[1]["event"] == moved.json()["id"]

    # deleting the override cancels that occurrence only
    assert bob_api.delete(f"/events/{moved.json()['id']}").status_code == 204
    items = bob_api.get(f"/calendars/{calendar['id']}/occurrences", window).json()["items"]
    assert len(items) == 2
    listed = bob_api.get(f"/calendars/{calendar['id']}/events", window).json()
    assert [e["id"] for e in listed["items"]] == [event["id"]]


def test_an_event_is_patched_and_an_all_day_event_takes_dates(cast: Cast, bob_api: Api) -> None:
    calendar = _calendar(bob_api, cast)
    all_day = bob_api.post(
        f"/calendars/{calendar['id']}/events",
        {"summary": "Messe", "start_date": "2030-03-20", "end_date": "2030-03-22"},
    ).json()
    assert all_day["is_all_day"] and all_day["time_zone"] == ""
    event = Event.objects.get(pk=all_day["id"])
    assert event.ends_at - event.starts_at == dt.timedelta(days=2)

    patched = bob_api.patch(
        f"/events/{all_day['id']}", {"summary": "Messe Hannover", "location": "Halle 4"}
    )
    assert patched.status_code == 200
    assert (patched.json()["summary"], patched.json()["location"]) == ("Messe Hannover", "Halle 4")
    assert patched.json()["sequence"] == 1 and patched.json()["is_all_day"]
    to_timed = bob_api.patch(
        f"/events/{all_day['id']}",
        {"starts_at": "2030-03-20T14:00:00+01:00", "ends_at": "2030-03-20T15:00:00+01:00"},
    ).json()
    assert not to_timed["is_all_day"] and to_timed["starts_at"].startswith("2030-03-20T13:00")

    before = db_state(Event)
    half = bob_api.patch(f"/events/{all_day['id']}", {"starts_at": "2030-03-20T16:00:00+01:00"})
    assert half.status_code == 422
    naive = bob_api.patch(
        f"/events/{all_day['id']}",
        {"starts_at": "2030-03-20T16:00:00", "ends_at": "2030-03-20T17:00:00"},
    )
    assert naive.status_code == 422 and "starts_at" in naive.json()["errors"]
    backwards = bob_api.patch(
        f"/events/{all_day['id']}",
        {"starts_at": "2030-03-20T16:00:00+01:00", "ends_at": "2030-03-20T15:00:00+01:00"},
    )
    assert backwards.status_code == 422
    assert db_state(Event) == before


def test_a_feed_calendar_is_read_only_and_a_colleagues_own_calendar_too(
    cast: Cast, bob_api: Api, alice_api: Api
) -> None:
    feed = services.create_calendar(
        cast.alice, client=cast.acme, name="Feed", source="ics", source_url="https://x.test/f.ics"
    )
    body = {"summary": "x", "start_date": "2030-03-20", "end_date": "2030-03-21"}
    assert bob_api.post(f"/calendars/{feed.pk}/events", body).status_code == 422
    own = bob_api.post("/calendars", {"name": "Bob privat"}).json()
    assert own["member"] == str(cast.bob.pk) and own["client"] is None
    assert alice_api.get(f"/calendars/{own['id']}").status_code == 200  # a manager sees it
    assert alice_api.post(f"/calendars/{own['id']}/events", body).status_code == 403
    assert not Event.objects.exists()


def test_booking_pages_slots_and_bookings(cast: Cast, bob_api: Api) -> None:
    calendar = _calendar(bob_api, cast)
    created = bob_api.post(
        f"/clients/{cast.acme.pk}/event-types",
        {
            "name": "Erstgespräch",
            "target_calendar": calendar["id"],
            "duration_minutes": 45,
            "min_notice_minutes": 60,
            "working_hours": {str(d): [["08:00", "12:00"]] for d in range(7)},
            "questions": ["Worum geht es?"],
        },
        key="p1",
    )
    assert created.status_code == 201, created.content
    page = created.json()
    assert page["time_zone"] == cast.acme.time_zone and page["page_url"].endswith(
        f"/book/{page['slug']}/"
    )
    slots = bob_api.get(f"/event-types/{page['id']}/slots").json()["slots"]
    assert slots
    first = dt.datetime.fromisoformat(slots[0])
    assert 8 <= first.astimezone(BERLIN).hour < 12

    booked = bob_api.post(
        f"/event-types/{page['id']}/bookings",
        {
            "starts_at": slots[0],
            "name": "Vera",
            "email": "vera@example.test",
            "phone": "0151 23456789",
        },
        key="b1",
    )
    assert booked.status_code == 201, booked.content
    assert booked.json()["phone"] == "+4915123456789"
    again = bob_api.post(
        f"/event-types/{page['id']}/bookings",
        {"starts_at": slots[0], "name": "Otto", "email": "otto@example.test"},
    )
    assert again.status_code == 409 and Booking.objects.count() == 1
    assert slots[0] not in bob_api.get(f"/event-types/{page['id']}/slots").json()["slots"]

    booking_id = booked.json()["id"]
    moved = bob_api.post(f"/bookings/{booking_id}/reschedule", {"starts_at": slots[3]})
    assert moved.status_code == 200 and moved.json()["sequence"] == 1
    cancelled = bob_api.post(f"/bookings/{booking_id}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert (
        bob_api.post(f"/bookings/{booking_id}/reschedule", {"starts_at": slots[4]}).status_code
        == 409
    )
    listed = bob_api.get(f"/event-types/{page['id']}/bookings", {"status": "cancelled"}).json()
    assert [b["id"] for b in listed["items"]] == [booking_id]

    patched = bob_api.patch(
        f"/event-types/{page['id']}", {"duration_minutes": 60, "is_active": False}
    )
    assert patched.status_code == 200 and patched.json()["duration_minutes"] == 60
    assert patched.json()["questions"] == ["Worum geht es?"]  # not sent: kept
    assert not EventType.objects.get(pk=page["id"]).is_active


def test_a_booking_page_takes_only_the_clients_calendars(cast: Cast, bob_api: Api) -> None:
    own = bob_api.post("/calendars", {"name": "Bob privat"}).json()
    before = db_state(EventType)
    response = bob_api.post(
        f"/clients/{cast.acme.pk}/event-types", {"name": "x", "target_calendar": own["id"]}
    )
    assert response.status_code == 422
    bad_hours = bob_api.post(
        f"/clients/{cast.acme.pk}/event-types",
        {"name": "x", "target_calendar": _calendar(bob_api, cast)["id"],
         "working_hours": {"0": [["9", "17"]]}},
    )  # fmt: skip
    assert bad_hours.status_code == 422
    assert db_state(EventType) == before


def test_read_only_keys_and_unassigned_assistants(cast: Cast, alice_ro: Api, eve_api: Api) -> None:
    page = make_booking_page(cast)
    before = db_state(Calendar, EventType)
    assert alice_ro.get(f"/event-types/{page.pk}").status_code == 200
    assert alice_ro.post("/calendars", {"name": "x"}).status_code == 403
    assert alice_ro.patch(f"/event-types/{page.pk}", {"name": "x"}).status_code == 403
    # eve is not on acme's team: its calendars and pages are not in her lists either
    assert eve_api.get("/calendars").json()["count"] == 0
    assert eve_api.get(f"/clients/{cast.acme.pk}/event-types").status_code == 404
    assert eve_api.get(f"/event-types/{page.pk}/slots").status_code == 404
    assert db_state(Calendar, EventType) == before  # the refused writes changed nothing
