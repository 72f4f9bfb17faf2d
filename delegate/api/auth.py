"""Bearer authentication for the API: ``Authorization: Bearer <token>``.

A missing, malformed, unknown or revoked token is a 401. A read-only key on an endpoint
that writes is a 403. The resolved key is cached on the request, so the idempotency
layer and the endpoint share one lookup.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from delegate.agencies.models import Member
from delegate.api.models import ApiKey
from delegate.api.services import authenticate_token

_CACHE_ATTR = "_delegate_api_key"


def resolve_key(request: HttpRequest) -> ApiKey | None:
    """The key behind the request's bearer token (cached on the request), or None."""
    if hasattr(request, _CACHE_ATTR):
        return getattr(request, _CACHE_ATTR)
    key = None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        key = authenticate_token(token)
    setattr(request, _CACHE_ATTR, key)
    return key


class ApiKeyAuth(HttpBearer):
    def __init__(self, *, write: bool = False) -> None:
        super().__init__()
        self.write = write

    def __call__(self, request: HttpRequest) -> Any:
        key = resolve_key(request)
        if key is None:
            return None
        if self.write and not key.can_write:
            raise AuthorizationError(message="This API key is read-only")
        return key

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover
        return resolve_key(request)


read_auth = ApiKeyAuth()
write_auth = ApiKeyAuth(write=True)


def acting_member(request: HttpRequest) -> Member:
    """The member an authenticated request acts as: the creator of its API key."""
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    return key.created_by
