"""/calendars and /events: clients' and members' calendars, their events (single,
recurring with RRULE and EXDATE, overrides of one occurrence) and the occurrences in a
time range.

Visibility is the desk's: managers see every calendar of the agency, an assistant their
own and their assigned clients'. Another member's own calendar is read-only (403 on
writes); a calendar mirroring an ICS feed is read-only for everyone (422)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.decorators import decorate_view
from ninja.responses import Status
from pydantic import field_validator

from delegate import access
from delegate.agencies.models import Member, known_zones
from delegate.api.auth import acting_member, read_auth, write_auth
from delegate.api.errors import error_responses
from delegate.api.idempotency import idempotent
from delegate.api.listing import PageParams, order_by, page
from delegate.api.routers.tasks import IDEMPOTENCY_KEY
from delegate.api.schemas import UNSET, Body, set_fields
from delegate.scheduling import services
from delegate.scheduling.models import Calendar, Event, parse_when
from delegate.scheduling.recurrence import occurrences

router = Router(tags=["calendars"])

MAX_RANGE = dt.timedelta(days=366)


def _zone_name(value: str) -> str:
    if value and value not in known_zones():
        raise ValueError("not an IANA time zone, e.g. Europe/Berlin")
    return value


# --- schemas -------------------------------------------------------------------------------


class CalendarOut(Schema):
    id: UUID
    name: str
    client: UUID | None = Field(None, alias="client_id")
    member: UUID | None = Field(None, alias="member_id")
    time_zone: str
    source: Literal["local", "ics", "caldav"]
    source_url: str
    username: str
    has_password: bool
    refresh_minutes: int
    is_writable: bool
    last_synced_at: dt.datetime | None
    last_sync_error: str
    created_at: dt.datetime

    @staticmethod
    def resolve_has_password(obj: Calendar) -> bool:
        return bool(obj.password)


class CalendarPage(Schema):
    items: list[CalendarOut]
    count: int
    limit: int
    offset: int


class CalendarCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    client: UUID | None = Field(None, description="the client's calendar; omit for your own")
    time_zone: str = Field("", description="default: the client's (or your) time zone")
    source: Literal["local", "ics", "caldav"] = "local"
    source_url: str = Field("", max_length=500)
    username: str = Field("", max_length=200)
    password: str = Field("", max_length=200, description="stored encrypted, never returned")
    refresh_minutes: int = Field(60, ge=5)

    _zone = field_validator("time_zone")(_zone_name)


class CalendarQuery(PageParams):
    client: UUID | None = None
    ordering: Literal["name", "-name", "created_at", "-created_at"] = "name"


class Attendee(Schema):
    email: str
    name: str = ""
    partstat: str = "NEEDS-ACTION"


class EventOut(Schema):
    id: UUID
    calendar: UUID = Field(alias="calendar_id")
    uid: str
    summary: str
    description: str
    location: str
    is_all_day: bool
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str = Field(alias="tzid", description="the zone it repeats in; empty: all-day")
    rrule: str
    exdates: list[str]
    recurrence_id: str = Field(description="set on an override of one occurrence")
    is_busy: bool
    status: Literal["confirmed", "tentative", "cancelled"]
    attendees: list[Attendee]
    sequence: int
    updated_at: dt.datetime


class EventPage(Schema):
    items: list[EventOut]
    count: int
    limit: int
    offset: int


TIMES_HELP = (
    "A timed event takes `starts_at` and `ends_at` (with offset) and repeats by wall-clock "
    "time in `time_zone` (default: the calendar's); an all-day event takes `start_date` and "
    "`end_date` (exclusive)."
)


class EventCreate(Body):
    summary: str = Field(min_length=1, max_length=500)
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    time_zone: str = ""
    rrule: str = Field("", max_length=500, description="e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10")
    exdates: list[str] = Field([], description="occurrences left out: ISO dates or times")
    description: str = ""
    location: str = Field("", max_length=500)
    is_busy: bool = True
    status: Literal["confirmed", "tentative"] = "confirmed"
    attendees: list[Attendee] = []

    _zone = field_validator("time_zone")(_zone_name)


class EventPatch(Body):
    summary: str = Field(UNSET, min_length=1, max_length=500)
    starts_at: dt.datetime = Field(UNSET)
    ends_at: dt.datetime = Field(UNSET)
    start_date: dt.date = Field(UNSET)
    end_date: dt.date = Field(UNSET)
    time_zone: str = Field(UNSET)
    rrule: str = Field(UNSET, max_length=500)
    exdates: list[str] = Field(UNSET)
    description: str = Field(UNSET)
    location: str = Field(UNSET, max_length=500)
    is_busy: bool = Field(UNSET)
    status: Literal["confirmed", "tentative", "cancelled"] = Field(UNSET)
    attendees: list[Attendee] = Field(UNSET)

    _zone = field_validator("time_zone")(_zone_name)


class OccurrenceIn(Body):
    occurrence: dt.datetime = Field(description="the start of the occurrence, with offset")


class OccurrenceMove(OccurrenceIn):
    starts_at: dt.datetime
    ends_at: dt.datetime
    summary: str | None = Field(None, min_length=1, max_length=500)


class Range(Schema):
    start: dt.datetime | None = Field(None, description="default: now")
    end: dt.datetime | None = Field(None, description="default: start + 7 days; at most a year")


class OccurrenceOut(Schema):
    event: UUID = Field(description="the master, or the override of this occurrence")
    uid: str
    summary: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    is_all_day: bool
    is_busy: bool
    is_recurring: bool


class OccurrenceList(Schema):
    items: list[OccurrenceOut]


# --- helpers -------------------------------------------------------------------------------


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if value.tzinfo is None:
        raise ValidationError({field: ["Give the time with its UTC offset."]})
    return value


def _event_times(
    values: dict[str, Any], zone: ZoneInfo
) -> tuple[dt.datetime | dt.date, dt.datetime | dt.date] | None:
    """``starts_at``/``ends_at`` (in ``zone``) or ``start_date``/``end_date`` of a body,
    or None when it names no times."""
    timed = values.get("starts_at") is not None or values.get("ends_at") is not None
    dated = values.get("start_date") is not None or values.get("end_date") is not None
    if timed and dated:
        raise ValidationError({"__all__": ["Send times or dates, not both."]})
    if timed:
        if values.get("starts_at") is None or values.get("ends_at") is None:
            raise ValidationError({"__all__": ["Send starts_at and ends_at together."]})
        start = _aware(values["starts_at"], "starts_at").astimezone(zone)
        return start, _aware(values["ends_at"], "ends_at").astimezone(zone)
    if dated:
        if values.get("start_date") is None or values.get("end_date") is None:
            raise ValidationError({"__all__": ["Send start_date and end_date together."]})
        return values["start_date"], values["end_date"]
    return None


def _exdates(values: list[str], zone: ZoneInfo, *, all_day: bool) -> list[str]:
    result = []
    for value in values:
        try:
            parsed = parse_when(value)
        except ValueError:
            raise ValidationError({"exdates": [f"Not an ISO date or time: {value}"]}) from None
        if isinstance(parsed, dt.datetime):
            if parsed.tzinfo is None:
                raise ValidationError({"exdates": ["Give times with their UTC offset."]})
            parsed = parsed.astimezone(zone).date() if all_day else parsed.astimezone(zone)
        result.append(parsed.isoformat())
    return result


def _event_fields(values: dict[str, Any], zone: ZoneInfo, *, all_day: bool) -> dict[str, Any]:
    names = ("summary", "rrule", "description", "location", "is_busy", "status", "attendees")
    fields: dict[str, Any] = {name: values[name] for name in names if name in values}
    if "exdates" in values:
        fields["exdates"] = _exdates(values["exdates"], zone, all_day=all_day)
    return fields


def _range(query: Range) -> tuple[dt.datetime, dt.datetime]:
    start = _aware(query.start, "start") if query.start else timezone.now()
    end = _aware(query.end, "end") if query.end else start + dt.timedelta(days=7)
    if not start < end <= start + MAX_RANGE:
        raise ValidationError({"end": ["end must lie after start, at most a year later."]})
    return start, end


# --- calendars -----------------------------------------------------------------------------


@router.get(
    "/calendars",
    response={200: CalendarPage, **error_responses(401, 422)},
    auth=read_auth,
    summary="List calendars",
    description="The calendars the key's member sees (an assistant: their own and their clients').",
)
def list_calendars(request: HttpRequest, filters: Query[CalendarQuery]) -> dict[str, Any]:
    calendars = access.calendars_visible_to(acting_member(request))
    if filters.client:
        calendars = calendars.filter(client_id=filters.client)
    return page(calendars.order_by(*order_by(filters.ordering)), filters)


@router.post(
    "/calendars",
    response={201: CalendarOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Create a calendar",
    description="A client's calendar (anyone who sees the client) or, without `client`, "
    "the key's member's own. `source` ics or caldav mirrors `source_url`.",
)
@decorate_view(idempotent)
def create_calendar(
    request: HttpRequest, payload: CalendarCreate, idempotency_key: str | None = IDEMPOTENCY_KEY
) -> Status[Calendar]:
    member = acting_member(request)
    fields = payload.model_dump()
    client_id = fields.pop("client")
    client = access.access_client(member, client_id) if client_id else None
    calendar = services.create_calendar(
        member, client=client, owner=None if client else member, **fields
    )
    return Status(201, calendar)


@router.get(
    "/calendars/{calendar_id}",
    response={200: CalendarOut, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="Get a calendar",
)
def get_calendar(request: HttpRequest, calendar_id: UUID) -> Calendar:
    return access.access_calendar(acting_member(request), calendar_id)


@router.get(
    "/calendars/{calendar_id}/events",
    response={200: EventPage, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="List a calendar's events",
    description="The stored events (masters with their rule, overrides, single events) "
    "that can touch `[start, end)`, by start.",
)
def list_events(
    request: HttpRequest, calendar_id: UUID, window: Query[Range], params: Query[PageParams]
) -> dict[str, Any]:
    calendar = access.access_calendar(acting_member(request), calendar_id)
    start, end = _range(window)
    events = services.events_touching(calendar, start=start, end=end)
    return page(events.order_by(*order_by("starts_at")), params)


@router.get(
    "/calendars/{calendar_id}/occurrences",
    response={200: OccurrenceList, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="List occurrences in a time range",
    description="Every occurrence overlapping `[start, end)` with recurrence expanded: "
    "EXDATEs left out, moved occurrences at their new time, cancelled ones gone.",
)
def list_occurrences(
    request: HttpRequest, calendar_id: UUID, window: Query[Range]
) -> dict[str, Any]:
    calendar = access.access_calendar(acting_member(request), calendar_id)
    start, end = _range(window)
    zone = calendar.zone
    events = list(services.events_touching(calendar, start=start, end=end))
    specs = [(event.spec(zone), event) for event in events]
    by_spec = {id(spec): event for spec, event in specs}
    items = []
    for found in occurrences(
        [spec for spec, _e in specs],
        zone=zone,
        start=int(start.timestamp()),
        end=int(end.timestamp()),
    ):
        event = by_spec[id(found.event)]
        items.append(
            {
                "event": event.pk,
                "uid": event.uid,
                "summary": event.summary,
                "starts_at": dt.datetime.fromtimestamp(found.start, tz=dt.UTC),
                "ends_at": dt.datetime.fromtimestamp(found.end, tz=dt.UTC),
                "is_all_day": event.is_all_day,
                "is_busy": event.is_busy,
                "is_recurring": bool(event.rrule or event.recurrence_id),
            }
        )
    return {"items": items}


@router.post(
    "/calendars/{calendar_id}/events",
    response={201: EventOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Create an event",
    description=TIMES_HELP,
)
@decorate_view(idempotent)
def create_event(
    request: HttpRequest,
    calendar_id: UUID,
    payload: EventCreate,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> Status[Event]:
    member = acting_member(request)
    calendar = access.access_calendar(member, calendar_id, write=True)
    values = payload.model_dump()
    zone = ZoneInfo(values["time_zone"] or calendar.time_zone)
    times = _event_times(values, zone)
    if times is None:
        raise ValidationError({"__all__": ["Send starts_at and ends_at, or the dates."]})
    fields = _event_fields(values, zone, all_day=not isinstance(times[0], dt.datetime))
    event = services.save_event(member, calendar, starts_at=times[0], ends_at=times[1], **fields)
    return Status(201, event)


# --- events --------------------------------------------------------------------------------


@router.get(
    "/events/{event_id}",
    response={200: EventOut, **error_responses(401, 404, 422)},
    auth=read_auth,
    summary="Get an event",
)
def get_event(request: HttpRequest, event_id: UUID) -> Event:
    return access.access_event(acting_member(request), event_id)


@router.patch(
    "/events/{event_id}",
    response={200: EventOut, **error_responses(401, 403, 404, 422)},
    auth=write_auth,
    summary="Update an event",
    description="Only the fields sent change; SEQUENCE goes up. " + TIMES_HELP,
)
def update_event(request: HttpRequest, event_id: UUID, payload: EventPatch) -> Event:
    member = acting_member(request)
    event = access.access_event(member, event_id, write=True)
    values = set_fields(payload)
    zone_name = values.get("time_zone") or event.tzid or event.calendar.time_zone
    zone = ZoneInfo(zone_name)
    times = _event_times(values, zone)
    all_day = event.is_all_day if times is None else not isinstance(times[0], dt.datetime)
    changes = _event_fields(values, zone, all_day=all_day)
    if times is not None:
        changes.update(starts_at=times[0], ends_at=times[1])
    elif "time_zone" in values and not event.is_all_day:
        start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
        changes.update(starts_at=start, ends_at=end)
    return services.update_event(member, event, **changes)


@router.delete(
    "/events/{event_id}",
    response={204: None, **error_responses(401, 403, 404, 422)},
    auth=write_auth,
    summary="Delete an event",
    description="A master goes with all its occurrences; an override (one moved "
    "occurrence) cancels just that occurrence.",
)
def delete_event(request: HttpRequest, event_id: UUID) -> Status:
    member = acting_member(request)
    event = access.access_event(member, event_id, write=True)
    services.delete_event(member, event)
    return Status(204, None)


@router.post(
    "/events/{event_id}/skip",
    response={200: EventOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Cancel one occurrence",
    description="Adds an EXDATE to the repeating event (removing a moved occurrence's "
    "override); answers the master.",
)
@decorate_view(idempotent)
def skip_occurrence(
    request: HttpRequest,
    event_id: UUID,
    payload: OccurrenceIn,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> Event:
    member = acting_member(request)
    event = access.access_event(member, event_id, write=True)
    occurrence = _aware(payload.occurrence, "occurrence")
    return services.skip_occurrence(member, event, occurrence=occurrence)


@router.post(
    "/events/{event_id}/move",
    response={201: EventOut, **error_responses(401, 403, 404, 409, 422)},
    auth=write_auth,
    summary="Move one occurrence",
    description="Gives the occurrence starting at `occurrence` a new time (an override "
    "with RECURRENCE-ID); the others stay. Answers the override.",
)
@decorate_view(idempotent)
def move_occurrence(
    request: HttpRequest,
    event_id: UUID,
    payload: OccurrenceMove,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> Status[Event]:
    member: Member = acting_member(request)
    event = access.access_event(member, event_id, write=True)
    override = services.move_occurrence(
        member,
        event,
        occurrence=_aware(payload.occurrence, "occurrence"),
        starts_at=_aware(payload.starts_at, "starts_at"),
        ends_at=_aware(payload.ends_at, "ends_at"),
        summary=payload.summary,
    )
    return Status(201, override)
