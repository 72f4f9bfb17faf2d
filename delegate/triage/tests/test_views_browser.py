"""The triage card in Chromium on a phone: it fits the screen, and one click corrects."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from delegate.tasks import services as task_services
from delegate.tasks.categories import ensure_default_categories
from delegate.tasks.models import Task
from delegate.testing import Cast, assert_fits_the_phone
from delegate.triage import services
from delegate.triage.models import TriageCorrection

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_an_assistant_corrects_the_priority_with_one_click_on_a_phone(
    open_page: Callable[..., Page], live_cast: Cast
) -> None:
    ensure_default_categories(live_cast.agency_a)
    task = task_services.create_task(
        live_cast.carol,
        client=live_cast.acme,
        title="Hotel Hamburg",
        description="Bitte bis Freitag ein Hotel in Hamburg buchen, max 150 € die Nacht",
        channel=Task.Channel.SMS,
    )
    services.triage_task(task.pk)
    page = open_page("bob@alpha.test", f"/tasks/{task.pk}/")
    card = page.locator("#triage")
    assert card.get_by_text("Travel").first.is_visible()
    assert_fits_the_phone(page)
    card.get_by_role("button", name="Urgent").click()
    page.wait_for_url(f"**/tasks/{task.pk}/")
    page.get_by_text("Correction saved").wait_for()
    assert Task.objects.get(pk=task.pk).priority == Task.Priority.URGENT
    correction = TriageCorrection.objects.get(task=task)
    assert (correction.field, correction.corrected) == ("priority", 4)
    assert_fits_the_phone(page)
