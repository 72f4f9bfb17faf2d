from django import template

from delegate.billing.services import hours as to_hours

register = template.Library()


@register.filter
def hours(minutes: int) -> str:
    """Minutes as hours with two decimals, e.g. ``90`` → ``1.50 h``."""
    return f"{to_hours(minutes)} h"
