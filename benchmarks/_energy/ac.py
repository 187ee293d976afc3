"""AC part of the energy benchmark: baseline, fuzzy controller and oracle on the simulators.

All three strategies drive the same ``RoomAirConditionerSimulator`` (same
weather seed, same start) through its declared writes every 5 minutes; costs,
comfort and power are measured on the simulator.

The oracle is a linear program with perfect foresight of weather, occupancy
and prices. Its model is the simulator's own 2R2C room (``RoomParameters``:
same capacities and conductances, same internal-gain schedule, same solar
split) with the unit's efficiency from ``AirConditionerParameters`` (COP at
half load for each step's outdoor temperature), scaled by one factor
calibrated per room and season so that the model's energy for the baseline
thermostat equals the simulator's (that factor absorbs latent load, fans and
part-load effects the linear model leaves out). Its plan is replayed in the
simulator as setpoints, under the same device constraints as ours (0.5 K
setpoint steps, the thermostat's swing kept inside the comfort band).

The predictive controller sees what a hub would: the room's and the outdoor
sensors' readings now, the bookings, the tariff, and a weather service's
forecast (``WeatherForecast``), never the simulator's future weather.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
import random
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import expm
from scipy.optimize import linprog
from scipy.sparse import csr_array, hstack, identity, vstack

from custom_components.liuzhou_appliances.energy.ac import (
    AcComfortController,
    AcInputs,
    ComfortPreset,
)
from custom_components.liuzhou_appliances.energy.ac_policy import PreconditionPolicy
from custom_components.liuzhou_appliances.energy.ac_predictive import (
    PredictiveAcController,
    PredictiveInputs,
)
from custom_components.liuzhou_appliances.energy.ac_predictive_status import ControlMode
from custom_components.liuzhou_appliances.energy.inputs import Reading
from custom_components.liuzhou_appliances.energy.tariff import Tariff
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural import Model
from firmware_bridge.simulators import RoomAirConditionerSimulator, create_simulator
from firmware_bridge.simulators.climate import LiuzhouClimate
from firmware_bridge.simulators.room_ac import internal_gains

type FloatArray = NDArray[np.float64]
type Strategy = Literal["baseline", "ours", "predictive", "oracle"]

CONTROL_STEP_S = 300
ORACLE_STEP_S = 900
BAND_HALF_K = 1.5  # comfort band: setpoint ± 1.5 K while occupied
DEADBAND_K = 0.5  # the unit's thermostat swing, kept inside the band by ours and the oracle


@dataclass(frozen=True, slots=True)
class Occupancy:
    """Nights a room is occupied: (arrival, departure) pairs, local time."""

    stays: tuple[tuple[datetime, datetime], ...]

    def occupied(self, when: datetime) -> bool:
        return any(a <= when < d for a, d in self.stays)

    def next_arrival(self, when: datetime) -> datetime | None:
        upcoming = [a for a, _ in self.stays if a > when]
        return min(upcoming) if upcoming else None


def home_schedule(start: datetime, days: int) -> Occupancy:
    """A bedroom: in from 18:30 to 08:00 every day (the simulator's gain schedule)."""
    stays = []
    for day in range(-1, days + 1):
        base = start + timedelta(days=day)
        stays.append((base.replace(hour=18, minute=30), base.replace(hour=8) + timedelta(days=1)))
    return Occupancy(tuple(stays))


def hotel_schedule(start: datetime, days: int, room: int, variant: int = 0) -> Occupancy:
    """A hotel room: check-in 17:30-20:00, check-out 07:30-09:00, one night in five empty.

    ``variant`` shifts which night is empty and the minutes of arrival and departure
    (0: the schedule the benchmark has always used).
    """
    stays = []
    for day in range(days + 1):
        if (room + day + variant) % 5 == 4:
            continue
        base = start + timedelta(days=day - 1)
        arrival = base.replace(hour=17, minute=30) + timedelta(
            minutes=(room * 37 + day * 53 + variant * 71) % 150
        )
        leave = base.replace(hour=7, minute=30) + timedelta(
            days=1, minutes=(room * 29 + day * 41 + variant * 13) % 90
        )
        stays.append((arrival, leave))
    return Occupancy(tuple(stays))


@dataclass(slots=True)
class WeatherForecast:
    """What a weather service tells the hub about the coming hours, as the predictive
    controller gets it: issued on the hour, wrong by an error that grows with the lead time.

    The error of a forecast issued at hour h for time t is
    ``(0.4 + 0.9 * min(lead_h, 24) / 24) * (0.8 z_h + 0.6 z_h,t)`` K (temperature) and
    ``(3 + 5 * min(lead_h, 24) / 24) * (0.8 z'_h + 0.6 z'_h,t)`` % (humidity), the z
    standard normal, seeded by the climate's seed and the hours (the same service for every
    room; ``z_h,t`` interpolated linearly between whole hours of t): about 0.4 K an hour
    ahead, 0.85 K at 12 hours, the size of a good hourly forecast's error. The
    controller never sees the simulator's weather ahead of time.
    """

    climate: LiuzhouClimate
    start: datetime

    def issued(self, now: datetime) -> Callable[[datetime], tuple[float, float]]:
        """The forecast issued at the last whole hour before ``now``: time -> (°C, %)."""
        hour = math.floor(LiuzhouClimate.seconds_of_year(now) / 3600.0)
        origin = LiuzhouClimate.seconds_of_year(self.start)
        shared = random.Random(f"forecast:{self.climate.seed}:{hour}")
        z_temperature, z_humidity = shared.gauss(0.0, 1.0), shared.gauss(0.0, 1.0)
        knots: dict[int, tuple[float, float]] = {}

        def knot(target: int) -> tuple[float, float]:
            if target not in knots:
                rng = random.Random(f"forecast:{self.climate.seed}:{hour}:{target}")
                knots[target] = (rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0))
            return knots[target]

        def forecast(when: datetime) -> tuple[float, float]:
            t_s = origin + (when - self.start).total_seconds()
            lead = min(max(t_s / 3600.0 - hour, 0.0), 24.0) / 24.0
            target = math.floor(t_s / 3600.0)
            weight = t_s / 3600.0 - target
            (a_t, a_h), (b_t, b_h) = knot(target), knot(target + 1)
            local_t = (1.0 - weight) * a_t + weight * b_t
            local_h = (1.0 - weight) * a_h + weight * b_h
            truth = self.climate.outdoor(t_s)
            temperature = truth.temperature_c + (0.4 + 0.9 * lead) * (
                0.8 * z_temperature + 0.6 * local_t
            )
            humidity = truth.humidity_pct + (3.0 + 5.0 * lead) * (0.8 * z_humidity + 0.6 * local_h)
            return temperature, min(max(humidity, 5.0), 100.0)

        return forecast


@dataclass(slots=True)
class RoomResult:
    """What one room did over the run."""

    cost: float = 0.0
    kwh: float = 0.0
    violation_kh: float = 0.0
    power_w: list[float] = field(default_factory=list)  # per control step
    temperature: list[float] = field(default_factory=list)
    model_cost: float = math.nan  # oracle only: what the LP predicted
    occupied_steps: int = 0
    occupied_humidity_sum: float = 0.0  # % per occupied step (the fan trades dryness for kWh)
    predictive_steps: int = 0  # predictive only: control steps the model was in charge


def _new_room(
    seed: int, index: int, start: datetime, climate: LiuzhouClimate
) -> RoomAirConditionerSimulator:
    sim = create_simulator(
        ApplianceType.ROOM_AIR_CONDITIONER, seed=seed, index=index, start=start, climate=climate
    )
    assert isinstance(sim, RoomAirConditionerSimulator)
    return sim


def _write(sim: RoomAirConditionerSimulator, key: str, value: object) -> None:
    if sim.values().get(key) != value:
        sim.write(key, value)  # type: ignore[arg-type]


def _round_half(value: float) -> float:
    return round(value * 2) / 2


def run_room(
    strategy: Strategy,
    *,
    seed: int,
    index: int,
    start: datetime,
    days: int,
    mode: Literal["cool", "heat"],
    setpoint: float,
    occupancy: Occupancy,
    tariff: Tariff,
    oracle_plan: Callable[[datetime], tuple[bool, float]] | None = None,
    preset: ComfortPreset = ComfortPreset.BALANCED,
    model: Model | None = None,
) -> RoomResult:
    """Drive one simulated room for ``days`` with one strategy (``preset``: ours and
    predictive; ``model``: the room thermal model, predictive only)."""
    climate = LiuzhouClimate(seed=seed)
    sim = _new_room(seed, index, start, climate)
    controller = AcComfortController(tariff=tariff, deadband_k=DEADBAND_K, preset=preset)
    result = RoomResult()
    steps = days * 86400 // CONTROL_STEP_S
    prices = tariff.prices(start, CONTROL_STEP_S, steps)
    _write(sim, "mode", mode)
    direction = 1.0 if mode == "cool" else -1.0
    policy = PreconditionPolicy.for_preset(preset)  # occupied or arriving within the lead
    predictive = PredictiveAcController(model, tariff, preset=preset, deadband_k=DEADBAND_K)
    origin = LiuzhouClimate.seconds_of_year(start)

    weather = WeatherForecast(climate, start)

    for k in range(steps):
        now = start + timedelta(seconds=k * CONTROL_STEP_S)
        values = sim.values()
        occupied = occupancy.occupied(now)
        on, target, fan = False, setpoint, "auto"
        if strategy == "baseline":
            on = occupied
        elif strategy == "ours":
            on = policy.should_run(now, occupied, occupancy.next_arrival(now))
            if on:
                decision = controller.decide(
                    AcInputs(
                        now=now,
                        mode=mode,
                        setpoint=setpoint,
                        room_temperature=Reading(float(values["temperature"]), now),  # type: ignore[arg-type]
                        outdoor_temperature=Reading(float(values["outdoor_temperature"]), now),  # type: ignore[arg-type]
                        humidity=Reading(float(values["humidity"]), now),  # type: ignore[arg-type]
                        occupancy=1.0,
                    )
                )
                target, fan = decision.target_temperature, decision.fan_speed
        elif strategy == "predictive":
            # The hub's outdoor sensor now; the weather service's forecast for what comes.
            outdoor_humidity = climate.outdoor(origin + (now - start).total_seconds()).humidity_pct
            choice = predictive.decide(
                PredictiveInputs(
                    now=now,
                    mode=mode,
                    setpoint=setpoint,
                    room_temperature=Reading(float(values["temperature"]), now),  # type: ignore[arg-type]
                    humidity=Reading(float(values["humidity"]), now),  # type: ignore[arg-type]
                    outdoor_temperature=Reading(float(values["outdoor_temperature"]), now),  # type: ignore[arg-type]
                    outdoor_humidity=Reading(outdoor_humidity, now),
                    energy_kwh=Reading(sim.energy_kwh, now),
                    occupied=occupied,
                    stays=occupancy.stays,
                    outdoor_forecast=weather.issued(now),
                )
            )
            on, target, fan = choice.on, choice.target_temperature, choice.fan_speed
            result.predictive_steps += choice.status.controller is ControlMode.PREDICTIVE
        else:
            assert oracle_plan is not None
            on, target = oracle_plan(now)
            on = on or occupied
        _write(sim, "on", on)
        if on:
            _write(sim, "target_temperature", target)
            _write(sim, "fan_speed", fan)
        before = sim.energy_kwh
        sim.step(CONTROL_STEP_S)
        used = sim.energy_kwh - before
        result.kwh += used
        result.cost += used * float(prices[k])
        result.power_w.append(used * 3.6e6 / CONTROL_STEP_S)
        air = sim.room.air_c
        result.temperature.append(air)
        if occupancy.occupied(now + timedelta(seconds=CONTROL_STEP_S)):
            low, high = setpoint - BAND_HALF_K, setpoint + BAND_HALF_K
            outside = max(0.0, low - air, air - high)
            result.violation_kh += outside * CONTROL_STEP_S / 3600
            result.occupied_steps += 1
            result.occupied_humidity_sum += sim.room.humidity_pct
    del direction
    return result


# --- the oracle ---------------------------------------------------------------------


@dataclass(slots=True)
class OracleModel:
    """The simulator's room as a discrete linear system at ORACLE_STEP_S."""

    a: FloatArray  # 2x2
    b: FloatArray  # 2x4 (outdoor, solar W, gains W, AC heat W)
    outdoor: FloatArray
    disturbance: FloatArray  # per step: b[:, :3] @ (outdoor, solar, gains)
    max_heat_w: FloatArray
    electric_per_w: FloatArray  # electric W per W of heat moved (before calibration)


def oracle_model(
    sim: RoomAirConditionerSimulator,
    start: datetime,
    steps: int,
    mode: Literal["cool", "heat"],
    setpoint: float,
) -> OracleModel:
    p = sim.room.parameters
    infiltration = p.infiltration_kg_per_s * 1005.0
    ca, cs = p.air_capacity_j_per_k, p.structure_capacity_j_per_k
    h = p.air_structure_w_per_k
    continuous_a = np.array(
        [
            [-(p.window_w_per_k + infiltration + h) / ca, h / ca],
            [h / cs, -(p.wall_w_per_k + h) / cs],
        ]
    )
    continuous_b = np.array(
        [
            [(p.window_w_per_k + infiltration) / ca, p.solar_to_air / ca, 1 / ca, 1 / ca],
            [p.wall_w_per_k / cs, (1 - p.solar_to_air) / cs, 0.0, 0.0],
        ]
    )
    a = expm(continuous_a * ORACLE_STEP_S)
    b = np.linalg.solve(continuous_a, (a - np.eye(2))) @ continuous_b
    climate = sim.climate
    origin = LiuzhouClimate.seconds_of_year(start)
    outdoor = np.zeros(steps)
    solar = np.zeros(steps)
    gains = np.zeros(steps)
    for k in range(steps):
        samples = [origin + k * ORACLE_STEP_S + s for s in (150.0, 450.0, 750.0)]
        outdoor[k] = np.mean([climate.temperature(t) for t in samples])
        solar[k] = np.mean([climate.solar(t) for t in samples]) * p.solar_peak_w
        gains[k] = np.mean([internal_gains((t % 86400) / 3600)[0] for t in samples])
    disturbance = (b[:, :3] @ np.vstack([outdoor, solar, gains])).T
    unit = sim.unit.parameters
    if mode == "cool":
        max_heat = np.array([unit.max_cooling_w(t) for t in outdoor])
        cop = np.array([unit.cooling_cop(0.5, setpoint, t) for t in outdoor])
    else:
        max_heat = np.array([unit.max_heating_w(t) for t in outdoor])
        cop = np.array([unit.heating_cop(0.5, setpoint, t) for t in outdoor])
    return OracleModel(a, b, outdoor, disturbance, max_heat, 1.0 / cop)


def _free_response(model: OracleModel, initial: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Air temperature with no AC (affine part) and the impulse response of AC heat."""
    steps = model.outdoor.size
    state = initial.copy()
    free = np.zeros(steps)
    for k in range(steps):
        state = model.a @ state + model.disturbance[k]
        free[k] = state[0]
    impulse = np.zeros(steps)
    state = model.b[:, 3].copy()
    for k in range(steps):
        impulse[k] = state[0]
        state = model.a @ state
    return free, impulse


def model_baseline_energy(
    model: OracleModel,
    initial: FloatArray,
    on: NDArray[np.bool_],
    setpoint: float,
    direction: float,
) -> float:
    """The model's energy (kWh, uncalibrated) for a thermostat holding the setpoint when on."""
    state = initial.copy()
    energy = 0.0
    for k in range(model.outdoor.size):
        free = model.a @ state + model.disturbance[k]
        heat = 0.0
        if on[k]:
            needed = (setpoint - free[0]) / model.b[0, 3]  # W of heat landing on the setpoint
            moved = min(max(-direction * needed, 0.0), float(model.max_heat_w[k]))
            heat = -direction * moved
        state = free + model.b[:, 3] * heat
        energy += abs(heat) * model.electric_per_w[k] * ORACLE_STEP_S / 3.6e6
    return energy


def solve_oracle(
    model: OracleModel,
    initial: FloatArray,
    occupied: NDArray[np.bool_],
    prices: FloatArray,
    setpoint: float,
    direction: float,
    calibration: float,
) -> tuple[FloatArray, FloatArray, float]:
    """Cheapest AC heat per step keeping the air inside the band when occupied.

    Returns (heat moved per step in W >= 0, planned air temperature per step, model cost).
    Band violations are allowed at a steep price so the LP is always feasible.
    """
    steps = model.outdoor.size
    free, impulse = _free_response(model, initial)
    # air[k] = free[k] + sum_{j<=k} impulse[k-j] * (-direction * q[j])
    response = np.zeros((steps, steps))
    for k in range(steps):
        response[k, : k + 1] = impulse[k::-1]
    response *= -direction
    limit = BAND_HALF_K - DEADBAND_K
    low, high = setpoint - limit, setpoint + limit
    electric = model.electric_per_w * calibration * ORACLE_STEP_S / 3.6e6  # kWh per W
    penalty = 5.0  # CNY per K per step outside the band: far above any energy price
    rows = np.flatnonzero(occupied)
    n = steps
    m = rows.size
    cost = np.concatenate([prices * electric + 1e-7, np.full(2 * m, penalty)])
    r = csr_array(response[rows])
    eye = identity(m, format="csr")
    zero = csr_array((m, m))
    # air <= high + over ; -air <= -low + under
    a_ub = vstack([hstack([r, -eye, zero]), hstack([-r, zero, -eye])]).tocsr()
    b_ub = np.concatenate([high - free[rows], free[rows] - low])
    bounds = [(0.0, float(model.max_heat_w[k])) for k in range(n)] + [(0.0, None)] * (2 * m)
    result = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if result.x is None:
        raise RuntimeError(f"oracle LP failed: {result.message}")
    heat = np.asarray(result.x[:n])
    air = free + response @ heat
    model_cost = float((prices * electric * heat).sum())
    return heat, air, model_cost


def oracle_plan_function(
    start: datetime, heat: FloatArray, air: FloatArray, setpoint: float, direction: float
) -> Callable[[datetime], tuple[bool, float]]:
    """Replay: each 15-min step's planned end temperature becomes the setpoint."""
    limit = BAND_HALF_K - DEADBAND_K

    def plan(now: datetime) -> tuple[bool, float]:
        k = int((now - start).total_seconds() // ORACLE_STEP_S)
        k = min(max(k, 0), heat.size - 1)
        target = float(np.clip(_round_half(air[k]), setpoint - limit, setpoint + limit))
        return bool(heat[k] > 50.0), target

    del direction
    return plan


@dataclass(slots=True)
class SiteResult:
    """Totals of one site (home or hotel floor) for one strategy."""

    cost: float = 0.0
    kwh: float = 0.0
    violation_kh: float = 0.0
    power_w: FloatArray = field(default_factory=lambda: np.zeros(0))
    model_cost: float = 0.0
    rooms: list[RoomResult] = field(default_factory=list)

    @property
    def occupied_humidity_pct(self) -> float:
        """Mean indoor relative humidity while occupied."""
        steps = sum(r.occupied_steps for r in self.rooms)
        return sum(r.occupied_humidity_sum for r in self.rooms) / steps if steps else math.nan

    @property
    def peak_kw(self) -> float:
        return float(self.power_w.max()) / 1000 if self.power_w.size else 0.0


def run_site(
    *,
    seed: int,
    rooms: list[tuple[int, Occupancy]],
    start: datetime,
    days: int,
    mode: Literal["cool", "heat"],
    setpoint: float,
    tariff: Tariff,
    presets: Sequence[ComfortPreset] = (ComfortPreset.BALANCED,),
    thermal_model: Model | None = None,
) -> dict[str, SiteResult]:
    """Baseline, ours with each of ``presets``, predictive (with ``thermal_model``) and oracle
    for every room of a site.

    Keys: "baseline", each preset's name (ours with that preset), "predictive" when
    ``thermal_model`` is given (balanced preset), "oracle". Baseline and oracle run once per
    room whatever the number of presets.
    """
    labels = ["baseline", *(str(p) for p in presets)]
    labels += ["predictive", "oracle"] if thermal_model is not None else ["oracle"]
    out: dict[str, SiteResult] = {label: SiteResult() for label in labels}
    direction = 1.0 if mode == "cool" else -1.0
    steps = days * 86400 // ORACLE_STEP_S
    prices = tariff.prices(start, ORACLE_STEP_S, steps)
    for index, occupancy in rooms:
        common = {
            "seed": seed,
            "index": index,
            "start": start,
            "days": days,
            "mode": mode,
            "setpoint": setpoint,
            "occupancy": occupancy,
            "tariff": tariff,
        }
        baseline = run_room("baseline", **common)  # type: ignore[arg-type]
        ours = {
            str(preset): run_room("ours", preset=preset, **common)  # type: ignore[arg-type]
            for preset in presets
        }
        if thermal_model is not None:
            ours["predictive"] = run_room("predictive", model=thermal_model, **common)  # type: ignore[arg-type]
        probe = _new_room(seed, index, start, LiuzhouClimate(seed=seed))
        model = oracle_model(probe, start, steps, mode, setpoint)
        initial = np.array([probe.room.air_c, probe.room.structure_c])
        on_steps = np.array(
            [occupancy.occupied(start + timedelta(seconds=k * ORACLE_STEP_S)) for k in range(steps)]
        )
        occupied_end = np.array(
            [
                occupancy.occupied(start + timedelta(seconds=(k + 1) * ORACLE_STEP_S))
                for k in range(steps)
            ]
        )
        model_kwh = model_baseline_energy(model, initial, on_steps, setpoint, direction)
        calibration = baseline.kwh / model_kwh if model_kwh > 0 else 1.0
        heat, air, model_cost = solve_oracle(
            model, initial, occupied_end, prices, setpoint, direction, calibration
        )
        plan = oracle_plan_function(start, heat, air, setpoint, direction)
        oracle = run_room("oracle", oracle_plan=plan, **common)  # type: ignore[arg-type]
        oracle.model_cost = model_cost
        for strategy, room in (("baseline", baseline), *ours.items(), ("oracle", oracle)):
            site = out[strategy]
            site.cost += room.cost
            site.kwh += room.kwh
            site.violation_kh += room.violation_kh
            power = np.asarray(room.power_w)
            site.power_w = power if site.power_w.size == 0 else site.power_w + power
            site.rooms.append(room)
            if strategy == "oracle":
                site.model_cost += model_cost
    return out
