"""/categories: the agency's editable category list that triage chooses from, with the
skills each category needs."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router
from ninja.decorators import decorate_view
from ninja.responses import Status

from delegate import access
from delegate.api.auth import acting_member, read_auth, write_auth
from delegate.api.errors import error_responses
from delegate.api.idempotency import idempotent
from delegate.api.listing import PageParams, order_by, page
from delegate.api.routers.tasks import IDEMPOTENCY_KEY
from delegate.api.schemas import (
    CategoryCreate,
    CategoryOut,
    CategoryPage,
    CategoryPatch,
    set_fields,
)
from delegate.tasks.categories import save_category
from delegate.tasks.models import Category

router = Router(tags=["categories"])


class CategoryQuery(PageParams):
    is_active: bool | None = None
    ordering: Literal["name_en", "-name_en", "name_de", "-name_de", "slug", "-slug"] = "name_en"


@router.get(
    "/categories",
    response={200: CategoryPage, **error_responses(401, 422)},
    auth=read_auth,
    summary="List categories",
    description="Every member sees the agency's categories, active and inactive.",
)
def list_categories(request: HttpRequest, filters: Query[CategoryQuery]) -> dict[str, Any]:
    member = acting_member(request)
    categories = Category.objects.filter(agency_id=member.agency_id).prefetch_related("skills")
    if filters.is_active is not None:
        categories = categories.filter(is_active=filters.is_active)
    return page(categories.order_by(*order_by(filters.ordering)), filters)


@router.post(
    "/categories",
    response={201: CategoryOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Add a category",
    description="Owners and dispatchers only. Skills must belong to the agency (else "
    "404); a slug (or English name) that exists already is a 422.",
)
@decorate_view(idempotent)
def create_category(
    request: HttpRequest, payload: CategoryCreate, idempotency_key: str | None = IDEMPOTENCY_KEY
) -> Status[Category]:
    member = acting_member(request)
    member.require_manager()
    skills = access.access_skills(member, payload.skill_ids)
    category = save_category(
        member, name_en=payload.name_en, name_de=payload.name_de, slug=payload.slug,
        skills=skills,
    )  # fmt: skip
    return Status(201, access.access_category(member, category.pk))


@router.get(
    "/categories/{category_id}",
    response={200: CategoryOut, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="Get a category",
)
def get_category(request: HttpRequest, category_id: UUID) -> Category:
    return access.access_category(acting_member(request), category_id)


@router.patch(
    "/categories/{category_id}",
    response={200: CategoryOut, **error_responses(401, 403, 404, 422)},
    auth=write_auth,
    summary="Update or deactivate a category",
    description="Owners and dispatchers only. Renames, sets the skills (the whole list) "
    "or, with `is_active`, deactivates and reactivates. The slug never changes; a "
    "deactivated category stays on the tasks that have it.",
)
def update_category(request: HttpRequest, category_id: UUID, payload: CategoryPatch) -> Category:
    member = acting_member(request)
    category = access.access_category(member, category_id)
    member.require_manager()
    fields = set_fields(payload)
    skills = (
        access.access_skills(member, fields["skill_ids"])
        if "skill_ids" in fields
        else list(category.skills.all())
    )
    save_category(
        member,
        category,
        name_en=fields.get("name_en", category.name_en),
        name_de=fields.get("name_de", category.name_de),
        skills=skills,
        is_active=fields.get("is_active"),
    )
    return access.access_category(member, category_id)
