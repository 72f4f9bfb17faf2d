"""Credit notes for part of an issued invoice.

A credit note is an invoice document of its own (kind ``CREDIT_NOTE``, type code 381 in
the CII XML) that refers to the invoice it corrects (BT-25), numbered in the issuer's
series, with a snapshot and its link in the hash chain, and as immutable as any issued
invoice. Each of its lines credits part of one line of the invoice, by quantity at that
line's unit price or by a net amount, at that line's VAT rate; what all credit notes
credit on a line never exceeds the line's net amount. Issuing it updates the invoice's
credited total, status and open amount (``invoicing._settle``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import translation
from django.utils.translation import gettext as _

from delegate.agencies.models import Member
from delegate.billing.invoicing import CENT, DRAFT_FIELDS, issue_invoice, money
from delegate.billing.models import ZERO, Invoice, InvoiceLine


def credited_by_line(invoice: Invoice) -> dict[Any, Decimal]:
    """Net amount credited so far per line of ``invoice`` (issued credit notes)."""
    rows = (
        InvoiceLine.objects.filter(credits_line__invoice=invoice)
        .exclude(invoice__status=Invoice.Status.DRAFT)
        .values("credits_line_id")
        .annotate(total=Sum("net_amount"))
    )
    return {row["credits_line_id"]: row["total"] for row in rows}


def _positive(name: str, value: Any) -> Decimal:
    if not isinstance(value, Decimal):
        raise ValidationError({name: _("Amounts must be exact decimals.")})
    if value <= 0 or value != value.quantize(CENT):
        raise ValidationError({name: _("Enter a positive amount with at most two decimals.")})
    return value


def credit_invoice(
    member: Member,
    invoice: Invoice,
    *,
    reason: str,
    quantities: dict[Any, Decimal] | None = None,
    amounts: dict[Any, Decimal] | None = None,
) -> Invoice:
    """Issue a credit note for part of ``invoice`` (an issued invoice, not cancelled or
    credited in full): ``quantities`` maps ids of its lines to a quantity to credit at
    the line's unit price, ``amounts`` to a net amount to credit; a line in at most
    one of them. Refused, with nothing written, if a line is not the invoice's or
    would be credited beyond its net amount."""
    member.require_manager()
    member.require_same_agency(invoice)
    quantities, amounts = quantities or {}, amounts or {}
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason.")})
    if not (quantities or amounts):
        raise ValidationError(_("Choose at least one line and what to credit on it."))
    if {str(key) for key in quantities} & {str(key) for key in amounts}:
        raise ValidationError(_("Credit a line by quantity or by amount, not both."))
    with transaction.atomic():
        original = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if not original.can_be_credited:
            raise ValidationError(_("Only issued invoices that are not cancelled can be credited."))
        lines = {str(line.pk): line for line in original.lines.order_by("position")}
        if not {str(key) for key in [*quantities, *amounts]} <= set(lines):
            raise ValidationError(_("A line is not part of this invoice."))
        credited = credited_by_line(original)
        credit = Invoice(
            agency_id=original.agency_id,
            issuer_id=original.issuer_id,
            client_id=original.client_id,
            kind=Invoice.Kind.CREDIT_NOTE,
            corrects=original,
            note=reason.strip()[:5000],
            **{name: getattr(original, name) for name in DRAFT_FIELDS if name != "note"},
            currency=original.currency,
            vat_treatment=original.vat_treatment,
        )
        new_lines: list[InvoiceLine] = []
        with translation.override(original.language):
            for line in lines.values():
                new = _credit_line(line, quantities, amounts, credited.get(line.pk, ZERO))
                if new is not None:
                    new.agency_id, new.invoice, new.position = (
                        original.agency_id, credit, len(new_lines) + 1,
                    )  # fmt: skip
                    new_lines.append(new)
        credit.save()
        InvoiceLine.objects.bulk_create(new_lines)
        return issue_invoice(member, credit)


def _credit_line(
    line: InvoiceLine,
    quantities: dict[Any, Decimal],
    amounts: dict[Any, Decimal],
    credited: Decimal,
) -> InvoiceLine | None:
    by_key = {str(key): value for key, value in quantities.items()}
    amount_by_key = {str(key): value for key, value in amounts.items()}
    key = str(line.pk)
    if key in by_key:
        quantity = _positive("quantity", by_key[key])
        new = InvoiceLine(
            description=line.description, quantity=quantity, unit=line.unit,
            unit_price=line.unit_price, net_amount=money(quantity * line.unit_price),
        )  # fmt: skip
    elif key in amount_by_key:
        amount = _positive("amount", amount_by_key[key])
        new = InvoiceLine(
            description=(_("Credit on: %(description)s") % {"description": line.description})[
                :500
            ],
            quantity=Decimal("1.00"), unit=InvoiceLine.Unit.PIECE, unit_price=amount,
            net_amount=amount,
        )  # fmt: skip
    else:
        return None
    if credited + new.net_amount > line.net_amount:
        raise ValidationError(
            _("Line %(position)s: at most %(left)s can still be credited.")
            % {"position": line.position, "left": line.net_amount - credited}
        )
    new.vat_rate = line.vat_rate
    new.service_start, new.service_end = line.service_start, line.service_end
    new.credits_line = line
    return new
