"""Calendars, their events, booking pages (event types) and bookings.

Times are stored in UTC. An event keeps its own time zone (``tzid``) because a recurring
event repeats by wall-clock time there; an all-day event keeps dates instead of times.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from delegate.agencies.models import Agency, Member, validate_time_zone
from delegate.clients.models import Client
from delegate.core.models import UUIDModel, new_code
from delegate.scheduling.recurrence import EventSpec


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class Calendar(UUIDModel):
    """A client's calendar (kept by their assistants) or an assistant's own. Its events
    are local, or mirrored from an ICS feed or a CalDAV collection."""

    class Source(models.TextChoices):
        LOCAL = "local", _("Delegate")
        ICS = "ics", _("ICS feed (read-only)")
        CALDAV = "caldav", _("CalDAV")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="calendars")
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="calendars"
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, null=True, blank=True, related_name="calendars"
    )
    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default="local")
    # ICS: the feed URL; CalDAV: the collection URL.
    source_url = models.URLField(_("source URL"), max_length=500, blank=True)
    username = models.CharField(_("user name"), max_length=200, blank=True)
    # Encrypted (``delegate.scheduling.crypto``): use set_password / get_password.
    password = models.CharField(_("password"), max_length=1000, blank=True)
    refresh_minutes = models.PositiveIntegerField(
        _("refresh every (minutes)"), default=60, validators=[MinValueValidator(5)]
    )
    sync_token = models.CharField(max_length=500, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True)
    # Secret for this calendar's own ICS feed; rotating it revokes old subscriptions.
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(client__isnull=False) & Q(member__isnull=True))
                | (Q(client__isnull=True) & Q(member__isnull=False)),
                name="calendar_has_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def is_writable(self) -> bool:
        return self.source != self.Source.ICS

    def set_password(self, plain: str) -> None:
        from delegate.scheduling.crypto import encrypt

        self.password = encrypt(plain)

    def get_password(self) -> str:
        from delegate.scheduling.crypto import decrypt

        return decrypt(self.password)


class Event(UUIDModel):
    """One VEVENT: a single or recurring event, or an override of one occurrence of a
    recurring event (same ``uid``, ``recurrence_id`` set)."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        TENTATIVE = "tentative", _("Tentative")
        CANCELLED = "cancelled", _("Cancelled")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="events")
    uid = models.CharField(max_length=255)
    summary = models.CharField(_("title"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    location = models.CharField(_("location"), max_length=500, blank=True)
    is_all_day = models.BooleanField(_("all day"), default=False)
    starts_at = models.DateTimeField(_("starts"))  # all-day: local midnight of the first day
    ends_at = models.DateTimeField(_("ends"))
    tzid = models.CharField(max_length=64, blank=True, help_text="empty: floating/all-day")
    rrule = models.CharField(max_length=500, blank=True)
    exdates = models.JSONField(default=list, blank=True)  # ISO strings as in the source
    recurrence_id = models.CharField(max_length=40, blank=True)  # ISO; empty for a master
    is_busy = models.BooleanField(_("busy"), default=True)
    status = models.CharField(max_length=12, choices=Status.choices, default="confirmed")
    organizer = models.EmailField(blank=True)
    attendees = models.JSONField(default=list, blank=True)  # [{"email", "name", "partstat"}]
    sequence = models.PositiveIntegerField(default=0)
    # An appointment an assistant booked from a task (its invitations go to attendees).
    task = models.ForeignKey(
        "tasks.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="appointments"
    )
    # Window the event (all its occurrences) can touch, for range queries; null = open.
    range_start = models.DateTimeField()
    range_end = models.DateTimeField(null=True, blank=True)
    # CalDAV: where the object lives on the server and its version.
    href = models.CharField(max_length=500, blank=True)
    etag = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "uid", "recurrence_id"], name="uniq_event_calendar_uid_rid"
            )
        ]
        indexes = [models.Index(fields=["calendar", "range_start", "range_end"])]

    def __str__(self) -> str:
        return self.summary or self.uid

    @property
    def zone(self) -> ZoneInfo:
        """The event's own zone (its TZID), else its calendar's."""
        return ZoneInfo(self.tzid) if self.tzid else self.calendar.zone

    SPEC_FIELDS = (
        "uid", "starts_at", "ends_at", "tzid", "is_all_day", "rrule", "exdates",
        "recurrence_id", "is_busy", "status",
    )  # fmt: skip

    def spec(self, zone: ZoneInfo) -> EventSpec:
        """The event for :func:`delegate.scheduling.recurrence.expand`."""
        return event_spec(tuple(getattr(self, name) for name in self.SPEC_FIELDS), zone)


def event_spec(values: tuple[Any, ...], zone: ZoneInfo) -> EventSpec:
    """An :class:`EventSpec` from the ``Event.SPEC_FIELDS`` of a row (``values_list``
    saves building model instances where thousands of events are read)."""
    uid, starts_at, ends_at, tzid, is_all_day, rrule, exdates, rid, is_busy, status = values
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    if is_all_day:
        start, end = starts_at.astimezone(zone).date(), ends_at.astimezone(zone).date()
    elif rrule or rid:
        # Recurrence runs on wall-clock time in the event's own zone.
        event_zone = ZoneInfo(tzid) if tzid else zone
        start, end = starts_at.astimezone(event_zone), ends_at.astimezone(event_zone)
    else:
        start, end = starts_at, ends_at
    return EventSpec(
        uid=uid,
        start=start,
        end=end,
        rrule=rrule,
        exdates=tuple(parse_when(x) for x in exdates),
        recurrence_id=parse_when(rid) if rid else None,
        is_busy=is_busy,
        is_cancelled=status == Event.Status.CANCELLED,
    )


def parse_when(value: str) -> dt.datetime | dt.date:
    """ISO date, or datetime with offset (aware) or without (floating)."""
    if len(value) == 10:
        return dt.date.fromisoformat(value)
    return dt.datetime.fromisoformat(value)


class EventType(UUIDModel):
    """A booking page of a client: what visitors can book and when."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="event_types")
    slug = models.CharField(max_length=12, unique=True, default=new_code, editable=False)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    location = models.CharField(_("location"), max_length=500, blank=True)
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"),
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(720)],
    )
    step_minutes = models.PositiveIntegerField(
        _("start times every (minutes)"), default=15, validators=[MinValueValidator(5)]
    )
    buffer_before_minutes = models.PositiveIntegerField(_("buffer before (minutes)"), default=0)
    buffer_after_minutes = models.PositiveIntegerField(_("buffer after (minutes)"), default=0)
    min_notice_minutes = models.PositiveIntegerField(_("minimum notice (minutes)"), default=240)
    horizon_days = models.PositiveIntegerField(
        _("bookable days ahead"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    daily_limit = models.PositiveIntegerField(_("bookings per day at most"), null=True, blank=True)
    reminder_minutes = models.PositiveIntegerField(_("reminder before (minutes)"), default=1440)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )
    # {"0": [["09:00", "17:00"]], …}: weekday (0 = Monday) to local opening hours.
    working_hours = models.JSONField(_("working hours"), default=dict)
    holiday_region = models.CharField(
        _("holidays of"), max_length=10, blank=True, help_text=_("e.g. DE-BY")
    )
    busy_calendars = models.ManyToManyField(
        Calendar, related_name="+", blank=True, verbose_name=_("calendars that count as busy")
    )
    target_calendar = models.ForeignKey(
        Calendar,
        on_delete=models.PROTECT,
        related_name="booking_event_types",
        verbose_name=_("bookings go into"),
    )
    questions = models.JSONField(_("questions"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Booking(UUIDModel):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    event_type = models.ForeignKey(EventType, on_delete=models.CASCADE, related_name="bookings")
    event = models.OneToOneField(
        Event, on_delete=models.SET_NULL, null=True, blank=True, related_name="booking"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default="confirmed")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"))
    # E.164; empty when the visitor gave none. Reminders go here by SMS too.
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=5, default="de")
    time_zone = models.CharField(max_length=64, default="Europe/Berlin")
    # Bumped on every reschedule: the calendar event's SEQUENCE and the key of its emails.
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            # The referee when visitors race for one slot (a row lock serialises the
            # overlapping ones; this catches the identical ones whatever happens).
            models.UniqueConstraint(
                fields=["event_type", "starts_at"],
                condition=Q(status="confirmed"),
                name="uniq_booking_slot",
            )
        ]
        indexes = [models.Index(fields=["status", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.name} {self.starts_at:%Y-%m-%d %H:%M}"


class BookingNotice(models.Model):
    """A message sent about a booking (email, or an SMS reminder). Inserted in the
    transaction that sends it: the unique constraint makes a job that runs twice send
    once. A reminder is kept per version of the booking (``sequence``: a new time gets a
    new reminder) and per reminder offset."""

    class Kind(models.TextChoices):
        CONFIRMED = "confirmed"
        RESCHEDULED = "rescheduled"
        CANCELLED = "cancelled"
        REMINDER = "reminder"

    class Channel(models.TextChoices):
        EMAIL = "email"
        SMS = "sms"
        STAFF = "staff"  # the client's assistant, told of a visitor's booking or change

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default="email")
    sequence = models.PositiveIntegerField()
    # Reminders: minutes before the start they were due; 0 for the other kinds.
    offset_minutes = models.PositiveIntegerField(default=0)
    recipient = models.CharField(max_length=254, blank=True)
    # SMS: the provider's message id and the status it answered ("queued", "failed" …).
    provider_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=30, blank=True)
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "kind", "channel", "sequence", "offset_minutes"],
                name="uniq_booking_notice",
            )
        ]


class InvitationDelivery(models.Model):
    """An iTIP email sent for one version of an appointment (like ``BookingNotice``)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    method = models.CharField(max_length=10)
    sequence = models.PositiveIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "method", "sequence"], name="uniq_invitation_delivery"
            )
        ]
