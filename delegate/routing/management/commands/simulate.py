"""``manage.py simulate``: replay a day with Delegate's routing and with round robin, side
by side: the shipped synthetic day (default), a scenario file (``--scenario``), or an
agency's own history (``--agency SLUG --day YYYY-MM-DD``, as its first owner sees it).
``--export FILE`` writes the scenario as JSON. The last line is one JSON object."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from delegate.agencies.models import Member
from delegate.routing.services import scenario_from_agency
from delegate.routing.simulation import (
    Result,
    Scenario,
    compare,
    scenario_from_json,
    scenario_to_json,
    shipped_scenario,
)


def _minutes(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} min"


ROWS = [
    ("SLA attainment (done before due)", lambda r: f"{r.sla:.1%}"),
    ("finished at all", lambda r: f"{r.finished:.1%}"),
    ("utilisation (busy / working time)", lambda r: f"{r.utilisation:.1%}"),
    ("productive utilisation", lambda r: f"{r.productive:.1%}"),
    ("fairness of load (Jain, 1 = even)", lambda r: f"{r.fairness:.2f}"),
    ("first response, median", lambda r: _minutes(r.first_response_median_min)),
    ("first response, 90th percentile", lambda r: _minutes(r.first_response_p90_min)),
    ("never started", lambda r: str(r.never_started)),
]


class Command(BaseCommand):
    help = "Replay a synthetic day: Delegate's routing against round robin."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=7, help="scenario seed (7 is shipped)")
        parser.add_argument("--scenario", help="a scenario JSON file (see --export)")
        parser.add_argument("--agency", help="replay this agency's history (its slug)")
        parser.add_argument("--day", help="with --agency: the day (YYYY-MM-DD, UTC)")
        parser.add_argument("--export", help="write the scenario to this JSON file")

    def handle(self, *args: Any, seed: int, **options: Any) -> None:
        scenario = _scenario(seed, options)
        if options.get("export"):
            Path(options["export"]).write_text(
                json.dumps(scenario_to_json(scenario), indent=1), encoding="utf-8"
            )
        results = compare(scenario)
        out = self.stdout
        out.write(f"Scenario: {scenario.name}")
        out.write(
            f"  {len(scenario.assistants)} assistants in "
            f"{len({a.time_zone for a in scenario.assistants})} time zones, "
            f"{len(scenario.clients)} clients, {len(scenario.arrivals)} tasks"
        )
        width = max(len(label) for label, _ in ROWS)
        out.write(f"{'':{width}}  {'Delegate':>12}  {'round robin':>12}")
        for label, show in ROWS:
            out.write(f"{label:{width}}  " + "  ".join(f"{show(r):>12}" for r in results))
        out.write(json.dumps(_figures(results, scenario.name)))


def _scenario(seed: int, options: dict[str, Any]) -> Scenario:
    if options.get("scenario"):
        data = json.loads(Path(options["scenario"]).read_text(encoding="utf-8"))
        return scenario_from_json(data)
    if options.get("agency"):
        if not options.get("day"):
            raise CommandError("--agency needs --day YYYY-MM-DD")
        owner = (
            Member.objects.filter(agency__slug=options["agency"], role=Member.Role.OWNER)
            .select_related("agency")
            .order_by("joined_at")
            .first()
        )
        if owner is None:
            raise CommandError(f"no agency {options['agency']!r}")
        try:
            day = dt.date.fromisoformat(options["day"])
        except ValueError:
            raise CommandError("--day must look like 2026-12-08") from None
        return scenario_from_agency(owner, day=day)
    return shipped_scenario(seed)


def _figures(results: list[Result], name: str) -> dict[str, Any]:
    delegate, baseline = results
    return {
        "simulation": name,
        "tasks": delegate.tasks,
        "sla_delegate": round(delegate.sla, 3),
        "sla_round_robin": round(baseline.sla, 3),
        "sla_gain_pp": round((delegate.sla - baseline.sla) * 100, 1),
        "utilisation_delegate": round(delegate.utilisation, 3),
        "utilisation_round_robin": round(baseline.utilisation, 3),
        "productive_delegate": round(delegate.productive, 3),
        "productive_round_robin": round(baseline.productive, 3),
        "fairness_delegate": round(delegate.fairness, 3),
        "fairness_round_robin": round(baseline.fairness, 3),
        "first_response_median_min_delegate": _round(delegate.first_response_median_min),
        "first_response_median_min_round_robin": _round(baseline.first_response_median_min),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
