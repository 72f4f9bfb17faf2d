"""When a booking page offers slots: working hours, holidays, the calendars that decide."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from django.utils import timezone

from delegate.scheduling.models import Booking, Calendar, EventType
from delegate.scheduling.services.events import busy_intervals
from delegate.scheduling.slots import Rules, free_slots

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
