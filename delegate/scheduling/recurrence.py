"""Calendar events to busy intervals: expansion of recurring events, pure and DB-free.

An event is described by an :class:`EventSpec` with iCalendar semantics (RFC 5545):

* a timed event has aware ``start``/``end`` in its own time zone; a recurring one repeats
  by *wall-clock* time in that zone (09:00 stays 09:00 across a DST change);
* an all-day event has ``date`` values; it covers whole days in the calendar's zone;
* a naive (floating) datetime is read in the calendar's zone;
* ``exdates`` remove occurrences; an override (same ``uid``, ``recurrence_id`` set)
  replaces the occurrence that started at ``recurrence_id``;
* transparent (free) and cancelled events are not busy.

Intervals are integer Unix seconds, half-open ``[start, end)``, sorted and merged.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from dateutil.rrule import rruleset, rrulestr

Interval = tuple[int, int]
When = dt.datetime | dt.date

# An open-ended RRULE is expanded at most this far (safety net against bad data).
MAX_OCCURRENCES = 5000


@dataclass(frozen=True)
class EventSpec:
    uid: str
    start: When
    end: When
    rrule: str = ""
    exdates: tuple[When, ...] = field(default_factory=tuple)
    recurrence_id: When | None = None
    is_busy: bool = True
    is_cancelled: bool = False

    @property
    def is_all_day(self) -> bool:
        return not isinstance(self.start, dt.datetime)


def to_epoch(value: When, zone: ZoneInfo) -> int:
    """Unix seconds of a datetime (naive = wall time in ``zone``) or of a date's local
    midnight in ``zone``. A wall time that does not exist (spring forward) is read with
    the offset before the gap, as RFC 5545 says."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return int(value.timestamp())


def _key(value: When, zone: ZoneInfo) -> int:
    return to_epoch(value, zone)


def _occurrence_starts(event: EventSpec, zone: ZoneInfo, lo: int, hi: int) -> Iterable[When]:
    """Starts of the occurrences of ``event`` whose start lies in ``[lo, hi]``."""
    if not event.rrule:
        yield event.start
        return
    start = event.start
    if isinstance(start, dt.datetime):
        dtstart = start
        tz = start.tzinfo
    else:
        dtstart = dt.datetime.combine(start, dt.time())
        tz = None
    try:
        rule = rrulestr(event.rrule, dtstart=dtstart, forceset=False, cache=False)
    except ValueError:
        # UNTIL in UTC with a floating DTSTART (or the reverse): read UNTIL as floating.
        cleaned = event.rrule.replace("Z;", ";").rstrip("Z") if "UNTIL" in event.rrule else ""
        rule = rrulestr(cleaned, dtstart=dtstart, forceset=False, cache=False)
    # DTSTART is always the first occurrence, even when the rule would not produce it
    # (RFC 5545 3.8.5.3; calendar apps show it too).
    rules = rruleset(cache=False)
    rules.rrule(rule)
    rules.rdate(dtstart)
    lo_dt = dt.datetime.fromtimestamp(lo, tz=tz or dt.UTC)
    hi_dt = dt.datetime.fromtimestamp(hi, tz=tz or dt.UTC)
    if tz is None:
        # Floating/all-day rules run on naive wall time in the calendar's zone: widen by a
        # day each side and let the exact filter below decide.
        lo_dt = (lo_dt.astimezone(zone) - dt.timedelta(days=1)).replace(tzinfo=None)
        hi_dt = (hi_dt.astimezone(zone) + dt.timedelta(days=1)).replace(tzinfo=None)
    for count, occurrence in enumerate(rules.xafter(lo_dt, inc=True)):
        if occurrence > hi_dt or count > MAX_OCCURRENCES:
            return
        yield occurrence if isinstance(start, dt.datetime) else occurrence.date()


def expand(events: Sequence[EventSpec], *, zone: ZoneInfo, start: int, end: int) -> list[Interval]:
    """Busy intervals of ``events`` overlapping ``[start, end)``, merged and sorted."""
    by_uid: dict[str, list[EventSpec]] = defaultdict(list)
    intervals: list[Interval] = []
    singles: dict[str, EventSpec] = {}
    for event in events:
        by_uid[event.uid].append(event)
    for uid, group in by_uid.items():
        if len(group) == 1 and not group[0].rrule and group[0].recurrence_id is None:
            singles[uid] = group[0]
    # Fast path for the common case, a plain timed event: no recurrence, no overrides.
    for event in singles.values():
        if event.is_cancelled or not event.is_busy or event.is_all_day:
            continue
        lo, hi = to_epoch(event.start, zone), to_epoch(event.end, zone)
        if hi > start and lo < end and hi > lo:
            intervals.append((lo, hi))
    for uid, group in by_uid.items():
        if uid in singles and not singles[uid].is_all_day:
            continue
        for occurrence in _group_occurrences(group, zone, start, end):
            if occurrence.event.is_busy and not occurrence.event.is_cancelled:
                intervals.append((occurrence.start, occurrence.end))
    return merge(intervals)


@dataclass(frozen=True)
class Occurrence:
    event: EventSpec
    start: int
    end: int


def occurrences(
    events: Sequence[EventSpec], *, zone: ZoneInfo, start: int, end: int
) -> list[Occurrence]:
    """Every occurrence overlapping ``[start, end)`` (busy or not, not cancelled), by
    start: what a calendar view lists."""
    by_uid: dict[str, list[EventSpec]] = defaultdict(list)
    for event in events:
        by_uid[event.uid].append(event)
    found = [
        occurrence
        for group in by_uid.values()
        for occurrence in _group_occurrences(group, zone, start, end)
        if not occurrence.event.is_cancelled
    ]
    return sorted(found, key=lambda o: (o.start, o.event.uid))


def _group_occurrences(
    group: Sequence[EventSpec], zone: ZoneInfo, start: int, end: int
) -> Iterable[Occurrence]:
    """The occurrences of one UID's master and overrides: an override replaces the
    occurrence it names, EXDATEs remove theirs. An EXDATE of the master also removes an
    override of that occurrence (the instance was deleted, a stale override was left
    behind), as recurring-ical-events and the common calendar apps read it."""
    overridden = {_key(e.recurrence_id, zone) for e in group if e.recurrence_id is not None}
    deleted = {_key(x, zone) for e in group if e.recurrence_id is None for x in e.exdates}
    for event in group:
        if event.recurrence_id is not None and _key(event.recurrence_id, zone) in deleted:
            continue
        skip = overridden if event.recurrence_id is None else set()
        skip = skip | {_key(x, zone) for x in event.exdates}
        length = to_epoch(event.end, zone) - to_epoch(event.start, zone)
        if event.is_all_day:
            length = 0  # all-day ends are computed per occurrence (days, not seconds)
        lookback = max(length, 2 * 86400)
        for occurrence in _occurrence_starts(event, zone, start - lookback, end):
            key = _key(occurrence, zone)
            if key in skip:
                continue
            if event.is_all_day:
                days = (event.end - event.start).days  # type: ignore[operator]
                stop = to_epoch(occurrence + dt.timedelta(days=max(days, 1)), zone)
            else:
                stop = key + length
            if stop > start and key < end and stop > key:
                yield Occurrence(event, key, stop)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged
