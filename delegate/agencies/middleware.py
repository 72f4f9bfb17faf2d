from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from delegate.agencies.models import Member

SESSION_AGENCY_KEY = "agency_id"


class MembershipMiddleware:
    """Puts the acting identity on the request: ``request.member`` (the user's membership
    in the agency chosen in the session, else their first), ``request.memberships`` and
    ``request.contact`` (the client contact behind a portal login)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.member = None  # type: ignore[attr-defined]
        request.memberships = []  # type: ignore[attr-defined]
        request.contact = None  # type: ignore[attr-defined]
        user = request.user
        if user.is_authenticated:
            memberships = list(
                Member.objects.filter(user=user, is_active=True)
                .select_related("agency", "user")
                .order_by("agency__name")
            )
            request.memberships = memberships  # type: ignore[attr-defined]
            chosen = request.session.get(SESSION_AGENCY_KEY)
            member = next((m for m in memberships if str(m.agency_id) == chosen), None)
            request.member = member or (memberships[0] if memberships else None)  # type: ignore[attr-defined]
            contact = getattr(user, "contact", None)
            if contact is not None and contact.is_active:
                request.contact = contact  # type: ignore[attr-defined]
        return self.get_response(request)
