"""Background jobs for scheduling. Thin: they take ids and call services."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from delegate.core.scheduler import register
from delegate.scheduling import mail, sync


@task()
def send_booking_notice(booking_id: str, kind: str, sequence: int) -> bool:
    """Confirmation, change, cancellation or reminder email; sent once per version."""
    return mail.send_booking_notice(booking_id, kind, sequence)


@task()
def send_staff_booking_notice(booking_id: str, kind: str, sequence: int) -> bool:
    """Tell the client's assistant of a visitor's booking, change or cancellation."""
    return mail.send_staff_notice(booking_id, kind, sequence)


@task()
def send_invitation(event_id: str, method: str, sequence: int) -> bool:
    """The iTIP email of one version of an appointment; sent once."""
    return mail.send_invitation_once(event_id, method, sequence)


@task()
def push_calendar_event(event_id: str) -> bool:
    """Write a changed event to its CalDAV calendar."""
    return sync.push_event_by_id(event_id)


@task()
def delete_remote_object(calendar_id: str, href: str) -> bool:
    """Delete an object from a CalDAV calendar (its event was deleted in Delegate)."""
    return sync.delete_remote_object(calendar_id, href)


@task()
def send_booking_reminders() -> int:
    return mail.send_due_reminders()


@task()
def refresh_calendars() -> int:
    """Pull ICS feeds and CalDAV calendars whose refresh interval has passed."""
    return sync.refresh_due_calendars()


register("scheduling.reminders", every=timedelta(minutes=5), task=send_booking_reminders)
register("scheduling.refresh", every=timedelta(minutes=5), task=refresh_calendars)
