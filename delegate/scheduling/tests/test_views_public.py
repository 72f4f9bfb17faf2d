from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse

from delegate.scheduling import services
from delegate.scheduling.models import Booking, Event, EventType
from delegate.testing import Cast, db_state

TOKYO = ZoneInfo("Asia/Tokyo")


def test_the_page_shows_free_times_in_the_visitors_zone_and_language(page: EventType) -> None:
    slot = services.available_slots(page)[0]
    url = reverse("booking:page", args=[page.slug])
    response = HttpClient().get(url, {"tz": "Asia/Tokyo", "lang": "de"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ihre Zeitzone" in body
    assert slot.astimezone(TOKYO).strftime("%H:%M") in body
    assert "Asia/Tokyo" in body
    partial = HttpClient().get(url, {"tz": "Asia/Tokyo"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert "Your time zone" in HttpClient().get(url, {"lang": "en"}).content.decode()


def test_unknown_or_inactive_pages_are_404(page: EventType) -> None:
    assert HttpClient().get(reverse("booking:page", args=["NOPE1234"])).status_code == 404
    page.is_active = False
    page.save()
    assert HttpClient().get(reverse("booking:page", args=[page.slug])).status_code == 404


def test_a_visitor_books_and_gets_the_confirmation(
    page: EventType, django_capture_on_commit_callbacks
) -> None:
    mail.outbox.clear()
    slot = services.available_slots(page)[0]
    url = reverse("booking:form", args=[page.slug])
    start = slot.astimezone(TOKYO).isoformat()
    form = HttpClient().get(url, {"start": start, "tz": "Asia/Tokyo"})
    assert form.status_code == 200 and "What about?" in form.content.decode()
    data = {
        "start": start,
        "tz": "Asia/Tokyo",
        "name": "Vera",
        "email": "vera@example.test",
        "q0": "Offsite",
        "lang": "en",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = HttpClient().post(url, data)
    assert response.status_code == 200
    booking = Booking.objects.get()
    assert booking.starts_at == slot and booking.time_zone == "Asia/Tokyo"
    assert booking.answers == {"What about?": "Offsite"}
    # the reschedule/cancel link carries this booking's signed token (its timestamp is
    # the second it was made, so compare what it unlocks rather than the string)
    prefix = reverse("booking:manage", args=["TOKEN"]).removesuffix("TOKEN/")
    token = response.content.decode().split(prefix, 1)[1].split("/", 1)[0]
    assert services.booking_from_token(token) == booking
    # the same time again: a clear message and fresh times, no second booking
    again = HttpClient().post(url, dict(data, email="late@example.test"))
    assert again.status_code == 409
    body = again.content.decode()
    assert "someone else has just booked this time" in body
    # fresh times are offered, the booked one is not (by its full start: the same time
    # of day on another day is still free)
    offered = body.split('id="slots"')[1].split("<section")[1]
    assert "start=" in offered
    assert f"start={quote(start, safe='')}" not in offered
    assert Booking.objects.count() == 1


def test_invalid_details_change_nothing(page: EventType) -> None:
    slot = services.available_slots(page)[0]
    response = HttpClient().post(
        reverse("booking:form", args=[page.slug]),
        {"start": slot.isoformat(), "name": "", "email": "nope"},
    )
    assert response.status_code == 400
    assert Booking.objects.count() == 0 and Event.objects.count() == 0


def test_the_signed_link_reschedules_and_cancels(page: EventType) -> None:
    slots = services.available_slots(page)
    booking = services.book(
        page, starts_at=slots[0], visitor=services.Visitor("V", "v@example.test", {})
    )
    url = reverse("booking:manage", args=[services.booking_token(booking)])
    http = HttpClient()
    assert http.get(url).status_code == 200
    response = http.post(url, {"start": slots[6].isoformat()})
    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.starts_at == slots[6]
    response = http.post(url, {"action": "cancel"})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    # a forged token is a 404 and changes nothing
    before = db_state(Booking, Event)
    forged = reverse("booking:manage", args=[services.booking_token(booking)[:-2] + "xx"])
    assert http.post(forged, {"action": "cancel"}).status_code == 404
    assert db_state(Booking, Event) == before


def test_the_feed_is_behind_its_secret(page: EventType, cast: Cast) -> None:
    calendar = page.target_calendar
    start = dt.datetime(2030, 3, 4, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    services.save_event(
        cast.bob,
        calendar,
        summary="Board meeting",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        rrule="FREQ=WEEKLY;COUNT=3",
    )
    response = HttpClient().get(reverse("booking:feed", args=[calendar.feed_token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "SUMMARY:Board meeting" in body and "RRULE:FREQ=WEEKLY;COUNT=3" in body
    assert "DTSTART;TZID=Europe/Berlin:20300304T100000" in body
    assert HttpClient().get(reverse("booking:feed", args=["guess"])).status_code == 404


def test_a_malformed_time_is_refused_not_an_error(page: EventType) -> None:
    form = reverse("booking:form", args=[page.slug])
    assert HttpClient().get(form, {"start": "tomorrow-ish"}).status_code == 404
    booking = services.book(
        page,
        starts_at=services.available_slots(page)[0],
        visitor=services.Visitor("V", "v@x.test", {}),
    )
    manage = reverse("booking:manage", args=[services.booking_token(booking)])
    before = db_state(Booking, Event)
    assert HttpClient().post(manage, {"start": "2030-13-45"}).status_code == 409
    assert db_state(Booking, Event) == before


def test_booking_posts_are_rate_limited_per_address_and_per_page(
    page: EventType, settings: Any
) -> None:
    settings.BOOKING_RATE_PER_IP = 3
    settings.BOOKING_RATE_PER_PAGE = 6  # the refused request above counts too
    slot = services.available_slots(page)[0]
    url = reverse("booking:form", args=[page.slug])
    bad = {"start": slot.isoformat(), "name": "", "email": "x", "lang": "de"}
    for _ in range(3):
        assert HttpClient().post(url, bad).status_code == 400
    refused = HttpClient().post(url, bad | {"name": "Vera", "email": "vera@example.test"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Zu viele Buchungsanfragen" in refused.content.decode()
    assert not Booking.objects.exists()
    assert HttpClient().get(reverse("booking:page", args=[page.slug])).status_code == 200
    # other addresses get through until the page's own limit is reached
    other = HttpClient(REMOTE_ADDR="198.51.100.7")
    assert other.post(url, bad | {"lang": "en"}).status_code == 400
    assert other.post(url, bad | {"lang": "en"}).status_code == 400
    third = HttpClient(REMOTE_ADDR="198.51.100.8").post(url, bad | {"lang": "en"})
    assert third.status_code == 429 and "Too many booking requests" in third.content.decode()


def test_behind_a_trusted_proxy_each_visitor_has_their_own_limit(
    page: EventType, settings: Any
) -> None:
    settings.BOOKING_RATE_PER_IP = 2
    slot = services.available_slots(page)[0]
    url = reverse("booking:form", args=[page.slug])
    bad = {"start": slot.isoformat(), "name": "", "email": "x", "lang": "en"}
    # Without TRUSTED_PROXIES the header is the visitor's own claim: ignored, so a new
    # X-Forwarded-For per request does not escape the limit.
    for n in range(2):
        assert HttpClient(HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").post(url, bad).status_code == 400
    assert HttpClient(HTTP_X_FORWARDED_FOR="203.0.113.9").post(url, bad).status_code == 429
    # Behind the proxy 10.0.0.5 every visitor arrives from it, and counts separately.
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]
    for visitor in ("198.51.100.20", "198.51.100.21"):
        http = HttpClient(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=f"1.2.3.4, {visitor}")
        assert [http.post(url, bad).status_code for _ in range(3)] == [400, 400, 429]
