"""Dataset of the wet-cycle predictor: seeded runs of the simulators' washer and dishwasher.

Each run draws, from its own seed: washer or dishwasher, a programme, its
options (washer: water temperature, spin, rinses), the load (washer 30-100 %
of the programme's rated kilograms, dishwasher 30-100 % of 13 place
settings), the supply voltage (220 V ± 5 V; a resistive heater's power goes
with its square), a moment of the year (Liuzhou's mains water and room
temperature from ``firmware_bridge.simulators.climate``) and the room the
machine stands in. The wet-cycle physics (``CycleRun``) runs it to the end on
a 30 s tick and the power is sampled each tick, as a hub sees it. Each run
gives rows at several moments: what had been seen by then, and what was left.

Splits never share seeds. Training and validation draw rooms from kitchen,
balcony and laundry corner under one year's weather; the held-out split uses
other seeds, a room never trained on (a warm bathroom) and another year's
weather, over all seasons.

``python -m models.wet_cycle.dataset [--out DIR]`` writes ``train.npz``,
``validation.npz`` and ``test.npz`` (arrays ``x``, ``y``, ``baseline``, ``run``,
``dishwasher``, ``month``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np

from custom_components.liuzhou_appliances.link.declaration import Programme
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural.wet_cycle import (
    FEATURES,
    HEATER_ON_W,
    OUTPUTS,
    RINSE_OPTIONS,
    RunObservation,
    declared_remaining,
    run_features,
)
from firmware_bridge.simulators.base import load_declaration
from firmware_bridge.simulators.climate import LiuzhouClimate
from firmware_bridge.simulators.dishwasher import (
    DISHWASHER_MACHINE,
    DISHWASHER_PROGRAMMES,
    dishwasher_load_j_per_k,
)
from firmware_bridge.simulators.washer import WASHER_MACHINE, WASHER_PROGRAMMES, washer_plan
from firmware_bridge.simulators.wet_physics import CycleRun, CycleStep, MachineParameters
from models.splits import Split

TICK_S: Final = 30.0
ROWS_EARLY: Final = 4  # rows per run in its first 45 minutes (what the first minutes show)
ROWS_LATER: Final = 2  # rows anywhere in the run
EARLY_S: Final = 45 * 60.0
NOMINAL_VOLTS: Final = 220.0
ROOMS: Final = {  # offset of the room from an unconditioned Liuzhou room (°C)
    "kitchen": 1.0,
    "balcony": -1.5,
    "laundry_corner": 0.0,
    "bathroom": 3.0,  # held out
}
SPIN_SPEEDS: Final = (0, 400, 800, 1000, 1200, 1400)
RINSE_WEIGHTS: Final = (0.1, 0.6, 0.2, 0.1)


SPLITS: Final = {
    "train": Split(range(0, 16_000), ("kitchen", "balcony", "laundry_corner"), 1),
    "validation": Split(range(100_000, 102_000), ("kitchen", "balcony", "laundry_corner"), 1),
    "test": Split(range(200_000, 203_000), ("bathroom",), 2),
}


@dataclass(frozen=True, slots=True)
class RunSetting:
    """Everything one run was drawn with."""

    dishwasher: bool
    programme: str
    water_temperature: str
    spin_rpm: int
    rinses: str
    load: float  # washer kg, dishwasher fraction of full racks
    volts: float
    inlet_c: float
    ambient_c: float
    month: int


@dataclass(frozen=True, slots=True)
class Trace:
    """A simulated run on the tick: power after each tick (W), energy by then (J)."""

    setting: RunSetting
    power_w: np.ndarray[Any, Any]  # (ticks + 1,), index 0 is the start
    energy_j: np.ndarray[Any, Any]  # (ticks + 1,)
    duration_s: float
    total_j: float


def declared_programmes() -> dict[tuple[bool, str], Programme]:
    """The reference declarations' programmes by (dishwasher, id)."""
    out = {}
    for kind in (ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER):
        for programme in load_declaration(kind).programmes:
            out[kind is ApplianceType.DISHWASHER, programme.id] = programme
    return out


def draw(seed: int, split: Split, climate: LiuzhouClimate) -> RunSetting:
    """The setting of run ``seed``."""
    rng = np.random.default_rng(seed)
    dishwasher = bool(rng.random() < 0.5)
    day = float(rng.uniform(0, 365))
    moment_s = day * 86400 + float(rng.uniform(6, 22)) * 3600
    inlet = climate.mains_water(moment_s) + float(rng.normal(0.0, 1.0))  # pipe run, tank
    room = split.rooms[int(rng.integers(len(split.rooms)))]
    ambient = climate.indoor_unconditioned(moment_s) + ROOMS[room]
    volts = float(np.clip(rng.normal(NOMINAL_VOLTS, 5.0), 205.0, 235.0))
    month = int(day // (365 / 12)) + 1
    if dishwasher:
        recipe = DISHWASHER_PROGRAMMES[int(rng.integers(len(DISHWASHER_PROGRAMMES)))]
        return RunSetting(
            True, recipe.id, "cold", 0, "normal", float(rng.uniform(0.3, 1.0)), volts, inlet,
            ambient, month,
        )  # fmt: skip
    washer = WASHER_PROGRAMMES[int(rng.integers(len(WASHER_PROGRAMMES)))]
    spins = [rpm for rpm in SPIN_SPEEDS if rpm <= washer.max_spin]
    return RunSetting(
        False,
        washer.id,
        str(rng.choice(washer.temperatures)),
        int(rng.choice(spins)),
        str(rng.choice(RINSE_OPTIONS, p=RINSE_WEIGHTS)),
        float(rng.uniform(0.3, 1.0) * washer.load_kg),
        volts,
        inlet,
        ambient,
        month,
    )


def plan(setting: RunSetting) -> tuple[list[CycleStep], float, MachineParameters]:
    """Steps, load heat capacity (J/K) and machine of a run."""
    base = DISHWASHER_MACHINE if setting.dishwasher else WASHER_MACHINE
    machine = replace(base, heater_w=base.heater_w * (setting.volts / NOMINAL_VOLTS) ** 2)
    if setting.dishwasher:
        recipe = next(p for p in DISHWASHER_PROGRAMMES if p.id == setting.programme)
        return list(recipe.steps), dishwasher_load_j_per_k(setting.load), machine
    washer = next(p for p in WASHER_PROGRAMMES if p.id == setting.programme)
    steps, load = washer_plan(
        washer, setting.water_temperature, setting.spin_rpm, setting.rinses, setting.load
    )
    return steps, load, machine


def simulate(setting: RunSetting) -> Trace:
    """Run the programme to its end on the tick."""
    steps, load, machine = plan(setting)
    run = CycleRun(steps, machine, load, start_temperature_c=setting.ambient_c)
    power = [0.0]
    energy = [0.0]
    while not run.done:
        joules = run.advance(TICK_S, inlet_c=setting.inlet_c, ambient_c=setting.ambient_c)
        energy.append(energy[-1] + joules)
        power.append(run.power_w)
        if len(power) > 24 * 3600 / TICK_S:
            raise RuntimeError(f"{setting.programme} does not end")
    duration = sum(record.seconds for record in run.records)
    return Trace(setting, np.array(power), np.array(energy), duration, energy[-1])


def observe(trace: Trace, tick: int) -> RunObservation:
    """What a hub has seen ``tick`` ticks into the run."""
    setting = trace.setting
    seen = trace.power_w[1 : tick + 1]
    heating = seen[seen >= HEATER_ON_W]
    return RunObservation(
        dishwasher=setting.dishwasher,
        water_temperature_c=0.0
        if setting.water_temperature == "cold"
        else float(setting.water_temperature),
        spin_rpm=float(setting.spin_rpm),
        rinses=setting.rinses,
        inlet_water_c=setting.inlet_c,
        elapsed_s=tick * TICK_S,
        energy_kwh=float(trace.energy_j[tick]) / 3.6e6,
        heater_s=len(heating) * TICK_S,
        heater_mean_w=float(heating.mean()) if len(heating) else 0.0,
        heater_on=bool(trace.power_w[tick] >= HEATER_ON_W) if tick else False,
    )


def rows(
    seed: int, split: Split, climate: LiuzhouClimate, declared: dict[tuple[bool, str], Programme]
) -> dict[str, np.ndarray[Any, Any]]:
    """The rows of run ``seed``: inputs, targets (h, kWh left) and the declared baseline."""
    setting = draw(seed, split, climate)
    trace = simulate(setting)
    programme = declared[setting.dishwasher, setting.programme]
    rng = np.random.default_rng([seed, 1])
    last = int((trace.duration_s - 1.0) // TICK_S)
    early = min(last, int(EARLY_S // TICK_S))
    ticks = [*rng.integers(0, early + 1, ROWS_EARLY), *rng.integers(0, last + 1, ROWS_LATER)]
    x, y, baseline = [], [], []
    for tick in ticks:
        observation = observe(trace, int(tick))
        x.append(run_features(programme, observation))
        left_s = trace.duration_s - observation.elapsed_s
        y.append([left_s / 3600.0, (trace.total_j - trace.energy_j[tick]) / 3.6e6])
        declared_s, declared_kwh = declared_remaining(programme, observation.elapsed_s)
        baseline.append([declared_s / 3600.0, declared_kwh])
    count = len(ticks)
    return {
        "x": np.array(x),
        "y": np.array(y),
        "baseline": np.array(baseline),
        "run": np.full(count, seed),
        "dishwasher": np.full(count, setting.dishwasher),
        "month": np.full(count, setting.month),
    }


def build(split_name: str, limit: int | None = None) -> dict[str, np.ndarray[Any, Any]]:
    """All rows of a split (its first ``limit`` runs if given)."""
    split = SPLITS[split_name]
    climate = LiuzhouClimate(seed=split.climate_seed)
    declared = declared_programmes()
    seeds: Sequence[int] = split.seeds if limit is None else split.seeds[:limit]
    parts = [rows(seed, split, climate, declared) for seed in seeds]
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def main(argv: Sequence[str] | None = None) -> None:
    """Write the three splits as .npz files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in SPLITS:
        data = build(name)
        data["features"] = np.array([f"{n} ({u})" for n, u in FEATURES])
        data["outputs"] = np.array([f"{n} ({u})" for n, u in OUTPUTS])
        with (args.out / f"{name}.npz").open("wb") as file:
            np.savez(file, allow_pickle=False, **data)
        print(f"{name}: {len(data['x'])} rows from {len(set(data['run'].tolist()))} runs")


if __name__ == "__main__":
    main()
