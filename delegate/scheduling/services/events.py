"""Calendars and events: create, change, delete, move or skip one occurrence, and the busy
time they make."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from delegate.agencies.models import Member
from delegate.clients.models import Client
from delegate.scheduling import ical
from delegate.scheduling.models import Calendar, Event, event_spec
from delegate.scheduling.recurrence import MAX_OCCURRENCES, Interval, expand, merge

# --- calendars and events ----------------------------------------------------------------

PASSWORD_MAX_LENGTH = 200  # plain; stored encrypted, which takes more room


def create_calendar(
    member: Member,
    *,
    name: str,
    client: Client | None = None,
    owner: Member | None = None,
    time_zone: str = "",
    source: str = Calendar.Source.LOCAL,
    source_url: str = "",
    username: str = "",
    password: str = "",
    refresh_minutes: int = 60,
) -> Calendar:
    """A calendar for ``client`` (anyone who sees the client) or for ``owner`` (only the
    owner themself or a manager). Exactly one of the two."""
    if (client is None) == (owner is None):
        raise ValueError("A calendar belongs to a client or to a member")
    member.require_same_agency(client, owner)
    if owner is not None and owner.pk != member.pk:
        member.require_manager()
    if not time_zone:
        if client is not None:
            time_zone = client.time_zone
        else:
            profile = getattr(owner, "profile", None)
            time_zone = profile.time_zone if profile else member.agency.time_zone
    calendar = Calendar(
        agency_id=member.agency_id,
        client=client,
        member=owner,
        name=name,
        time_zone=time_zone,
        source=source,
        source_url=source_url,
        username=username,
        refresh_minutes=refresh_minutes,
    )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise ValidationError({"password": [_("The password is too long.")]})
    calendar.set_password(password)
    calendar.full_clean()
    calendar.save()
    return calendar


def save_event(
    member: Member | None,
    calendar: Calendar,
    *,
    summary: str,
    starts_at: dt.datetime | dt.date,
    ends_at: dt.datetime | dt.date,
    uid: str = "",
    recurrence_id: str = "",
    **values: Any,
) -> Event:
    """Create or update (by ``uid`` and ``recurrence_id``) an event of ``calendar``.
    Timed events take aware datetimes (their zone becomes the event's ``tzid``), all-day
    events dates (end exclusive). Other ``values``: rrule, exdates, location, description,
    attendees, organizer, is_busy, status. ``member`` None is the system (sync, bookings)."""
    if member is not None:
        member.require_same_agency(calendar)
        if not calendar.is_writable:
            raise ValidationError(_("This calendar mirrors a feed and is read-only."))
    zone = calendar.zone
    fields = dict(values, summary=summary)
    if isinstance(starts_at, dt.datetime):
        if starts_at.tzinfo is None or not isinstance(ends_at, dt.datetime):
            raise ValidationError(_("Times need a time zone."))
        fields.update(
            is_all_day=False,
            tzid=getattr(starts_at.tzinfo, "key", "UTC"),
            starts_at=starts_at.astimezone(dt.UTC),
            ends_at=ends_at.astimezone(dt.UTC),
        )
    else:
        fields.update(
            is_all_day=True,
            tzid="",
            starts_at=ical._aware(starts_at, zone),
            ends_at=ical._aware(ends_at, zone),
        )
    if fields["ends_at"] <= fields["starts_at"]:
        raise ValidationError(_("An event must end after it starts."))
    if fields.get("rrule"):
        try:
            rrulestr(
                fields["rrule"],
                dtstart=starts_at
                if isinstance(starts_at, dt.datetime)
                else dt.datetime.combine(starts_at, dt.time()),
            )
        except (ValueError, TypeError) as exc:
            raise ValidationError(_("The repeat rule is not valid.")) from exc
    with transaction.atomic():
        event = (
            Event.objects.filter(calendar=calendar, uid=uid, recurrence_id=recurrence_id).first()
            if uid
            else None
        )
        if event is None:
            event = Event(
                agency_id=calendar.agency_id,
                calendar=calendar,
                uid=uid or ical.new_uid(),
                recurrence_id=recurrence_id,
            )
        elif "sequence" not in fields:
            fields["sequence"] = event.sequence + 1
        for name, value in fields.items():
            setattr(event, name, value)
        set_range(event, zone)
        event.save()
        push_on_commit(calendar, event)
    return event


def push_on_commit(calendar: Calendar, event: Event) -> None:
    """A change made in Delegate to a CalDAV calendar goes to the server after commit
    (changes pulled from the server are stored by ``sync`` without coming back here)."""
    from delegate.scheduling.jobs import push_calendar_event

    if calendar.source == Calendar.Source.CALDAV:
        event_id = str(event.pk)
        transaction.on_commit(lambda: push_calendar_event.enqueue(event_id))


def set_range(event: Event, zone: ZoneInfo) -> None:
    """The window all occurrences of ``event`` fall in (``range_end`` None: endless).
    An override also covers the occurrence it replaces."""
    length = event.ends_at - event.starts_at
    slack = dt.timedelta(days=1) if event.is_all_day or not event.tzid else dt.timedelta()
    event.range_start = event.starts_at - slack
    event.range_end = event.ends_at + slack
    if event.recurrence_id:
        from delegate.scheduling.models import parse_when

        replaced = ical._aware(parse_when(event.recurrence_id), zone)
        event.range_start = min(event.range_start, replaced - dt.timedelta(days=1))
        event.range_end = max(event.range_end, replaced + length + dt.timedelta(days=1))
    if event.rrule:
        spec = event.spec(zone)
        start = (
            spec.start
            if isinstance(spec.start, dt.datetime)
            else dt.datetime.combine(spec.start, dt.time())
        )
        rule = rrulestr(event.rrule, dtstart=start, forceset=False)
        bounded = "COUNT=" in event.rrule.upper() or "UNTIL=" in event.rrule.upper()
        last = None
        if bounded:
            for count, occurrence in enumerate(rule):
                last = occurrence
                if count >= MAX_OCCURRENCES:
                    break
        event.range_end = (
            ical._aware(last, zone) + length + dt.timedelta(days=1) if last is not None else None
        )


def delete_event(member: Member, event: Event) -> None:
    """Delete an event with the overrides of its occurrences; on a CalDAV calendar the
    server's object goes too, after commit. An override (one moved occurrence) is not
    deleted alone: that occurrence is cancelled on its master instead."""
    from delegate.scheduling.jobs import delete_remote_object
    from delegate.scheduling.models import parse_when

    member.require_same_agency(event)
    calendar = event.calendar
    if event.recurrence_id:
        master = Event.objects.filter(calendar=calendar, uid=event.uid, recurrence_id="").first()
        if master is not None and master.rrule:
            occurrence = ical._aware(parse_when(event.recurrence_id), calendar.zone)
            skip_occurrence(member, master, occurrence=occurrence)
            return
    with transaction.atomic():
        Event.objects.filter(calendar=calendar, uid=event.uid).delete()
        if calendar.source == Calendar.Source.CALDAV and event.href:
            calendar_id, href = str(calendar.pk), event.href
            transaction.on_commit(lambda: delete_remote_object.enqueue(calendar_id, href))


def events_touching(calendar: Calendar, *, start: dt.datetime, end: dt.datetime) -> Any:
    """The stored events of ``calendar`` that can have an occurrence in ``[start, end)``."""
    return calendar.events.filter(touching(start, end))


def touching(start: dt.datetime, end: dt.datetime) -> Q:
    """Events that can have an occurrence in ``[start, end)`` (no ``range_end``: repeats
    forever)."""
    return Q(range_start__lt=end) & (Q(range_end__isnull=True) | Q(range_end__gt=start))


def skip_occurrence(member: Member, event: Event, *, occurrence: dt.datetime) -> Event:
    """Cancel one occurrence of a recurring event (an EXDATE; calendar apps get the new
    version with SEQUENCE + 1). An override of that occurrence (it was moved) goes too."""
    member.require_same_agency(event)
    if not event.rrule or event.recurrence_id:
        raise ValidationError(_("Only a repeating event has occurrences to skip."))
    value = occurrence_value(event, occurrence)
    with transaction.atomic():
        event = Event.objects.select_for_update().select_related("calendar").get(pk=event.pk)
        overrides = Event.objects.filter(
            calendar_id=event.calendar_id, uid=event.uid, recurrence_id=value
        )
        if value not in event.exdates or overrides.exists():
            overrides.delete()
            event.exdates = [*event.exdates, value] if value not in event.exdates else event.exdates
            event.sequence += 1
            event.save(update_fields=["exdates", "sequence", "updated_at"])
            push_on_commit(event.calendar, event)
    return event


EDITABLE_FIELDS = (
    "description", "location", "rrule", "exdates", "is_busy", "status", "attendees", "organizer",
)  # fmt: skip


def _local_times(event: Event) -> tuple[dt.datetime | dt.date, dt.datetime | dt.date]:
    """The event's start and end as ``save_event`` takes them: dates for all-day events,
    times in the event's own zone otherwise."""
    zone = event.calendar.zone
    if event.is_all_day:
        return event.starts_at.astimezone(zone).date(), event.ends_at.astimezone(zone).date()
    return event.starts_at.astimezone(event.zone), event.ends_at.astimezone(event.zone)


def update_event(member: Member, event: Event, **changes: Any) -> Event:
    """Change an event (a master, a single event or an override): ``changes`` holds the
    fields to set (summary, starts_at/ends_at as ``save_event`` takes them, and any of
    ``EDITABLE_FIELDS``); the rest stay. SEQUENCE goes up, attendees' calendar apps and a
    CalDAV server get the new version."""
    member.require_same_agency(event)
    unknown = set(changes) - {"summary", "starts_at", "ends_at", *EDITABLE_FIELDS}
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    start, end = _local_times(event)
    values: dict[str, Any] = {name: getattr(event, name) for name in EDITABLE_FIELDS}
    values.update(summary=event.summary, starts_at=start, ends_at=end)
    values.update(changes)
    if event.recurrence_id:
        values.pop("rrule")  # an override is one occurrence
    return save_event(
        member, event.calendar, uid=event.uid, recurrence_id=event.recurrence_id, **values
    )


def occurrence_value(event: Event, occurrence: dt.datetime) -> str:
    """An occurrence's start as stored in EXDATE and RECURRENCE-ID: the date of an
    all-day event, else the time in the event's own zone."""
    zone = event.calendar.zone
    if event.is_all_day:
        return occurrence.astimezone(zone).date().isoformat()
    return occurrence.astimezone(event.zone).isoformat()


def _is_occurrence(event: Event, occurrence: dt.datetime) -> bool:
    from delegate.scheduling.recurrence import occurrences

    zone = event.calendar.zone
    moment = int(occurrence.timestamp())
    found = occurrences([event.spec(zone)], zone=zone, start=moment, end=moment + 1)
    return any(o.start == moment for o in found)


def move_occurrence(
    member: Member,
    event: Event,
    *,
    occurrence: dt.datetime,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    summary: str | None = None,
) -> Event:
    """Move one occurrence (starting at ``occurrence``) of a recurring event: an override
    with RECURRENCE-ID set to it; the other occurrences stay. Moving it again changes
    the same override."""
    member.require_same_agency(event)
    if not event.rrule or event.recurrence_id:
        raise ValidationError(_("Only a repeating event has occurrences to move."))
    if event.is_all_day:
        raise ValidationError(_("Occurrences of all-day events can only be skipped."))
    value = occurrence_value(event, occurrence)
    existing = Event.objects.filter(
        calendar_id=event.calendar_id, uid=event.uid, recurrence_id=value
    ).first()
    if existing is None and not _is_occurrence(event, occurrence):
        raise ValidationError(_("The event does not take place at that time."))
    zone = event.zone
    return save_event(
        member,
        event.calendar,
        summary=event.summary if summary is None else summary,
        starts_at=starts_at.astimezone(zone),
        ends_at=ends_at.astimezone(zone),
        uid=event.uid,
        recurrence_id=value,
        description=event.description,
        location=event.location,
        is_busy=event.is_busy,
        attendees=event.attendees,
        organizer=event.organizer,
        status=Event.Status.CONFIRMED,
        sequence=(existing.sequence if existing else event.sequence) + 1,
    )


def busy_intervals(calendars: Iterable[Calendar], *, start: int, end: int) -> list[Interval]:
    """Busy time of ``calendars`` in ``[start, end)`` (Unix seconds), merged."""
    lo = dt.datetime.fromtimestamp(start, tz=dt.UTC)
    hi = dt.datetime.fromtimestamp(end, tz=dt.UTC)
    calendars = list(calendars)
    rows: dict[Any, list[tuple[Any, ...]]] = {c.pk: [] for c in calendars}
    events = (
        Event.objects.filter(touching(lo, hi), calendar__in=[c.pk for c in calendars])
        .exclude(is_busy=False, recurrence_id="")
        .values_list("calendar_id", *Event.SPEC_FIELDS)
    )
    for row in events:
        rows[row[0]].append(row[1:])
    intervals: list[Interval] = []
    for calendar in calendars:
        zone = calendar.zone
        specs = [event_spec(row, zone) for row in rows[calendar.pk]]
        intervals.extend(expand(specs, zone=zone, start=start, end=end))
    return merge(intervals)
