"""Working days: the client's working weekdays (Monday to Friday unless they say
otherwise) without the public holidays of a region (a German state such as "DE-BY", or a
country), and their working hours for "asap" (09:00–17:00 unless they say otherwise)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays

WORK_START = dt.time(9, 0)
WORK_END = dt.time(17, 0)


@lru_cache(maxsize=512)
def _holidays(region: str, year: int) -> frozenset[dt.date]:
    country, _, subdiv = region.upper().partition("-")
    if not country:
        return frozenset()
    for attempt in (subdiv or None, None):
        try:
            return frozenset(holidays.country_holidays(country, subdiv=attempt, years=year))
        except (NotImplementedError, KeyError, ValueError):
            continue
    return frozenset()


@dataclass(frozen=True)
class WorkCalendar:
    """The weekdays ``days`` (0 = Monday) from ``starts_at`` to ``ends_at``, without the
    public holidays of ``region`` ("DE-BY", "GB", "US-NY"; empty for none)."""

    region: str = ""
    days: frozenset[int] = frozenset(range(5))
    starts_at: dt.time = WORK_START
    ends_at: dt.time = WORK_END

    @classmethod
    def of(
        cls,
        region: str,
        *,
        days: str = "",
        starts_at: dt.time | None = None,
        ends_at: dt.time | None = None,
    ) -> WorkCalendar:
        """From stored settings ("01234", times or None); anything missing or
        inconsistent (no day, an end before the start) falls back to the default."""
        weekdays = frozenset(int(c) for c in days if c in "0123456") or frozenset(range(5))
        start, end = starts_at or WORK_START, ends_at or WORK_END
        if end <= start:
            start, end = WORK_START, WORK_END
        return cls(region, weekdays, start, end)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.days and day not in _holidays(self.region, day.year)

    def last_working_day(self, day: dt.date, *, not_before: dt.date) -> dt.date:
        """``day`` or the working day before it, but never before ``not_before``."""
        candidate = day
        while not self.is_working_day(candidate) and candidate > not_before:
            candidate -= dt.timedelta(days=1)
        return candidate

    def next_working_day(self, day: dt.date) -> dt.date:
        candidate = day + dt.timedelta(days=1)
        for _ in range(60):
            if self.is_working_day(candidate):
                break
            candidate += dt.timedelta(days=1)
        return candidate

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def add_working_hours(self, moment: dt.datetime, hours: float) -> dt.datetime:
        remaining = dt.timedelta(hours=hours)
        current = moment
        for _ in range(60):
            day = current.date()
            start = dt.datetime.combine(day, self.starts_at, tzinfo=current.tzinfo)
            end = dt.datetime.combine(day, self.ends_at, tzinfo=current.tzinfo)
            if not self.is_working_day(day) or current >= end:
                nxt = self.next_working_day(day)
                current = dt.datetime.combine(nxt, self.starts_at, tzinfo=moment.tzinfo)
                continue
            current = max(current, start)
            if current + remaining <= end:
                return current + remaining
            remaining -= end - current
            current = end
        return current
