from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def reject_unknown_fields(fields: dict[str, Any], allowed: Iterable[str]) -> None:
    """Services take field changes as keyword arguments; a name they do not know is a
    caller's mistake and must not pass silently."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(
            _("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
