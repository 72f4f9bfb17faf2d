"""Between our events and iCalendar (RFC 5545) text: feeds, invitations, CalDAV."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings

from delegate.scheduling.models import Event

PRODID = "-//Delegate//Scheduling//EN"
logger = logging.getLogger(__name__)


def new_calendar(method: str = "") -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    return cal


def _when(event: Event, value: dt.datetime, zone: ZoneInfo) -> dt.datetime | dt.date:
    if event.is_all_day:
        return value.astimezone(zone).date()
    return value.astimezone(ZoneInfo(event.tzid)) if event.tzid else value.astimezone(dt.UTC)


def to_vevent(event: Event, zone: ZoneInfo) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", dt.datetime.now(dt.UTC))
    vevent.add("dtstart", _when(event, event.starts_at, zone))
    vevent.add("dtend", _when(event, event.ends_at, zone))
    vevent.add("sequence", event.sequence)
    vevent.add("status", event.status.upper())
    if event.summary:
        vevent.add("summary", event.summary)
    if event.description:
        vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    if not event.is_busy:
        vevent.add("transp", "TRANSPARENT")
    if event.rrule:
        vevent.add("rrule", icalendar.vRecur.from_ical(event.rrule))
    for exdate in event.exdates:
        vevent.add("exdate", _instance(event, exdate))
    if event.recurrence_id:
        vevent.add("recurrence-id", _instance(event, event.recurrence_id))
    if event.organizer:
        vevent.add("organizer", f"mailto:{event.organizer}")
    for attendee in event.attendees:
        params: dict[str, Any] = {
            "PARTSTAT": attendee.get("partstat", "NEEDS-ACTION"),
            "RSVP": "TRUE",
        }
        if attendee.get("name"):
            params["CN"] = attendee["name"]
        vevent.add("attendee", f"mailto:{attendee['email']}", parameters=params)
    return vevent


def _instance(event: Event, value: str) -> dt.datetime | dt.date:
    """An EXDATE or RECURRENCE-ID in the event's own zone (stored with a bare UTC
    offset, it would be written with a TZID no calendar app knows)."""
    parsed = _parsed(value)
    if isinstance(parsed, dt.datetime) and parsed.tzinfo is not None:
        return parsed.astimezone(ZoneInfo(event.tzid) if event.tzid else dt.UTC)
    return parsed


def _parsed(value: str) -> dt.datetime | dt.date:
    from delegate.scheduling.models import parse_when

    return parse_when(value)


def calendar_bytes(
    events: list[Event], zone: ZoneInfo, *, method: str = "", name: str = ""
) -> bytes:
    cal = new_calendar(method)
    if name:
        cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(to_vevent(event, zone))
    cal.add_missing_timezones()
    return cal.to_ical()


# --- reading ---------------------------------------------------------------------------


@dataclass
class ParsedEvent:
    """Field values for an :class:`Event`, read from one VEVENT."""

    uid: str
    recurrence_id: str
    values: dict[str, Any] = field(default_factory=dict)


def _iso(value: dt.datetime | dt.date) -> str:
    return value.isoformat()


def _aware(value: dt.datetime | dt.date, zone: ZoneInfo) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


def _tzid(value: dt.datetime | dt.date) -> str:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        return ""
    key = getattr(value.tzinfo, "key", None)
    return key if isinstance(key, str) else "UTC"


def parse_events(data: bytes | str, zone: ZoneInfo) -> list[ParsedEvent]:
    """The VEVENTs of an iCalendar text (one or several calendars), as field values.
    A VEVENT that cannot be read (no start, a broken value) is left out and logged, so
    one bad event does not stop a feed."""
    parsed: list[ParsedEvent] = []
    for cal in icalendar.Calendar.from_ical(data, multiple=True):
        for vevent in cal.walk("VEVENT"):
            try:
                parsed.append(parse_vevent(vevent, zone))  # type: ignore[arg-type]
            except (icalendar.InvalidCalendar, ValueError, TypeError, KeyError) as exc:
                logger.warning("skipping unreadable VEVENT %s: %s", vevent.get("uid"), exc)
    return parsed


def parse_vevent(vevent: icalendar.Event, zone: ZoneInfo) -> ParsedEvent:
    start = vevent.start
    try:
        end = vevent.end
    except icalendar.InvalidCalendar:
        end = start + (
            dt.timedelta(days=1) if not isinstance(start, dt.datetime) else dt.timedelta()
        )
    rid = vevent.get("recurrence-id")
    rrule = vevent.get("rrule")
    attendees = vevent.get("attendee") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    organizer = str(vevent.get("organizer") or "")
    status = str(vevent.get("status") or "CONFIRMED").lower()
    if status not in {"confirmed", "tentative", "cancelled"}:
        status = "confirmed"
    values = {
        "summary": str(vevent.get("summary") or "")[:500],
        "description": str(vevent.get("description") or ""),
        "location": str(vevent.get("location") or "")[:500],
        "is_all_day": not isinstance(start, dt.datetime),
        "starts_at": _aware(start, zone),
        "ends_at": _aware(end, zone),
        "tzid": _tzid(start),
        "rrule": rrule.to_ical().decode() if rrule else "",
        "exdates": [_iso(x) for x in vevent.exdates],
        "is_busy": str(vevent.get("transp") or "OPAQUE").upper() != "TRANSPARENT",
        "status": status,
        "organizer": organizer.removeprefix("mailto:").removeprefix("MAILTO:")[:254],
        "attendees": [
            {
                "email": str(a).split(":", 1)[-1],
                "name": str(a.params.get("CN", "")),
                "partstat": str(a.params.get("PARTSTAT", "NEEDS-ACTION")),
            }
            for a in attendees
        ],
        "sequence": int(vevent.get("sequence") or 0),
    }
    return ParsedEvent(
        uid=str(vevent.get("uid") or ""),
        recurrence_id=_iso(rid.dt) if rid is not None else "",
        values=values,
    )


def new_uid() -> str:
    import uuid

    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "delegate"
    return f"{uuid.uuid4()}@{host}"
