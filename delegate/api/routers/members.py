"""/members: the agency's team."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router
from ninja.decorators import decorate_view
from ninja.responses import Status

from delegate import access
from delegate.agencies import services
from delegate.agencies.models import Member
from delegate.api.auth import acting_member, read_auth, write_auth
from delegate.api.errors import error_responses
from delegate.api.idempotency import idempotent
from delegate.api.listing import PageParams, order_by, page
from delegate.api.routers.tasks import IDEMPOTENCY_KEY
from delegate.api.schemas import MemberCreate, MemberOut, MemberPage, MemberPatch, Role, set_fields

router = Router(tags=["members"])


class MemberQuery(PageParams):
    role: list[Role] | None = Field(None, description="repeat to match several")
    is_active: bool | None = None
    ordering: Literal["name", "-name", "joined_at", "-joined_at"] = "name"


_ORDER_FIELDS = {"name": "user__name", "joined_at": "joined_at"}


@router.get(
    "/members",
    response={200: MemberPage, **error_responses(401, 422)},
    auth=read_auth,
    summary="List members",
    description="Every member sees the whole team of their agency.",
)
def list_members(request: HttpRequest, filters: Query[MemberQuery]) -> dict[str, Any]:
    member = acting_member(request)
    members = Member.objects.filter(agency_id=member.agency_id).select_related("user")
    if filters.role:
        members = members.filter(role__in=filters.role)
    if filters.is_active is not None:
        members = members.filter(is_active=filters.is_active)
    descending = filters.ordering.startswith("-")
    field = _ORDER_FIELDS[filters.ordering.lstrip("-")]
    return page(members.order_by(*order_by(("-" if descending else "") + field)), filters)


@router.post(
    "/members",
    response={201: MemberOut, **error_responses(401, 403, 409, 422)},
    auth=write_auth,
    summary="Add a member",
    description="Owners and dispatchers only; only owners add owners. Creates the "
    "person's login (without a password) if they have none yet.",
)
@decorate_view(idempotent)
def create_member(
    request: HttpRequest, payload: MemberCreate, idempotency_key: str | None = IDEMPOTENCY_KEY
) -> Status[Member]:
    member = acting_member(request)
    new = services.add_member(member, email=payload.email, name=payload.name, role=payload.role)
    return Status(201, access.access_member(member, new.pk))


@router.get(
    "/members/{member_id}",
    response={200: MemberOut, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="Get a member",
)
def get_member(request: HttpRequest, member_id: UUID) -> Member:
    return access.access_member(acting_member(request), member_id)


@router.patch(
    "/members/{member_id}",
    response={200: MemberOut, **error_responses(401, 403, 404, 422)},
    auth=write_auth,
    summary="Update a member",
    description="Owners and dispatchers only; only owners change owners; an agency keeps "
    "at least one owner.",
)
def update_member(request: HttpRequest, member_id: UUID, payload: MemberPatch) -> Member:
    member = acting_member(request)
    target = access.access_member(member, member_id, write=True)
    services.update_member(member, target, **set_fields(payload))
    return access.access_member(member, member_id)
