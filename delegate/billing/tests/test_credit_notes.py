"""Partial credit notes: selected lines by quantity or amount, VAT per rate, numbered in
the series and chained, refusals that change nothing, the corrected invoice's credited
total, status and open amount, and the e-invoice (381 with BT-25) against the rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from delegate.billing import invoicing
from delegate.billing.credit_notes import credit_invoice
from delegate.billing.einvoice import cii_xml
from delegate.billing.models import ImmutableInvoiceError, Invoice, InvoiceLine, Payment
from delegate.billing.pdf import invoice_pdf
from delegate.billing.tests.helpers import draft, issuer
from delegate.billing.tests.schematron import schematron_errors, xsd_errors
from delegate.billing.tests.test_einvoice import _xpath
from delegate.testing import Cast, db_state


def _issued(cast: Cast, **fields: str) -> Invoice:
    """RE-00001: 2.5 h research at 80.00 (19 %) and 3 travel bookings at 12.00 (7 %)."""
    invoice = draft(cast, issuer(cast), **fields)
    invoicing.add_line(
        cast.alice, invoice, description="Travel booking", quantity=Decimal("3"),
        unit_price=Decimal("12.00"), vat_rate=Decimal("7.00"),
    )  # fmt: skip
    return invoicing.issue_invoice(cast.alice, invoice)


def _lines(invoice: Invoice) -> dict[str, InvoiceLine]:
    return {line.description: line for line in invoice.lines.all()}


def test_it_credits_part_of_a_line_by_quantity_and_another_by_amount(cast: Cast) -> None:
    original = _issued(cast)
    assert original.gross_total == Decimal("276.52")  # 238.00 + 38.52
    research, travel = _lines(original)["Research"], _lines(original)["Travel booking"]
    credit = credit_invoice(
        cast.alice, original, reason="One booking was cancelled; research discount",
        quantities={travel.pk: Decimal("1")}, amounts={research.pk: Decimal("20.00")},
    )  # fmt: skip
    assert (credit.kind, credit.number, credit.corrects) == ("credit_note", "RE-00002", original)
    assert [(ln.description, ln.quantity, ln.unit_price, ln.vat_rate, ln.credits_line)
            for ln in credit.lines.all()] == [
        ("Korrektur zu: Research", Decimal("1.00"), Decimal("20.00"), Decimal("19.00"), research),
        ("Travel booking", Decimal("1.00"), Decimal("12.00"), Decimal("7.00"), travel),
    ]  # fmt: skip
    # VAT per rate: 19 % of 20.00 and 7 % of 12.00.
    assert credit.snapshot["vat_groups"] == [
        {"category": "S", "rate": "19.00", "basis": "20.00", "tax": "3.80"},
        {"category": "S", "rate": "7.00", "basis": "12.00", "tax": "0.84"},
    ]
    assert credit.gross_total == Decimal("36.64")
    assert credit.snapshot["corrects"] == "RE-00001"
    original.refresh_from_db()
    assert (original.status, original.credited_total, original.open_amount) == (
        "partly_credited", Decimal("36.64"), Decimal("239.88"),
    )  # fmt: skip
    assert invoicing.verify_chain(original.issuer) == []
    with pytest.raises(ImmutableInvoiceError):
        credit.note = "changed"
        credit.save()


def test_payments_and_credits_together_settle_the_invoice(cast: Cast) -> None:
    original = _issued(cast)
    travel = _lines(original)["Travel booking"]
    invoicing.record_payment(cast.alice, original, amount=Decimal("200.00"),
                             paid_on=dt.date(2026, 11, 3))  # fmt: skip
    credit_invoice(cast.alice, original, reason="Bookings not needed",
                   quantities={travel.pk: Decimal("3")})  # fmt: skip
    original.refresh_from_db()
    # 276.52 less 38.52 credited: 238.00 due, 200.00 paid.
    assert (original.status, original.open_amount) == ("partly_paid", Decimal("38.00"))
    invoicing.record_payment(cast.alice, original, amount=Decimal("38.00"),
                             paid_on=dt.date(2026, 11, 4))  # fmt: skip
    original.refresh_from_db()
    assert (original.status, original.open_amount) == ("paid", Decimal("0.00"))


def test_crediting_every_line_in_full_credits_the_invoice(cast: Cast) -> None:
    original = _issued(cast)
    lines = _lines(original)
    credit_invoice(cast.alice, original, reason="Half",
                   quantities={lines["Research"].pk: Decimal("1.25")})  # fmt: skip
    rest = {lines["Research"].pk: Decimal("1.25"), lines["Travel booking"].pk: Decimal("3")}
    credit_invoice(cast.alice, original, reason="The rest", quantities=rest)
    original.refresh_from_db()
    assert (original.status, original.open_amount) == ("credited", Decimal("0.00"))
    with pytest.raises(ValidationError):
        credit_invoice(cast.alice, original, reason="More",
                       amounts={lines["Research"].pk: Decimal("1.00")})  # fmt: skip
    with pytest.raises(ValidationError):
        invoicing.cancel_invoice(cast.alice, original, reason="Cancel it too")


@pytest.mark.parametrize(
    "attempt",
    ["beyond_the_line", "beyond_after_a_credit", "foreign_line", "both_ways", "nothing",
     "no_reason", "negative", "float", "a_draft", "a_credit_note", "cancelled"],
)  # fmt: skip
def test_it_refuses_bad_credits_and_changes_nothing(cast: Cast, attempt: str) -> None:
    original = _issued(cast)
    research = _lines(original)["Research"]
    other = None
    if attempt == "foreign_line":
        other = invoicing.issue_invoice(cast.alice, draft(cast, original.issuer))
    target = original
    kwargs: dict[str, object] = {"reason": "Credit", "amounts": {research.pk: Decimal("10.00")}}
    if attempt == "beyond_the_line":
        kwargs["amounts"] = {research.pk: Decimal("200.01")}
    elif attempt == "beyond_after_a_credit":
        credit_invoice(cast.alice, original, reason="First", amounts={research.pk: Decimal("150")})
        kwargs["quantities"], kwargs["amounts"] = {research.pk: Decimal("1")}, {}
    elif attempt == "foreign_line":
        assert other is not None
        kwargs["amounts"] = {_lines(other)["Research"].pk: Decimal("10.00")}
    elif attempt == "both_ways":
        kwargs["quantities"] = {research.pk: Decimal("1")}
    elif attempt == "nothing":
        kwargs["amounts"] = {}
    elif attempt == "no_reason":
        kwargs["reason"] = "  "
    elif attempt == "negative":
        kwargs["amounts"] = {research.pk: Decimal("-5.00")}
    elif attempt == "float":
        kwargs["amounts"] = {research.pk: 5.0}
    elif attempt == "a_draft":
        target = draft(cast, original.issuer)
        kwargs["amounts"] = {target.lines.get().pk: Decimal("1.00")}
    elif attempt == "a_credit_note":
        target = credit_invoice(cast.alice, original, reason="First",
                                amounts={research.pk: Decimal("10")})  # fmt: skip
        kwargs["amounts"] = {target.lines.get().pk: Decimal("1.00")}
    elif attempt == "cancelled":
        invoicing.cancel_invoice(cast.alice, original, reason="Wrong")
    before = db_state(Invoice, InvoiceLine, Payment)
    next_number = original.issuer.__class__.objects.get(pk=original.issuer_id).next_number
    with pytest.raises(ValidationError):
        credit_invoice(cast.alice, target, **kwargs)  # type: ignore[arg-type]
    assert db_state(Invoice, InvoiceLine, Payment) == before
    assert original.issuer.__class__.objects.get(pk=original.issuer_id).next_number == next_number


def test_only_managers_of_the_agency_credit(cast: Cast) -> None:
    original = _issued(cast)
    research = _lines(original)["Research"]
    before = db_state(Invoice, InvoiceLine)
    for member in (cast.bob, cast.mallory):
        with pytest.raises(PermissionDenied):
            credit_invoice(member, original, reason="x", amounts={research.pk: Decimal("1")})
    assert db_state(Invoice, InvoiceLine) == before


def test_a_partial_credit_note_passes_the_en16931_rules(cast: Cast) -> None:
    original = _issued(cast)
    lines = _lines(original)
    credit = credit_invoice(
        cast.alice, original, reason="Partial",
        quantities={lines["Travel booking"].pk: Decimal("2")},
        amounts={lines["Research"].pk: Decimal("15.50")},
    )  # fmt: skip
    xml = cii_xml(credit)
    assert xsd_errors(xml) == []
    assert schematron_errors(xml) == []
    assert _xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["381"]
    assert _xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()") == [
        original.number
    ]
    assert _xpath(xml, "//ram:DuePayableAmount/text()") == [str(credit.gross_total)]
    assert invoice_pdf(credit).startswith(b"%PDF")


def test_a_credit_note_is_emailed_as_a_credit_note(cast: Cast) -> None:
    from django.core import mail

    original = _issued(cast, recipient_email="ap@acme.test")
    travel = _lines(original)["Travel booking"]
    credit = credit_invoice(cast.alice, original, reason="Booking cancelled",
                            quantities={travel.pk: Decimal("1")})  # fmt: skip
    assert invoicing.deliver(credit.pk)
    message = mail.outbox[-1]
    assert message.subject == "Rechnungskorrektur RE-00002 von Alpha Assist GmbH"
    assert "Rechnungskorrektur RE-00002 zur Rechnung RE-00001" in message.body
    assert "Gutgeschrieben: 12.84 EUR." in message.body and "zahlbar" not in message.body
