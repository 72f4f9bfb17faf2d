from __future__ import annotations

import datetime as dt
import io
import json

from django.core.management import call_command

from delegate.routing import core
from delegate.routing.simulation import (
    Arrival,
    ClientSpec,
    Scenario,
    Simulator,
    delegate_routing,
    round_robin,
)

START = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)  # a Tuesday
OFFICE = tuple(core.Block(d, dt.time(9), dt.time(17)) for d in range(5))


def _scenario() -> Scenario:
    away = core.Away(dt.date(2026, 12, 1), dt.date(2026, 12, 3), stand_in="sam")
    people = [
        core.Assistant("pia", "Pia", "sim", skills={"travel": 3}, hours=OFFICE,
                       languages=frozenset({"de"}), absences=(away,)),
        core.Assistant("sam", "Sam", "sim", skills={"travel": 3}, hours=OFFICE,
                       languages=frozenset({"de"})),
    ]  # fmt: skip
    clients = {"c": ClientSpec("c", "de", primary="pia", backup="sam")}
    at = (START + dt.timedelta(hours=9)).timestamp()  # 10:00 in Berlin
    arrivals = [
        Arrival(f"t{n}", "c", at + n * 60, at + 4 * 3600, 30, ("travel",)) for n in range(2)
    ]
    return Scenario("tiny", START, 24, people, clients, arrivals)


def test_round_robin_feeds_the_absent_and_delegate_the_stand_in() -> None:
    baseline = Simulator(_scenario()).run("round_robin", round_robin)
    routed = Simulator(_scenario()).run("delegate", delegate_routing)
    # Round robin hands the first task to Pia, who is away: it is never done.
    assert (baseline.sla, baseline.never_started) == (0.5, 1)
    assert (routed.sla, routed.never_started) == (1.0, 0)
    # Sam starts the first task at once and the second right after it.
    assert routed.first_response_median_min is not None
    assert routed.first_response_median_min <= 30
    assert routed.per_assistant == {"sam": 60 / (8 * 60)}


def test_the_command_prints_both_policies_and_a_json_line() -> None:
    out = io.StringIO()
    call_command("simulate", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert "Delegate" in lines[2] and "round robin" in lines[2]
    figures = json.loads(lines[-1])
    assert figures["tasks"] == 160
    sla_row = next(line for line in lines if line.startswith("SLA attainment"))
    assert sla_row.count("%") == 2
    gain = (figures["sla_delegate"] - figures["sla_round_robin"]) * 100
    assert abs(figures["sla_gain_pp"] - gain) < 0.2


def test_a_scenario_survives_a_round_trip_through_json() -> None:
    from delegate.routing.simulation import scenario_from_json, scenario_to_json, shipped_scenario

    shipped = shipped_scenario()
    again = scenario_from_json(json.loads(json.dumps(scenario_to_json(shipped))))
    assert scenario_to_json(again) == scenario_to_json(shipped)
    first = Simulator(shipped).run("delegate", delegate_routing)
    second = Simulator(again).run("delegate", delegate_routing)
    assert (first.sla, first.utilisation) == (second.sla, second.utilisation)
