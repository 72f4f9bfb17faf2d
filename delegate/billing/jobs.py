"""Background jobs for billing. Thin: they call services."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from delegate.billing import services
from delegate.core.scheduler import register


@task()
def send_budget_alerts() -> int:
    """The 80 % / 100 % alerts of prepaid packages; each is sent once."""
    return services.check_all_budget_alerts()


register("billing.budget_alerts", every=timedelta(minutes=10), task=send_budget_alerts)


@task()
def deliver_invoice(invoice_id: str) -> bool:
    """Email an issued invoice with its PDF and XML; sends once however often it runs."""
    from delegate.billing.invoicing import deliver

    return deliver(invoice_id)
