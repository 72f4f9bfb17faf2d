from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from delegate.testing import Cast
from delegate.timetracking import services
from delegate.timetracking.models import TimeEntry


def _entry(cast: Cast, minutes: int = 30, **kwargs: object) -> TimeEntry:
    started = timezone.now() - dt.timedelta(hours=3)
    return services.log_time(cast.bob, cast.task, started_at=started, minutes=minutes, **kwargs)  # type: ignore[arg-type]


def test_it_runs_one_timer_per_member_and_stops_the_old_one(cast: Cast) -> None:
    first = services.start_timer(cast.bob, cast.task)
    other_task = cast.task.__class__.objects.create(
        agency=cast.agency_a, client=cast.acme, title="Second", channel="desk"
    )
    second = services.start_timer(cast.bob, other_task)
    first.refresh_from_db()
    assert first.ended_at is not None and second.ended_at is None
    assert TimeEntry.objects.filter(member=cast.bob, ended_at__isnull=True).count() == 1
    # The database itself refuses a second running timer.
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeEntry.objects.create(
            agency=cast.agency_a, task=cast.task, client=cast.acme, member=cast.bob,
            started_at=timezone.now(),
        )  # fmt: skip


def test_it_counts_whole_minutes_when_the_timer_stops(cast: Cast) -> None:
    entry = services.start_timer(cast.bob, cast.task)
    TimeEntry.objects.filter(pk=entry.pk).update(
        started_at=timezone.now() - dt.timedelta(minutes=42, seconds=30)
    )
    stopped = services.stop_timer(cast.bob)
    assert stopped is not None and stopped.minutes == 42
    assert services.stop_timer(cast.bob) is None
    assert services.task_time(cast.task).minutes == 42


def test_it_validates_manual_entries(cast: Cast) -> None:
    now = timezone.now()
    for bad in (
        {"minutes": 0, "started_at": now},
        {"minutes": 2000, "started_at": now},
        {"minutes": 10, "started_at": now + dt.timedelta(days=1)},
        {"minutes": 10, "started_at": dt.datetime(2026, 1, 1, 9)},  # naive
    ):
        with pytest.raises(ValidationError):
            services.log_time(cast.bob, cast.task, **bad)  # type: ignore[arg-type]
    assert TimeEntry.objects.count() == 0
    with pytest.raises(PermissionDenied):
        services.log_time(cast.mallory, cast.task, started_at=now, minutes=5)


def test_it_allows_edits_until_approved(cast: Cast) -> None:
    entry = _entry(cast)
    services.update_entry(cast.bob, entry, minutes=45, note="call", is_billable=False)
    entry.refresh_from_db()
    assert (entry.minutes, entry.note, entry.is_billable) == (45, "call", False)
    assert entry.ended_at == entry.started_at + dt.timedelta(minutes=45)
    # Only the assistant or a manager changes it.
    with pytest.raises(PermissionDenied):
        services.update_entry(cast.eve, entry, minutes=1)
    assert services.approve_entries(cast.alice, [entry]) == 1
    assert services.approve_entries(cast.alice, [entry]) == 0
    before = TimeEntry.objects.values().get(pk=entry.pk)
    with pytest.raises(ValidationError):
        services.update_entry(cast.bob, entry, minutes=10)
    with pytest.raises(ValidationError):
        services.delete_entry(cast.alice, entry)
    assert TimeEntry.objects.values().get(pk=entry.pk) == before


def test_it_lets_only_managers_or_the_clients_contacts_approve(cast: Cast) -> None:
    entry = _entry(cast)
    running = services.start_timer(cast.bob, cast.task)
    with pytest.raises(PermissionDenied):
        services.approve_entries(cast.bob, [entry])
    assert services.approve_entries(cast.gina, [entry]) == 0  # another client's contact
    assert services.approve_entries(cast.carol, [entry, running]) == 1  # not the running one
    entry.refresh_from_db()
    assert entry.approved_by_contact == cast.carol
    assert TimeEntry.objects.get(pk=running.pk).approved_at is None


def test_it_sums_client_minutes_in_a_window(cast: Cast) -> None:
    _entry(cast, 30)
    _entry(cast, 20, is_billable=False)
    now = timezone.now()
    assert services.client_minutes(cast.acme.pk, now - dt.timedelta(days=1), now) == 30
    assert services.client_minutes(cast.globex.pk, now - dt.timedelta(days=1), now) == 0
