"""The dispatcher rebalances on a phone: compute, review the moves, apply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone

from delegate.agencies import services as agency_services
from delegate.routing.models import RebalanceProposal
from delegate.routing.tests.conftest import make_team
from delegate.tasks import services as task_services
from delegate.tasks.models import Task
from delegate.testing import Cast, assert_fits_the_phone

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

ALWAYS = [(day, dt.time(0), dt.time(23, 59)) for day in range(7)]


def test_a_dispatcher_rebalances_on_a_phone(
    open_page: Callable[..., Page], live_cast: Cast
) -> None:
    team = make_team(live_cast)
    cast = team.cast
    for member in (cast.bob, cast.eve, team.mia):
        agency_services.set_working_hours(cast.alice, member, blocks=ALWAYS)
    for number in range(4):
        task = task_services.create_task(
            cast.dora,
            client=cast.acme,
            title=f"Receipts {number}",
            channel=Task.Channel.EMAIL,
            due_at=timezone.now() + dt.timedelta(hours=4),
            required_skills=[team.bookkeeping],
            estimate_minutes=90,
        )
        task_services.assign_task(cast.dora, task, assistant=cast.bob)

    page = open_page("dora@alpha.test", "/dispatch/rebalance/")
    assert_fits_the_phone(page)
    page.get_by_role("button", name="Compute a proposal").click()
    page.get_by_role("button", name="Apply the checked moves").wait_for()
    assert_fits_the_phone(page)
    assert page.get_by_role("checkbox").count() == 2
    page.get_by_role("button", name="Apply the checked moves").click()
    page.get_by_text("2 tasks moved, 0 skipped").wait_for()
    assert RebalanceProposal.objects.get().status == RebalanceProposal.Status.APPLIED
    assert Task.objects.filter(title__startswith="Receipts", assignee=cast.bob).count() == 2
