"""Budget alerts at 80 % and 100 % (each once), the chain-verifying command, and the
admin refusing to change issued invoices."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from delegate.accounts.models import User
from delegate.billing import invoicing, services
from delegate.billing.models import BudgetAlert, Invoice
from delegate.billing.tests.helpers import contract, draft, entry, issuer
from delegate.tasks.models import history_rewrite
from delegate.testing import Cast


def test_it_alerts_at_80_and_100_percent_once_each(cast: Cast) -> None:
    now = timezone.now()
    # Months are the client's (Berlin): stay inside this one even at a month's edge.
    local = timezone.localtime(now, zoneinfo.ZoneInfo(cast.acme.time_zone))
    contract(cast, starts_on=local.date().replace(day=1), package_hours=Decimal("10"))
    cast.acme.email = "boss@acme.test"
    cast.acme.save()
    month_start = local.replace(day=1, hour=12)
    entry(cast, month_start, 7 * 60)
    assert services.check_budget_alerts(cast.acme, now=now) == []
    entry(cast, month_start, 60 + 30)  # 8.5 h
    assert services.check_budget_alerts(cast.acme, now=now) == [80]
    assert services.check_budget_alerts(cast.acme, now=now) == []
    entry(cast, month_start, 2 * 60)  # 10.5 h
    assert services.check_budget_alerts(cast.acme, now=now) == [100]
    assert BudgetAlert.objects.count() == 2
    assert len(mail.outbox) == 2
    assert "boss@acme.test" in mail.outbox[0].to
    assert "alice@alpha.test" in mail.outbox[0].to
    assert services.check_all_budget_alerts() == 0


def test_the_command_verifies_the_chain_and_fails_on_tampering(cast: Cast) -> None:
    the_issuer = issuer(cast)
    invoice = invoicing.issue_invoice(cast.alice, draft(cast, the_issuer))
    out = StringIO()
    call_command("verify_invoices", stdout=out)
    assert "alpha RE-: 1 issued, ok" in out.getvalue()
    from django.db import transaction

    with transaction.atomic(), history_rewrite():
        Invoice.objects.filter(pk=invoice.pk).update(recipient_name="Someone else")
    # The snapshot is what counts: change it too, and the hash no longer matches.
    with transaction.atomic(), history_rewrite():
        Invoice.objects.filter(pk=invoice.pk).update(
            snapshot={**invoice.snapshot, "gross_total": "0.01"}
        )
    with pytest.raises(CommandError):
        call_command("verify_invoices", stdout=StringIO(), stderr=StringIO())


def test_the_admin_keeps_issued_invoices_read_only(cast: Cast) -> None:
    admin_user = User.objects.create_superuser("root@alpha.test", "pw", name="Root")
    invoice = invoicing.issue_invoice(cast.alice, draft(cast, issuer(cast)))
    http = HttpClient()
    http.force_login(admin_user)
    change = reverse("admin:billing_invoice_change", args=[invoice.pk])
    page = http.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.text
    assert http.post(change, {"recipient_name": "X"}).status_code == 403
    delete = reverse("admin:billing_invoice_delete", args=[invoice.pk])
    assert http.post(delete, {"post": "yes"}).status_code == 403
    invoice.refresh_from_db()
    assert invoice.recipient_name == "Acme GmbH"
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_the_scheduler_knows_the_alert_job() -> None:
    from delegate.core import scheduler

    jobs = {job.name: job for job in scheduler.autodiscover()}
    assert jobs["billing.budget_alerts"].every_seconds == 600
    assert jobs["billing.budget_alerts"].task_path == "delegate.billing.jobs.send_budget_alerts"
