"""Management pages for clients, their addresses and contacts: owners and dispatchers
only (assistants see their clients through their tasks)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegate.access import access_client, access_contact, clients_visible_to, tasks_visible_to
from delegate.agencies.forms import apply_service_errors
from delegate.agencies.models import Member
from delegate.clients import services
from delegate.clients.addresses import ADDRESS_FIELDS, save_address
from delegate.clients.forms import (
    IDENTITY_ERROR_FIELDS,
    IDENTITY_INPUT_TYPES,
    AddressForm,
    ClientFilterForm,
    ClientForm,
    ContactForm,
    PortalAccessForm,
)
from delegate.clients.models import Address, Client, Contact, ContactIdentity
from delegate.clients.portal_access import grant_portal_access, revoke_portal_access
from delegate.core.http import member_required
from delegate.tasks.models import Task

PAGE_SIZE = 50


def _acting(request: HttpRequest) -> Member:
    member: Member | None = getattr(request, "member", None)
    assert member is not None  # guaranteed by member_required
    return member


# --- clients -----------------------------------------------------------------------------


@member_required(manager=True)
@require_GET
def client_list(request: HttpRequest) -> HttpResponse:
    member = _acting(request)
    form = ClientFilterForm(request.GET)
    clients = (
        clients_visible_to(member)
        .select_related("primary_assistant__user")
        .annotate(open_tasks=Count("tasks", filter=Q(tasks__status__in=Task.OPEN_STATUSES)))
        .order_by("name")
    )
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            match = (
                Q(name__icontains=query)
                | Q(code__iexact=query)
                | Q(vat_id__icontains=query)
                | Q(email__icontains=query)
                | Q(contacts__name__icontains=query)
                | Q(contacts__identities__value__icontains=query)
            )
            # A subquery, so joins through contacts neither duplicate rows nor skew counts.
            clients = clients.filter(pk__in=clients_visible_to(member).filter(match).values("pk"))
        if form.cleaned_data["status"]:
            clients = clients.filter(status=form.cleaned_data["status"])
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    query_string = request.GET.copy()
    query_string.pop("page", None)
    context = {"form": form, "page": page, "query_string": query_string.urlencode()}
    template = "clients/client_list.html"
    if getattr(request, "htmx", False):
        template += "#results"
    return render(request, template, context)


@member_required(manager=True)
@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    member = _acting(request)
    form = ClientForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.create_client(member, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Client created."))
            return redirect("clients:detail", client_id=client.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "clients/client_form.html", {"form": form, "client": None}, status=status
    )


@member_required(manager=True)
@require_GET
def client_detail(request: HttpRequest, client_id: UUID) -> HttpResponse:
    member = _acting(request)
    client = access_client(member, client_id)
    addresses = {address.kind: address for address in client.addresses.all()}
    context = {
        "client": client,
        "addresses": [(kind, label, addresses.get(kind)) for kind, label in Address.Kind.choices],
        "contacts": client.contacts.select_related("user").prefetch_related("identities"),
        "team": client.team.select_related("user").order_by("user__name"),
        "open_tasks": tasks_visible_to(member)
        .filter(client=client, status__in=Task.OPEN_STATUSES)
        .count(),
    }
    return render(request, "clients/client_detail.html", context)


@member_required(manager=True)
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, client_id: UUID) -> HttpResponse:
    member = _acting(request)
    client = access_client(member, client_id, write=request.method == "POST")
    initial: dict[str, Any] = {name: getattr(client, name) for name in services.CLIENT_FIELDS}
    initial["team"] = list(client.team.all())
    form = ClientForm(request.POST or None, member=member, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_client(member, client, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Client saved."))
            return redirect("clients:detail", client_id=client.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "clients/client_form.html", {"form": form, "client": client}, status=status
    )


@member_required(manager=True)
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, client_id: UUID, kind: str) -> HttpResponse:
    member = _acting(request)
    client = access_client(member, client_id, write=request.method == "POST")
    if kind not in Address.Kind.values:
        raise Http404("No such kind of address")
    address = client.addresses.filter(kind=kind).first()
    initial = {name: getattr(address, name) for name in ADDRESS_FIELDS} if address else {}
    form = AddressForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            save_address(member, client, kind=kind, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Address saved."))
            return redirect("clients:detail", client_id=client.pk)
    context = {
        "form": form,
        "client": client,
        "address": address,
        "kind_label": Address.Kind(kind).label,
    }
    return render(
        request, "clients/address_form.html", context, status=400 if form.is_bound else 200
    )


# --- contacts ----------------------------------------------------------------------------


def _identities(contact: Contact) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {"emails": [], "phones": [], "telegram_ids": []}
    field_of_kind: dict[str, str] = {
        ContactIdentity.Kind.EMAIL: "emails",
        ContactIdentity.Kind.PHONE: "phones",
        ContactIdentity.Kind.TELEGRAM: "telegram_ids",
    }
    for identity in contact.identities.all():
        if identity.kind in field_of_kind:
            values[field_of_kind[identity.kind]].append(identity.value)
    return values


def _render_contact(
    request: HttpRequest,
    client: Client,
    contact: Contact | None,
    *,
    form: ContactForm | None = None,
    portal_form: PortalAccessForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if form is None:
        assert contact is not None
        initial = {name: getattr(contact, name) for name in ("name", "role", "language")}
        form = ContactForm(
            initial={**initial, "is_active": contact.is_active, **_identities(contact)}
        )
    if contact is not None and contact.user_id is None and portal_form is None:
        primary_email = contact.identities.filter(kind=ContactIdentity.Kind.EMAIL).first()
        portal_form = PortalAccessForm(
            initial={"email": primary_email.value if primary_email else ""}
        )
    context = {"client": client, "contact": contact, "form": form, "portal_form": portal_form}
    return render(request, "clients/contact_form.html", context, status=status)


@member_required(manager=True)
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest, client_id: UUID) -> HttpResponse:
    member = _acting(request)
    client = access_client(member, client_id, write=request.method == "POST")
    form = ContactForm(request.POST or None, with_active=False)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.create_contact(member, client, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc, IDENTITY_ERROR_FIELDS)
        else:
            messages.success(request, _("Contact added."))
            return redirect("clients:contact_edit", contact_id=contact.pk)
    return _render_contact(request, client, None, form=form, status=400 if form.is_bound else 200)


@member_required(manager=True)
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, contact_id: UUID) -> HttpResponse:
    member = _acting(request)
    contact = access_contact(member, contact_id, write=request.method == "POST")
    if request.method != "POST":
        return _render_contact(request, contact.client, contact)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.update_contact(member, contact, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc, IDENTITY_ERROR_FIELDS)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("clients:detail", client_id=contact.client_id)
    # The service may have touched the instance before refusing: show what is stored.
    contact.refresh_from_db()
    return _render_contact(request, contact.client, contact, form=form, status=400)


@member_required(manager=True)
@require_GET
def identity_row(request: HttpRequest) -> HttpResponse:
    """One more blank input for a contact's emails, phones or Telegram ids (htmx)."""
    name = request.GET.get("field", "")
    if name not in IDENTITY_INPUT_TYPES:
        raise Http404("No such field")
    label = ContactForm.base_fields[name].label
    context = {"name": name, "input_type": IDENTITY_INPUT_TYPES[name], "value": "", "label": label}
    return render(request, "clients/contact_form.html#identity_row", context)


@member_required(manager=True)
@require_POST
def portal_grant(request: HttpRequest, contact_id: UUID) -> HttpResponse:
    member = _acting(request)
    contact = access_contact(member, contact_id, write=True)
    form = PortalAccessForm(request.POST)
    if form.is_valid():
        try:
            grant_portal_access(member, contact, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Portal login created."))
            return redirect("clients:contact_edit", contact_id=contact.pk)
    return _render_contact(request, contact.client, contact, portal_form=form, status=400)


@member_required(manager=True)
@require_POST
def portal_revoke(request: HttpRequest, contact_id: UUID) -> HttpResponse:
    member = _acting(request)
    contact = access_contact(member, contact_id, write=True)
    revoke_portal_access(member, contact)
    messages.success(request, _("Portal login removed."))
    return redirect("clients:contact_edit", contact_id=contact.pk)
