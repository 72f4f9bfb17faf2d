"""The butler-app promise end to end in Chromium: a client sends a task from a phone,
the assistant answers from the desk, the client sees the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from delegate.tasks import services
from delegate.tasks.models import Task
from delegate.testing import Cast, assert_fits_the_phone

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_it_carries_a_task_from_the_clients_phone_to_the_desk_and_back(
    open_page: Callable[..., Page], live_cast: Cast
) -> None:
    # The client sends a task from the phone.
    phone = open_page("carol@acme.test", "/portal/")
    phone.locator("form[action='/portal/'] textarea").fill(
        "Please renew the parking permit\nThe old one runs out on Friday."
    )
    phone.get_by_role("button", name="Send task").click()
    phone.wait_for_url("**/portal/tasks/*/")
    task = Task.objects.get(title="Please renew the parking permit")
    assert task.client == live_cast.acme
    assert task.channel == "portal"
    assert task.requester == live_cast.carol

    # Dispatch hands it to bob (routing is its own capability).
    services.assign_task(live_cast.dora, task, assistant=live_cast.bob)

    # The assistant finds it in the queue, reads the request and replies.
    desk = open_page("bob@alpha.test", "/desk/", phone=False)
    desk.get_by_role("link", name="Please renew the parking permit").click()
    desk.wait_for_url(f"**/tasks/{task.pk}/")
    desk.get_by_role("article", name="Request").get_by_text("runs out on Friday").wait_for()
    desk.locator(f"form[action='/tasks/{task.pk}/reply/'] textarea").fill(
        "Renewed until next year; the permit is in your letter box."
    )
    desk.get_by_role("button", name="Send reply").click()
    desk.get_by_text("Renewed until next year").wait_for()
    assert task.messages.filter(direction="outbound", author_member=live_cast.bob).exists()

    # The client sees the answer on the phone.
    phone.reload()
    phone.get_by_text("Renewed until next year; the permit is in your letter box.").wait_for()
    assert_fits_the_phone(phone)
