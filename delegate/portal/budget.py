"""The client's hours and invoices in the portal: the prepaid-hours budget, approving
hours (and hours beyond the package), and downloading issued invoices."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from delegate.access import access_portal_invoice, access_portal_time_entries, portal_invoices
from delegate.billing import ledger, services
from delegate.billing.pdf import invoice_pdf
from delegate.core.http import contact_required
from delegate.portal.views import _contact, _in_client_time_zone
from delegate.timetracking import services as time_services
from delegate.timetracking.models import TimeEntry


@contact_required
@_in_client_time_zone
@require_GET
def budget(request: HttpRequest) -> HttpResponse:
    contact = _contact(request)
    client = contact.client
    today = timezone.localdate()
    months = ledger.client_ledger(client, until=today)
    contract = ledger.contract_on(client, today)
    pending = (
        TimeEntry.objects.filter(
            agency_id=contact.agency_id,
            client_id=contact.client_id,
            ended_at__isnull=False,
            approved_at__isnull=True,
            is_billable=True,
        )
        .select_related("task", "member__user")
        .order_by("started_at")
    )
    # The last month of the ledger is this month only while a package is in force.
    current = months[-1] if months and months[-1].month == ledger.month_start(today) else None
    context = {
        "months": list(reversed(months))[:6],
        "current": current,
        "contract": contract,
        "pending": pending if contract and contract.needs_time_approval else [],
        "invoices": portal_invoices(contact).order_by("-issue_date")[:24],
        "overage_approved": current is not None
        and client.overageapproval_set.filter(month=current.month).exists(),
    }
    return render(request, "portal/budget.html", context)


@contact_required
@require_POST
def approve_time(request: HttpRequest) -> HttpResponse:
    contact = _contact(request)
    entries = access_portal_time_entries(contact, request.POST.getlist("entry"))
    count = time_services.approve_entries(contact, entries)
    flash.success(request, _("%(count)s entries approved.") % {"count": count})
    return redirect("portal:budget")


@contact_required
@_in_client_time_zone
@require_POST
def approve_overage(request: HttpRequest) -> HttpResponse:
    contact = _contact(request)
    services.approve_overage(contact, month=timezone.localdate())
    flash.success(request, _("Hours beyond the package are approved for this month."))
    return redirect("portal:budget")


@contact_required
@require_GET
def invoice(request: HttpRequest, invoice_id: str) -> HttpResponse:
    found = access_portal_invoice(_contact(request), invoice_id)
    response = HttpResponse(invoice_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{found.number}.pdf"'
    return response
