"""Login throttling: too many failed logins for one email or from one address within
the window → refuse further attempts until the window has passed."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from delegate.accounts.models import LoginAttempt


def _window_start() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)


def is_throttled(email: str, ip_address: str | None) -> bool:
    limit = settings.LOGIN_THROTTLE_MAX_FAILURES
    recent = LoginAttempt.objects.filter(attempted_at__gte=_window_start())
    if recent.filter(email=email.strip().lower()).count() >= limit:
        return True
    # An address gets more room: several people may share an office NAT.
    return bool(ip_address) and recent.filter(ip_address=ip_address).count() >= limit * 4


def record_failure(email: str, ip_address: str | None) -> None:
    LoginAttempt.objects.create(email=email.strip().lower()[:254], ip_address=ip_address)


def clear_failures(email: str) -> None:
    LoginAttempt.objects.filter(
        Q(email=email.strip().lower()) | Q(attempted_at__lt=_window_start())
    ).delete()
