"""Emails about bookings and appointments, with iCalendar attachments that calendar apps
apply (RFC 5546 iTIP: REQUEST to add or update, CANCEL to remove; same UID, higher
SEQUENCE)."""

from __future__ import annotations

import datetime as dt
import logging
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from delegate.agencies.models import Member
from delegate.scheduling import ical, sms
from delegate.scheduling.models import Booking, BookingNotice, Event, InvitationDelivery

logger = logging.getLogger(__name__)

HEADERS = {"Auto-Submitted": "auto-generated"}


def organizer_email() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "delegate@localhost"


def invitation_ics(event: Event, *, method: str) -> bytes:
    """A one-event iTIP message. The organizer is the agency's sending address."""
    if not event.organizer:
        event.organizer = organizer_email()
    if method == "CANCEL":
        event.status = Event.Status.CANCELLED
    return ical.calendar_bytes([event], event.calendar.zone, method=method)


def attach_ics(email: EmailMessage, data: bytes, method: str) -> None:
    email.attach("invite.ics", data, f"text/calendar; charset=utf-8; method={method}")


def send_booking_notice(booking_id: str, kind: str, sequence: int, offset: int = 0) -> bool:
    """Send the ``kind`` email of a booking once per (kind, sequence, reminder offset);
    False if it was sent already or no longer applies (a later change superseded it)."""
    booking = _current(booking_id, sequence)
    if booking is None:
        return False
    if kind == BookingNotice.Kind.REMINDER and booking.status != Booking.Status.CONFIRMED:
        return False
    try:
        with transaction.atomic():
            BookingNotice.objects.create(
                agency_id=booking.agency_id,
                booking=booking,
                kind=kind,
                sequence=sequence,
                offset_minutes=offset,
                recipient=booking.email,
            )
            _send(booking, kind)
    except IntegrityError:
        return False
    return True


def _current(booking_id: str, sequence: int) -> Booking | None:
    booking = (
        Booking.objects.select_related("event_type__client__agency", "event__calendar")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None or booking.sequence != sequence:
        return None
    return booking


def _send(booking: Booking, kind: str) -> None:
    from delegate.scheduling.services import booking_token

    event_type = booking.event_type
    zone = ZoneInfo(booking.time_zone)
    manage = settings.SITE_URL + reverse("booking:manage", args=[booking_token(booking)])
    with translation.override(booking.language), timezone.override(zone):
        context = {
            "booking": booking,
            "event_type": event_type,
            "client": event_type.client,
            "starts": booking.starts_at.astimezone(zone),
            "ends": booking.ends_at.astimezone(zone),
            "time_zone": booking.time_zone,
            "manage_url": manage,
            "kind": kind,
        }
        subject = render_to_string("scheduling/email/booking_subject.txt", context)
        body = render_to_string("scheduling/email/booking.txt", context)
    email = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[booking.email],
        headers=HEADERS,
    )
    if booking.event is not None and kind != BookingNotice.Kind.REMINDER:
        method = "CANCEL" if kind == BookingNotice.Kind.CANCELLED else "REQUEST"
        attach_ics(email, invitation_ics(booking.event, method=method), method)
    email.send(fail_silently=False)


def staff_recipients(booking: Booking) -> list[Member]:
    """Who hears of a visitor's booking: the client's primary assistant, else the
    backup, else the agency's owners and dispatchers (active members only)."""
    client = booking.event_type.client
    for member in (client.primary_assistant, client.backup_assistant):
        if member is not None and member.is_active:
            return [member]
    return list(
        Member.objects.filter(
            agency_id=booking.agency_id,
            is_active=True,
            role__in=[Member.Role.OWNER, Member.Role.DISPATCHER],
        ).select_related("user")
    )


def send_staff_notice(booking_id: str, kind: str, sequence: int) -> bool:
    """Tell the client's assistant that a visitor booked, moved or cancelled on the
    public page; once per (kind, sequence), recorded like the visitor's emails."""
    booking = _current(booking_id, sequence)
    if booking is None:
        return False
    members = staff_recipients(booking)
    if not members:
        return False
    try:
        with transaction.atomic():
            BookingNotice.objects.create(
                agency_id=booking.agency_id,
                booking=booking,
                kind=kind,
                channel=BookingNotice.Channel.STAFF,
                sequence=sequence,
                recipient=", ".join(m.user.email for m in members)[:254],
            )
            for member in members:
                _send_staff(booking, kind, member)
    except IntegrityError:
        return False
    return True


def _send_staff(booking: Booking, kind: str, member: Member) -> None:
    event_type = booking.event_type
    zone = ZoneInfo(event_type.time_zone)
    link = settings.SITE_URL + reverse("scheduling:event_type", args=[event_type.pk])
    with translation.override(member.user.language), timezone.override(zone):
        context = {
            "booking": booking,
            "event_type": event_type,
            "client": event_type.client,
            "starts": booking.starts_at.astimezone(zone),
            "ends": booking.ends_at.astimezone(zone),
            "time_zone": zone.key,
            "kind": kind,
            "link": link,
        }
        subject = render_to_string("scheduling/email/staff_booking_subject.txt", context)
        body = render_to_string("scheduling/email/staff_booking.txt", context)
    EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[member.user.email],
        headers=HEADERS,
    ).send(fail_silently=False)


def send_due_reminders(now: dt.datetime | None = None) -> int:
    """Remind visitors of confirmed bookings whose reminder time has come and whose
    appointment lies ahead: by email, and by SMS where the visitor gave a phone number
    and the agency has an SMS number. One reminder per booking version, offset and
    channel; safe to run twice and on several machines. Returns how many were sent."""
    now = now or timezone.now()

    def reminded(channel: str) -> Exists:
        return Exists(
            BookingNotice.objects.filter(
                booking=OuterRef("pk"),
                kind=BookingNotice.Kind.REMINDER,
                channel=channel,
                sequence=OuterRef("sequence"),
                offset_minutes=OuterRef("event_type__reminder_minutes"),
            )
        )

    due = (
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED,
            starts_at__gt=now,
            starts_at__lte=now + dt.timedelta(days=8),
        )
        .alias(by_email=reminded("email"), by_sms=reminded("sms"))
        .filter(Q(by_email=False) | (~Q(phone="") & Q(by_sms=False)))
        .select_related("event_type__agency")
    )
    sent = 0
    for booking in due:
        offset = booking.event_type.reminder_minutes
        if booking.starts_at - dt.timedelta(minutes=offset) > now:
            continue
        sent += send_booking_notice(
            str(booking.pk), BookingNotice.Kind.REMINDER, booking.sequence, offset
        )
        if booking.phone and sms.sender_for(booking.event_type.agency):
            try:
                sent += sms.send_reminder(str(booking.pk), booking.sequence, offset)
            except Exception:  # the provider is down: the next run tries again
                logger.exception("SMS reminder for booking %s failed", booking.pk)
    return sent


def send_invitation(event: Event, *, method: str, recipients: list[str], language: str) -> None:
    """An appointment an assistant booked from a task, to its attendees."""
    zone = event.calendar.zone
    with translation.override(language), timezone.override(zone):
        context = {
            "event": event,
            "starts": event.starts_at.astimezone(zone),
            "ends": event.ends_at.astimezone(zone),
            "time_zone": zone.key,
            "method": method,
        }
        subject = render_to_string("scheduling/email/invitation_subject.txt", context)
        body = render_to_string("scheduling/email/invitation.txt", context)
    email = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers=HEADERS,
    )
    attach_ics(email, invitation_ics(event, method=method), method)
    email.send(fail_silently=False)


def send_invitation_once(event_id: str, method: str, sequence: int) -> bool:
    """Send the ``method`` message of version ``sequence`` of an appointment to its
    attendees, once; False if sent already or superseded by a later version."""
    event = Event.objects.select_related("calendar__client").filter(pk=event_id).first()
    if event is None or event.sequence != sequence or not event.attendees:
        return False
    client = event.calendar.client
    language = client.language if client is not None else settings.LANGUAGE_CODE
    try:
        with transaction.atomic():
            InvitationDelivery.objects.create(
                agency_id=event.agency_id, event=event, method=method, sequence=sequence
            )
            send_invitation(
                event,
                method=method,
                language=language,
                recipients=[a["email"] for a in event.attendees],
            )
    except IntegrityError:
        return False
    return True
