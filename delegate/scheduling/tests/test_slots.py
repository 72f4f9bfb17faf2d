"""The slot engine against a brute-force reference.

The reference shares nothing with the engine but the definition of working windows: busy
time comes from ``recurring-ical-events`` expanding a real iCalendar file (the engine uses
its own expansion), and every candidate is checked minute by minute.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delegate.scheduling.recurrence import EventSpec, expand
from delegate.scheduling.slots import Rules, free_slots, working_windows

BERLIN = ZoneInfo("Europe/Berlin")
ZONES = [BERLIN, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC")]
MINUTE = 60
# Around the end of DST in Europe (26 Oct 2025) and in the US (2 Nov 2025).
BASE = dt.datetime(2025, 10, 20, tzinfo=dt.UTC)


def to_ical(events: list[EventSpec]) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//test//")
    cal.add("version", "2.0")
    for spec in events:
        vevent = icalendar.Event()
        vevent.add("uid", spec.uid)
        vevent.add("dtstart", spec.start)
        vevent.add("dtend", spec.end)
        if spec.rrule:
            vevent.add("rrule", icalendar.vRecur.from_ical(spec.rrule))
        for exdate in spec.exdates:
            vevent.add("exdate", exdate)
        if spec.recurrence_id is not None:
            vevent.add("recurrence-id", spec.recurrence_id)
        if not spec.is_busy:
            vevent.add("transp", "TRANSPARENT")
        if spec.is_cancelled:
            vevent.add("status", "CANCELLED")
        cal.add_component(vevent)
    cal.add_missing_timezones()
    return cal


def reference_busy_minutes(events: list[EventSpec], zone: ZoneInfo, lo: int, hi: int) -> set[int]:
    cal = to_ical(events)
    start = dt.datetime.fromtimestamp(lo, tz=dt.UTC)
    end = dt.datetime.fromtimestamp(hi, tz=dt.UTC)
    minutes: set[int] = set()
    for occurrence in recurring_ical_events.of(cal).between(start, end):
        if occurrence.get("transp") == "TRANSPARENT" or occurrence.get("status") == "CANCELLED":
            continue
        begin, stop = occurrence.decoded("dtstart"), occurrence.decoded("dtend")
        b = _ts(begin, zone)
        e = _ts(stop, zone)
        minutes.update(range(b - b % MINUTE, e, MINUTE))
    return minutes


def _ts(value: dt.date | dt.datetime, zone: ZoneInfo) -> int:
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return int(value.timestamp())


def reference_slots(
    rules: Rules, events: list[EventSpec], now: int, booked: list[int]
) -> list[int]:
    lo, hi = now - 3 * 86400, now + rules.horizon + 3 * 86400
    busy = reference_busy_minutes(events, rules.zone, lo, hi)
    first = dt.datetime.fromtimestamp(lo, tz=rules.zone).date()
    last = dt.datetime.fromtimestamp(hi, tz=rules.zone).date()
    working: set[int] = set()
    for w0, w1 in working_windows(rules, first, last):
        working.update(range(w0, w1, MINUTE))
    per_day: dict[dt.date, int] = {}
    for b in booked:
        day = dt.datetime.fromtimestamp(b, tz=rules.zone).date()
        per_day[day] = per_day.get(day, 0) + 1
    slots = []
    for m in sorted(working):
        if m - MINUTE in working:
            continue  # not the start of a run of working minutes
        s = m
        while s in working:
            ok = (
                all(t in working for t in range(s, s + rules.duration, MINUTE))
                and now + rules.min_notice <= s <= now + rules.horizon
                and not any(
                    t in busy
                    for t in range(
                        s - rules.buffer_before, s + rules.duration + rules.buffer_after, MINUTE
                    )
                )
            )
            day = dt.datetime.fromtimestamp(s, tz=rules.zone).date()
            if rules.daily_limit is not None and per_day.get(day, 0) >= rules.daily_limit:
                ok = False
            if ok:
                slots.append(s)
            s += rules.step
    return slots


def engine_slots(rules: Rules, events: list[EventSpec], now: int, booked: list[int]) -> list[int]:
    busy = expand(events, zone=rules.zone, start=now - 86400, end=now + rules.horizon + 86400)
    return free_slots(rules, busy=busy, now=now, booked=booked)


NINE_TO_FIVE = {d: [(dt.time(9), dt.time(17))] for d in range(5)}


@st.composite
def event_specs(draw: st.DrawFn, index: int) -> list[EventSpec]:
    zone = draw(st.sampled_from(ZONES))
    day = draw(st.integers(-3, 12))
    minute = draw(st.integers(0, 24 * 4 - 1)) * 15
    length = draw(st.integers(1, 16)) * 15
    uid = f"e{index}"
    if draw(st.booleans()) and draw(st.booleans()):  # all-day, a quarter of the events
        start_date = (BASE + dt.timedelta(days=day)).date()
        days = draw(st.integers(1, 3))
        rrule = draw(st.sampled_from(["", "FREQ=WEEKLY;COUNT=3", "FREQ=DAILY;INTERVAL=4"]))
        return [EventSpec(uid, start_date, start_date + dt.timedelta(days=days), rrule=rrule)]
    local = (BASE + dt.timedelta(days=day, minutes=minute)).astimezone(zone).replace(tzinfo=None)
    start = local.replace(tzinfo=zone)
    end = start + dt.timedelta(minutes=length)
    rrule = draw(
        st.sampled_from(
            [
                "",
                "FREQ=DAILY",
                "FREQ=DAILY;COUNT=5",
                "FREQ=WEEKLY;BYDAY=MO,WE,FR",
                "FREQ=DAILY;INTERVAL=2",
            ]
        )
    )
    specs = []
    exdates: tuple[dt.datetime, ...] = ()
    if rrule and draw(st.booleans()):
        exdates = (start + dt.timedelta(days=draw(st.integers(1, 4))),)
        if "BYDAY" in rrule:
            exdates = ()
    busy = draw(st.integers(0, 5)) > 0
    specs.append(EventSpec(uid, start, end, rrule=rrule, exdates=exdates, is_busy=busy))
    if rrule == "FREQ=DAILY" and draw(st.booleans()):
        # move the third occurrence by a few hours (or cancel it)
        rid = start + dt.timedelta(days=2)
        shift = dt.timedelta(hours=draw(st.integers(-5, 5)))
        specs.append(
            EventSpec(
                uid,
                rid + shift,
                rid + shift + (end - start),
                recurrence_id=rid,
                is_cancelled=draw(st.booleans()),
            )
        )
    return specs


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Rules, list[EventSpec], int, list[int]]:
    zone = draw(st.sampled_from(ZONES))
    hours = draw(
        st.sampled_from(
            [
                NINE_TO_FIVE,
                {d: [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(18, 30))] for d in range(6)},
                {d: [(dt.time(0), dt.time(4)), (dt.time(1, 30), dt.time(3, 15))] for d in range(7)},
            ]
        )
    )
    rules = Rules(
        zone=zone,
        weekly_hours=hours,
        duration=draw(st.sampled_from([15, 30, 45, 60, 90])) * MINUTE,
        step=draw(st.sampled_from([15, 30, 60])) * MINUTE,
        buffer_before=draw(st.sampled_from([0, 5, 15])) * MINUTE,
        buffer_after=draw(st.sampled_from([0, 10, 30])) * MINUTE,
        min_notice=draw(st.sampled_from([0, 60, 24 * 60])) * MINUTE,
        horizon=draw(st.integers(2, 10)) * 86400,
        daily_limit=draw(st.sampled_from([None, 1, 3])),
        holidays=frozenset({(BASE + dt.timedelta(days=draw(st.integers(0, 9)))).date()}),
    )
    events = [e for i in range(draw(st.integers(0, 6))) for e in draw(event_specs(i))]
    now = (
        int(BASE.timestamp())
        + draw(st.integers(0, 4 * 96)) * 15 * MINUTE
        + draw(st.integers(0, 59))
    )
    booked = [now + draw(st.integers(0, rules.horizon)) for _ in range(draw(st.integers(0, 4)))]
    return rules, events, now, booked


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_it_matches_the_minute_by_minute_reference(scenario: tuple) -> None:
    rules, events, now, booked = scenario
    assert engine_slots(rules, events, now, booked) == reference_slots(rules, events, now, booked)


def ts(year: int, month: int, day: int, hour: int = 0, zone: ZoneInfo = BERLIN) -> int:
    return int(dt.datetime(year, month, day, hour, tzinfo=zone).timestamp())


def test_it_keeps_working_hours_in_local_time_across_the_dst_change() -> None:
    rules = Rules(
        zone=BERLIN,
        weekly_hours={d: [(dt.time(9), dt.time(10))] for d in range(7)},
        duration=3600,
        step=3600,
        horizon=4 * 86400,
    )
    slots = free_slots(rules, busy=[], now=ts(2025, 10, 25, 0))
    # 09:00 Berlin is 07:00 UTC in summer time and 08:00 UTC after 26 October.
    assert [dt.datetime.fromtimestamp(s, tz=dt.UTC).hour for s in slots] == [7, 8, 8, 8]


def test_it_repeats_a_weekly_event_at_the_same_wall_time_and_honours_exceptions() -> None:
    start = dt.datetime(2025, 10, 20, 10, tzinfo=BERLIN)  # Monday, summer time
    master = EventSpec(
        "w",
        start,
        start + dt.timedelta(hours=1),
        rrule="FREQ=WEEKLY;COUNT=4",
        exdates=(start + dt.timedelta(weeks=2),),
    )
    moved = EventSpec(
        "w",
        dt.datetime(2025, 11, 10, 15, tzinfo=BERLIN),
        dt.datetime(2025, 11, 10, 16, tzinfo=BERLIN),
        recurrence_id=start + dt.timedelta(weeks=3),
    )
    busy = expand([master, moved], zone=BERLIN, start=ts(2025, 10, 1), end=ts(2025, 12, 1))
    assert busy == [
        (ts(2025, 10, 20, 10), ts(2025, 10, 20, 11)),
        (ts(2025, 10, 27, 10), ts(2025, 10, 27, 11)),  # 10:00 winter time: 09:00 UTC
        (ts(2025, 11, 10, 15), ts(2025, 11, 10, 16)),
    ]


def test_an_all_day_event_blocks_the_whole_local_day_and_a_holiday_has_no_slots() -> None:
    rules = Rules(
        zone=BERLIN,
        weekly_hours=NINE_TO_FIVE,
        duration=1800,
        horizon=7 * 86400,
        holidays=frozenset({dt.date(2025, 10, 22)}),
    )
    busy = expand(
        [EventSpec("a", dt.date(2025, 10, 21), dt.date(2025, 10, 22))],
        zone=BERLIN,
        start=ts(2025, 10, 20),
        end=ts(2025, 10, 28),
    )
    days = {
        dt.datetime.fromtimestamp(s, tz=BERLIN).date()
        for s in free_slots(rules, busy=busy, now=ts(2025, 10, 20))
    }
    assert dt.date(2025, 10, 20) in days
    assert dt.date(2025, 10, 21) not in days  # all-day event
    assert dt.date(2025, 10, 22) not in days  # holiday
    assert dt.date(2025, 10, 23) in days


def test_an_exdate_of_the_master_also_removes_a_stale_override_of_that_occurrence() -> None:
    """Found by the property test above: the instance on the 22nd was deleted (EXDATE) but
    its earlier override stayed in the file. Calendar apps and recurring-ical-events show
    nothing that day, so it must not block a slot."""
    start = dt.datetime(2025, 10, 20, 5, 15, tzinfo=BERLIN)
    deleted = start + dt.timedelta(days=2)
    events = [
        EventSpec(
            "e0", start, start + dt.timedelta(hours=4), rrule="FREQ=DAILY", exdates=(deleted,)
        ),
        EventSpec("e0", deleted, deleted + dt.timedelta(hours=4), recurrence_id=deleted),
    ]
    rules = Rules(
        zone=BERLIN,
        weekly_hours=NINE_TO_FIVE,
        duration=15 * MINUTE,
        step=15 * MINUTE,
        buffer_before=0,
        buffer_after=0,
        min_notice=0,
        horizon=3 * 86400,
        daily_limit=None,
        holidays=frozenset(),
    )
    now = int(dt.datetime(2025, 10, 20, tzinfo=dt.UTC).timestamp())
    slots = engine_slots(rules, events, now, [])
    assert slots == reference_slots(rules, events, now, [])
    nine_on_the_22nd = int(dt.datetime(2025, 10, 22, 9, tzinfo=BERLIN).timestamp())
    nine_on_the_21st = int(dt.datetime(2025, 10, 21, 9, tzinfo=BERLIN).timestamp())
    assert nine_on_the_22nd in slots  # the deleted occurrence's override blocks nothing
    assert nine_on_the_21st not in slots  # the other occurrences still block until 09:15
