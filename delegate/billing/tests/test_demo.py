"""The demo agency's billing: an invoice run works straight after the demo is seeded."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from delegate.agencies.models import Member
from delegate.billing import invoicing, ledger
from delegate.billing.models import Contract, Issuer
from delegate.billing.pdf import invoice_documents
from delegate.clients.models import Client
from delegate.tasks import demo


def test_the_demo_can_run_issue_and_render_invoices(db: None) -> None:
    agency = demo.create_demo(tasks=40)
    out = StringIO()
    call_command("seed_billing_demo", stdout=out)
    assert "Added" in out.getvalue()
    issuer = Issuer.objects.get(agency=agency)
    assert Contract.objects.filter(agency=agency).count() == 3
    kanzlei = Client.objects.get(agency=agency, name__startswith="Kanzlei")
    months = ledger.client_ledger(kanzlei, until=timezone.localdate())
    assert len(months) == 3 and months[0].used > 0
    owner = Member.objects.get(agency=agency, role="owner")
    last_month = ledger.add_months(ledger.month_start(timezone.localdate()), -1)
    drafts = invoicing.run_invoices(owner, issuer=issuer, month=last_month)
    assert len(drafts) == 3
    assert all(draft.gross_total > 0 for draft in drafts)
    issued = invoicing.issue_invoice(owner, drafts[0])
    pdf, xml = invoice_documents(issued)
    assert pdf.startswith(b"%PDF") and issued.number.encode() in xml
    call_command("seed_billing_demo", stdout=StringIO())  # once only
    assert Issuer.objects.filter(agency=agency).count() == 1
