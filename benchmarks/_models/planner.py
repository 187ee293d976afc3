"""The run planner on the wet-cycle model's profiles against the declared ones.

The energy benchmark's home washer (``benchmarks/energy.py``: a cotton wash
loaded at 08:05 in mid-July, done by 18:00, Guangxi's residential tariff, a
2.5 kW solar array, seed 7) planned four ways and each plan executed in the
simulator, costed from its energy meter (``benchmarks/_energy/appliances.py``):

- baseline: started when loaded;
- declared: planned on the declared programme profile (what ``plan_run`` did
  before the model; ``./scripts/bench energy``'s "ours");
- model: planned on the model's profile of the programme at the washer's
  settings (``WetCyclePredictor.planning_programme``: the hub's inlet-water
  guess for the day, no knowledge of the load or the voltage), as ``plan_run``
  now does;
- oracle: the simulator's real minute-by-minute draw and the real surplus, on
  a one-minute grid.

Both planned strategies use the same 5-minute grid and hourly surplus forecast,
so the difference between them is the profile alone. The share is
``(baseline - strategy) / (baseline - oracle)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import math

import numpy as np

from benchmarks._energy.appliances import Job, execute, measured_profile
from custom_components.liuzhou_appliances.energy.planner import (
    PlanningContext,
    RunPlanner,
    RunRequest,
    SurplusForecast,
)
from custom_components.liuzhou_appliances.energy.tariff import Tariff
from custom_components.liuzhou_appliances.energy.tariff_presets import (
    guangxi_commercial_tou,
    guangxi_residential,
)
from custom_components.liuzhou_appliances.link.declaration import Programme
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural import Model
from custom_components.liuzhou_appliances.wet_cycle_prediction import WetCyclePredictor
from firmware_bridge.simulators import create_simulator
from firmware_bridge.simulators.climate import LiuzhouClimate

SEED = 7  # benchmarks/energy.py's
SOLAR_PEAK_W = 2500.0
HOME_WASHER = Job(
    ApplianceType.LAUNDRY_WASHER,
    0,
    "cotton",
    datetime(2026, 7, 15, 8, 5),
    datetime(2026, 7, 15, 18, 0),
)
EVENING = datetime(2026, 7, 15, 19, 10)
HOTEL_DISHWASHER = Job(ApplianceType.DISHWASHER, 0, "eco", EVENING, EVENING + timedelta(hours=12))
STRATEGIES = ("baseline", "declared", "model", "oracle")


@dataclass(frozen=True, slots=True)
class PlannerComparison:
    """Costs (CNY) per strategy, the profiles' totals and each planned strategy's share."""

    cost: dict[str, float]
    delay_min: dict[str, float]
    duration_min: dict[str, float]
    energy_kwh: dict[str, float]

    def share(self, strategy: str) -> float:
        """``strategy``'s savings as a share (%) of the oracle's."""
        baseline, ours, oracle = (self.cost[s] for s in ("baseline", strategy, "oracle"))
        if baseline - oracle <= 1e-9:
            return 100.0 if ours <= baseline + 1e-9 else 0.0
        return 100.0 * (baseline - ours) / (baseline - oracle)


def _delay(
    job: Job, programme: Programme, tariff: Tariff, surplus: SurplusForecast | None, step_s: int
) -> int:
    context = PlanningContext(now=job.loaded, tariff=tariff, surplus=surplus, step_s=step_s)
    request = RunRequest("washer", programme, job.loaded, job.finish_by)
    result = RunPlanner(context).plan([request])
    return result.plans[0].delay_s


def compare(
    model: Model,
    job: Job = HOME_WASHER,
    *,
    seed: int = SEED,
    tariff: Tariff | None = None,
    solar_peak_w: float = SOLAR_PEAK_W,
) -> PlannerComparison:
    """Plan ``job`` on each profile, execute each plan in the simulator, cost it.

    Defaults: the home washer (residential tariff, 2.5 kW of solar). Raises
    ``RuntimeError`` if the model does not answer for the job's programme.
    """
    tariff = tariff or guangxi_residential()
    end = job.finish_by + timedelta(hours=2)
    minutes = int((end - job.loaded).total_seconds() // 60)
    climate = LiuzhouClimate(seed=seed)
    origin = LiuzhouClimate.seconds_of_year(job.loaded)
    actual = np.array([SOLAR_PEAK_W * climate.solar(origin + 60 * m + 30) for m in range(minutes)])
    hourly = [float(actual[h * 60 : (h + 1) * 60].mean()) for h in range(math.ceil(minutes / 60))]
    forecast = SurplusForecast(job.loaded, 3600, tuple(hourly)) if solar_peak_w else None
    exact = SurplusForecast(job.loaded, 60, tuple(actual)) if solar_peak_w else None

    machine = create_simulator(job.appliance_type, seed=seed, index=job.index, start=job.loaded)
    machine.write("programme", job.programme)
    declared = machine.declaration.programme(job.programme)
    predictor = WetCyclePredictor(
        machine.declaration, dishwasher=job.appliance_type is ApplianceType.DISHWASHER
    )
    predictor.set_model(model)
    modelled, source = predictor.planning_programme(declared, machine.values(), job.loaded)
    if source != "model":
        raise RuntimeError(f"the model did not answer for {job.programme}: {predictor.reason}")
    real = measured_profile(job, seed, job.loaded)
    delays = {
        "baseline": 0,
        "declared": _delay(job, declared, tariff, forecast, 300),
        "model": _delay(job, modelled, tariff, forecast, 300),
        "oracle": _delay(job, real, tariff, exact, 60),
    }
    cost = {
        strategy: execute([job], [delay], seed, job.loaded, end, tariff, actual)[0]
        for strategy, delay in delays.items()
    }
    profiles = {"declared": declared, "model": modelled, "oracle": real}
    return PlannerComparison(
        cost,
        {strategy: delay / 60 for strategy, delay in delays.items()},
        {name: p.duration_s / 60 for name, p in profiles.items()},
        {name: p.energy_kwh for name, p in profiles.items()},
    )


def compare_all(model: Model) -> dict[str, PlannerComparison]:
    """The energy benchmark's two single-run scenarios: the home washer (PV, tiered) and the
    hotel dishwasher (commercial time of use, eco programme, no solar)."""
    return {
        "home washer (PV, tiered)": compare(model),
        "hotel dishwasher (TOU)": compare(
            model, HOTEL_DISHWASHER, tariff=guangxi_commercial_tou(), solar_peak_w=0.0
        ),
    }
