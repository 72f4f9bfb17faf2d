"""The Inbound view for owners and dispatchers: what arrived, how it was handled, what
failed; retry failures and clear the quarantine."""

from __future__ import annotations

import logging
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegate.access import access_inbound
from delegate.agencies.models import Member
from delegate.clients.models import Contact, ContactIdentity
from delegate.core.http import contact_required, member_required
from delegate.intake import services
from delegate.intake.forms import InboundFilterForm, ReleaseForm
from delegate.intake.mail.addresses import agency_address
from delegate.intake.models import InboundMessage
from delegate.intake.telegram import bot_for_agency

PAGE_SIZE = 50

logger = logging.getLogger(__name__)


def _acting(request: HttpRequest) -> Member:
    member: Member | None = getattr(request, "member", None)
    assert member is not None  # guaranteed by member_required
    return member


@member_required(manager=True)
@require_GET
def inbound_list(request: HttpRequest) -> HttpResponse:
    member = _acting(request)
    form = InboundFilterForm(request.GET)
    inbound = (
        InboundMessage.objects.filter(agency_id=member.agency_id)
        .select_related("task", "contact")
        .defer("raw")
        .order_by("-received_at")
    )
    if form.is_valid() and form.cleaned_data["state"]:
        inbound = inbound.filter(state=form.cleaned_data["state"])
    counts = dict(
        InboundMessage.objects.filter(agency_id=member.agency_id)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    page = Paginator(inbound, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "counts": [
            (value, label, counts.get(value, 0)) for value, label in InboundMessage.State.choices
        ],
        "address": agency_address(member.agency),
    }
    return render(request, "intake/inbound_list.html", context)


def _render_detail(
    request: HttpRequest,
    inbound: InboundMessage,
    form: ReleaseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    member = _acting(request)
    if form is None:
        initial = {"client": inbound.client_hint_id} if inbound.client_hint_id else {}
        form = ReleaseForm(member, initial=initial)
    context = {"inbound": inbound, "form": form}
    return render(request, "intake/inbound_detail.html", context, status=status)


@member_required(manager=True)
@require_GET
def inbound_detail(request: HttpRequest, inbound_id: UUID) -> HttpResponse:
    return _render_detail(request, access_inbound(_acting(request), inbound_id))


@member_required(manager=True)
@require_GET
def inbound_raw(request: HttpRequest, inbound_id: UUID) -> HttpResponse:
    """The bytes exactly as received, as a download (never rendered in the browser)."""
    inbound = access_inbound(_acting(request), inbound_id)
    kind = "message/rfc822" if inbound.channel == InboundMessage.Channel.EMAIL else "text/plain"
    response = HttpResponse(bytes(inbound.raw), content_type=kind)
    extension = "eml" if inbound.channel == InboundMessage.Channel.EMAIL else "txt"
    response["Content-Disposition"] = f'attachment; filename="inbound-{inbound.pk}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@member_required(manager=True)
@require_POST
def retry(request: HttpRequest, inbound_id: UUID) -> HttpResponse:
    member = _acting(request)
    inbound = access_inbound(member, inbound_id, write=True)
    try:
        services.retry_inbound(member, inbound)
    except services.InboundRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The message will be processed again."))
    return redirect("intake:detail", inbound_id=inbound.pk)


@member_required(manager=True)
@require_POST
def release(request: HttpRequest, inbound_id: UUID) -> HttpResponse:
    member = _acting(request)
    inbound = access_inbound(member, inbound_id, write=True)
    form = ReleaseForm(member, request.POST)
    if not form.is_valid():
        return _render_detail(request, inbound, form, status=400)
    client = form.cleaned_data["client"]
    try:
        if form.cleaned_data["add_contact"]:
            services.release_as_new_contact(
                member, inbound, client=client, name=form.cleaned_data["contact_name"]
            )
        else:
            services.release_to_client(member, inbound, client=client)
    except services.InboundRefused as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        form.add_error(None, " ".join(exc.messages))
        return _render_detail(request, inbound, form, status=400)
    except OSError:  # a file of the message (MMS, Telegram) is fetched again, and failed
        logger.exception("intake: fetching the files of inbound %s failed", inbound.pk)
        problem = _("A file of this message could not be fetched. Please try again later.")
        form.add_error(None, problem)
        return _render_detail(request, inbound, form, status=503)
    else:
        messages.success(request, _("The message was assigned to %(client)s.") % {"client": client})
    return redirect("intake:detail", inbound_id=inbound.pk)


@member_required(manager=True)
@require_POST
def reject(request: HttpRequest, inbound_id: UUID) -> HttpResponse:
    member = _acting(request)
    inbound = access_inbound(member, inbound_id, write=True)
    try:
        services.reject_inbound(member, inbound)
    except services.InboundRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The message was rejected."))
    return redirect("intake:list")


@contact_required
@require_http_methods(["GET", "POST"])
def telegram_link(request: HttpRequest) -> HttpResponse:
    """A contact links their Telegram chat: a one-time code to send to the bot."""
    contact: Contact = request.contact  # type: ignore[attr-defined]
    code = None
    if request.method == "POST":
        code = services.create_telegram_link_code(contact)
    linked = contact.identities.filter(kind=ContactIdentity.Kind.TELEGRAM).exists()
    context = {"code": code, "linked": linked, "has_bot": bool(bot_for_agency(contact.agency.slug))}
    return render(request, "intake/telegram_link.html", context)
