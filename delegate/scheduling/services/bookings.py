"""Bookings made on public booking pages: book, move, cancel, and the signed links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core import signing
from django.db import IntegrityError, transaction

from delegate.scheduling.models import Booking, Calendar, Event, EventType
from delegate.scheduling.services.availability import available_slots, deciding_calendars
from delegate.scheduling.services.events import push_on_commit, save_event

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
