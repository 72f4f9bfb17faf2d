"""/invoices: managers read, edit drafts and issue; issued invoices refuse PATCH and
DELETE (nothing changes); assistants get 403, other agencies 404."""

from __future__ import annotations

import pytest

from delegate.api.tests.conftest import Api
from delegate.billing import invoicing
from delegate.billing.models import Invoice, InvoiceLine
from delegate.billing.tests.helpers import draft, issuer
from delegate.testing import Cast, db_state

pytestmark = pytest.mark.django_db


def test_it_edits_and_issues_a_draft(cast: Cast, alice_api: Api) -> None:
    invoice = draft(cast, issuer(cast))
    response = alice_api.patch(f"/invoices/{invoice.pk}", {"note": "Thanks!"})
    assert response.status_code == 200 and Invoice.objects.get().note == "Thanks!"
    issued = alice_api.post(f"/invoices/{invoice.pk}/issue")
    assert issued.status_code == 200, issued.json()
    assert issued.json()["number"] == "RE-00001"
    assert issued.json()["gross_total"] == "238.00"
    xml = alice_api.get(f"/invoices/{invoice.pk}/xml")
    assert xml["Content-Type"] == "application/xml" and b"RE-00001" in xml.content
    listed = alice_api.get("/invoices", {"status": "issued"}).json()
    assert [item["id"] for item in listed["items"]] == [str(invoice.pk)]


def test_an_issued_invoice_refuses_patch_and_delete(cast: Cast, alice_api: Api) -> None:
    invoice = invoicing.issue_invoice(cast.alice, draft(cast, issuer(cast)))
    before = db_state(Invoice, InvoiceLine)
    assert alice_api.patch(f"/invoices/{invoice.pk}", {"note": "x"}).status_code == 422
    assert alice_api.delete(f"/invoices/{invoice.pk}").status_code == 422
    assert alice_api.post(f"/invoices/{invoice.pk}/issue").status_code == 422
    assert db_state(Invoice, InvoiceLine) == before


def test_a_draft_can_be_deleted(cast: Cast, alice_api: Api) -> None:
    invoice = draft(cast, issuer(cast))
    assert alice_api.delete(f"/invoices/{invoice.pk}").status_code == 204
    assert not Invoice.objects.exists()


def test_assistants_get_403_and_other_agencies_404(
    cast: Cast, bob_api: Api, mallory_api: Api
) -> None:
    invoice = draft(cast, issuer(cast))
    before = db_state(Invoice, InvoiceLine)
    assert bob_api.get("/invoices").status_code == 403
    assert bob_api.post(f"/invoices/{invoice.pk}/issue").status_code == 403
    assert mallory_api.get(f"/invoices/{invoice.pk}").status_code == 404
    assert mallory_api.delete(f"/invoices/{invoice.pk}").status_code == 404
    assert mallory_api.get("/invoices").json()["items"] == []
    assert db_state(Invoice, InvoiceLine) == before


def test_it_credits_part_of_an_issued_invoice(cast: Cast, alice_api: Api, bob_api: Api,
                                              mallory_api: Api) -> None:  # fmt: skip
    invoice = invoicing.issue_invoice(cast.alice, draft(cast, issuer(cast)))
    line = invoice.lines.get()  # 2.5 h research at 80.00, 19 %
    body = {"reason": "Half an hour less", "lines": [{"line": str(line.pk), "quantity": "0.5"}]}
    before = db_state(Invoice, InvoiceLine)
    assert bob_api.post(f"/invoices/{invoice.pk}/credit-notes", body).status_code == 403
    assert mallory_api.post(f"/invoices/{invoice.pk}/credit-notes", body).status_code == 404
    too_much = {"reason": "x", "lines": [{"line": str(line.pk), "amount": "200.01"}]}
    assert alice_api.post(f"/invoices/{invoice.pk}/credit-notes", too_much).status_code == 422
    both = {"reason": "x", "lines": [{"line": str(line.pk), "amount": "1", "quantity": "1"}]}
    assert alice_api.post(f"/invoices/{invoice.pk}/credit-notes", both).status_code == 422
    assert db_state(Invoice, InvoiceLine) == before
    response = alice_api.post(f"/invoices/{invoice.pk}/credit-notes", body)
    assert response.status_code == 201, response.json()
    note = response.json()
    assert (note["kind"], note["number"], note["corrects"]) == (
        "credit_note", "RE-00002", str(invoice.pk),
    )  # fmt: skip
    assert (note["net_total"], note["gross_total"]) == ("40.00", "47.60")
    original = alice_api.get(f"/invoices/{invoice.pk}").json()
    assert (original["status"], original["credited_total"]) == ("partly_credited", "47.60")
