"""/clients, /clients/{id}/contacts and /contacts/{id}."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.decorators import decorate_view
from ninja.responses import Status

from delegate import access
from delegate.agencies.models import Member
from delegate.api.auth import acting_member, read_auth, write_auth
from delegate.api.errors import error_responses
from delegate.api.idempotency import idempotent
from delegate.api.listing import PageParams, order_by, page
from delegate.api.routers.tasks import IDEMPOTENCY_KEY
from delegate.api.schemas import (
    ClientCreate,
    ClientOut,
    ClientPage,
    ClientPatch,
    ClientStatus,
    ContactCreate,
    ContactOut,
    ContactPage,
    ContactPatch,
    set_fields,
)
from delegate.clients import services
from delegate.clients.models import Client, Contact

router = Router(tags=["clients"])

_TEAM = Prefetch("team", queryset=Member.objects.only("id"))


class ClientQuery(PageParams):
    status: list[ClientStatus] | None = Field(None, description="repeat to match several")
    ordering: Literal["name", "-name", "created_at", "-created_at"] = "name"


def _members(member: Member, ids: list[UUID]) -> list[Member]:
    return [access.access_member(member, member_id) for member_id in ids]


def _resolve_people(member: Member, fields: dict[str, Any]) -> dict[str, Any]:
    """Member ids in a client body → members of the key's agency (404 otherwise)."""
    for name in ("primary_assistant", "backup_assistant"):
        if fields.get(name) is not None:
            fields[name] = access.access_member(member, fields[name])
    if fields.get("team") is not None:
        fields["team"] = _members(member, fields["team"])
    return fields


def _reload(member: Member, client: Client) -> Client:
    return access.clients_visible_to(member).prefetch_related(_TEAM).get(pk=client.pk)


@router.get(
    "/clients",
    response={200: ClientPage, **error_responses(401, 422)},
    auth=read_auth,
    summary="List clients",
    description="Clients the key's member sees (an assistant: only their own clients).",
)
def list_clients(request: HttpRequest, filters: Query[ClientQuery]) -> dict[str, Any]:
    clients = access.clients_visible_to(acting_member(request)).prefetch_related(_TEAM)
    if filters.status:
        clients = clients.filter(status__in=filters.status)
    return page(clients.order_by(*order_by(filters.ordering)), filters)


@router.post(
    "/clients",
    response={201: ClientOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Create a client",
    description="Owners and dispatchers only.",
)
@decorate_view(idempotent)
def create_client(
    request: HttpRequest, payload: ClientCreate, idempotency_key: str | None = IDEMPOTENCY_KEY
) -> Status[Client]:
    member = acting_member(request)
    fields = _resolve_people(member, payload.model_dump())
    client = services.create_client(member, **fields)
    return Status(201, _reload(member, client))


@router.get(
    "/clients/{client_id}",
    response={200: ClientOut, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="Get a client",
)
def get_client(request: HttpRequest, client_id: UUID) -> Client:
    member = acting_member(request)
    return _reload(member, access.access_client(member, client_id))


@router.patch(
    "/clients/{client_id}",
    response={200: ClientOut, **error_responses(401, 403, 404, 422)},
    auth=write_auth,
    summary="Update a client",
    description="Owners and dispatchers only. Only the fields sent change.",
)
def update_client(request: HttpRequest, client_id: UUID, payload: ClientPatch) -> Client:
    member = acting_member(request)
    client = access.access_client(member, client_id, write=True)
    client = services.update_client(member, client, **_resolve_people(member, set_fields(payload)))
    return _reload(member, client)


# --- contacts ------------------------------------------------------------------------------


@router.get(
    "/clients/{client_id}/contacts",
    response={200: ContactPage, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="List a client's contacts",
    description="Ordered by name.",
)
def list_contacts(
    request: HttpRequest, client_id: UUID, params: Query[PageParams]
) -> dict[str, Any]:
    member = acting_member(request)
    client = access.access_client(member, client_id)
    contacts = client.contacts.prefetch_related("identities").order_by("name", "pk")
    return page(contacts, params)


@router.post(
    "/clients/{client_id}/contacts",
    response={201: ContactOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Create a contact",
    description="Owners and dispatchers only. Emails, phones (normalised to E.164) and "
    "telegram ids must not belong to another contact of the agency.",
)
@decorate_view(idempotent)
def create_contact(
    request: HttpRequest,
    client_id: UUID,
    payload: ContactCreate,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> Status[Contact]:
    member = acting_member(request)
    client = access.access_client(member, client_id, write=True)
    contact = services.create_contact(member, client, **payload.model_dump())
    return Status(201, access.access_contact(member, contact.pk))


@router.get(
    "/contacts/{contact_id}",
    response={200: ContactOut, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="Get a contact",
)
def get_contact(request: HttpRequest, contact_id: UUID) -> Contact:
    return access.access_contact(acting_member(request), contact_id)


@router.patch(
    "/contacts/{contact_id}",
    response={200: ContactOut, **error_responses(401, 403, 404, 422)},
    auth=write_auth,
    summary="Update a contact",
    description="Owners and dispatchers only. A list of emails, phones or telegram ids "
    "replaces that kind of identity; kinds not sent stay as they are.",
)
def update_contact(request: HttpRequest, contact_id: UUID, payload: ContactPatch) -> Contact:
    member = acting_member(request)
    contact = access.access_contact(member, contact_id, write=True)
    services.update_contact(member, contact, **set_fields(payload))
    return access.access_contact(member, contact_id)
