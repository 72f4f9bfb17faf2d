"""Management pages on a phone-sized screen in Chromium: the pages fit, htmx adds rows
and absences in place, and a refused absence shows its error without leaving the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from delegate.agencies.models import Absence
from delegate.clients.models import ContactIdentity
from delegate.testing import PASSWORD, Cast, make_cast

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize
    from pytest_django.live_server_helper import LiveServer

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 375, "height": 740}


@pytest.fixture
def live_cast(chromium: Browser, transactional_db: None) -> Cast:
    return make_cast()


@pytest.fixture
def dora(chromium: Browser, live_server: LiveServer, live_cast: Cast) -> Iterator[Page]:
    context = chromium.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB", base_url=live_server.url
    )
    page = context.new_page()
    page.goto("/accounts/login/?next=/team/")
    page.fill("input[name=username]", "dora@alpha.test")
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/team/")
    yield page
    context.close()


def assert_fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px screen"


def test_it_fits_every_management_page_on_a_phone(dora: Page, live_cast: Cast) -> None:
    for url in [
        reverse("agencies:team"),
        reverse("agencies:member", args=[live_cast.bob.pk]),
        reverse("agencies:member_add"),
        reverse("agencies:my_absences"),
        reverse("clients:list"),
        reverse("clients:detail", args=[live_cast.acme.pk]),
        reverse("clients:edit", args=[live_cast.acme.pk]),
        reverse("clients:contact_edit", args=[live_cast.carol.pk]),
        reverse("clients:address_edit", args=[live_cast.acme.pk, "billing"]),
    ]:
        dora.goto(url)
        assert dora.locator("h1").count() == 1
        assert_fits_the_phone(dora)


def test_it_records_an_absence_in_place(dora: Page, live_cast: Cast) -> None:
    dora.goto(reverse("agencies:member", args=[live_cast.bob.pk]))
    url = dora.url
    section = dora.locator("#absences")
    start = dt.date.today() + dt.timedelta(days=7)
    section.get_by_label("From").fill(start.isoformat())
    section.get_by_label("Until (inclusive)").fill((start - dt.timedelta(days=1)).isoformat())
    section.get_by_role("button", name="Add absence").click()
    section.get_by_role("alert").wait_for()
    assert "first day" in section.inner_text()
    assert not Absence.objects.exists()

    section.get_by_label("Until (inclusive)").fill((start + dt.timedelta(days=2)).isoformat())
    section.get_by_label("Reason").fill("Conference")
    section.get_by_label("Stand-in").select_option(label="Eve Engel")
    section.get_by_role("button", name="Add absence").click()
    dora.locator("#absences td", has_text="Conference").wait_for()
    assert dora.url == url  # no navigation: htmx swapped the section
    absence = Absence.objects.get()
    assert (absence.member, absence.stand_in) == (live_cast.bob, live_cast.eve)

    dora.locator("#absences").get_by_role("button", name="Delete").click()
    dora.locator("#absences", has_text="No absences recorded.").wait_for()
    assert not Absence.objects.exists()


def test_it_adds_an_identity_row_in_place(dora: Page, live_cast: Cast) -> None:
    dora.goto(reverse("clients:contact_edit", args=[live_cast.carol.pk]))
    rows = dora.locator("#rows-emails input")
    assert rows.count() == 2  # the stored address and one spare
    dora.locator("#rows-emails + div").get_by_role("button").click()
    rows.nth(2).wait_for()
    rows.nth(1).fill("carol.private@example.test")
    rows.nth(2).fill("CC@acme.test")
    dora.get_by_role("button", name="Save", exact=True).click()
    dora.wait_for_url(f"**{reverse('clients:detail', args=[live_cast.acme.pk])}")
    emails = ContactIdentity.objects.filter(contact=live_cast.carol, kind="email")
    assert set(emails.values_list("value", flat=True)) == {
        "carol@acme.test",
        "carol.private@example.test",
        "cc@acme.test",
    }
