"""Replaying an agency's own day: the team from the database, the tasks created that day."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from delegate.routing import services
from delegate.routing.simulation import compare
from delegate.routing.tests.conftest import Team
from delegate.tasks import services as task_services
from delegate.tasks.models import Task


def test_the_agencys_history_becomes_a_scenario(team: Team, tmp_path: Path) -> None:
    cast = team.cast
    task = task_services.create_task(
        cast.dora,
        client=cast.acme,
        title="Receipts",
        channel=Task.Channel.EMAIL,
        due_at=timezone.now() + dt.timedelta(hours=4),
        required_skills=[team.bookkeeping],
        estimate_minutes=45,
    )
    day = task.created_at.astimezone(dt.UTC).date()
    scenario = services.scenario_from_agency(cast.alice, day=day)
    assert {a.id for a in scenario.assistants} == {
        str(cast.bob.pk), str(cast.eve.pk), str(team.mia.pk)
    }  # fmt: skip
    arrivals = {a.id: a for a in scenario.arrivals}
    assert set(arrivals) == {str(cast.task.pk), str(task.pk)}  # not agency B's task
    assert (arrivals[str(task.pk)].minutes, arrivals[str(task.pk)].skills) == (45, ("bookkeeping",))
    acme = scenario.clients[str(cast.acme.pk)]
    assert (acme.primary, acme.backup) == (str(cast.bob.pk), str(team.mia.pk))
    assert [r.tasks for r in compare(scenario)] == [2, 2]

    out = io.StringIO()
    export = tmp_path / "day.json"
    call_command("simulate", agency="alpha", day=day.isoformat(), export=str(export), stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["tasks"] == 2
    assert len(json.loads(export.read_text())["arrivals"]) == 2


def test_only_managers_export_history(team: Team) -> None:
    with pytest.raises(PermissionDenied):
        services.scenario_from_agency(team.cast.bob, day=timezone.now().date())
