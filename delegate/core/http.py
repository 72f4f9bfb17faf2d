"""Helpers shared by the HTML views: the acting identity, required roles."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

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
