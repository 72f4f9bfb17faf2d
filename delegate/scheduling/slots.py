"""The free-slot engine: pure, DB-free, integer Unix seconds throughout.

A candidate slot starts at a working window's start plus a multiple of ``step`` and
lasts ``duration``. It is free when

* it lies inside one working window (weekly hours in the owner's zone, not on a
  holiday; a window is converted to UTC day by day, so 09:00 stays 09:00 across DST),
* it starts no earlier than ``now + min_notice`` and no later than ``now + horizon``,
* ``[start - buffer_before, end + buffer_after)`` overlaps no busy interval,
* its local day holds fewer than ``daily_limit`` bookings already (if there is a limit).

The busy intervals come from :func:`delegate.scheduling.recurrence.expand`.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from delegate.scheduling.recurrence import Interval, merge

WeeklyHours = Mapping[int, Sequence[tuple[dt.time, dt.time]]]  # 0 = Monday


@dataclass(frozen=True)
class Rules:
    zone: ZoneInfo
    weekly_hours: WeeklyHours
    duration: int
    step: int = 900
    buffer_before: int = 0
    buffer_after: int = 0
    min_notice: int = 0
    horizon: int = 30 * 86400
    daily_limit: int | None = None
    holidays: frozenset[dt.date] = field(default_factory=frozenset)


def working_windows(rules: Rules, first: dt.date, last: dt.date) -> list[Interval]:
    """The working windows of the local days ``first`` … ``last`` (inclusive), in UTC."""
    windows: list[Interval] = []
    day = first
    one_day = dt.timedelta(days=1)
    while day <= last:
        if day not in rules.holidays:
            for opens, closes in rules.weekly_hours.get(day.weekday(), ()):
                lo = int(dt.datetime.combine(day, opens, tzinfo=rules.zone).timestamp())
                hi = int(dt.datetime.combine(day, closes, tzinfo=rules.zone).timestamp())
                if hi > lo:
                    windows.append((lo, hi))
        day += one_day
    return merge(windows)


def _merge_open(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo < merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def local_day(ts: int, zone: ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(ts, tz=zone).date()


def free_slots(
    rules: Rules,
    *,
    busy: Sequence[Interval],
    now: int,
    booked: Sequence[int] = (),
    start: int | None = None,
    end: int | None = None,
) -> list[int]:
    """Start times of the free slots, ascending. ``busy`` must be sorted and merged;
    ``booked`` are the starts of existing bookings that count against the daily limit;
    ``start``/``end`` narrow the range further (e.g. to one week on a page)."""
    earliest = now + rules.min_notice
    latest = now + rules.horizon
    if start is not None:
        earliest = max(earliest, start)
    if end is not None:
        latest = min(latest, end)
    if latest < earliest:
        return []
    zone = rules.zone
    windows = working_windows(
        rules,
        local_day(earliest, zone) - dt.timedelta(days=1),
        local_day(latest, zone) + dt.timedelta(days=1),
    )
    # A start s is blocked by busy [b0, b1) iff s - before < b1 and s + duration + after > b0,
    # i.e. s lies in the open interval (b0 - duration - after, b1 + before).
    reach = rules.duration + rules.buffer_after
    blocked_lo = [b0 - reach for b0, _b1 in busy]
    blocked_hi = [b1 + rules.buffer_before for _b0, b1 in busy]
    # Merging the blocked regions keeps them sorted by both ends, for bisect. They are
    # open intervals: two that only touch leave the touching point free.
    blocked = _merge_open(zip(blocked_lo, blocked_hi, strict=True))
    his = [hi for _lo, hi in blocked]
    full_days: set[dt.date] = set()
    if rules.daily_limit is not None:
        counts = Counter(local_day(ts, zone) for ts in booked)
        full_days = {day for day, n in counts.items() if n >= rules.daily_limit}
    step = rules.step
    duration = rules.duration
    slots: list[int] = []
    for w_lo, w_hi in windows:
        last_start = min(w_hi - duration, latest)
        if last_start < earliest:
            continue
        s = w_lo
        if s < earliest:
            s += -(-(earliest - s) // step) * step
        i = bisect.bisect_right(his, s)  # first blocked region ending after s
        while s <= last_start:
            # skip blocked regions that end at or before s
            while i < len(blocked) and blocked[i][1] <= s:
                i += 1
            if i < len(blocked) and blocked[i][0] < s:
                # s is inside an open blocked region: jump to its end (aligned to step)
                s += -(-(blocked[i][1] - s) // step) * step
                continue
            slots.append(s)
            s += step
    if full_days:
        slots = [s for s in slots if local_day(s, zone) not in full_days]
    return slots
