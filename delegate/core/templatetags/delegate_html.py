from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from delegate.core.html import sanitize_html

register = template.Library()


@register.filter
def clean_html(value: str | None) -> SafeString:
    """Stored HTML is sanitised when it is written; sanitising again when it is shown
    means a row written some other way can never carry a script to a browser."""
    return mark_safe(sanitize_html(value or ""))  # noqa: S308 - sanitised just now
