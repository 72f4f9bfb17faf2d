from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.test.client import Client

from delegate.agencies.models import Member
from delegate.api.services import create_api_key
from delegate.testing import Cast


@dataclass
class Api:
    """A JSON client for /api/v1 with a bearer token."""

    token: str | None
    http: Client

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.http.get(f"/api/v1{path}", params or {}, headers=self._headers())

    def post(
        self, path: str, body: Any = None, *, raw: str | None = None, key: str | None = None
    ) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        extra = {"Idempotency-Key": key} if key is not None else None
        return self.http.post(
            f"/api/v1{path}", data, content_type="application/json", headers=self._headers(extra)
        )

    def delete(self, path: str) -> Any:
        return self.http.delete(f"/api/v1{path}", headers=self._headers())

    def patch(self, path: str, body: Any = None, *, raw: str | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.http.patch(
            f"/api/v1{path}", data, content_type="application/json", headers=self._headers()
        )


def api_for(member: Member | None, *, scope: str = "read_write") -> Api:
    token = None
    if member is not None:
        _key, token = create_api_key(member, name=f"test {scope}", scope=scope)
    # CSRF is enforced as in production: bearer requests must not need a token.
    return Api(token=token, http=HttpClient(enforce_csrf_checks=True))


@pytest.fixture
def alice_api(cast: Cast) -> Api:
    return api_for(cast.alice)


@pytest.fixture
def alice_ro(cast: Cast) -> Api:
    return api_for(cast.alice, scope="read_only")


@pytest.fixture
def bob_api(cast: Cast) -> Api:
    return api_for(cast.bob)


@pytest.fixture
def eve_api(cast: Cast) -> Api:
    return api_for(cast.eve)


@pytest.fixture
def mallory_api(cast: Cast) -> Api:
    return api_for(cast.mallory)
