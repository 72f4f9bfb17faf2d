"""The public booking page on a phone in Chromium: the visitor's own time zone is picked
up by the page, times load through htmx, and a booking goes through."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from delegate.scheduling import services
from delegate.scheduling.models import Booking
from delegate.scheduling.tests.conftest import make_booking_page
from delegate.testing import PHONE, Cast, assert_fits_the_phone

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from pytest_django.live_server_helper import LiveServer

pytestmark = pytest.mark.browser


def test_a_visitor_books_from_a_phone_in_their_own_zone(
    chromium: Browser, live_server: LiveServer, live_cast: Cast
) -> None:
    page_type = make_booking_page(live_cast)
    first = services.available_slots(page_type)[0].astimezone(ZoneInfo("Asia/Tokyo"))
    context = chromium.new_context(
        viewport=typing.cast(Any, PHONE),
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id="Asia/Tokyo",
        base_url=live_server.url,
    )
    try:
        page = context.new_page()
        page.goto(f"/book/{page_type.slug}/?lang=en")
        # the page read the browser's zone and reloaded the times for it
        page.locator('.slots[data-tz="Asia/Tokyo"]').wait_for()
        assert page.get_by_label("Your time zone").input_value() == "Asia/Tokyo"
        assert_fits_the_phone(page)
        page.get_by_role("link", name=first.strftime("%H:%M")).first.click()
        page.get_by_label("Your name").fill("Vera Visitor")
        page.get_by_label("Your email").fill("vera@example.test")
        page.get_by_label("What about?").fill("Offsite")
        assert_fits_the_phone(page)
        page.get_by_role("button", name="Book").click()
        page.get_by_role("heading", name="Booked").wait_for()
        assert_fits_the_phone(page)
    finally:
        context.close()
    booking = Booking.objects.get()
    assert booking.starts_at == first and booking.time_zone == "Asia/Tokyo"
