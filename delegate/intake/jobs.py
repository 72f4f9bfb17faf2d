"""Background jobs for intake. Thin: they take ids and call services."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from delegate.core.scheduler import register
from delegate.intake import services


@task()
def process_inbound(inbound_id: str) -> str | None:
    """Turn one stored inbound message into a task, a reply, a quarantine entry or an
    ignored automatic mail. Safe to run twice."""
    return services.process_inbound(inbound_id)


@task()
def enqueue_stale_inbound() -> int:
    """Re-enqueue messages whose processing job was lost (see ``enqueue_stale``)."""
    return services.enqueue_stale()


register("intake.stale", every=timedelta(minutes=1), task=enqueue_stale_inbound)
