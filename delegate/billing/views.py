"""Billing pages for owners and dispatchers: invoices (runs, drafts, issuing, documents,
sending, payments, cancellation) and a client's contracts and prepaid-hours ledger.

Views parse input, fetch objects through ``delegate.access``, call one service, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from delegate.access import (
    access_client,
    access_contract,
    access_invoice,
    access_invoice_line,
)
from delegate.agencies.models import Member
from delegate.billing import credit_notes, invoicing, ledger, services
from delegate.billing.einvoice import cii_xml
from delegate.billing.forms import (
    CancelForm,
    ContractForm,
    CreditForm,
    DraftForm,
    GapForm,
    IssuerForm,
    LineForm,
    NewDraftForm,
    PaymentForm,
    RunForm,
    add_service_errors,
)
from delegate.billing.models import Invoice, Issuer, NumberGap
from delegate.billing.pdf import invoice_pdf
from delegate.clients.models import Client
from delegate.tasks.views import _member, _post_only, staff_view

DETAIL = "billing/invoice.html"


# --- the invoice list and runs -----------------------------------------------------------


def _list(request: HttpRequest, member: Member, *, status: int = 200, **extra: Any) -> HttpResponse:
    invoices = (
        Invoice.objects.filter(agency_id=member.agency_id)
        .select_related("issuer", "client")
        .order_by("-created_at")[:200]
    )
    context = {
        "invoices": invoices,
        "run_form": RunForm(member, auto_id="run_%s"),
        "new_form": NewDraftForm(member, auto_id="new_%s"),
        "issuers": Issuer.objects.filter(agency_id=member.agency_id).select_related("client"),
        "issuer_form": IssuerForm(member, auto_id="issuer_%s"),
        **extra,
    }
    return render(request, "billing/invoices.html", context, status=status)


@staff_view(manager=True)
def invoices(request: HttpRequest) -> HttpResponse:
    return _list(request, _member(request))


@staff_view(manager=True)
def run(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if (refused := _post_only(request)) is not None:
        return refused
    form = RunForm(member, request.POST, auto_id="run_%s")
    if form.is_valid():
        drafts = invoicing.run_invoices(
            member, issuer=form.cleaned_data["issuer"], month=form.cleaned_data["month"]
        )
        messages.success(request, _("%(count)s drafts created.") % {"count": len(drafts)})
        return redirect("billing:invoices")
    return _list(request, member, status=400, run_form=form)


@staff_view(manager=True)
def add_issuer(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if (refused := _post_only(request)) is not None:
        return refused
    form = IssuerForm(member, request.POST, auto_id="issuer_%s")
    if form.is_valid():
        try:
            services.create_issuer(
                member, client=form.cleaned_data["client"], **form.issuer_fields()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Issuer saved."))
            return redirect("billing:invoices")
    return _list(request, member, status=400, issuer_form=form)


@staff_view(manager=True)
def new(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if (refused := _post_only(request)) is not None:
        return refused
    form = NewDraftForm(member, request.POST, auto_id="new_%s")
    if form.is_valid():
        fields = {name: form.cleaned_data[name] for name in DraftForm.Meta.fields}
        try:
            invoice = invoicing.create_draft(member, issuer=form.cleaned_data["issuer"], **fields)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("billing:invoice", invoice_id=invoice.pk)
    return _list(request, member, status=400, new_form=form)


@staff_view(manager=True)
def gaps(request: HttpRequest) -> HttpResponse:
    """The numbers skipped on purpose in the agency's series, with their reasons; a
    manager records a new one (it takes the next number of the chosen series)."""
    member = _member(request)
    form = GapForm(member, auto_id="gap_%s")
    status = 200
    if request.method == "POST":
        form = GapForm(member, request.POST, auto_id="gap_%s")
        if form.is_valid():
            try:
                gap = services.record_number_gap(
                    member, form.cleaned_data["issuer"], reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Number %(number)s is recorded as skipped.")
                    % {"number": gap.issuer.format_number(gap.sequence)},
                )
                return redirect("billing:gaps")
        status = 400
    recorded = (
        NumberGap.objects.filter(agency_id=member.agency_id)
        .select_related("issuer", "recorded_by__user")
        .order_by("issuer__legal_name", "sequence")
    )
    rows = [(gap, gap.issuer.format_number(gap.sequence)) for gap in recorded]
    return render(request, "billing/gaps.html", {"gaps": rows, "form": form}, status=status)


# --- one invoice -------------------------------------------------------------------------


def _detail(
    request: HttpRequest, invoice: Invoice, *, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "payments": list(invoice.payments.all()),
        "draft_form": DraftForm(instance=invoice, auto_id="draft_%s"),
        "line_form": LineForm(auto_id="line_%s"),
        "payment_form": PaymentForm(
            auto_id="pay_%s",
            initial={"amount": invoice.open_amount, "paid_on": timezone.localdate()},
        ),
        "cancel_form": CancelForm(auto_id="cancel_%s"),
        "corrections": list(invoice.corrections.exclude(status=Invoice.Status.DRAFT)),
        "error": "",
        **extra,
    }
    return render(request, DETAIL, context, status=status)


def _done(request: HttpRequest, invoice: Invoice, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("billing:invoice", invoice_id=invoice.pk)


def _refused(request: HttpRequest, invoice: Invoice, exc: ValidationError) -> HttpResponse:
    return _detail(request, invoice, status=400, error=" ".join(exc.messages))


def _form_action(
    request: HttpRequest,
    invoice: Invoice,
    form: BaseForm,
    form_name: str,
    act: Callable[[dict[str, Any]], object],
    text: str,
) -> HttpResponse:
    """A form posted on the invoice page: the service's refusals become form errors, and
    the page is shown again (400) with the form as it was sent."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, invoice, text)
    return _detail(request, invoice, status=400, **{form_name: form})


@staff_view(manager=True)
def invoice(request: HttpRequest, invoice_id: str) -> HttpResponse:
    return _detail(request, access_invoice(_member(request), invoice_id))


@staff_view(manager=True)
def edit(request: HttpRequest, invoice_id: str) -> HttpResponse:
    member = _member(request)
    current = access_invoice(member, invoice_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    form = DraftForm(request.POST, instance=Invoice(), auto_id="draft_%s")
    return _form_action(
        request,
        current,
        form,
        "draft_form",
        lambda data: invoicing.update_draft(
            member, current, **{name: data[name] for name in DraftForm.Meta.fields}
        ),
        _("Draft saved."),
    )


@staff_view(manager=True)
def add_line(request: HttpRequest, invoice_id: str) -> HttpResponse:
    member = _member(request)
    current = access_invoice(member, invoice_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    form = LineForm(request.POST, auto_id="line_%s")
    return _form_action(
        request,
        current,
        form,
        "line_form",
        lambda data: invoicing.add_line(member, current, **data),
        _("Line added."),
    )


@staff_view(manager=True)
def remove_line(request: HttpRequest, line_id: str) -> HttpResponse:
    member = _member(request)
    line = access_invoice_line(member, line_id)
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        invoicing.remove_line(member, line)
    except ValidationError as exc:
        return _refused(request, line.invoice, exc)
    return _done(request, line.invoice, _("Line removed."))


@staff_view(manager=True)
def delete(request: HttpRequest, invoice_id: str) -> HttpResponse:
    member = _member(request)
    current = access_invoice(member, invoice_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        invoicing.delete_draft(member, current)
    except ValidationError as exc:
        return _refused(request, current, exc)
    messages.success(request, _("Draft deleted."))
    return redirect("billing:invoices")


@staff_view(manager=True)
def issue(request: HttpRequest, invoice_id: str) -> HttpResponse:
    member = _member(request)
    current = access_invoice(member, invoice_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        issued = invoicing.issue_invoice(member, current)
    except ValidationError as exc:
        return _refused(request, current, exc)
    return _done(request, issued, _("Invoice %(number)s issued.") % {"number": issued.number})


@staff_view(manager=True)
def send(request: HttpRequest, invoice_id: str) -> HttpResponse:
    member = _member(request)
    current = access_invoice(member, invoice_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    try:
        invoicing.send_invoice(member, current)
    except ValidationError as exc:
        return _refused(request, current, exc)
    return _done(request, current, _("The invoice is being sent."))


@staff_view(manager=True)
def payment(request: HttpRequest, invoice_id: str) -> HttpResponse:
    member = _member(request)
    current = access_invoice(member, invoice_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    form = PaymentForm(request.POST, auto_id="pay_%s")
    return _form_action(
        request,
        current,
        form,
        "payment_form",
        lambda data: invoicing.record_payment(member, current, **data),
        _("Payment recorded."),
    )


@staff_view(manager=True)
def cancel(request: HttpRequest, invoice_id: str) -> HttpResponse:
    member = _member(request)
    current = access_invoice(member, invoice_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    form = CancelForm(request.POST, auto_id="cancel_%s")
    if form.is_valid():
        try:
            correction = invoicing.cancel_invoice(
                member, current, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            return _refused(request, current, exc)
        return _done(request, correction, _("Cancellation invoice issued."))
    return _detail(request, current, status=400, cancel_form=form)


@staff_view(manager=True)
def credit(request: HttpRequest, invoice_id: str) -> HttpResponse:
    """A credit note for part of an issued invoice: a form of its lines (GET), the
    issued credit note (POST)."""
    member = _member(request)
    current = access_invoice(member, invoice_id, write=request.method == "POST")
    lines = list(current.lines.all())
    credited = credit_notes.credited_by_line(current)
    if request.method == "POST":
        form = CreditForm(lines, request.POST, auto_id="credit_%s")
        if form.is_valid():
            try:
                note = credit_notes.credit_invoice(
                    member, current, reason=form.cleaned_data["reason"], **form.credits()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return _done(request, note, _("Credit note issued."))
        status = 400
    else:
        form, status = CreditForm(lines, auto_id="credit_%s"), 200
    rows = [
        (line, quantity, amount, line.net_amount - credited.get(line.pk, 0))
        for line, quantity, amount in form.rows()
    ]
    context = {"invoice": current, "form": form, "rows": rows}
    return render(request, "billing/credit.html", context, status=status)


def _document(invoice: Invoice, content: bytes, extension: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.{extension}"'
    return response


@staff_view(manager=True)
def pdf(request: HttpRequest, invoice_id: str) -> HttpResponse:
    current = access_invoice(_member(request), invoice_id)
    if current.is_draft:
        return _detail(request, current, status=400, error=_("Issue the invoice first."))
    return _document(current, invoice_pdf(current), "pdf", "application/pdf")


@staff_view(manager=True)
def xml(request: HttpRequest, invoice_id: str) -> HttpResponse:
    current = access_invoice(_member(request), invoice_id)
    if current.is_draft:
        return _detail(request, current, status=400, error=_("Issue the invoice first."))
    return _document(current, cii_xml(current), "xml", "application/xml")


# --- a client's contracts and ledger -----------------------------------------------------


def _versions(client: Client) -> list[dict[str, Any]]:
    """The client's contract versions, newest first, each with the day before the
    next one starts (its last day) and whether it is in force today."""
    versions = ledger.contract_versions(client)
    today = timezone.localdate()
    rows = []
    for index, version in enumerate(versions):
        following = versions[index + 1] if index + 1 < len(versions) else None
        ends_on = following.starts_on - dt.timedelta(days=1) if following else None
        rows.append(
            {
                "contract": version,
                "ends_on": ends_on,
                "is_current": version.starts_on <= today and (ends_on is None or today <= ends_on),
            }
        )
    return list(reversed(rows))


def _client_page(
    request: HttpRequest, client: Client, *, status: int = 200, **extra: Any
) -> HttpResponse:
    today = timezone.localdate()
    member = _member(request)
    context = {
        "client": client,
        "versions": _versions(client),
        "months": list(reversed(ledger.client_ledger(client, until=today)))[:12],
        "form": ContractForm(
            member, auto_id="contract_%s", initial={"starts_on": _next_month(today)}
        ),
        **extra,
    }
    return render(request, "billing/client.html", context, status=status)


def _next_month(today: dt.date) -> dt.date:
    return ledger.add_months(ledger.month_start(today), 1)


@staff_view(manager=True)
def client(request: HttpRequest, client_id: str) -> HttpResponse:
    return _client_page(request, access_client(_member(request), client_id))


@staff_view(manager=True)
def add_contract(request: HttpRequest, client_id: str) -> HttpResponse:
    member = _member(request)
    target = access_client(member, client_id, write=True)
    if (refused := _post_only(request)) is not None:
        return refused
    form = ContractForm(member, request.POST, auto_id="contract_%s")
    if form.is_valid():
        try:
            services.create_contract(member, target, **form.terms())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contract saved."))
            return redirect("billing:client", client_id=target.pk)
    return _client_page(request, target, status=400, form=form)


@staff_view(manager=True)
def edit_contract(request: HttpRequest, contract_id: str) -> HttpResponse:
    """All terms of a contract version, to change them from a date: saving makes a new
    version (or replaces one not in force yet); the version shown stays as it was."""
    member = _member(request)
    current = access_contract(member, contract_id)
    status = 200
    if request.method == "POST":
        form = ContractForm(member, request.POST, contract=current, auto_id="contract_%s")
        if form.is_valid():
            try:
                services.create_contract(member, current.client, **form.terms())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The new terms are saved."))
                return redirect("billing:client", client_id=current.client_id)
        status = 400
    else:
        today = timezone.localdate()
        starts_on = current.starts_on if current.starts_on > today else _next_month(today)
        form = ContractForm(
            member, contract=current, auto_id="contract_%s", initial={"starts_on": starts_on}
        )
    context = {"contract": current, "client": current.client, "form": form}
    return render(request, "billing/contract.html", context, status=status)
