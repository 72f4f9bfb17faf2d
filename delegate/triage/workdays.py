"""Working days: Monday to Friday without the public holidays of a region (a German
state such as "DE-BY", or a country), and working hours for "asap"."""

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
    """Monday to Friday without the public holidays of ``region`` ("DE-BY", "GB",
    "US-NY"; empty for none)."""

    region: str = ""

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in _holidays(self.region, day.year)

    def last_working_day(self, day: dt.date, *, not_before: dt.date) -> dt.date:
        """``day`` or the working day before it, but never before ``not_before``."""
        candidate = day
        while not self.is_working_day(candidate) and candidate > not_before:
            candidate -= dt.timedelta(days=1)
        return candidate

    def next_working_day(self, day: dt.date) -> dt.date:
        candidate = day + dt.timedelta(days=1)
        for _ in range(30):
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
            start = current.replace(hour=WORK_START.hour, minute=0, second=0, microsecond=0)
            end = current.replace(hour=WORK_END.hour, minute=0, second=0, microsecond=0)
            if not self.is_working_day(day) or current >= end:
                nxt = self.next_working_day(day)
                current = dt.datetime.combine(nxt, WORK_START, tzinfo=moment.tzinfo)
                continue
            current = max(current, start)
            if current + remaining <= end:
                return current + remaining
            remaining -= end - current
            current = end
        return current
