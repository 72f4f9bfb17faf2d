"""The in-memory decision: order of people, hours across time zones and DST, holidays,
absences, capacity, rules, and that another agency's assistants never appear."""

from __future__ import annotations

import datetime as dt

import numpy as np

from delegate.routing.core import (
    Assistant,
    Away,
    Block,
    Job,
    OpenTask,
    Roster,
    Rules,
    decide,
    working_minutes,
)

UTC = dt.UTC
# Tuesday 1 December 2026, 10:00 UTC = 11:00 in Berlin, 05:00 in New York.
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
OFFICE = tuple(Block(day, dt.time(9), dt.time(17)) for day in range(5))


def person(pid: str, agency: str = "A", **fields: object) -> Assistant:
    defaults: dict[str, object] = {
        "name": pid.title(),
        "hours": OFFICE,
        "skills": {"bookkeeping": 3},
        "languages": frozenset({"de", "en"}),
    }
    defaults.update(fields)
    return Assistant(id=pid, agency_id=agency, **defaults)  # type: ignore[arg-type]


def job(**fields: object) -> Job:
    defaults: dict[str, object] = {
        "agency_id": "A",
        "required_skills": ("bookkeeping",),
        "language": "de",
        "due_ts": (NOW + dt.timedelta(hours=4)).timestamp(),
        "minutes": 60,
        "primary": "pia",
        "backup": "ben",
    }
    defaults.update(fields)
    return Job(**defaults)  # type: ignore[arg-type]


def roster(*people: Assistant, tasks: tuple[OpenTask, ...] = (), **kw: object) -> Roster:
    return Roster("A", people, tasks, now=NOW, **kw)  # type: ignore[arg-type]


def route(r: Roster, j: Job) -> tuple[str | None, str]:
    d = decide(r, j, now_ts=NOW.timestamp())
    return d.assignee, d.step


def test_it_takes_the_primary_when_they_fit() -> None:
    r = roster(person("pia"), person("ben"), person("tom"))
    decision = decide(r, job(), now_ts=NOW.timestamp())
    assert (decision.assignee, decision.step) == ("pia", "primary")
    (reason,) = decision.reasons
    assert reason.code == "primary"
    assert reason.params["skills"] == {"bookkeeping": 3}
    # 11:00 → 15:00 in Berlin: four working hours before the deadline.
    assert reason.params["free_minutes"] == 240


def test_it_takes_the_stand_in_named_for_the_primarys_absence_before_the_backup() -> None:
    away = Away(dt.date(2026, 11, 30), dt.date(2026, 12, 2), stand_in="sam")
    r = roster(person("pia", absences=(away,)), person("ben"), person("sam"))
    decision = decide(r, job(), now_ts=NOW.timestamp())
    assert (decision.assignee, decision.step) == ("sam", "stand_in")
    assert decision.reasons[0].code == "primary_unfit"
    assert decision.reasons[0].params == {"name": "Pia", "until": "2026-12-02", "why": "absent"}


def test_it_takes_the_backup_when_the_stand_in_cannot() -> None:
    away = Away(dt.date(2026, 11, 30), dt.date(2026, 12, 2), stand_in="sam")
    r = roster(person("pia", absences=(away,)), person("ben"), person("sam", skills={"travel": 4}))
    decision = decide(r, job(), now_ts=NOW.timestamp())
    assert (decision.assignee, decision.step) == ("ben", "backup")
    assert [x.code for x in decision.reasons] == ["primary_unfit", "stand_in_unfit", "backup"]
    assert decision.reasons[1].params["why"] == "missing_skill"


def test_it_takes_the_team_before_the_agency_and_the_least_loaded() -> None:
    lacking = {"travel": 5}
    r = roster(
        person("pia", skills=lacking),
        person("ben", skills=lacking),
        person("tim"),
        person("tia"),
        person("ann", skills={"bookkeeping": 5}),
        tasks=(OpenTask("tim", None, 600),),
    )
    assert route(r, job(team=("tim", "tia"))) == ("tia", "team")
    assert route(r, job(team=())) == ("ann", "agency")  # level 5 beats level 3


def test_a_named_person_without_the_clients_language_is_passed_over() -> None:
    r = roster(person("pia", languages=frozenset({"en"})), person("ben"))
    assert route(r, job()) == ("ben", "backup")


def test_it_never_considers_an_assistant_of_another_agency() -> None:
    # The other agency's assistant is named (a corrupt id) and is the only one with
    # the skill: routing still does not choose them.
    r = roster(
        person("pia", skills={}),
        person("ben", skills={}),
        person("xen", agency="B", skills={"bookkeeping": 5}),
    )
    assert "xen" not in r.index
    decision = decide(r, job(primary="xen", team=("xen",)), now_ts=NOW.timestamp())
    assert decision.assignee is None
    assert decision.step == "none"


def test_working_hours_are_read_in_the_assistants_own_time_zone() -> None:
    # At 10:00 UTC it is 05:00 in New York: with a deadline at 13:00 UTC (08:00 there)
    # the New Yorker cannot work on it, the Berliner can.
    ny = person("pia", time_zone="America/New_York")
    r = roster(ny, person("ben"))
    due = (NOW + dt.timedelta(hours=3)).timestamp()
    decision = decide(r, job(due_ts=due), now_ts=NOW.timestamp())
    assert (decision.assignee, decision.step) == ("ben", "backup")
    assert decision.reasons[0].params["why"] == "no_time"
    # With the deadline at 16:00 UTC (11:00 in New York) she has two hours: enough.
    later = (NOW + dt.timedelta(hours=6)).timestamp()
    assert route(r, job(due_ts=later)) == ("pia", "primary")


def test_follow_the_sun_sends_a_tight_task_to_whoever_is_working_now() -> None:
    # 22:00 UTC: Berlin has stopped, New York stops now (17:00 local); Manila starts at
    # 09:00 local = 01:00 UTC, so only Manila can finish a one-hour task due at 03:00 UTC.
    night = dt.datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    people = [
        person("pia", skills={}),
        person("ben", skills={}),
        person("ber"),
        person("nyc", time_zone="America/New_York"),
        person("mnl", time_zone="Asia/Manila"),
    ]
    r = Roster("A", people, now=night)
    due = (night + dt.timedelta(hours=5)).timestamp()
    decision = decide(r, job(due_ts=due), now_ts=night.timestamp())
    assert (decision.assignee, decision.step) == ("mnl", "agency")


def test_dst_moves_the_hours_in_utc_with_the_local_clock() -> None:
    # Europe leaves summer time on Sunday 25 October 2026. 09:00-17:00 in Berlin is
    # 07:00-15:00 UTC on Friday the 23rd and 08:00-16:00 UTC on Monday the 26th.
    berlin = person("ber", hours=tuple(Block(d, dt.time(9), dt.time(17)) for d in range(7)))
    epoch = dt.datetime(2026, 10, 23, 0, 0, tzinfo=UTC).timestamp()
    minutes = working_minutes(berlin, epoch=epoch, slots=4 * 96)
    per_hour = minutes.reshape(-1, 4).sum(axis=1)  # 96 hours from Friday 00:00 UTC
    friday, sunday, monday = per_hour[0:24], per_hour[48:72], per_hour[72:96]
    assert list(np.flatnonzero(friday)) == list(range(7, 15))
    assert list(np.flatnonzero(sunday)) == list(range(8, 16))
    assert list(np.flatnonzero(monday)) == list(range(8, 16))
    assert per_hour.sum() == 4 * 8 * 60


def test_dst_in_spring_shortens_the_night_not_the_working_day() -> None:
    # New York springs forward on Sunday 8 March 2026: 09:00-17:00 local is 14:00-22:00
    # UTC before and 13:00-21:00 UTC after.
    ny = person(
        "nyc",
        time_zone="America/New_York",
        hours=(Block(4, dt.time(9), dt.time(17)), Block(0, dt.time(9), dt.time(17))),
    )
    epoch = dt.datetime(2026, 3, 6, 0, 0, tzinfo=UTC).timestamp()  # Friday
    per_hour = working_minutes(ny, epoch=epoch, slots=4 * 96).reshape(-1, 4).sum(axis=1)
    assert list(np.flatnonzero(per_hour[0:24])) == list(range(14, 22))
    assert list(np.flatnonzero(per_hour[72:96])) == list(range(13, 21))


def test_public_holidays_of_the_assistants_region_are_days_off() -> None:
    # Epiphany (6 January) is a public holiday in Bavaria, not in Berlin.
    epiphany = dt.datetime(2027, 1, 6, 8, 0, tzinfo=UTC)  # a Wednesday
    bavarian = person("pia", holiday_region="DE-BY")
    berliner = person("ben", holiday_region="DE-BE")
    r = Roster("A", [bavarian, berliner], now=epiphany)
    due = (epiphany + dt.timedelta(hours=6)).timestamp()
    decision = decide(r, job(due_ts=due), now_ts=epiphany.timestamp())
    assert (decision.assignee, decision.step) == ("ben", "backup")
    assert decision.reasons[0].params["why"] == "no_time"
    assert r.work_cum[0, 96] == 0  # the Bavarian works no minute that day


def test_capacity_and_the_open_task_limit_are_respected() -> None:
    full = tuple(OpenTask("pia", None, 30) for _ in range(3))
    r = roster(person("pia", max_open_tasks=3), person("ben"), tasks=full)
    decision = decide(r, job(), now_ts=NOW.timestamp())
    assert (decision.assignee, decision.reasons[0].params["why"]) == ("ben", "too_many_tasks")

    busy = (OpenTask("pia", None, 2390),)
    r = roster(person("pia", capacity_minutes=2400), person("ben"), tasks=busy)
    decision = decide(r, job(), now_ts=NOW.timestamp())
    assert (decision.assignee, decision.reasons[0].params["why"]) == ("ben", "over_capacity")


def test_earlier_deadlines_in_the_queue_use_up_the_time_before_this_one() -> None:
    soon = (NOW + dt.timedelta(hours=2)).timestamp()
    r = roster(person("pia"), person("ben"), tasks=(OpenTask("pia", soon, 200),))
    decision = decide(r, job(), now_ts=NOW.timestamp())
    assert decision.assignee == "ben"
    # 240 working minutes - 200 due earlier - 60 for this task: 20 short.
    assert decision.reasons[0].params == {"name": "Pia", "short_minutes": 20, "why": "no_time"}
    # Work due after this task's deadline does not count against it.
    later = (NOW + dt.timedelta(days=2)).timestamp()
    r = roster(person("pia"), person("ben"), tasks=(OpenTask("pia", later, 600),))
    assert route(r, job()) == ("pia", "primary")


def test_vip_clients_go_to_senior_assistants_and_categories_to_their_team() -> None:
    people = [
        person("pia", skills={}),
        person("ben", skills={}),
        person("reg", skills={"bookkeeping": 5}),
        person("sen", level="senior"),
    ]
    assert route(roster(*people), job(is_vip=True)) == ("sen", "agency")
    rules = Rules(category_teams={"finance": frozenset({"sen"})})
    assert route(roster(*people, rules=rules), job(category="finance")) == ("sen", "agency")
    assert route(roster(*people, rules=rules), job(category="travel")) == ("reg", "agency")


def test_the_work_of_an_absent_assignee_goes_to_their_stand_in() -> None:
    away = Away(dt.date(2026, 12, 1), dt.date(2026, 12, 4), stand_in="sam")
    r = roster(person("pia"), person("ben"), person("bob", absences=(away,)), person("sam"))
    decision = decide(r, job(holder="bob"), now_ts=NOW.timestamp())
    # The primary comes first (the task is the client's), then the holder's stand-in.
    assert (decision.assignee, decision.step) == ("pia", "primary")
    r = roster(
        person("pia", skills={}), person("ben"), person("bob", absences=(away,)), person("sam")
    )
    decision = decide(r, job(holder="bob"), now_ts=NOW.timestamp())
    assert (decision.assignee, decision.step) == ("sam", "stand_in")
    assert decision.reasons[0].code == "holder_unfit"


def test_when_nobody_finishes_in_time_the_closest_one_gets_it() -> None:
    due = (NOW + dt.timedelta(minutes=30)).timestamp()
    r = roster(person("pia"), person("ben"), person("nyc", time_zone="America/New_York"))
    decision = decide(r, job(due_ts=due, primary=None, backup=None), now_ts=NOW.timestamp())
    assert decision.step == "late"
    assert decision.assignee in ("pia", "ben")
    assert "nobody_in_time" in [x.code for x in decision.reasons]
