"""Background jobs of the API."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from delegate.api.idempotency import cutoff
from delegate.api.models import IdempotencyKey
from delegate.core.scheduler import register


@task
def prune_idempotency_keys() -> int:
    """Delete idempotency keys older than ``settings.API_IDEMPOTENCY_TTL_HOURS``; returns
    how many. Safe to run twice or concurrently."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff()).delete()
    return deleted


register("api.prune_idempotency_keys", every=timedelta(hours=1), task=prune_idempotency_keys)
