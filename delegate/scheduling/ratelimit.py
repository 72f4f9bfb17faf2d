"""Rate limits of the public booking pages, counted in Django's cache: fixed windows of
``BOOKING_RATE_WINDOW_SECONDS``, one counter per client address (``client_address``:
behind ``TRUSTED_PROXIES``, from X-Forwarded-For) and one per booking page.
Without a shared cache (REDIS_URL) each web process counts for itself, so the effective
limit is the configured one times the number of processes."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from delegate.core.http import client_address


def _count(key: str, window: int) -> int:
    bucket = f"booking-rate:{key}:{int(time.time() // window)}"
    cache.add(bucket, 0, timeout=window + 1)
    try:
        return int(cache.incr(bucket))
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=window + 1)
        return 1


def allow(request: HttpRequest, page_key: str) -> bool:
    """Count one booking request from this address on this page; False when either
    limit is passed within the current window."""
    window = settings.BOOKING_RATE_WINDOW_SECONDS
    address = client_address(request) or "unknown"
    by_address = _count(f"ip:{address}", window)
    by_page = _count(f"page:{page_key}", window)
    return by_address <= settings.BOOKING_RATE_PER_IP and by_page <= settings.BOOKING_RATE_PER_PAGE


def retry_after() -> int:
    """Seconds until the current window ends."""
    window: int = settings.BOOKING_RATE_WINDOW_SECONDS
    return max(1, window - int(time.time()) % window)
