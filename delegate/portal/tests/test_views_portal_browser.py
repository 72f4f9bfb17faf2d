"""The portal on a phone-sized screen in Chromium: sending a task with the keyboard and a
file, replying through htmx without leaving the page, and an error shown in place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from delegate.tasks import services
from delegate.tasks.models import Task
from delegate.testing import Cast, assert_fits_the_phone

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(open_page: Callable[..., Page]) -> Page:
    return open_page("carol@acme.test", "/portal/")


def test_it_sends_a_task_from_a_phone(phone: Page, live_cast: Cast, tmp_path: Path) -> None:
    assert_fits_the_phone(phone)
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(b"%PDF-1.4 receipt")
    phone.get_by_label("What can we do for you?").fill("Pay the plumber\nInvoice attached.")
    phone.get_by_label("Attachments").set_input_files([str(receipt)])
    phone.get_by_label("This is urgent").check()
    # The whole form works from the keyboard: tab to the button and press Enter.
    phone.get_by_role("button", name="Send task").focus()
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/portal/tasks/*/")
    assert phone.get_by_role("heading", level=1).inner_text() == "Pay the plumber"
    assert phone.get_by_role("link", name="receipt.pdf").is_visible()
    assert_fits_the_phone(phone)
    task = Task.objects.get(title="Pay the plumber")
    assert task.priority == Task.Priority.URGENT
    assert task.attachments.get().filename == "receipt.pdf"
    box = phone.get_by_role("button", name="Send", exact=True).bounding_box()
    assert box is not None and box["height"] >= 44


def test_it_replies_in_place_with_htmx(phone: Page, live_cast: Cast) -> None:
    task = services.change_status(live_cast.bob, live_cast.task, to=Task.Status.WAITING_ON_CLIENT)
    phone.goto(f"/portal/tasks/{task.pk}/")
    assert_fits_the_phone(phone)
    phone.evaluate("window.stayedOnPage = true")

    # An empty reply: the error appears in place (the 400 answer is swapped in).
    phone.get_by_role("button", name="Send", exact=True).click()
    phone.get_by_text("Write a message or attach a file.").wait_for()

    phone.get_by_label("Your message").fill("Hamburg, please.")
    phone.get_by_role("button", name="Send", exact=True).click()
    phone.locator(".msg.inbound", has_text="Hamburg, please.").wait_for()
    assert phone.evaluate("window.stayedOnPage") is True  # no full page load
    # The facts were swapped out of band: the reply reopened the task.
    phone.locator("#task-facts .status-in_progress").wait_for()
    assert phone.get_by_label("Your message").input_value() == ""
    assert_fits_the_phone(phone)
    task.refresh_from_db()
    assert task.status == Task.Status.IN_PROGRESS
