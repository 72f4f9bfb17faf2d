"""The assistant desk in Chromium on a phone: filters, reply and status change through
htmx without reloading the page."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize
from pytest_django.live_server_helper import LiveServer

from delegate.tasks.models import Message, Task
from delegate.testing import PASSWORD, Cast, make_cast

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 375, "height": 740}
SHOTS = os.environ.get("DELEGATE_SCREENSHOTS", "")  # a folder to save screenshots in


@pytest.fixture
def live_cast(chromium: Browser, transactional_db: None) -> Cast:
    return make_cast()


def login(chromium: Browser, live_server: LiveServer, email: str, start: str) -> Page:
    context = chromium.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB", base_url=live_server.url
    )
    page = context.new_page()
    page.goto(f"/accounts/login/?next={start}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"**{start}")
    return page


@pytest.fixture
def bob(chromium: Browser, live_server: LiveServer, live_cast: Cast) -> Iterator[Page]:
    page = login(chromium, live_server, "bob@alpha.test", "/desk/")
    yield page
    page.context.close()


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def assert_fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px screen"


def test_it_works_the_queue_and_a_task_on_a_phone(bob: Page, live_cast: Cast) -> None:
    page = bob
    assert_fits_the_phone(page)
    shot(page, "queue")
    page.evaluate("window.notReloaded = true")

    # Filtering swaps the results in place and keeps the URL shareable.
    page.get_by_label("Status").select_option("done")
    page.wait_for_url("**/desk/?*status=done*")
    assert page.get_by_text("No tasks match these filters.").is_visible()
    page.get_by_label("Status").select_option("open")
    page.get_by_role("link", name=live_cast.task.title).wait_for()
    assert page.evaluate("window.notReloaded === true")

    page.get_by_role("link", name=live_cast.task.title).click()
    page.wait_for_url(f"**/tasks/{live_cast.task.pk}/")
    assert_fits_the_phone(page)
    page.evaluate("window.notReloaded = true")

    # A reply appears in the conversation without a reload.
    page.get_by_label("Message").fill("Booked: HAM 07:10, aisle seat.")
    page.get_by_role("button", name="Send reply").click()
    page.locator(".msg.outbound", has_text="Booked: HAM 07:10").wait_for()
    assert page.evaluate("window.notReloaded === true")
    assert Message.objects.filter(text="Booked: HAM 07:10, aisle seat.").exists()

    # An empty note is refused in place, with the reason.
    page.get_by_role("button", name="Save note").click()
    page.get_by_text("Write a message or attach a file.").wait_for()

    # The status buttons swap the summary.
    page.get_by_role("button", name="Done", exact=True).click()
    page.locator("#task-summary .badge.status-done").wait_for()
    assert page.evaluate("window.notReloaded === true")
    assert Task.objects.get(pk=live_cast.task.pk).status == Task.Status.DONE
    shot(page, "detail")


def test_it_quick_assigns_from_the_board_on_a_phone(
    chromium: Browser, live_server: LiveServer, live_cast: Cast
) -> None:
    fresh = Task.objects.create(
        agency=live_cast.agency_a, client=live_cast.acme, title="Renew the domain",
        channel=Task.Channel.EMAIL,
    )  # fmt: skip
    page = login(chromium, live_server, "dora@alpha.test", "/dispatch/")
    assert_fits_the_phone(page)
    page.evaluate("window.notReloaded = true")
    row = page.locator("tr", has_text="Renew the domain")
    row.get_by_label("Assign “Renew the domain” to").select_option(label="Eve Engel")
    row.get_by_role("button", name="Assign").click()
    page.get_by_text("Assigned to Eve Engel.").wait_for()
    assert page.evaluate("window.notReloaded === true")
    fresh.refresh_from_db()
    assert fresh.assignee == live_cast.eve and fresh.status == Task.Status.ASSIGNED
    shot(page, "dispatch")
    page.context.close()
