"""Management pages on a phone-sized screen in Chromium: the pages fit, htmx adds rows
and absences in place, and a refused absence shows its error without leaving the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from delegate.agencies.models import Absence
from delegate.clients.models import ContactIdentity
from delegate.testing import Cast, assert_fits_the_phone

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


@pytest.fixture
def dora(open_page: Callable[..., Page]) -> Page:
    return open_page("dora@alpha.test", "/team/")


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
