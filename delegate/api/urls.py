"""The JSON API, mounted at /api/v1/: OpenAPI 3.1 at /api/v1/openapi.json, interactive
docs at /api/v1/docs."""

from __future__ import annotations

from ninja import NinjaAPI

from delegate.api.errors import install_handlers
from delegate.api.routers import (
    bookings,
    calendars,
    categories,
    clients,
    invoices,
    members,
    tasks,
)

DESCRIPTION = """
**Authentication.** Send `Authorization: Bearer <token>`. Keys belong to an agency and
act as the member who created them, with that member's role and visibility: an
assistant's key sees only the assistant's clients and their tasks. A key stops working
when it is revoked or its member is deactivated. Create one with
`manage.py create_api_key --agency <slug> --member <email> --name <name> --scope
read_write` (the token is shown once). Missing, invalid or revoked token → 401; a
`read_only` key on an endpoint that writes → 403.

**Errors.** Every error has the body `{"detail": "...", "errors": {"field": ["..."]}}`
(`errors` only where fields are at fault). 401 unauthenticated; 403 the key or its
member's role may not do this (also a status transition the role may not make); 404 the
object does not exist or lies outside what the key's member sees; 409 a status
transition that does not exist, or an idempotent request still in progress; 422 a
malformed JSON body, a body or query that does not fit the schema, or input the service
refuses. A refused request changes nothing.

**Lists** take `limit` (1–200, default 50) and `offset`, and answer
`{"items": [...], "count": n, "limit": l, "offset": o}`. `ordering` names a field, `-`
for descending; ties are broken by id so pages are stable.

**Idempotency.** Every create (POST) accepts an `Idempotency-Key` header (1–255
printable ASCII characters), kept per agency for 24 hours (configurable). Repeating a
request with the same key and the same body replays the first response (header
`Idempotent-Replayed: true`) without creating anything again; the same key with a
different body is a 422. A concurrent duplicate waits for the first request and replays
its response (or gets 409 if it is still running). Failed requests are not remembered.
"""

api = NinjaAPI(
    title="Delegate API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
)
install_handlers(api)
api.add_router("", tasks.router)
api.add_router("", clients.router)
api.add_router("", members.router)
api.add_router("", invoices.router)
api.add_router("", calendars.router)
api.add_router("", bookings.router)
api.add_router("", categories.router)
