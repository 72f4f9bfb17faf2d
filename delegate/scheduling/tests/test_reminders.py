"""Reminders before an appointment: by email, and by SMS through intake's
Twilio-compatible adapter (tested against the local fake of Twilio's REST API)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse

from delegate.intake.tests import providers
from delegate.intake.tests.providers import FakeProvider
from delegate.scheduling import mail as scheduling_mail
from delegate.scheduling import services
from delegate.scheduling.models import Booking, BookingNotice, EventType
from delegate.testing import Cast

OUR_NUMBER = "+4930901820"


@pytest.fixture
def twilio(settings: Any) -> Iterator[FakeProvider]:
    with providers.twilio() as fake:
        settings.TWILIO_API_BASE = fake.url
        settings.TWILIO_ACCOUNT_SID = providers.TWILIO_SID
        settings.TWILIO_AUTH_TOKEN = providers.TWILIO_TOKEN
        settings.INTAKE_SMS_NUMBERS = [f"{OUR_NUMBER}=alpha"]
        settings.SITE_URL = "https://delegate.example"
        yield fake


def _book(page: EventType, phone: str = "0151 23456789", language: str = "en") -> Booking:
    visitor = services.Visitor(
        "Vera", "vera@example.test", {}, language=language, time_zone="Europe/Berlin", phone=phone
    )
    return services.book(page, starts_at=services.available_slots(page)[0], visitor=visitor)


def _sms_requests(fake: FakeProvider) -> list[dict[str, str]]:
    return [r.form for r in fake.requests if r.path.endswith("/Messages.json")]


def test_a_due_reminder_goes_by_sms_once_and_is_recorded(
    page: EventType, twilio: FakeProvider
) -> None:
    booking = _book(page)
    assert booking.phone == "+4915123456789"  # normalised to E.164
    early = booking.starts_at - dt.timedelta(days=2)
    assert scheduling_mail.send_due_reminders(early) == 0
    assert _sms_requests(twilio) == []

    due = booking.starts_at - dt.timedelta(hours=2)
    assert scheduling_mail.send_due_reminders(due) == 2  # email and SMS
    assert scheduling_mail.send_due_reminders(due) == 0  # the job ran twice
    (sms,) = _sms_requests(twilio)
    assert (sms["To"], sms["From"]) == ("+4915123456789", OUR_NUMBER)
    assert sms["Body"].startswith("Reminder: Intro call (Acme GmbH)")
    assert "https://delegate.example/book/manage/" in sms["Body"]
    notice = BookingNotice.objects.get(channel="sms")
    assert (notice.kind, notice.recipient, notice.status) == (
        "reminder",
        "+4915123456789",
        "queued",
    )
    assert notice.provider_id.startswith("SM")
    assert notice.offset_minutes == page.reminder_minutes == 1440
    assert BookingNotice.objects.filter(kind="reminder", channel="email").count() == 1


def test_no_sms_without_a_phone_or_without_an_sms_number(
    page: EventType, twilio: FakeProvider, settings: Any
) -> None:
    without_phone = _book(page, phone="")
    due = without_phone.starts_at - dt.timedelta(hours=1)
    assert scheduling_mail.send_due_reminders(due) == 1  # the email only
    settings.INTAKE_SMS_NUMBERS = ["+4930999999=another-agency"]
    with_phone = _book(page)
    assert scheduling_mail.send_due_reminders(with_phone.starts_at - dt.timedelta(hours=1)) == 1
    assert _sms_requests(twilio) == []
    assert not BookingNotice.objects.filter(channel="sms").exists()


def test_a_new_time_or_a_new_offset_gets_a_new_reminder_a_cancelled_booking_none(
    page: EventType, twilio: FakeProvider
) -> None:
    booking = _book(page, language="de")
    scheduling_mail.send_due_reminders(booking.starts_at - dt.timedelta(hours=1))
    assert "Erinnerung" in _sms_requests(twilio)[-1]["Body"]  # the visitor's language
    later = [s for s in services.available_slots(page) if s > booking.starts_at][5]
    booking = services.reschedule_booking(booking, starts_at=later)
    assert scheduling_mail.send_due_reminders(later - dt.timedelta(hours=1)) == 2
    page.reminder_minutes = 30
    page.save()
    assert scheduling_mail.send_due_reminders(later - dt.timedelta(hours=1)) == 0  # not yet
    assert scheduling_mail.send_due_reminders(later - dt.timedelta(minutes=20)) == 2
    assert len(_sms_requests(twilio)) == 3
    services.cancel_booking(booking)
    page.reminder_minutes = 10
    page.save()
    assert scheduling_mail.send_due_reminders(later - dt.timedelta(minutes=5)) == 0
    assert len(_sms_requests(twilio)) == 3


def test_a_provider_refusal_is_recorded_and_an_outage_retried(
    page: EventType, twilio: FakeProvider, settings: Any
) -> None:
    booking = _book(page)
    due = booking.starts_at - dt.timedelta(hours=1)
    settings.TWILIO_API_BASE = "http://127.0.0.1:9"  # nothing listens: an outage
    mail.outbox.clear()
    assert scheduling_mail.send_due_reminders(due) == 1  # the email still goes
    assert not BookingNotice.objects.filter(channel="sms").exists()  # to be retried
    settings.TWILIO_AUTH_TOKEN = "wrong"  # the provider answers 401
    settings.TWILIO_API_BASE = twilio.url
    assert scheduling_mail.send_due_reminders(due) == 0
    notice = BookingNotice.objects.get(channel="sms")
    assert notice.status == "failed" and "401" in notice.error
    assert scheduling_mail.send_due_reminders(due) == 0
    assert len(_sms_requests(twilio)) == 1  # refused once, not hammered


def test_the_booking_page_asks_for_a_phone_only_when_sms_is_set_up(
    cast: Cast, page: EventType, twilio: FakeProvider, settings: Any
) -> None:
    slot = services.available_slots(page)[0]
    url = reverse("booking:form", args=[page.slug])
    http = HttpClient()
    assert 'name="phone"' in http.get(url, {"start": slot.isoformat(), "lang": "en"}).text
    data = {"start": slot.isoformat(), "tz": "Europe/Berlin", "lang": "en"}
    data |= {"name": "Vera", "email": "vera@example.test", "phone": "12"}
    refused = http.post(url, data)
    assert refused.status_code == 400 and "mobile number" in refused.text
    assert not Booking.objects.exists()
    assert http.post(url, data | {"phone": "+49 151 23456789"}).status_code == 200
    assert Booking.objects.get().phone == "+4915123456789"
    settings.INTAKE_SMS_NUMBERS = []
    assert 'name="phone"' not in http.get(url, {"start": slot.isoformat()}).text
