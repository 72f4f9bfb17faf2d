"""The assistant desk in Chromium on a phone: filters, reply and status change through
htmx without reloading the page."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from delegate.tasks.models import Message, Task
from delegate.testing import Cast, assert_fits_the_phone

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("DELEGATE_SCREENSHOTS", "")  # a folder to save screenshots in


@pytest.fixture
def bob(open_page: Callable[..., Page]) -> Page:
    return open_page("bob@alpha.test", "/desk/")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


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
    open_page: Callable[..., Page], live_cast: Cast
) -> None:
    fresh = Task.objects.create(
        agency=live_cast.agency_a, client=live_cast.acme, title="Renew the domain",
        channel=Task.Channel.EMAIL,
    )  # fmt: skip
    page = open_page("dora@alpha.test", "/dispatch/")
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
