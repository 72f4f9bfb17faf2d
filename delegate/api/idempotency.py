"""``Idempotency-Key`` on create (POST) endpoints.

A client that retries a create sends the same ``Idempotency-Key`` header (1 to 255
printable ASCII characters). Keys are kept per agency for
``settings.API_IDEMPOTENCY_TTL_HOURS`` and then pruned by ``delegate.api.jobs``.

* Same key, same method, path and JSON body (compared after parsing, so key order and
  whitespace do not matter): the first response (status and body) is replayed with the
  header ``Idempotent-Replayed: true``, and nothing is created again.
* Same key with another method, path or body: 422, nothing written.
* Concurrent duplicates: the key row is inserted (``ON CONFLICT DO NOTHING``) in the
  same transaction as the object the request creates, before anything else. The unique
  constraint on (agency, key) makes the second insert wait until the first transaction
  ends; it then replays the stored response. Should no finished response be there after
  that (the first request's row vanished, or the database gave up waiting), the answer is
  409 and the client retries later.
* An expired key that was not yet pruned is deleted and the request runs as new.
* Only successful (2xx) responses are remembered. A request that fails is rolled back
  with its key, so the client can fix the body and send it again under the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone

from delegate.api.auth import resolve_key
from delegate.api.errors import error_body
from delegate.api.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

Run = Callable[..., HttpResponseBase]


def request_hash(request: HttpRequest) -> str:
    body: bytes = request.body
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (request.method or "", request.path):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(canonical)
    return digest.hexdigest()


def _json(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _replay(row: IdempotencyKey, fingerprint: str) -> HttpResponse:
    if row.request_hash != fingerprint:
        return _json(
            422,
            error_body(
                "This Idempotency-Key was already used for a different request.",
                {HEADER: ["Use a new key for a new request."]},
            ),
        )
    response = HttpResponse(
        row.response_body, status=row.status_code, content_type=row.content_type
    )
    response[REPLAY_HEADER] = "true"
    return response


def _find(rows: QuerySet[IdempotencyKey]) -> IdempotencyKey | None:
    # get(), not first(): the unique index answers it without sorting.
    try:
        return rows.get()
    except IdempotencyKey.DoesNotExist:
        return None


def cutoff() -> Any:
    return timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)


# Standard SQL that PostgreSQL and SQLite (3.24+) both run; the table is IdempotencyKey's.
_CLAIM_SQL = """
INSERT INTO "api_idempotencykey"
    ("agency_id", "key", "request_hash", "status_code", "response_body", "content_type",
     "created_at")
VALUES (%s, %s, %s, 0, '', 'application/json', %s)
ON CONFLICT ("agency_id", "key") DO NOTHING
"""


def _claim(agency_id: Any, value: str, fingerprint: str) -> bool:
    """Insert the key's row unless it exists; True if this request now holds the key.

    ``ON CONFLICT DO NOTHING`` (PostgreSQL and SQLite) makes a concurrent request with the
    same key wait for the holder's transaction: if it commits, this insert does nothing;
    if it rolls back, this one inserts. One statement, no savepoint, no read before it."""
    values = [
        IdempotencyKey._meta.get_field("agency").get_db_prep_value(agency_id, connection),
        value,
        fingerprint,
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, values)
        return cursor.rowcount == 1


def idempotent(run: Run) -> Run:
    """Wraps an operation's ``run`` (through ``ninja.decorators.decorate_view``)."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        value = request.headers.get(HEADER)
        if value is None:
            return run(request, *args, **kwargs)
        key = resolve_key(request)
        if key is None or not key.can_write:
            return run(request, *args, **kwargs)  # the operation answers 401 / 403
        if not 1 <= len(value) <= MAX_KEY_LENGTH or not value.isascii() or not value.isprintable():
            return _json(
                422,
                error_body(
                    "Invalid Idempotency-Key header.",
                    {HEADER: [f"Use 1 to {MAX_KEY_LENGTH} printable ASCII characters."]},
                ),
            )
        fingerprint = request_hash(request)
        rows = IdempotencyKey.objects.filter(agency_id=key.agency_id, key=value)
        for _attempt in range(2):
            with transaction.atomic():
                if _claim(key.agency_id, value, fingerprint):
                    response = run(request, *args, **kwargs)
                    if 200 <= response.status_code < 300 and isinstance(response, HttpResponse):
                        rows.update(
                            status_code=response.status_code,
                            response_body=response.content.decode(),
                            content_type=response.get("Content-Type", "application/json"),
                        )
                    else:
                        transaction.set_rollback(True)
                    return response
            existing = _find(rows)
            if existing is None or existing.created_at >= cutoff():
                break
            rows.filter(created_at__lt=cutoff()).delete()  # expired, not yet pruned: reuse
        if existing is None or existing.status_code == 0:
            return _json(
                409,
                error_body("A request with this Idempotency-Key is still in progress."),
            )
        return _replay(existing, fingerprint)

    return wrapper
