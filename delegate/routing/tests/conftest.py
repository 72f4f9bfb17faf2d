from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from delegate.agencies import services as agency_services
from delegate.agencies.models import Member, Skill
from delegate.clients import services as client_services
from delegate.tasks import services as task_services
from delegate.tasks.models import Task
from delegate.testing import PASSWORD, Cast, make_cast

# Tuesday 1 December 2026, 10:00 UTC (11:00 in Berlin).
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
WEEKDAYS_9_TO_17 = [(day, dt.time(9), dt.time(17)) for day in range(5)]


@dataclass
class Team:
    cast: Cast
    bookkeeping: Skill
    mia: Member  # assistant of A, acme's backup
    zed: Member  # assistant of agency B with every skill


def make_assistant(cast: Cast, owner: Member, email: str, name: str, level: int = 3) -> Member:
    member = agency_services.add_member(
        owner, email=email, name=name, role="assistant", password=PASSWORD
    )
    agency_services.update_profile(owner, member, languages=["de", "en"])
    agency_services.set_working_hours(owner, member, blocks=WEEKDAYS_9_TO_17)
    agency_services.set_skills(owner, member, levels={}, new_skills={"Bookkeeping": level})
    return member


@pytest.fixture
def team(cast: Cast) -> Team:
    return make_team(cast)


def make_team(cast: Cast | None = None) -> Team:
    """bob (acme's primary), eve and mia (acme's backup) work 9-17 in Berlin with the
    bookkeeping skill; zed of agency B has it at level 5 and works around the clock."""
    cast = cast or make_cast()
    for member in (cast.bob, cast.eve):
        agency_services.update_profile(cast.alice, member, languages=["de", "en"])
        agency_services.set_working_hours(cast.alice, member, blocks=WEEKDAYS_9_TO_17)
        agency_services.set_skills(cast.alice, member, levels={}, new_skills={"Bookkeeping": 3})
    mia = make_assistant(cast, cast.alice, "mia@alpha.test", "Mia Moser")
    client_services.update_client(cast.alice, cast.acme, backup_assistant=mia)
    zed = make_assistant(cast, cast.mallory, "zed@bravo.test", "Zed Zorn", level=5)
    agency_services.set_working_hours(
        cast.mallory, zed, blocks=[(day, dt.time(0), dt.time(23, 59)) for day in range(7)]
    )
    cast.acme.refresh_from_db()
    return Team(cast, Skill.objects.get(agency=cast.agency_a, slug="bookkeeping"), mia, zed)


def triaged_task(team: Team, *, hours: float = 4, minutes: int = 60, **fields: object) -> Task:
    """A bookkeeping task for acme, due ``hours`` after NOW, moved to triaged as triage
    would (without running the routing job)."""
    cast = team.cast
    task = task_services.create_task(
        cast.dora,
        client=cast.acme,
        title="Book the November receipts",
        channel=Task.Channel.EMAIL,
        due_at=NOW + dt.timedelta(hours=hours),
        required_skills=[team.bookkeeping],
        estimate_minutes=minutes,
        **fields,  # type: ignore[arg-type]
    )
    with task_services.notifications_muted():
        return task_services.change_status(None, task, to=Task.Status.TRIAGED)
