"""One error shape for the whole API, ``{"detail": str, "errors"?: {field: [str]}}``,
and the exception handlers that produce it.

=====================================================  ======
exception                                              status
=====================================================  ======
no, malformed, unknown or revoked bearer token          401
read-only key on a write endpoint, PermissionDenied,    403
TransitionForbidden (the role may not make the move)
Http404 (also: any object outside the key's view)       404
TransitionError (no such transition), idempotent        409
request still in progress
malformed JSON, schema errors, service ValidationError  422
=====================================================  ======
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from delegate.api.schemas import ErrorOut
from delegate.tasks.status import TransitionError

ALL_ERRORS = (401, 403, 404, 409, 422)


def error_responses(*codes: int) -> dict[int, type[ErrorOut]]:
    """The ``response=`` entries declaring ``codes`` with the common error schema."""
    unknown = set(codes) - set(ALL_ERRORS) - {400}
    if unknown:
        raise ValueError(f"undeclared error codes {unknown}")
    return dict.fromkeys(codes, ErrorOut)


def error_body(detail: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = errors
    return body


def _field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("__all__" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in exc.message_dict.items()
        }
    return {"__all__": [str(m) for m in exc.messages]}


def _schema_errors(exc: NinjaValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        # loc is e.g. ("body", "payload", "title") or ("query", "limit"): keep the field.
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in {"body", "query", "path", "header"}:
            loc = loc[1:]
        if len(loc) > 1 and loc[0] == "payload":
            loc = loc[1:]
        field = ".".join(loc) or "__all__"
        errors.setdefault(field, []).append(str(error.get("msg", "invalid")))
    return errors


def install_handlers(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(NinjaValidationError)
    def schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return respond(request, 422, error_body("Invalid request.", _schema_errors(exc)))

    @api.exception_handler(DjangoValidationError)
    def validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        errors = _field_errors(exc)
        first = next(iter(errors.values()), ["Invalid input."])
        return respond(request, 422, error_body(first[0] if first else "Invalid input.", errors))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, error_body(str(exc) or "Not found."))

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return respond(request, 403, error_body(str(exc) or "Forbidden."))

    @api.exception_handler(TransitionError)
    def transition_error(request: HttpRequest, exc: TransitionError) -> HttpResponse:
        return respond(request, 409, error_body(str(exc)))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = respond(request, 401, error_body("Missing, invalid or revoked API key."))
        response["WWW-Authenticate"] = 'Bearer realm="delegate"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:
            # ninja's "Cannot parse request body": a body that is not JSON is a schema
            # error like any other, so it gets the same 422.
            return respond(
                request, 422, error_body("Malformed JSON body.", {"__all__": [str(exc)]})
            )
        return respond(request, exc.status_code, error_body(str(exc)))
