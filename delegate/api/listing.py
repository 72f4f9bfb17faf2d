"""Pagination and ordering shared by the list endpoints.

Every list takes ``limit`` (1 to ``settings.NINJA_PAGINATION_MAX_LIMIT``, default
``settings.NINJA_PAGINATION_PER_PAGE``) and ``offset`` (from 0), and answers
``{"items": [...], "count": total, "limit": ..., "offset": ...}``. Orderings always end
with the primary key, so pages are stable when sort values tie."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import F, Model, QuerySet
from django.db.models.expressions import OrderBy
from ninja import Field, Schema

DEFAULT_LIMIT: int = settings.NINJA_PAGINATION_PER_PAGE
MAX_LIMIT: int = settings.NINJA_PAGINATION_MAX_LIMIT


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


def order_by(field: str) -> list[OrderBy]:
    """``"-due_at"`` → descending; empty values sort last either way."""
    descending = field.startswith("-")
    name = field.lstrip("-")
    expression = F(name)
    primary = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    tie_breaker = F("pk").desc() if descending else F("pk").asc()
    return [primary, tie_breaker]


def page[M: Model](queryset: QuerySet[M], params: PageParams) -> dict[str, Any]:
    items = list(queryset[params.offset : params.offset + params.limit])
    if params.offset == 0 and len(items) < params.limit:
        count = len(items)  # the whole result fits on the first page: no COUNT query
    else:
        count = queryset.order_by().count()
    return {"items": items, "count": count, "limit": params.limit, "offset": params.offset}
