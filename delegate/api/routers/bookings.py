"""Booking pages (/clients/{id}/event-types, /event-types), their free slots and the
bookings made on them (/bookings).

Everyone who sees a client sees and changes its booking pages and bookings (an
assistant: their assigned clients only). A booking made here is confirmed to the
visitor by email like one made on the public page."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from ninja.responses import Status
from pydantic import field_validator

from delegate import access
from delegate.agencies.models import Member
from delegate.api.auth import acting_member, read_auth, write_auth
from delegate.api.errors import error_responses
from delegate.api.idempotency import idempotent
from delegate.api.listing import PageParams, order_by, page
from delegate.api.routers.calendars import Range, _aware, _range, _zone_name
from delegate.api.routers.tasks import IDEMPOTENCY_KEY
from delegate.api.schemas import UNSET, Body, Language, set_fields
from delegate.clients.models import Client
from delegate.scheduling import services
from delegate.scheduling.models import Booking, EventType

router = Router(tags=["booking pages"])

Hours = dict[Literal["0", "1", "2", "3", "4", "5", "6"], list[list[str]]]
TAKEN = "This time is no longer free. Ask for the free slots again."


class EventTypeOut(Schema):
    id: UUID
    slug: str
    client: UUID = Field(alias="client_id")
    name: str
    description: str
    location: str
    duration_minutes: int
    step_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    horizon_days: int
    daily_limit: int | None
    reminder_minutes: int
    time_zone: str
    working_hours: dict[str, list[list[str]]]
    holiday_region: str
    target_calendar: UUID = Field(alias="target_calendar_id")
    busy_calendars: list[UUID]
    questions: list[str]
    is_active: bool
    page_url: str

    @staticmethod
    def resolve_busy_calendars(obj: EventType) -> list[UUID]:
        return [calendar.pk for calendar in obj.busy_calendars.all()]

    @staticmethod
    def resolve_page_url(obj: EventType) -> str:
        return str(settings.SITE_URL + reverse("booking:page", args=[obj.slug]))


class EventTypePage(Schema):
    items: list[EventTypeOut]
    count: int
    limit: int
    offset: int


HOURS_HELP = 'Weekday (0 = Monday) to opening hours, e.g. {"0": [["09:00", "17:00"]]}.'


class EventTypeCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    target_calendar: UUID = Field(description="a calendar of the client; bookings go here")
    busy_calendars: list[UUID] = Field([], description="further calendars of the client")
    description: str = ""
    location: str = Field("", max_length=500)
    duration_minutes: int = Field(30, ge=5, le=720)
    step_minutes: int = Field(15, ge=5)
    buffer_before_minutes: int = Field(0, ge=0)
    buffer_after_minutes: int = Field(0, ge=0)
    min_notice_minutes: int = Field(240, ge=0)
    horizon_days: int = Field(30, ge=1, le=365)
    daily_limit: int | None = Field(None, ge=1)
    reminder_minutes: int = Field(1440, ge=0)
    time_zone: str = Field("", description="default: the client's")
    working_hours: Hours = Field(
        default_factory=lambda: dict(services.DEFAULT_HOURS),  # type: ignore[arg-type]
        description=HOURS_HELP,
    )
    holiday_region: str = Field("", max_length=10, description="e.g. DE-BY")
    questions: list[str] = []
    is_active: bool = True

    _zone = field_validator("time_zone")(_zone_name)


class EventTypePatch(Body):
    name: str = Field(UNSET, min_length=1, max_length=200)
    target_calendar: UUID = Field(UNSET)
    busy_calendars: list[UUID] = Field(UNSET)
    description: str = Field(UNSET)
    location: str = Field(UNSET, max_length=500)
    duration_minutes: int = Field(UNSET, ge=5, le=720)
    step_minutes: int = Field(UNSET, ge=5)
    buffer_before_minutes: int = Field(UNSET, ge=0)
    buffer_after_minutes: int = Field(UNSET, ge=0)
    min_notice_minutes: int = Field(UNSET, ge=0)
    horizon_days: int = Field(UNSET, ge=1, le=365)
    daily_limit: int | None = Field(None, ge=1)
    reminder_minutes: int = Field(UNSET, ge=0)
    time_zone: str = Field(UNSET)
    working_hours: Hours = Field(UNSET, description=HOURS_HELP)
    holiday_region: str = Field(UNSET, max_length=10)
    questions: list[str] = Field(UNSET)
    is_active: bool = Field(UNSET)

    _zone = field_validator("time_zone")(_zone_name)


class SlotsOut(Schema):
    time_zone: str = Field(description="the booking page's zone")
    slots: list[dt.datetime] = Field(description="free start times, UTC")


class BookingOut(Schema):
    id: UUID
    event_type: UUID = Field(alias="event_type_id")
    event: UUID | None = Field(None, alias="event_id")
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: Literal["confirmed", "cancelled"]
    name: str
    email: str
    phone: str
    answers: dict[str, str]
    language: str
    time_zone: str
    sequence: int
    created_at: dt.datetime


class BookingPage(Schema):
    items: list[BookingOut]
    count: int
    limit: int
    offset: int


class BookingQuery(PageParams):
    status: Literal["confirmed", "cancelled"] | None = None
    ordering: Literal["starts_at", "-starts_at", "created_at", "-created_at"] = "starts_at"


class BookingCreate(Body):
    starts_at: dt.datetime = Field(description="one of the free slots")
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=254)
    phone: str = Field("", max_length=32, description="for SMS reminders")
    answers: dict[str, str] = {}
    language: Language = "de"
    time_zone: str = Field("Europe/Berlin", description="the visitor's, for their emails")

    _zone = field_validator("time_zone")(_zone_name)


class Reschedule(Body):
    starts_at: dt.datetime = Field(description="one of the free slots")


# --- helpers -------------------------------------------------------------------------------


def _save(member: Member, client: Client, instance: EventType, values: dict[str, Any]) -> EventType:
    busy_ids = values.pop("busy_calendars", None)
    target_id = values.pop("target_calendar", None)
    hours = values.pop("working_hours", None)
    questions = values.pop("questions", None)
    if target_id is not None:
        instance.target_calendar = access.access_calendar(member, target_id)
    for name, value in values.items():
        setattr(instance, name, value)
    if not instance.time_zone:
        instance.time_zone = client.time_zone
    busy = (
        [access.access_calendar(member, pk) for pk in busy_ids]
        if busy_ids is not None
        else list(instance.busy_calendars.all())
        if instance.pk
        else []
    )
    return services.save_event_type(
        member,
        client,
        instance=instance,
        busy_calendars=busy,
        working_hours=(hours if hours is not None else instance.working_hours),
        questions=questions if questions is not None else instance.questions,
    )


def _reload(event_type: EventType) -> EventType:
    return EventType.objects.prefetch_related("busy_calendars").get(pk=event_type.pk)


# --- booking pages -------------------------------------------------------------------------


@router.get(
    "/clients/{client_id}/event-types",
    response={200: EventTypePage, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="List a client's booking pages",
)
def list_event_types(
    request: HttpRequest, client_id: UUID, params: Query[PageParams]
) -> dict[str, Any]:
    client = access.access_client(acting_member(request), client_id)
    event_types = EventType.objects.filter(client=client).prefetch_related("busy_calendars")
    return page(event_types.order_by(*order_by("name")), params)


@router.post(
    "/clients/{client_id}/event-types",
    response={201: EventTypeOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Create a booking page",
    description="Its calendars must be the client's.",
)
@decorate_view(idempotent)
def create_event_type(
    request: HttpRequest,
    client_id: UUID,
    payload: EventTypeCreate,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> Status[EventType]:
    member = acting_member(request)
    client = access.access_client(member, client_id)
    event_type = _save(member, client, EventType(), payload.model_dump())
    return Status(201, _reload(event_type))


@router.get(
    "/event-types/{event_type_id}",
    response={200: EventTypeOut, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="Get a booking page",
)
def get_event_type(request: HttpRequest, event_type_id: UUID) -> EventType:
    return _reload(access.access_event_type(acting_member(request), event_type_id))


@router.patch(
    "/event-types/{event_type_id}",
    response={200: EventTypeOut, **error_responses(401, 403, 404, 422)},
    auth=write_auth,
    summary="Update a booking page",
    description="Only the fields sent change.",
)
def update_event_type(
    request: HttpRequest, event_type_id: UUID, payload: EventTypePatch
) -> EventType:
    member = acting_member(request)
    event_type = access.access_event_type(member, event_type_id, write=True)
    return _reload(_save(member, event_type.client, event_type, set_fields(payload)))


@router.get(
    "/event-types/{event_type_id}/slots",
    response={200: SlotsOut, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="Free slots of a booking page",
    description="Free start times in `[start, end]` within minimum notice and horizon, "
    "after working hours, holidays, buffers, daily limit and the busy calendars.",
)
def list_slots(request: HttpRequest, event_type_id: UUID, window: Query[Range]) -> dict[str, Any]:
    event_type = access.access_event_type(acting_member(request), event_type_id)
    start, end = _range(window)
    slots = services.available_slots(event_type, start=start, end=end)
    return {"time_zone": event_type.time_zone, "slots": slots}


# --- bookings ------------------------------------------------------------------------------


@router.get(
    "/event-types/{event_type_id}/bookings",
    response={200: BookingPage, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="List the bookings of a booking page",
)
def list_bookings(
    request: HttpRequest, event_type_id: UUID, filters: Query[BookingQuery]
) -> dict[str, Any]:
    event_type = access.access_event_type(acting_member(request), event_type_id)
    bookings = Booking.objects.filter(event_type=event_type)
    if filters.status:
        bookings = bookings.filter(status=filters.status)
    return page(bookings.order_by(*order_by(filters.ordering)), filters)


@router.post(
    "/event-types/{event_type_id}/bookings",
    response={201: BookingOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Book a slot",
    description="For someone who asked by another channel: books like the public page "
    "(one booking per slot; 409 if it was taken meanwhile) and confirms by email.",
)
@decorate_view(idempotent)
def create_booking(
    request: HttpRequest,
    event_type_id: UUID,
    payload: BookingCreate,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> Status[Booking]:
    member = acting_member(request)
    event_type = access.access_event_type(member, event_type_id, write=True)
    from django.core.validators import validate_email

    try:
        validate_email(payload.email)
    except ValidationError:
        raise ValidationError({"email": ["Enter a valid email address."]}) from None
    visitor = services.Visitor(
        name=payload.name,
        email=payload.email,
        answers=payload.answers,
        language=payload.language,
        time_zone=payload.time_zone,
        phone=payload.phone,
    )
    try:
        booking = services.book(
            event_type, starts_at=_aware(payload.starts_at, "starts_at"), visitor=visitor
        )
    except services.SlotUnavailable:
        raise HttpError(409, TAKEN) from None
    return Status(201, booking)


@router.get(
    "/bookings/{booking_id}",
    response={200: BookingOut, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="Get a booking",
)
def get_booking(request: HttpRequest, booking_id: UUID) -> Booking:
    return access.access_booking(acting_member(request), booking_id)


@router.post(
    "/bookings/{booking_id}/cancel",
    response={200: BookingOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Cancel a booking",
    description="The visitor gets the cancellation (with an iCalendar CANCEL); cancelling "
    "again changes nothing.",
)
@decorate_view(idempotent)
def cancel_booking(
    request: HttpRequest, booking_id: UUID, idempotency_key: str | None = IDEMPOTENCY_KEY
) -> Booking:
    booking = access.access_booking(acting_member(request), booking_id, write=True)
    return services.cancel_booking(booking)


@router.post(
    "/bookings/{booking_id}/reschedule",
    response={200: BookingOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Move a booking",
    description="To another free slot (409 if it is taken or the booking is cancelled); "
    "the visitor gets the new time with an updated invitation.",
)
@decorate_view(idempotent)
def reschedule_booking(
    request: HttpRequest,
    booking_id: UUID,
    payload: Reschedule,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> Booking:
    booking = access.access_booking(acting_member(request), booking_id, write=True)
    try:
        return services.reschedule_booking(
            booking, starts_at=_aware(payload.starts_at, "starts_at")
        )
    except services.SlotUnavailable:
        raise HttpError(409, TAKEN) from None
