"""Run planner: invalid requests, a failing tariff, shared solar surplus, caps nothing can meet."""

from __future__ import annotations

from datetime import datetime, timedelta
import logging

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.liuzhou_appliances.energy.planner import (
    PlanIssue,
    PlanningContext,
    RunPlanner,
    RunRequest,
    SurplusForecast,
)
from custom_components.liuzhou_appliances.energy.tariff import TimeOfUseTariff, TouPeriod
from custom_components.liuzhou_appliances.energy.tariff_presets import guangxi_commercial_tou
from custom_components.liuzhou_appliances.link.declaration import Programme

type FloatArray = NDArray[np.float64]

NOW = datetime(2026, 7, 15, 18, 7, 20)
WASH = Programme("cotton", 4800, 0.83, ((900, 2100.0), (3300, 130.0), (600, 400.0)))
FLAT = TimeOfUseTariff((TouPeriod("00:00", "24:00", "flat"),), {"flat": 0.5})


def _planner(**context: object) -> RunPlanner:
    return RunPlanner(PlanningContext(NOW, guangxi_commercial_tou(), **context))  # type: ignore[arg-type]


def test_nothing_to_plan_is_feasible() -> None:
    result = _planner().plan([])
    assert result.feasible
    assert result.plans == ()
    assert result.method == "none"


def test_invalid_requests_are_all_named_and_nothing_is_planned() -> None:
    empty = Programme("empty", 0, 0.0, ())
    requests = [
        RunRequest("w", WASH, NOW, NOW + timedelta(hours=8)),
        RunRequest("w", WASH, NOW, NOW + timedelta(hours=8), max_delay_s=-1),
        RunRequest("d", empty, NOW, NOW + timedelta(hours=8)),
    ]
    result = _planner(step_s=90, resolution_s=60, power_cap_w=float("nan")).plan(requests)
    assert not result.feasible
    assert result.plans == ()
    assert {i.code for i in result.issues} == {PlanIssue.INVALID_REQUEST}
    messages = [i.message for i in result.issues]
    assert "an appliance appears twice in one plan" in messages
    assert "step_s (90) must be a positive multiple of resolution_s (60)" in messages
    assert "power cap nan W is not usable" in messages
    assert ("programme has no power profile", "d") in [
        (i.message, i.appliance_id) for i in result.issues
    ]
    assert ("max_delay_s is negative", "w") in [(i.message, i.appliance_id) for i in result.issues]


def test_unexpected_error_falls_back_to_starting_as_soon_as_allowed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        name, time_varying = "broken", True

        def price_at(self, when: datetime) -> float:
            return 0.5

        def prices(self, start: datetime, step_s: int, count: int) -> FloatArray:
            raise ZeroDivisionError("bad table")

    later = NOW + timedelta(minutes=30)
    with caplog.at_level(logging.ERROR):
        result = RunPlanner(PlanningContext(NOW, Broken())).plan(
            [RunRequest("w", WASH, later, NOW + timedelta(hours=8), max_delay_s=600)]
        )
    assert "run planner failed" in caplog.text
    assert result.method == "fallback"
    assert not result.feasible
    assert not result.optimal
    assert result.issues[0].code is PlanIssue.INVALID_REQUEST
    assert "bad table" in result.issues[0].message
    plan = result.plan_for("w")
    assert plan is not None
    assert result.plan_for("x") is None
    assert plan.delay_s == 600  # as early as allowed, within the appliance's delay limit
    assert plan.command_args == {"delay_s": 600}
    assert plan.end - plan.start == timedelta(seconds=WASH.duration_s)
    assert np.isnan(plan.cost)


def test_surplus_that_never_covers_enough_names_the_best_share() -> None:
    weak = SurplusForecast(NOW.replace(hour=0, minute=0, second=0), 3600, (300.0,) * 24)
    result = RunPlanner(PlanningContext(NOW, FLAT, surplus=weak)).plan(
        [RunRequest("w", WASH, NOW, NOW + timedelta(hours=5), only_surplus=True)]
    )
    issue = result.issues[0]
    assert issue.code is PlanIssue.NO_SURPLUS
    assert "% of the run, 90 % needed" in issue.message
    assert result.relaxed == ("w: cheapest start in the window, not only solar",)
    assert len(result.plans) == 1


def test_runs_sharing_surplus_split_the_grid_import() -> None:
    noon = NOW.replace(hour=10, minute=0, second=0)
    # 2.5 kW of sun from 11:00 to 15:00: enough for one washer's heating, not two at once.
    sun = SurplusForecast(noon, 3600, (0.0, 2500.0, 2500.0, 2500.0, 2500.0, 0.0))
    requests = [RunRequest(name, WASH, noon, noon + timedelta(hours=8)) for name in ("w1", "w2")]
    result = RunPlanner(PlanningContext(noon, FLAT, surplus=sun)).plan(requests)
    assert result.feasible
    assert result.method == "milp"
    starts = sorted(p.start for p in result.plans)
    assert all(noon.replace(hour=11) <= s <= noon.replace(hour=14) for s in starts)
    # The heating phases (15 min at 2.1 kW) do not overlap: both run on sun alone.
    assert starts[1] - starts[0] >= timedelta(minutes=15)
    for plan in result.plans:
        assert plan.cost == pytest.approx(plan.grid_kwh * 0.5)
        assert plan.grid_kwh < 0.05 * plan.energy_kwh


def test_cap_nothing_can_meet_returns_reasons_without_plans() -> None:
    # Neither run may be delayed at all and both together exceed the cap:
    # extending the deadlines cannot help.
    requests = [
        RunRequest(name, WASH, NOW, NOW + timedelta(hours=3), max_delay_s=0)
        for name in ("w1", "w2")
    ]
    result = _planner(power_cap_w=3000).plan(requests)
    assert not result.feasible
    assert result.plans == ()
    codes = [i.code for i in result.issues]
    assert codes.count(PlanIssue.DELAY_TOO_LONG) == 2
    assert PlanIssue.CAP_TOO_LOW_TOGETHER in codes


def test_window_long_enough_but_no_start_slot_fits() -> None:
    # 81 min from 18:07:20, but the first 5-min slot is 18:10 and the run takes 80 min.
    finish = NOW + timedelta(minutes=81)
    result = _planner().plan([RunRequest("w", WASH, NOW, finish)])
    issue = result.issues[0]
    assert issue.code is PlanIssue.WINDOW_TOO_SHORT
    assert issue.message == "w: no 5-min start slot lets cotton (80 min) finish by 19:28"
    assert result.plans[0].delay_s == 160  # nearest plan: the first slot


def test_optimiser_time_limit_is_not_called_a_cap_problem(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """HiGHS stopping at its time limit (a slow hub) without any plan: said as such, and the
    runs start as soon as allowed instead of being refused as "cannot fit the cap"."""
    from custom_components.liuzhou_appliances.energy import planner_milp

    monkeypatch.setattr(planner_milp, "TIME_LIMIT_S", 0.0)
    requests = [RunRequest(f"w{n}", WASH, NOW, NOW + timedelta(hours=12)) for n in range(3)]
    with caplog.at_level(logging.WARNING):
        result = _planner(power_cap_w=3000).plan(requests)
    assert [i.code for i in result.issues] == [PlanIssue.PLANNER_TIME_LIMIT]
    assert "time limit" in result.issues[0].message
    assert result.method == "fallback"
    assert not result.feasible
    assert result.relaxed == ("planned without the optimiser: start as soon as allowed",)
    assert [p.appliance_id for p in result.plans] == ["w0", "w1", "w2"]
    assert "runs start as soon as allowed" in caplog.text

    # With its normal limit the same runs are planned together under the cap.
    monkeypatch.setattr(planner_milp, "TIME_LIMIT_S", 30.0)
    result = _planner(power_cap_w=3000).plan(requests)
    assert result.feasible
    assert result.method == "milp"
