"""Writes on time entries: timers, manual entries, edits and approval.

Callers fetch the task through ``delegate.access.access_task`` and entries through
``access_time_entry``; the services check the rest (same agency, own entry or a
manager, nothing approved is changed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from delegate.agencies.models import Member
from delegate.clients.models import Contact
from delegate.tasks.models import Task
from delegate.timetracking.models import TimeEntry

MAX_ENTRY_MINUTES = 24 * 60
EDITABLE_FIELDS = ("started_at", "minutes", "is_billable", "note")


def _minutes_between(start: dt.datetime, end: dt.datetime) -> int:
    return max(0, int((end - start).total_seconds() // 60))


def running_timer(member: Member) -> TimeEntry | None:
    return (
        TimeEntry.objects.filter(agency_id=member.agency_id, member=member, ended_at__isnull=True)
        .select_related("task")
        .first()
    )


def start_timer(member: Member, task: Task, *, note: str = "") -> TimeEntry:
    """Start the member's timer on ``task``; a timer running elsewhere is stopped first
    (one runs per member: the database refuses a second)."""
    member.require_same_agency(task)
    now = timezone.now()
    try:
        with transaction.atomic():
            _stop(member, now)
            return TimeEntry.objects.create(
                agency_id=member.agency_id,
                task=task,
                client_id=task.client_id,
                member=member,
                started_at=now,
                note=note.strip()[:500],
            )
    except IntegrityError:
        # A concurrent request of the same member started one in between.
        raise ValidationError(_("A timer is already running.")) from None


def stop_timer(member: Member) -> TimeEntry | None:
    """Stop the member's running timer, if any, and return it."""
    with transaction.atomic():
        return _stop(member, timezone.now())


def _stop(member: Member, now: dt.datetime) -> TimeEntry | None:
    entry = (
        TimeEntry.objects.select_for_update()
        .filter(agency_id=member.agency_id, member=member, ended_at__isnull=True)
        .first()
    )
    if entry is None:
        return None
    entry.ended_at = max(now, entry.started_at)
    entry.minutes = min(_minutes_between(entry.started_at, entry.ended_at), MAX_ENTRY_MINUTES)
    entry.save(update_fields=["ended_at", "minutes", "updated_at"])
    return entry


def _clean(started_at: Any, minutes: Any, note: Any) -> None:
    errors: dict[str, str] = {}
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        errors["minutes"] = _("Enter whole minutes.")
    elif not 1 <= minutes <= MAX_ENTRY_MINUTES:
        errors["minutes"] = _("Enter between 1 and 1440 minutes.")
    if not isinstance(started_at, dt.datetime) or timezone.is_naive(started_at):
        errors["started_at"] = _("Enter a date and time.")
    elif started_at > timezone.now() + dt.timedelta(minutes=5):
        errors["started_at"] = _("Time cannot be logged in the future.")
    if not isinstance(note, str) or len(note) > 500:
        errors["note"] = _("The note is too long.")
    if errors:
        raise ValidationError(errors)


def log_time(
    member: Member,
    task: Task,
    *,
    started_at: dt.datetime,
    minutes: int,
    is_billable: bool = True,
    note: str = "",
) -> TimeEntry:
    """Record time worked on ``task`` by hand."""
    member.require_same_agency(task)
    _clean(started_at, minutes, note)
    return TimeEntry.objects.create(
        agency_id=member.agency_id,
        task=task,
        client_id=task.client_id,
        member=member,
        started_at=started_at,
        ended_at=started_at + dt.timedelta(minutes=minutes),
        minutes=minutes,
        is_billable=is_billable,
        note=note.strip(),
    )


def _require_editable(member: Member, entry: TimeEntry) -> None:
    member.require_same_agency(entry)
    if entry.member_id != member.pk and not member.is_manager:
        raise PermissionDenied("Only the assistant or a manager changes an entry")
    if entry.is_approved:
        raise ValidationError(_("Approved time can no longer be changed."))
    if entry.is_running:
        raise ValidationError(_("Stop the timer first."))


def update_entry(member: Member, entry: TimeEntry, **changes: Any) -> TimeEntry:
    """Change an entry's start, minutes, billable flag or note until it is approved.
    The row is locked and checked again, so an approval in between wins."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic():
        entry = TimeEntry.objects.select_for_update().get(pk=entry.pk)
        _require_editable(member, entry)
        for field, value in changes.items():
            setattr(entry, field, value)
        _clean(entry.started_at, entry.minutes, entry.note)
        entry.ended_at = entry.started_at + dt.timedelta(minutes=entry.minutes)
        entry.save()
    return entry


def delete_entry(member: Member, entry: TimeEntry) -> None:
    with transaction.atomic():
        entry = TimeEntry.objects.select_for_update().get(pk=entry.pk)
        _require_editable(member, entry)
        entry.delete()


def approve_entries(actor: Member | Contact, entries: Iterable[TimeEntry]) -> int:
    """Approve finished entries: a manager of the agency, or a contact of the entries'
    client (client approval in the portal). Returns how many were newly approved;
    approving twice changes nothing."""
    ids = [entry.pk for entry in entries]
    rows = TimeEntry.objects.filter(
        pk__in=ids, agency_id=actor.agency_id, ended_at__isnull=False, approved_at__isnull=True
    )
    if isinstance(actor, Contact):
        rows = rows.filter(client_id=actor.client_id)
        who: dict[str, Any] = {"approved_by_contact": actor}
    else:
        actor.require_manager()
        who = {"approved_by_member": actor}
    now = timezone.now()
    return rows.update(approved_at=now, updated_at=now, **who)


@dataclass
class TaskTime:
    minutes: int  # finished entries
    billable_minutes: int
    running: list[TimeEntry]
    entries: list[TimeEntry]

    def total_at(self, now: dt.datetime) -> int:
        return self.minutes + sum(entry.elapsed_minutes(now) for entry in self.running)


def task_time(task: Task) -> TaskTime:
    """All time on a task: finished minutes, billable minutes and running timers."""
    entries = list(
        TimeEntry.objects.filter(agency_id=task.agency_id, task=task)
        .select_related("member__user")
        .order_by("-started_at")
    )
    finished = [entry for entry in entries if not entry.is_running]
    return TaskTime(
        minutes=sum(entry.minutes for entry in finished),
        billable_minutes=sum(entry.minutes for entry in finished if entry.is_billable),
        running=[entry for entry in entries if entry.is_running],
        entries=entries,
    )


def client_minutes(client_id: Any, start: dt.datetime, end: dt.datetime) -> int:
    """Finished billable minutes of a client's entries started in ``[start, end)``."""
    total = TimeEntry.objects.filter(
        client_id=client_id,
        started_at__gte=start,
        started_at__lt=end,
        ended_at__isnull=False,
        is_billable=True,
    ).aggregate(total=Sum("minutes"))["total"]
    return int(total or 0)
