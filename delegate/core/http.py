"""Helpers shared by the HTML views: the acting identity, required roles."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

View = Callable[..., HttpResponseBase]


def member_required(*, manager: bool = False) -> Callable[[View], View]:
    """The view needs a logged-in agency member (and a manager role if asked): anonymous
    visitors go to the login page, other people get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            member = getattr(request, "member", None)
            if member is None:
                raise PermissionDenied("Agency members only")
            if manager and not member.is_manager:
                raise PermissionDenied("Owners and dispatchers only")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def contact_required(view: View) -> View:
    """The view needs a logged-in client contact (portal)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request, "contact", None) is None:
            raise PermissionDenied("Client contacts only")
        return view(request, *args, **kwargs)

    return wrapper


def client_address(request: HttpRequest) -> str | None:
    """The address of the person making the request, for rate limits and login throttles.

    ``REMOTE_ADDR`` is the peer: behind a reverse proxy that is the proxy for everyone.
    When the peer is one of ``TRUSTED_PROXIES``, the client is the right-most address of
    ``X-Forwarded-For`` that is not itself a trusted proxy (the left part of the header is
    whatever the client sent and proves nothing). Without trusted proxies configured the
    header is ignored, so a visitor cannot pick their own address."""
    peer = request.META.get("REMOTE_ADDR") or None
    trusted = settings.TRUSTED_PROXIES
    if not trusted or peer is None or not _in(peer, trusted):
        return peer
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _valid(hop):
            return peer  # a malformed header from a trusted proxy: do not guess
        if not _in(hop, trusted):
            return hop
    return peer


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _in(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
