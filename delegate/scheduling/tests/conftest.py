from __future__ import annotations

import pytest

from delegate.scheduling import services
from delegate.scheduling.models import Calendar, EventType
from delegate.testing import Cast

EVERY_DAY = {str(day): [["09:00", "17:00"]] for day in range(7)}


def make_booking_page(cast: Cast) -> EventType:
    calendar = services.create_calendar(cast.bob, client=cast.acme, name="Acme main")
    return EventType.objects.create(
        agency=cast.agency_a, client=cast.acme, name="Intro call", duration_minutes=30,
        min_notice_minutes=60, horizon_days=14, working_hours=EVERY_DAY,
        target_calendar=calendar, time_zone="Europe/Berlin", questions=["What about?"],
    )


@pytest.fixture
def page(cast: Cast) -> EventType:
    return make_booking_page(cast)


@pytest.fixture
def calendar(page: EventType) -> Calendar:
    return page.target_calendar
