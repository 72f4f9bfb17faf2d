"""Background jobs for tasks. Thin: they take ids and call services."""

from __future__ import annotations

from django.tasks import task

from delegate.tasks import notifications


@task()
def notify_task_event(event_id: int) -> int:
    """Send the emails an event calls for. Safe to run twice (deliveries are recorded)."""
    return notifications.send_event_notifications(event_id)
