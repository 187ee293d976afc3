"""Fridge and run-planner parts of the energy benchmark, on the simulators.

Planner: baseline starts each run as soon as it is loaded; ours plans on the
declared programme profiles (what the hub knows) with a 5-minute start grid
and an hourly surplus forecast; the oracle knows the simulator's real power
draw for the day's water and room temperatures, minute by minute, and the
real solar surplus, and plans on a 1-minute start grid with the same exact
solvers. Every plan is executed in the simulators (start command with
delay_s) and costed from their energy meters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math

import numpy as np
from numpy.typing import NDArray

from custom_components.liuzhou_appliances.energy.fridge import FridgePrecoolController
from custom_components.liuzhou_appliances.energy.inputs import Reading
from custom_components.liuzhou_appliances.energy.planner import (
    PlanningContext,
    RunPlanner,
    RunRequest,
    SurplusForecast,
)
from custom_components.liuzhou_appliances.energy.tariff import Tariff
from custom_components.liuzhou_appliances.link.declaration import Programme
from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.simulators import RefrigeratorSimulator, create_simulator
from firmware_bridge.simulators.climate import LiuzhouClimate
from firmware_bridge.simulators.wet_cycle import WetApplianceSimulator

type FloatArray = NDArray[np.float64]

FRIDGE_STEP_S = 300


@dataclass(slots=True)
class FridgeResult:
    """One fridge over the run."""

    cost: float = 0.0
    kwh: float = 0.0
    fridge_food_max_c: float = -math.inf  # the contents (what food safety is about)
    fridge_air_max_c: float = -math.inf  # the air sensor, with door-opening spikes
    freezer_max_c: float = -math.inf


def run_fridge(
    strategy: str, *, seed: int, start: datetime, days: int, tariff: Tariff, settle_hours: int = 12
) -> FridgeResult:
    """Baseline: the factory targets 4 / -18 °C. Ours: the pre-cooling controller.

    The first ``settle_hours`` let the compartments settle at each strategy's
    own targets and are not counted (both start at the factory settings).
    """
    sim = create_simulator(
        ApplianceType.REFRIGERATOR, seed=seed, index=0, start=start - timedelta(hours=settle_hours)
    )
    assert isinstance(sim, RefrigeratorSimulator)
    controller = FridgePrecoolController(tariff=tariff)
    result = FridgeResult()
    settle = settle_hours * 3600 // FRIDGE_STEP_S
    steps = days * 86400 // FRIDGE_STEP_S
    prices = tariff.prices(start, FRIDGE_STEP_S, steps)
    for k in range(-settle, steps):
        now = start + timedelta(seconds=k * FRIDGE_STEP_S)
        if strategy == "ours":
            values = sim.values()
            decision = controller.decide(
                now,
                Reading(float(values["fridge_temperature"]), now),  # type: ignore[arg-type]
                Reading(float(values["freezer_temperature"]), now),  # type: ignore[arg-type]
            )
            for key, value in (
                ("fridge_target_temperature", decision.fridge_target),
                ("freezer_target_temperature", decision.freezer_target),
            ):
                if value is not None and values[key] != value:
                    sim.write(key, value)
        before = sim.energy_kwh
        # Sub-steps of 10 s so the food-safety maxima see every excursion.
        for _ in range(FRIDGE_STEP_S // 10):
            sim.step(10)
            if k >= 0:
                model = sim.model
                result.fridge_food_max_c = max(result.fridge_food_max_c, model.fridge_contents_c)
                result.fridge_air_max_c = max(result.fridge_air_max_c, model.fridge_air_c)
                result.freezer_max_c = max(result.freezer_max_c, model.freezer_c)
        if k >= 0:
            used = sim.energy_kwh - before
            result.kwh += used
            result.cost += used * float(prices[k])
    return result


# --- run planner --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Job:
    """One load of laundry or dishes: which machine, programme, loaded when, done by when."""

    appliance_type: ApplianceType
    index: int
    programme: str
    loaded: datetime
    finish_by: datetime
    only_surplus: bool = False


@dataclass(slots=True)
class PlannerResult:
    """Cost of one scenario per strategy, and the highest combined power seen."""

    cost: dict[str, float] = field(default_factory=dict)
    peak_w: dict[str, float] = field(default_factory=dict)
    cap_w: float | None = None


def _machine(job: Job, seed: int, start: datetime) -> WetApplianceSimulator:
    sim = create_simulator(job.appliance_type, seed=seed, index=job.index, start=start)
    assert isinstance(sim, WetApplianceSimulator)
    sim.write("programme", job.programme)
    return sim


def measured_profile(job: Job, seed: int, start: datetime) -> Programme:
    """The simulator's real power draw for this job, minute by minute (the oracle's knowledge)."""
    sim = _machine(job, seed, job.loaded)
    sim.command("start", {})
    minutes: list[tuple[int, float]] = []
    while sim.operational_state != "finished" and len(minutes) < 24 * 60:
        before = sim.energy_kwh
        sim.step(60)
        minutes.append((60, (sim.energy_kwh - before) * 3.6e6 / 60))
    energy = sum(s * w for s, w in minutes) / 3.6e6
    del start
    return Programme(job.programme, 60 * len(minutes), energy, tuple(minutes))


def execute(
    jobs: list[Job],
    delays: list[int],
    seed: int,
    start: datetime,
    end: datetime,
    tariff: Tariff,
    surplus_w: FloatArray,
) -> tuple[float, float]:
    """Run the jobs in the simulators with the given delays; return (cost, peak combined W)."""
    machines = [_machine(job, seed, start) for job in jobs]
    started = [False] * len(jobs)
    minutes = int((end - start).total_seconds() // 60)
    prices = tariff.prices(start, 60, minutes)
    cost, peak = 0.0, 0.0
    for minute in range(minutes):
        now = start + timedelta(minutes=minute)
        for n, job in enumerate(jobs):
            if not started[n] and now >= job.loaded:
                machines[n].command("start", {"delay_s": delays[n]} if delays[n] else {})
                started[n] = True
        total_w = 0.0
        for machine in machines:
            before = machine.energy_kwh
            machine.step(60)
            total_w += (machine.energy_kwh - before) * 3.6e6 / 60
        grid_w = max(0.0, total_w - float(surplus_w[minute]))
        cost += grid_w / 1000 / 60 * float(prices[minute])
        peak = max(peak, total_w)
    return cost, peak


def _plan(
    jobs: list[Job],
    programmes: list[Programme],
    loaded_at: datetime,
    tariff: Tariff,
    cap: float | None,
    surplus: SurplusForecast | None,
    step_s: int,
) -> list[int]:
    """Delays for the jobs (all loaded at ``loaded_at``; each planned as one joint problem)."""
    context = PlanningContext(
        now=loaded_at, tariff=tariff, power_cap_w=cap, surplus=surplus, step_s=step_s
    )
    requests = [
        RunRequest(
            f"{job.appliance_type}-{job.index}",
            programme,
            job.loaded,
            job.finish_by,
            only_surplus=job.only_surplus,
        )
        for job, programme in zip(jobs, programmes, strict=True)
    ]
    result = RunPlanner(context).plan(requests)
    if result.method == "fallback" or len(result.plans) != len(jobs):
        # A plan the planner could not make (e.g. its time limit on a busy machine) would
        # make the shares meaningless: stop and say why.
        reasons = "; ".join(issue.message for issue in result.issues) or "no plan"
        raise RuntimeError(f"the run planner gave no plan for {len(jobs)} runs: {reasons}")
    return [plan.delay_s for plan in result.plans]


def run_planner_scenario(
    jobs: list[Job], *, seed: int, tariff: Tariff, cap: float | None, solar_peak_w: float = 0.0
) -> PlannerResult:
    """Baseline, ours and the oracle for one batch of jobs loaded together."""
    loaded = min(job.loaded for job in jobs)
    end = max(job.finish_by for job in jobs) + timedelta(hours=2)
    minutes = int((end - loaded).total_seconds() // 60)
    climate = LiuzhouClimate(seed=seed)
    origin = LiuzhouClimate.seconds_of_year(loaded)
    actual = np.array([solar_peak_w * climate.solar(origin + 60 * m + 30) for m in range(minutes)])
    hourly = [float(actual[h * 60 : (h + 1) * 60].mean()) for h in range(math.ceil(minutes / 60))]
    forecast = SurplusForecast(loaded, 3600, tuple(hourly)) if solar_peak_w else None
    exact = SurplusForecast(loaded, 60, tuple(actual)) if solar_peak_w else None
    declared = [_machine(job, seed, loaded).declaration.programme(job.programme) for job in jobs]
    real = [measured_profile(job, seed, loaded) for job in jobs]
    result = PlannerResult(cap_w=cap)
    plans = {
        "baseline": [0] * len(jobs),
        "ours": _plan(jobs, declared, loaded, tariff, cap, forecast, 300),
        "oracle": _plan(jobs, real, loaded, tariff, cap, exact, 60),
    }
    for strategy, delays in plans.items():
        cost, peak = execute(jobs, delays, seed, loaded, end, tariff, actual)
        result.cost[strategy] = cost
        result.peak_w[strategy] = peak
    return result


def oracle_share(result: PlannerResult) -> float:
    """Our savings as a share of the oracle's (100 when the oracle saves nothing either)."""
    baseline, ours, oracle = (result.cost[s] for s in ("baseline", "ours", "oracle"))
    if baseline - oracle <= 1e-9:
        return 100.0 if ours <= baseline + 1e-9 else 0.0
    return 100.0 * (baseline - ours) / (baseline - oracle)
