from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied

from delegate.agencies import services as agencies
from delegate.scheduling import services
from delegate.testing import Cast

KOLKATA = ZoneInfo("Asia/Kolkata")


def test_an_assistants_free_time_follows_their_hours_absences_holidays_and_calendar(
    cast: Cast,
) -> None:
    agencies.update_profile(cast.alice, cast.bob, time_zone="Asia/Kolkata", holiday_region="DE")
    agencies.set_working_hours(
        cast.alice, cast.bob, blocks=[(day, dt.time(9), dt.time(11)) for day in range(5)]
    )
    monday = dt.datetime(2030, 1, 7, tzinfo=KOLKATA)  # a Monday
    agencies.add_absence(
        cast.alice, cast.bob, starts_on=dt.date(2030, 1, 8), ends_on=dt.date(2030, 1, 8)
    )
    own = services.create_calendar(cast.bob, owner=cast.bob, name="Bob")
    services.save_event(
        cast.bob,
        own,
        summary="Dentist",
        starts_at=monday.replace(hour=10),
        ends_at=monday.replace(hour=10, minute=30),
    )
    slots = services.assistant_free_slots(
        cast.dora,
        cast.bob,
        duration_minutes=30,
        step_minutes=30,
        start=monday,
        end=monday + dt.timedelta(days=3),
        now=monday - dt.timedelta(days=1),
    )
    local = [s.astimezone(KOLKATA).strftime("%a %H:%M") for s in slots]
    # Monday: 10:00 is the dentist; Tuesday: away; Wednesday: all of 09:00–11:00.
    assert local == [
        "Mon 09:00",
        "Mon 09:30",
        "Mon 10:30",
        "Wed 09:00",
        "Wed 09:30",
        "Wed 10:00",
        "Wed 10:30",
    ]
    new_year = dt.datetime(2030, 1, 1, tzinfo=KOLKATA)  # a German public holiday
    assert (
        services.assistant_free_slots(
            cast.dora,
            cast.bob,
            duration_minutes=30,
            start=new_year,
            end=new_year + dt.timedelta(days=1),
            now=new_year - dt.timedelta(days=1),
        )
        == []
    )


def test_another_agency_cannot_ask(cast: Cast) -> None:
    now = dt.datetime(2030, 1, 7, tzinfo=dt.UTC)
    with pytest.raises(PermissionDenied):
        services.assistant_free_slots(
            cast.mallory, cast.bob, duration_minutes=30, start=now, end=now + dt.timedelta(days=1)
        )
