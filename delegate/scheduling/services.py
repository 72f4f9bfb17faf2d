"""Calendars, events, availability and bookings.

Member-facing services take the acting member first and check what they are handed
(``require_same_agency``); the public booking services take the event type or booking a
public slug or signed token resolved to, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from dateutil.rrule import rrulestr
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from delegate.agencies.models import Member
from delegate.clients.models import Client
from delegate.scheduling import ical
from delegate.scheduling.models import Booking, Calendar, Event, EventType, event_spec
from delegate.scheduling.recurrence import MAX_OCCURRENCES, Interval, expand, merge
from delegate.scheduling.slots import Rules, free_slots

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


# --- availability ----------------------------------------------------------------------


def parse_hours(working_hours: dict[str, Any]) -> dict[int, list[tuple[dt.time, dt.time]]]:
    hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for day, blocks in working_hours.items():
        hours[int(day)] = [
            (dt.time.fromisoformat(opens), dt.time.fromisoformat(closes))
            for opens, closes in blocks
        ]
    return hours


DEFAULT_HOURS = {str(day): [["09:00", "17:00"]] for day in range(5)}


def holiday_dates(region: str, years: Iterable[int]) -> frozenset[dt.date]:
    """Public holidays of ``region`` ("DE", "DE-BY", "AT-9"); empty if none is set."""
    if not region:
        return frozenset()
    return _holiday_dates(region, frozenset(years))


@functools.lru_cache(maxsize=256)
def _holiday_dates(region: str, years: frozenset[int]) -> frozenset[dt.date]:
    country, _sep, subdivision = region.upper().partition("-")
    try:
        days = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=list(years))
    except NotImplementedError:
        return frozenset()
    return frozenset(days.keys())


def rules_for(event_type: EventType, now: dt.datetime) -> Rules:
    zone = ZoneInfo(event_type.time_zone)
    years = {now.year, (now + dt.timedelta(days=event_type.horizon_days + 1)).year}
    return Rules(
        zone=zone,
        weekly_hours=parse_hours(event_type.working_hours or DEFAULT_HOURS),
        duration=event_type.duration_minutes * 60,
        step=event_type.step_minutes * 60,
        buffer_before=event_type.buffer_before_minutes * 60,
        buffer_after=event_type.buffer_after_minutes * 60,
        min_notice=event_type.min_notice_minutes * 60,
        horizon=event_type.horizon_days * 86400,
        daily_limit=event_type.daily_limit,
        holidays=holiday_dates(event_type.holiday_region, years),
    )


def deciding_calendars(event_type: EventType) -> list[Calendar]:
    """The calendars that count as busy, always including the one bookings go into."""
    calendars = {c.pk: c for c in event_type.busy_calendars.all()}
    calendars.setdefault(event_type.target_calendar_id, event_type.target_calendar)
    return [calendars[pk] for pk in sorted(calendars, key=str)]


def available_slots(
    event_type: EventType,
    *,
    now: dt.datetime | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    calendars: Sequence[Calendar] | None = None,
) -> list[dt.datetime]:
    """Free start times (UTC) of ``event_type``, optionally narrowed to ``[start, end]``."""
    now = now or timezone.now()
    rules = rules_for(event_type, now)
    now_ts = int(now.timestamp())
    lo = now_ts + rules.min_notice
    hi = now_ts + rules.horizon
    if start is not None:
        lo = max(lo, int(start.timestamp()))
    if end is not None:
        hi = min(hi, int(end.timestamp()))
    if hi < lo:
        return []
    margin = rules.duration + rules.buffer_before + rules.buffer_after
    busy = busy_intervals(
        calendars if calendars is not None else deciding_calendars(event_type),
        start=lo - margin,
        end=hi + margin,
    )
    booked: list[int] = []
    if rules.daily_limit is not None:
        day_lo = dt.datetime.fromtimestamp(lo, tz=dt.UTC) - dt.timedelta(days=1)
        day_hi = dt.datetime.fromtimestamp(hi, tz=dt.UTC) + dt.timedelta(days=1)
        booked = [
            int(ts.timestamp())
            for ts in Booking.objects.filter(
                event_type=event_type,
                status=Booking.Status.CONFIRMED,
                starts_at__gte=day_lo,
                starts_at__lt=day_hi,
            ).values_list("starts_at", flat=True)
        ]
    slots = free_slots(rules, busy=busy, now=now_ts, booked=booked, start=lo, end=hi)
    return [dt.datetime.fromtimestamp(s, tz=dt.UTC) for s in slots]


# --- bookings --------------------------------------------------------------------------


class SlotUnavailable(Exception):
    """The chosen time is no longer free (booked by someone else a moment ago)."""


@dataclass(frozen=True)
class Visitor:
    name: str
    email: str
    answers: dict[str, str]
    language: str = "de"
    time_zone: str = "Europe/Berlin"
    phone: str = ""  # for SMS reminders; normalised to E.164 when booking


def _lock_and_check(
    event_type: EventType,
    starts_at: dt.datetime,
    now: dt.datetime | None,
    *,
    ignore: Booking | None = None,
) -> list[Calendar]:
    """Lock the deciding calendars (sorted, so two bookings never deadlock) and check the
    slot is still free. Must run inside a transaction. SQLite serialises writers anyway
    (transactions begin IMMEDIATE); PostgreSQL waits on the row locks."""
    calendars = deciding_calendars(event_type)
    locked = list(
        Calendar.objects.select_for_update().filter(pk__in=[c.pk for c in calendars]).order_by("pk")
    )
    calendars_for_check = locked
    if ignore is not None and ignore.event_id:
        # Rescheduling: the booking's own event must not block its new time.
        Event.objects.filter(pk=ignore.event_id).update(is_busy=False)
    if starts_at not in available_slots(
        event_type, now=now, start=starts_at, end=starts_at, calendars=calendars_for_check
    ):
        raise SlotUnavailable
    return locked


def book(
    event_type: EventType,
    *,
    starts_at: dt.datetime,
    visitor: Visitor,
    now: dt.datetime | None = None,
    by_visitor: bool = False,
) -> Booking:
    """Book ``starts_at`` for a visitor of the public page: one booking per slot, however
    many visitors race for it (the losers get :class:`SlotUnavailable`). Puts the event
    into the target calendar and sends the confirmation with an .ics on commit;
    ``by_visitor`` (the public page) also tells the client's assistant."""
    if not event_type.is_active:
        raise SlotUnavailable
    phone = ""
    if visitor.phone.strip():
        from delegate.clients.services import normalize_phone

        phone = normalize_phone(visitor.phone, region=event_type.agency.country)
    starts_at = starts_at.astimezone(dt.UTC)
    ends_at = starts_at + dt.timedelta(minutes=event_type.duration_minutes)
    with transaction.atomic():
        _lock_and_check(event_type, starts_at, now)
        try:
            with transaction.atomic():
                booking = Booking.objects.create(
                    agency_id=event_type.agency_id,
                    event_type=event_type,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    name=visitor.name,
                    email=visitor.email,
                    phone=phone,
                    answers=visitor.answers,
                    language=visitor.language,
                    time_zone=visitor.time_zone,
                )
        except IntegrityError:
            raise SlotUnavailable from None
        booking.event = _booking_event(event_type, booking)
        booking.save(update_fields=["event"])
        _notify_on_commit(booking, "confirmed", notify_staff=by_visitor)
    return booking


def _booking_event(event_type: EventType, booking: Booking) -> Event:
    zone = ZoneInfo(event_type.time_zone)
    answers = "\n".join(f"{q}: {a}" for q, a in booking.answers.items())
    return save_event(
        None,
        event_type.target_calendar,
        summary=f"{event_type.name}: {booking.name}",
        starts_at=booking.starts_at.astimezone(zone),
        ends_at=booking.ends_at.astimezone(zone),
        uid=f"booking-{booking.pk}@delegate",
        location=event_type.location,
        description=answers,
        attendees=[{"email": booking.email, "name": booking.name, "partstat": "ACCEPTED"}],
        sequence=booking.sequence,
        is_busy=True,
        status=Event.Status.CONFIRMED,
    )


def reschedule_booking(
    booking: Booking,
    *,
    starts_at: dt.datetime,
    now: dt.datetime | None = None,
    by_visitor: bool = False,
) -> Booking:
    """Move a confirmed booking to another free slot (``by_visitor``: through its signed
    link, and the client's assistant is told)."""
    event_type = booking.event_type
    starts_at = starts_at.astimezone(dt.UTC)
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if booking.status != Booking.Status.CONFIRMED:
            raise SlotUnavailable
        _lock_and_check(event_type, starts_at, now, ignore=booking)
        booking.starts_at = starts_at
        booking.ends_at = starts_at + dt.timedelta(minutes=event_type.duration_minutes)
        booking.sequence += 1
        try:
            with transaction.atomic():
                booking.save(update_fields=["starts_at", "ends_at", "sequence"])
        except IntegrityError:
            raise SlotUnavailable from None
        booking.event = _booking_event(event_type, booking)
        booking.save(update_fields=["event"])
        _notify_on_commit(booking, "rescheduled", notify_staff=by_visitor)
    return booking


def cancel_booking(booking: Booking, *, by_visitor: bool = False) -> Booking:
    """Cancel a booking (``by_visitor``: through its signed link, and the client's
    assistant is told); cancelling again changes nothing."""
    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        if booking.status == Booking.Status.CANCELLED:
            return booking
        booking.status = Booking.Status.CANCELLED
        booking.sequence += 1
        booking.save(update_fields=["status", "sequence"])
        if booking.event_id:
            Event.objects.filter(pk=booking.event_id).update(
                status=Event.Status.CANCELLED, sequence=booking.sequence
            )
            event = Event.objects.select_related("calendar").get(pk=booking.event_id)
            push_on_commit(event.calendar, event)
        _notify_on_commit(booking, "cancelled", notify_staff=by_visitor)
    return booking


def _notify_on_commit(booking: Booking, kind: str, *, notify_staff: bool = False) -> None:
    from delegate.scheduling.jobs import send_booking_notice, send_staff_booking_notice

    booking_id, sequence = str(booking.pk), booking.sequence
    transaction.on_commit(lambda: send_booking_notice.enqueue(booking_id, kind, sequence))
    if notify_staff:
        transaction.on_commit(lambda: send_staff_booking_notice.enqueue(booking_id, kind, sequence))


TOKEN_SALT = "delegate.scheduling.booking"


def booking_token(booking: Booking) -> str:
    """The secret in the reschedule/cancel links: the booking id, signed."""
    return signing.dumps(str(booking.pk), salt=TOKEN_SALT, compress=True)


def booking_from_token(token: str) -> Booking | None:
    try:
        booking_id = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    return (
        Booking.objects.select_related("event_type__client", "event_type__target_calendar")
        .filter(pk=booking_id)
        .first()
    )


# --- appointments from a task ----------------------------------------------------------

TASK_DEFAULTS = {"step_minutes": 30, "min_notice_minutes": 60, "horizon_days": 14}


def propose_times(
    member: Member,
    task: Any,
    *,
    duration_minutes: int = 60,
    count: int = 6,
    now: dt.datetime | None = None,
) -> list[dt.datetime]:
    """Free times of the task's client: all the client's calendars count as busy, the
    client's working hours (weekdays 09–17 in the client's zone) and holidays apply."""
    member.require_same_agency(task)
    client = task.client
    calendars = list(Calendar.objects.filter(agency_id=member.agency_id, client=client))
    if not calendars:
        return []
    probe = EventType(
        agency_id=client.agency_id,
        client=client,
        name="",
        duration_minutes=duration_minutes,
        time_zone=client.time_zone,
        working_hours=DEFAULT_HOURS,
        holiday_region=client.agency.country,
        target_calendar=calendars[0],
        **TASK_DEFAULTS,
    )
    slots = available_slots(probe, now=now, calendars=calendars)
    # Spread the proposals: at most two per day.
    chosen: list[dt.datetime] = []
    per_day: dict[dt.date, int] = {}
    zone = ZoneInfo(client.time_zone)
    for slot in slots:
        day = slot.astimezone(zone).date()
        if per_day.get(day, 0) < 2 and all(abs(slot - c) >= dt.timedelta(hours=2) for c in chosen):
            chosen.append(slot)
            per_day[day] = per_day.get(day, 0) + 1
        if len(chosen) >= count:
            break
    return chosen


def book_appointment(
    member: Member,
    task: Any,
    *,
    calendar: Calendar,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    summary: str,
    attendees: Sequence[str],
    location: str = "",
) -> Event:
    """Put an appointment into the client's calendar and invite ``attendees`` by email
    (iCalendar REQUEST). Noted on the task."""
    from delegate.tasks import services as task_services

    member.require_same_agency(task, calendar)
    if calendar.client_id != task.client_id or not calendar.is_writable:
        raise ValidationError(_("Choose a calendar of this client that Delegate can write to."))
    with transaction.atomic():
        event = save_event(
            member,
            calendar,
            summary=summary,
            starts_at=starts_at.astimezone(calendar.zone),
            ends_at=ends_at.astimezone(calendar.zone),
            location=location,
            organizer=_organizer(),
            attendees=[{"email": a, "name": "", "partstat": "NEEDS-ACTION"} for a in attendees],
            task=task,
        )
        when = starts_at.astimezone(calendar.zone)
        task_services.post_message(
            member,
            task,
            is_internal=True,
            text=_("Appointment booked: %(summary)s, %(when)s (%(zone)s), invited: %(who)s")
            % {
                "summary": summary,
                "when": when.strftime("%Y-%m-%d %H:%M"),
                "zone": calendar.time_zone,
                "who": ", ".join(attendees),
            },
        )
        _invite_on_commit(event, "REQUEST")
    return event


def reschedule_appointment(
    member: Member, event: Event, *, starts_at: dt.datetime, ends_at: dt.datetime
) -> Event:
    """Move an appointment; attendees get the updated REQUEST (same UID, SEQUENCE + 1)
    and its task a note."""
    member.require_same_agency(event)
    if event.status == Event.Status.CANCELLED:
        raise ValidationError(_("This appointment was cancelled."))
    zone = event.calendar.zone
    with transaction.atomic():
        event = save_event(
            member,
            event.calendar,
            summary=event.summary,
            uid=event.uid,
            starts_at=starts_at.astimezone(zone),
            ends_at=ends_at.astimezone(zone),
        )
        _note_on_task(
            member,
            event,
            _("Appointment moved: %(summary)s, now %(when)s (%(zone)s)"),
        )
        _invite_on_commit(event, "REQUEST")
    return event


def cancel_appointment(member: Member, event: Event) -> Event:
    """Cancel an appointment; attendees get a CANCEL their calendar app applies, its
    task a note. Cancelling again changes nothing."""
    member.require_same_agency(event)
    with transaction.atomic():
        event = Event.objects.select_for_update().select_related("calendar").get(pk=event.pk)
        if event.status == Event.Status.CANCELLED:
            return event
        event.status = Event.Status.CANCELLED
        event.sequence += 1
        event.save(update_fields=["status", "sequence", "updated_at"])
        push_on_commit(event.calendar, event)
        _note_on_task(member, event, _("Appointment cancelled: %(summary)s, %(when)s (%(zone)s)"))
        _invite_on_commit(event, "CANCEL")
    return event


def _note_on_task(member: Member, event: Event, text: str) -> None:
    from delegate.tasks import services as task_services

    if event.task is None:
        return
    zone = event.calendar.zone
    when = event.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    task_services.post_message(
        member,
        event.task,
        is_internal=True,
        text=text % {"summary": event.summary, "when": when, "zone": zone.key},
    )


def _organizer() -> str:
    from delegate.scheduling.mail import organizer_email

    return organizer_email()


def _invite_on_commit(event: Event, method: str) -> None:
    from delegate.scheduling.jobs import send_invitation

    event_id, sequence = str(event.pk), event.sequence
    transaction.on_commit(lambda: send_invitation.enqueue(event_id, method, sequence))


def save_event_type(
    member: Member,
    client: Client,
    *,
    instance: EventType,
    busy_calendars: Iterable[Calendar],
    working_hours: dict[str, Any],
    questions: list[str],
) -> EventType:
    """Create or change a booking page of ``client``. Its calendars must be the client's."""
    member.require_same_agency(client)
    calendars = list(busy_calendars)
    for calendar in [*calendars, instance.target_calendar]:
        if calendar.agency_id != member.agency_id or calendar.client_id != client.pk:
            raise ValidationError(_("Use calendars of this client."))
    try:
        parse_hours(working_hours)
    except (ValueError, TypeError) as exc:
        raise ValidationError({"working_hours": [_("Write hours like 09:00.")]}) from exc
    instance.agency_id = member.agency_id
    instance.client = client
    instance.working_hours = working_hours
    instance.questions = questions
    instance.full_clean(exclude=["busy_calendars"])
    with transaction.atomic():
        instance.save()
        instance.busy_calendars.set(calendars)
    return instance


# --- assistants' availability ----------------------------------------------------------


def assistant_free_slots(
    member: Member,
    assistant: Member,
    *,
    duration_minutes: int,
    start: dt.datetime,
    end: dt.datetime,
    step_minutes: int = 15,
    now: dt.datetime | None = None,
) -> list[dt.datetime]:
    """When ``assistant`` could take ``duration_minutes`` of work between ``start`` and
    ``end``: their weekly working hours in their own zone, minus their absences and
    public holidays of their region, minus busy time in their own calendars. For routing
    and for proposing times; reveals free/busy only, so any colleague may ask."""
    from delegate.agencies.models import Absence, AssistantProfile, WorkingHours

    member.require_same_agency(assistant)
    now = now or timezone.now()
    profile = AssistantProfile.objects.filter(member=assistant).first()
    zone = ZoneInfo(profile.time_zone if profile else assistant.agency.time_zone)
    hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
    if profile is not None:
        for block in WorkingHours.objects.filter(profile=profile):
            hours.setdefault(block.weekday, []).append((block.starts_at, block.ends_at))
    local_first = start.astimezone(zone).date() - dt.timedelta(days=1)
    local_last = end.astimezone(zone).date() + dt.timedelta(days=1)
    days_off: set[dt.date] = set()
    for absence in Absence.objects.filter(
        member=assistant, starts_on__lte=local_last, ends_on__gte=local_first
    ):
        day = absence.starts_on
        while day <= absence.ends_on:
            days_off.add(day)
            day += dt.timedelta(days=1)
    region = profile.holiday_region if profile else ""
    rules = Rules(
        zone=zone,
        weekly_hours=hours,
        duration=duration_minutes * 60,
        step=step_minutes * 60,
        horizon=max(0, int((end - now).total_seconds())),
        holidays=holiday_dates(region, range(local_first.year, local_last.year + 1))
        | frozenset(days_off),
    )
    lo, hi = int(start.timestamp()), int(end.timestamp())
    calendars = Calendar.objects.filter(agency_id=assistant.agency_id, member=assistant)
    busy = busy_intervals(calendars, start=lo - rules.duration, end=hi + rules.duration)
    slots = free_slots(rules, busy=busy, now=int(now.timestamp()), start=lo, end=hi)
    return [dt.datetime.fromtimestamp(s, tz=dt.UTC) for s in slots]


def send_proposals(member: Member, task: Any, *, times: Sequence[dt.datetime]) -> Any:
    """Offer ``times`` to the client as a message on the task, written in the client's
    language and time zone (the client answers in the conversation; the assistant then
    books the chosen one)."""
    from django.utils import formats, translation

    from delegate.tasks import services as task_services

    member.require_same_agency(task)
    if not times:
        raise ValidationError(_("Choose at least one time to propose."))
    client = task.client
    zone = ZoneInfo(client.time_zone)
    language = client.language
    if task.requester_id and task.requester.language:
        language = task.requester.language
    with translation.override(language):
        lines = [
            "- " + formats.date_format(t.astimezone(zone), "l, j. F Y, H:i") for t in sorted(times)
        ]
        text = "\n".join(
            [
                _("Which of these times suits you? (%(zone)s)") % {"zone": client.time_zone},
                "",
                *lines,
            ]
        )
    return task_services.post_message(member, task, text=text)
