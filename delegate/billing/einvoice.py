"""The e-invoice: EN 16931 as UN/CEFACT CII XML, built with drafthorse from an issued
invoice's snapshot (so the XML never changes after issuing).

Two flavours share one builder:

* ``ZUGFERD``: the Factur-X / ZUGFeRD profile EN 16931 (``urn:cen.eu:en16931:2017``),
  embedded in the PDF/A-3;
* ``XRECHNUNG``: XRechnung 3.0 (CIUS of EN 16931) for public-sector recipients with a
  Leitweg-ID, which goes in the buyer reference (BT-10).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem

from delegate.billing.models import Invoice

ZUGFERD = "urn:cen.eu:en16931:2017"
XRECHNUNG = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

TYPE_CODES = {
    Invoice.Kind.INVOICE: "380",
    Invoice.Kind.CANCELLATION: "381",
    Invoice.Kind.CREDIT_NOTE: "381",
}
# VATEX codes and texts for the exemption reason (BT-120/121).
EXEMPTIONS = {
    "E": (None, "Kleinunternehmer gemäß § 19 UStG"),
    "AE": ("VATEX-EU-AE", "Reverse charge"),
    "O": ("VATEX-EU-O", "Not subject to VAT"),
}


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _tax_registrations(party: Any, vat_id: str, tax_number: str = "") -> None:
    if vat_id:
        party.tax_registrations.add(TaxRegistration(id=("VA", vat_id)))
    if tax_number:
        party.tax_registrations.add(TaxRegistration(id=("FC", tax_number)))


def _address(party: Any, data: dict[str, str]) -> None:
    party.address.line_one = data["street"]
    party.address.postcode = data["postal_code"]
    party.address.city_name = data["city"]
    party.address.country_id = data["country"]


def build(snapshot: dict[str, Any], *, flavour: str = ZUGFERD) -> Document:
    """The CII document for an issued invoice's snapshot."""
    issuer, recipient = snapshot["issuer"], snapshot["recipient"]
    categories = {group["category"] for group in snapshot["vat_groups"]}
    # EN 16931 BR-O-02/03: no VAT ids at all on an invoice "not subject to VAT".
    not_subject = "O" in categories
    doc = Document()
    doc.context.guideline_parameter.id = flavour
    if flavour == XRECHNUNG:
        doc.context.business_parameter.id = PEPPOL_BILLING
    doc.header.id = snapshot["number"]
    doc.header.type_code = TYPE_CODES[snapshot["kind"]]
    doc.header.issue_date_time = _date(snapshot["issue_date"])
    for text, subject in (
        (snapshot["vat_note"], "TXD"),
        (snapshot["note"], "AAI"),
        (_legal_note(issuer), "REG"),
    ):
        if text:
            note = IncludedNote()
            note.content = text
            note.subject_code = subject
            doc.header.notes.add(note)

    agreement = doc.trade.agreement
    agreement.buyer_reference = snapshot["leitweg_id"] or snapshot["number"]
    seller = agreement.seller
    seller.name = issuer["legal_name"]
    if not_subject:
        # Without a VAT id the buyer still needs to identify the seller (BR-CO-26).
        seller.id = issuer["tax_number"]
    _address(seller, issuer)
    _tax_registrations(seller, "" if not_subject else issuer["vat_id"], issuer["tax_number"])
    seller.electronic_address.uri_ID = ("EM", issuer["email"])
    if flavour == XRECHNUNG or issuer["phone"]:
        seller.contact.person_name = issuer["contact_name"] or issuer["legal_name"]
        seller.contact.telephone.number = issuer["phone"]
        seller.contact.email.address = issuer["email"]
    buyer = agreement.buyer
    buyer.name = recipient["name"]
    _address(buyer, recipient)
    if not not_subject:
        _tax_registrations(buyer, recipient["vat_id"])
    if recipient["email"]:
        buyer.electronic_address.uri_ID = ("EM", recipient["email"])

    settlement = doc.trade.settlement
    settlement.currency_code = snapshot["currency"]
    settlement.payment_reference = snapshot["number"]
    means = PaymentMeans()
    means.type_code = "58"  # SEPA credit transfer
    means.payee_account.iban = issuer["iban"]
    means.payee_account.account_name = issuer["legal_name"]
    if issuer["bic"]:
        means.payee_institution.bic = issuer["bic"]
    settlement.payment_means.add(means)
    for group in snapshot["vat_groups"]:
        tax = ApplicableTradeTax()
        tax.calculated_amount = Decimal(group["tax"])
        tax.basis_amount = Decimal(group["basis"])
        tax.type_code = "VAT"
        tax.category_code = group["category"]
        if group["category"] in EXEMPTIONS:
            code, reason = EXEMPTIONS[group["category"]]
            tax.exemption_reason = reason
            if code:
                tax.exemption_reason_code = code
        if group["category"] != "O":
            tax.rate_applicable_percent = Decimal(group["rate"])
        settlement.trade_tax.add(tax)
    settlement.period.start = _date(snapshot["period_start"])
    settlement.period.end = _date(snapshot["period_end"])
    terms = PaymentTerms()
    terms.description = _terms(snapshot)
    terms.due = _date(snapshot["due_date"])
    settlement.terms.add(terms)
    if snapshot["corrects"]:
        settlement.invoice_referenced_document.issuer_assigned_id = snapshot["corrects"]
        settlement.invoice_referenced_document.issue_date_time = _date(snapshot["corrects_date"])
    total = settlement.monetary_summation
    total.line_total = Decimal(snapshot["net_total"])
    total.charge_total = Decimal("0.00")
    total.allowance_total = Decimal("0.00")
    total.tax_basis_total = Decimal(snapshot["net_total"])
    total.tax_total = (Decimal(snapshot["vat_total"]), snapshot["currency"])
    total.grand_total = Decimal(snapshot["gross_total"])
    total.due_amount = Decimal(snapshot["gross_total"])

    for data in snapshot["lines"]:
        item = LineItem()
        item.document.line_id = str(data["position"])
        item.product.name = data["description"]
        item.agreement.net.amount = Decimal(data["unit_price"])
        item.delivery.billed_quantity = (Decimal(data["quantity"]), data["unit"])
        item.settlement.trade_tax.type_code = "VAT"
        item.settlement.trade_tax.category_code = data["vat_category"]
        if data["vat_category"] != "O":
            item.settlement.trade_tax.rate_applicable_percent = Decimal(data["vat_rate"])
        if data.get("service_start"):  # BT-134/135: a service outside the invoice's period
            item.settlement.period.start = _date(data["service_start"])
            item.settlement.period.end = _date(data["service_end"])
        item.settlement.monetary_summation.total_amount = Decimal(data["net_amount"])
        doc.trade.items.add(item)
    return doc


def _legal_note(issuer: dict[str, str]) -> str:
    parts = [issuer["legal_name"]]
    if issuer["managing_directors"]:
        parts.append(issuer["managing_directors"])
    if issuer["register_entry"]:
        parts.append(issuer["register_entry"])
    return ", ".join(parts) if len(parts) > 1 else ""


def _terms(snapshot: dict[str, Any]) -> str:
    days = snapshot["payment_terms_days"]
    if snapshot["language"] == "de":
        return f"Zahlbar innerhalb von {days} Tagen ohne Abzug bis {snapshot['due_date']}."
    return f"Payable within {days} days without deduction, by {snapshot['due_date']}."


def flavour_for(snapshot: dict[str, Any]) -> str:
    return XRECHNUNG if snapshot["leitweg_id"] else ZUGFERD


def cii_xml(invoice: Invoice, *, flavour: str | None = None) -> bytes:
    """The CII XML of an issued invoice, checked against the EN 16931 XSD by drafthorse."""
    if invoice.is_draft:
        raise ValueError("Only issued invoices have an e-invoice")
    return snapshot_xml(invoice.snapshot, flavour=flavour)


def snapshot_xml(snapshot: dict[str, Any], *, flavour: str | None = None) -> bytes:
    """The CII XML of an invoice snapshot (the flavour its recipient needs unless given)."""
    flavour = flavour or flavour_for(snapshot)
    xml: bytes = build(snapshot, flavour=flavour).serialize(schema="FACTUR-X_EN16931")
    return xml
