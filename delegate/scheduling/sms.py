"""SMS reminders of bookings, through intake's Twilio-compatible provider adapter
(``delegate.intake.sms.send_sms``). Sent from the agency's first SMS number
(``INTAKE_SMS_NUMBERS``); an agency without one, or a deployment without a Twilio
account, sends no SMS."""

from __future__ import annotations

import urllib.error
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from delegate.agencies.models import Agency
from delegate.scheduling.models import Booking, BookingNotice


def sender_for(agency: Agency) -> str:
    """The number SMS of ``agency`` come from; empty if SMS is not set up for it."""
    from delegate.intake.sms import numbers_of

    if not settings.TWILIO_ACCOUNT_SID:
        return ""
    numbers = numbers_of(agency.slug)
    return numbers[0] if numbers else ""


def reminder_text(booking: Booking) -> str:
    from delegate.scheduling.services import booking_token

    event_type = booking.event_type
    zone = ZoneInfo(booking.time_zone)
    manage = settings.SITE_URL + reverse("booking:manage", args=[booking_token(booking)])
    with translation.override(booking.language), timezone.override(zone):
        text = render_to_string(
            "scheduling/sms/reminder.txt",
            {
                "event_type": event_type,
                "client": event_type.client,
                "starts": booking.starts_at.astimezone(zone),
                "time_zone": booking.time_zone,
                "manage_url": manage,
            },
        )
    return " ".join(text.split())


def send_reminder(booking_id: str, sequence: int, offset: int) -> int:
    """Send the SMS reminder of version ``sequence`` of a booking, due ``offset`` minutes
    before it starts, once: the notice row is inserted in the transaction that sends, so
    a second run (or a concurrent one) finds it and sends nothing. A refusal by the
    provider (4xx: a number it will not deliver to) is recorded as failed and not tried
    again; other errors propagate and roll the row back, so the next run retries.
    Returns 1 if sent, else 0."""
    from delegate.intake.sms import send_sms

    booking = (
        Booking.objects.select_related("event_type__client", "agency")
        .filter(pk=booking_id, sequence=sequence, status=Booking.Status.CONFIRMED)
        .exclude(phone="")
        .first()
    )
    if booking is None:
        return 0
    sender = sender_for(booking.agency)
    if not sender:
        return 0
    try:
        with transaction.atomic():
            notice = BookingNotice.objects.create(
                agency_id=booking.agency_id,
                booking=booking,
                kind=BookingNotice.Kind.REMINDER,
                channel=BookingNotice.Channel.SMS,
                sequence=sequence,
                offset_minutes=offset,
                recipient=booking.phone,
            )
            try:
                result = send_sms(to=booking.phone, body=reminder_text(booking), sender=sender)
            except urllib.error.HTTPError as exc:
                if not 400 <= exc.code < 500:
                    raise
                notice.status, notice.error = "failed", f"HTTP {exc.code}: {exc.reason}"
                notice.save(update_fields=["status", "error"])
                return 0
            notice.provider_id = str(result.get("sid", ""))
            notice.status = str(result.get("status", ""))
            notice.save(update_fields=["provider_id", "status"])
    except IntegrityError:
        return 0  # sent already
    return 1
