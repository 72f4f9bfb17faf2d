"""The butler-app promise end to end in Chromium: a client sends a task from a phone,
the assistant answers from the desk, the client sees the answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from delegate.tasks import services
from delegate.tasks.models import Task
from delegate.testing import PASSWORD, Cast, make_cast

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = pytest.mark.browser


def _login(page: Page, email: str, then: str) -> None:
    page.goto(f"/accounts/login/?next={then}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{then}")


@pytest.fixture
def live_cast(chromium: Browser, transactional_db: None) -> Cast:
    return make_cast()


def test_it_carries_a_task_from_the_clients_phone_to_the_desk_and_back(
    chromium: Browser, live_server: LiveServer, live_cast: Cast
) -> None:
    phone_context = chromium.new_context(
        viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
        locale="en-GB", base_url=live_server.url,
    )  # fmt: skip
    desk_context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", base_url=live_server.url
    )
    phone, desk = phone_context.new_page(), desk_context.new_page()
    try:
        # The client sends a task from the phone.
        _login(phone, "carol@acme.test", "/portal/")
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

        # The assistant finds it in the queue and replies.
        _login(desk, "bob@alpha.test", "/desk/")
        desk.get_by_role("link", name="Please renew the parking permit").click()
        desk.wait_for_url(f"**/tasks/{task.pk}/")
        desk.locator(f"form[action='/tasks/{task.pk}/reply/'] textarea").fill(
            "Renewed until next year; the permit is in your letter box."
        )
        desk.get_by_role("button", name="Send reply").click()
        desk.get_by_text("Renewed until next year").wait_for()
        assert task.messages.filter(direction="outbound", author_member=live_cast.bob).exists()

        # The client sees the answer on the phone.
        phone.reload()
        phone.get_by_text("Renewed until next year; the permit is in your letter box.").wait_for()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
    finally:
        phone_context.close()
        desk_context.close()
