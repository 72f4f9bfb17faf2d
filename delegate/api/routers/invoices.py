"""/invoices: read invoices, edit and delete drafts, issue them, fetch the e-invoice.

Owners and dispatchers only (an assistant's key gets 403). An issued invoice cannot be
changed or deleted here either: PATCH and DELETE on it answer 422 and change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.decorators import decorate_view
from ninja.responses import Status

from delegate import access
from delegate.api.auth import acting_member, read_auth, write_auth
from delegate.api.errors import error_responses
from delegate.api.idempotency import idempotent
from delegate.api.listing import PageParams, order_by, page
from delegate.api.routers.tasks import IDEMPOTENCY_KEY
from delegate.api.schemas import UNSET, Body, set_fields
from delegate.billing import credit_notes, invoicing
from delegate.billing.einvoice import cii_xml
from delegate.billing.models import Invoice

router = Router(tags=["invoices"])

InvoiceStatus = Literal[
    "draft", "issued", "sent", "partly_paid", "paid", "partly_credited", "credited", "cancelled"
]


class LineOut(Schema):
    id: UUID
    position: int
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    net_amount: Decimal


class InvoiceOut(Schema):
    id: UUID
    kind: str
    status: InvoiceStatus
    number: str
    issuer: UUID = Field(alias="issuer_id")
    client: UUID | None = Field(None, alias="client_id")
    corrects: UUID | None = Field(None, alias="corrects_id", description="the invoice corrected")
    issue_date: dt.date | None
    due_date: dt.date | None
    period_start: dt.date
    period_end: dt.date
    recipient_name: str
    vat_treatment: str
    currency: str
    net_total: Decimal
    vat_total: Decimal
    gross_total: Decimal
    paid_total: Decimal
    credited_total: Decimal = Field(description="gross total of the issued credit notes")
    lines: list[LineOut]

    @staticmethod
    def resolve_lines(obj: Invoice) -> list[Any]:
        return list(obj.lines.all())


class InvoicePage(Schema):
    items: list[InvoiceOut]
    count: int
    limit: int
    offset: int


class InvoiceQuery(PageParams):
    status: list[InvoiceStatus] | None = Field(None, description="repeat to match several")
    ordering: Literal["created_at", "-created_at", "number", "-number"] = "-created_at"


class DraftPatch(Body):
    note: str = Field(UNSET, max_length=5000)
    recipient_email: str = Field(UNSET)
    payment_terms_days: int = Field(UNSET, ge=0, le=365)
    leitweg_id: str = Field(UNSET, max_length=46)


class CreditLineIn(Schema):
    line: UUID = Field(description="a line of the invoice")
    quantity: Decimal | None = Field(None, description="to credit at the line's unit price")
    amount: Decimal | None = Field(None, description="or a net amount to credit")


class CreditIn(Schema):
    reason: str = Field(max_length=500)
    lines: list[CreditLineIn] = Field(min_length=1)


def _manager(request: HttpRequest) -> Any:
    member = acting_member(request)
    member.require_manager()
    return member


@router.get(
    "/invoices",
    response={200: InvoicePage, **error_responses(401, 403, 422)},
    auth=read_auth,
    summary="List invoices",
)
def list_invoices(request: HttpRequest, filters: Query[InvoiceQuery]) -> dict[str, Any]:
    member = _manager(request)
    invoices = Invoice.objects.filter(agency_id=member.agency_id).prefetch_related("lines")
    if filters.status:
        invoices = invoices.filter(status__in=filters.status)
    return page(invoices.order_by(*order_by(filters.ordering)), filters)


@router.get(
    "/invoices/{invoice_id}",
    response={200: InvoiceOut, **error_responses(401, 403, 404, 422)},
    auth=read_auth,
    summary="Get an invoice",
)
def get_invoice(request: HttpRequest, invoice_id: UUID) -> Invoice:
    return access.access_invoice(acting_member(request), invoice_id)


@router.patch(
    "/invoices/{invoice_id}",
    response={200: InvoiceOut, **error_responses(401, 403, 404, 422)},
    auth=write_auth,
    summary="Update a draft",
    description="Only drafts change; an issued invoice is corrected by cancelling it.",
)
def update_invoice(request: HttpRequest, invoice_id: UUID, payload: DraftPatch) -> Invoice:
    member = acting_member(request)
    invoice = access.access_invoice(member, invoice_id, write=True)
    invoicing.update_draft(member, invoice, **set_fields(payload))
    return access.access_invoice(member, invoice_id)


@router.delete(
    "/invoices/{invoice_id}",
    response={204: None, **error_responses(401, 403, 404, 422)},
    auth=write_auth,
    summary="Delete a draft",
    description="Issued invoices are kept for good: deleting one answers 422.",
)
def delete_invoice(request: HttpRequest, invoice_id: UUID) -> Status:
    member = acting_member(request)
    invoice = access.access_invoice(member, invoice_id, write=True)
    invoicing.delete_draft(member, invoice)
    return Status(204, None)


@router.post(
    "/invoices/{invoice_id}/issue",
    response={200: InvoiceOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Issue a draft",
    description="Assigns the next number of the issuer's series and freezes the content. "
    "Issuing again answers 422; with the same Idempotency-Key the first answer is replayed.",
)
@decorate_view(idempotent)
def issue_invoice(
    request: HttpRequest, invoice_id: UUID, idempotency_key: str | None = IDEMPOTENCY_KEY
) -> Invoice:
    member = acting_member(request)
    invoice = access.access_invoice(member, invoice_id, write=True)
    invoicing.issue_invoice(member, invoice)
    return access.access_invoice(member, invoice_id)


@router.post(
    "/invoices/{invoice_id}/credit-notes",
    response={201: InvoiceOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Credit part of an issued invoice",
    description="Issues a credit note (its own number in the issuer's series, type code "
    "381, referring to the invoice) for chosen lines, each by quantity or by net amount; "
    "VAT at the line's rate. A line is never credited beyond its net amount (422, "
    "nothing changes). With the same Idempotency-Key the first answer is replayed.",
)
@decorate_view(idempotent)
def credit_invoice(
    request: HttpRequest,
    invoice_id: UUID,
    payload: CreditIn,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> Status:
    from django.core.exceptions import ValidationError

    member = acting_member(request)
    invoice = access.access_invoice(member, invoice_id, write=True)
    if any((line.quantity is None) == (line.amount is None) for line in payload.lines):
        raise ValidationError("Give each line a quantity or an amount.")
    note = credit_notes.credit_invoice(
        member,
        invoice,
        reason=payload.reason,
        quantities={ln.line: ln.quantity for ln in payload.lines if ln.quantity is not None},
        amounts={ln.line: ln.amount for ln in payload.lines if ln.amount is not None},
    )
    return Status(201, access.access_invoice(member, note.pk))


@router.get(
    "/invoices/{invoice_id}/xml",
    response={200: None, **error_responses(401, 403, 404, 422)},
    auth=read_auth,
    summary="The e-invoice (EN 16931 CII XML; XRechnung for a Leitweg-ID)",
)
def invoice_xml(request: HttpRequest, invoice_id: UUID) -> HttpResponse:
    invoice = access.access_invoice(acting_member(request), invoice_id)
    if invoice.is_draft:
        from django.core.exceptions import ValidationError

        raise ValidationError("Only issued invoices have an e-invoice.")
    return HttpResponse(cii_xml(invoice), content_type="application/xml")
