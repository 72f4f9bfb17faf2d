from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def membership(request: HttpRequest) -> dict[str, Any]:
    return {
        "member": getattr(request, "member", None),
        "memberships": getattr(request, "memberships", []),
        "contact": getattr(request, "contact", None),
    }
