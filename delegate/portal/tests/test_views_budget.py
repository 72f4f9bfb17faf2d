"""Hours and invoices in the portal: the budget, approving hours and overage, invoice
downloads; another client's contact gets 404, staff 403, refusals change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from delegate.billing import invoicing
from delegate.billing.models import OverageApproval
from delegate.billing.tests.helpers import contract, draft, entry, issuer
from delegate.testing import Cast, db_state
from delegate.timetracking.models import TimeEntry


def _package(cast: Cast) -> None:
    today = timezone.localdate()
    contract(
        cast, starts_on=today.replace(day=1), package_hours=Decimal("1"),
        needs_time_approval=True, overage_needs_approval=True,
    )  # fmt: skip


def _this_month() -> dt.datetime:
    """A start in the current month of the client (Berlin), even on the 1st at 00:30."""
    now = timezone.localtime(timezone.now())
    return max(now - dt.timedelta(hours=2), now.replace(day=1, hour=0, minute=0, second=0))


def test_the_client_sees_the_budget_and_approves_hours(cast: Cast) -> None:
    _package(cast)
    worked = entry(cast, _this_month(), 75)
    http = cast.login(cast.carol)
    page = http.get(reverse("portal:budget")).text
    assert "1.25 h of 1.00 h used" in page
    assert "Hours to approve" in page
    response = http.post(reverse("portal:approve_time"), {"entry": [worked.pk]})
    assert response.status_code == 302
    worked.refresh_from_db()
    assert worked.approved_by_contact == cast.carol
    http.post(reverse("portal:approve_overage"))
    assert OverageApproval.objects.filter(client=cast.acme).count() == 1


def test_another_clients_contact_cannot_approve_or_download(cast: Cast) -> None:
    _package(cast)
    worked = entry(cast, _this_month(), 30)
    invoice = invoicing.issue_invoice(cast.alice, draft(cast, issuer(cast)))
    http = cast.login(cast.gina)
    before = db_state(TimeEntry, OverageApproval)
    assert http.post(reverse("portal:approve_time"), {"entry": [worked.pk]}).status_code == 404
    assert http.get(reverse("portal:invoice", args=[invoice.pk])).status_code == 404
    assert db_state(TimeEntry, OverageApproval) == before


def test_the_client_downloads_issued_invoices_only(cast: Cast) -> None:
    the_issuer = issuer(cast)
    invoice = invoicing.issue_invoice(cast.alice, draft(cast, the_issuer))
    pending = draft(cast, the_issuer)
    http = cast.login(cast.carol)
    assert http.get(reverse("portal:invoice", args=[invoice.pk])).content.startswith(b"%PDF")
    assert http.get(reverse("portal:invoice", args=[pending.pk])).status_code == 404
    assert invoice.number in http.get(reverse("portal:budget")).text


def test_staff_get_403_in_the_portal(cast: Cast) -> None:
    http = cast.login(cast.alice)
    assert http.get(reverse("portal:budget")).status_code == 403
    assert http.post(reverse("portal:approve_overage")).status_code == 403
