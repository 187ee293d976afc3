"""Dataset of the room thermal model: seeded runs of the room air conditioner's physics.

Each run draws, from its own seed: a room (the simulator's bedroom with its
capacities, conductances, air changes and solar gain each scaled by a random
factor), a unit (rated capacity scaled 0.75-1.3), a weather year and a start
day anywhere in the year, and drives ``RoomAirConditionerSimulator`` (the
benchmark's physics, 10 s sub-steps) for ``DAYS`` days on a schedule of AC
commands: segments of 15 minutes to 6 hours, each off or on in a mode the
season makes likely (cool, heat, dry, fan only) with a setpoint in 0.5 K
steps and a fan speed. Every 15-minute step (``STEP_S``) after the first three hours
gives one row: what the hub saw and commanded (``room_features``) and what
followed (temperature and humidity change as reported, mean electric power).

Splits never share run seeds, rooms or weather years: training draws rooms
from seeds 0-9 999 under weather seeds 11-13, validation rooms from 100 000-
under weather 14, and the held-out split other rooms under weather 15 (the
energy benchmark's default weather seed 7 is in none of them).

``python -m models.room_thermal.dataset [--out DIR]`` writes ``train.npz``,
``validation.npz`` and ``test.npz`` (arrays ``x``, ``y``, ``baseline``, ``run``,
``month``, ``features``, ``outputs``); ``baseline`` is persistence (no change,
the last 15 minutes' power).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np

from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural.room_thermal import (
    FEATURES,
    HISTORY_STEPS,
    OUTPUTS,
    STEP_S,
    AcCommand,
    RoomHistory,
    room_features,
    slow_update,
)
from firmware_bridge.simulators import RoomAirConditionerSimulator, create_simulator
from firmware_bridge.simulators.climate import LiuzhouClimate
from firmware_bridge.simulators.room_ac import AirConditionerParameters, RoomParameters

DAYS: Final = 3
STEPS: Final = DAYS * 86400 // STEP_S
FANS: Final = ("auto", "auto", "low", "medium", "high")
# Each room parameter's random factor (low, high) around the simulator's bedroom.
ROOM_FACTORS: Final = {
    "volume_m3": (0.7, 1.5),
    "air_capacity_j_per_k": (0.7, 1.5),
    "structure_capacity_j_per_k": (0.6, 1.5),
    "air_structure_w_per_k": (0.7, 1.3),
    "window_w_per_k": (0.5, 2.0),
    "wall_w_per_k": (0.6, 1.6),
    "air_changes_per_hour": (0.6, 2.0),
    "solar_peak_w": (0.3, 1.8),
}


@dataclass(frozen=True, slots=True)
class Split:
    """Run seeds and weather seeds of one split."""

    seeds: range
    climate_seeds: tuple[int, ...]


SPLITS: Final = {
    "train": Split(range(0, 300), (11, 12, 13)),
    "validation": Split(range(100_000, 100_030), (14,)),
    "test": Split(range(200_000, 200_060), (15,)),
}


def draw_room(rng: np.random.Generator) -> tuple[RoomParameters, AirConditionerParameters]:
    """A room and unit: the simulator's defaults, each scaled by a random factor."""
    base = RoomParameters()
    changes = {
        name: getattr(base, name) * float(rng.uniform(low, high))
        for name, (low, high) in ROOM_FACTORS.items()
    }
    room = replace(base, solar_to_air=float(rng.uniform(0.3, 0.7)), **changes)
    unit = AirConditionerParameters()
    scale = float(rng.uniform(0.75, 1.3))
    return room, replace(
        unit,
        rated_cooling_w=unit.rated_cooling_w * scale,
        rated_heating_w=unit.rated_heating_w * scale,
    )


def draw_command(rng: np.random.Generator, daily_mean_c: float) -> AcCommand:
    """One schedule segment's command; the season makes cooling or heating likely."""
    if rng.random() < 0.3:
        return AcCommand(on=False)
    warm = float(np.clip((daily_mean_c - 14.0) / 10.0, 0.0, 1.0))  # 0 in winter, 1 in summer
    weights = np.array([0.85 * warm + 0.05, 0.85 * (1 - warm) + 0.05, 0.06, 0.04])
    mode = ("cool", "heat", "dry", "fan_only")[int(rng.choice(4, p=weights / weights.sum()))]
    low, high = {"cool": (22.0, 29.0), "heat": (16.0, 24.0)}.get(mode, (22.0, 28.0))
    setpoint = float(rng.integers(0, int((high - low) * 2) + 1)) * 0.5 + low
    return AcCommand(True, mode, setpoint, str(rng.choice(FANS)))


def _write(sim: RoomAirConditionerSimulator, command: AcCommand) -> None:
    values = sim.values()
    wanted: list[tuple[str, object]] = [("on", command.on)]
    if command.on:
        wanted += [
            ("mode", command.mode),
            ("target_temperature", command.setpoint),
            ("fan_speed", command.fan),
        ]
    for key, value in wanted:
        if values.get(key) != value:
            sim.write(key, value)  # type: ignore[arg-type]


def rows(seed: int, split_name: str) -> dict[str, np.ndarray[Any, Any]]:
    """The rows of run ``seed``: inputs, targets and the persistence baseline."""
    split = SPLITS[split_name]
    rng = np.random.default_rng([seed, 13])
    climate_seed = split.climate_seeds[int(rng.integers(len(split.climate_seeds)))]
    climate = LiuzhouClimate(seed=climate_seed)
    room, unit = draw_room(rng)
    start = datetime(2026, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
    sim = create_simulator(
        ApplianceType.ROOM_AIR_CONDITIONER,
        seed=climate_seed,
        index=seed,
        start=start,
        climate=climate,
        room=room,
        unit=unit,
    )
    assert isinstance(sim, RoomAirConditionerSimulator)
    origin = LiuzhouClimate.seconds_of_year(start)
    temperatures = [float(sim.values()["temperature"])]  # type: ignore[arg-type]
    humidities = [float(sim.values()["humidity"])]  # type: ignore[arg-type]
    powers: list[float] = []
    commands: list[AcCommand] = []
    command = AcCommand(on=False)
    left = 0
    for _ in range(STEPS):
        if left <= 0:
            command = draw_command(rng, climate.daily_mean(origin + sim.elapsed_s))
            left = int(rng.integers(1, 25))  # 15 min to 6 h
        left -= 1
        commands.append(command)
        _write(sim, command)
        before = sim.energy_kwh
        sim.step(STEP_S)
        powers.append((sim.energy_kwh - before) * 3600.0 / STEP_S)
        values = sim.values()
        temperatures.append(float(values["temperature"]))  # type: ignore[arg-type]
        humidities.append(float(values["humidity"]))  # type: ignore[arg-type]
    # The slow averages as the hub keeps them: slow_temperature[k] after the readings 0..k,
    # slow_power[k] after the powers of steps 0..k-1 (None before the first).
    slow_temperature: list[float] = []
    slow_power: list[float | None] = [None]
    for k, temperature in enumerate(temperatures):
        slow_temperature.append(slow_update(slow_temperature[-1] if k else None, temperature))
    for power in powers:
        slow_power.append(slow_update(slow_power[-1], power))
    x, y, baseline, month = [], [], [], []
    for k in range(HISTORY_STEPS, STEPS):
        history = RoomHistory(
            tuple(temperatures[k - HISTORY_STEPS : k + 1]),
            tuple(humidities[k - HISTORY_STEPS : k + 1]),
            tuple(powers[k - HISTORY_STEPS : k]),
            slow_temperature[k],
            slow_power[k],
        )
        t = origin + k * STEP_S
        outdoor = climate.outdoor(t + STEP_S / 2)
        x.append(
            room_features(
                commands[k],
                history,
                outdoor_temperature=outdoor.temperature_c,
                outdoor_humidity=outdoor.humidity_pct,
                seconds_of_day=t % 86400,
            )
        )
        y.append(
            [temperatures[k + 1] - temperatures[k], humidities[k + 1] - humidities[k], powers[k]]
        )
        baseline.append([0.0, 0.0, powers[k - 1]])
        month.append((start + timedelta(seconds=k * STEP_S)).month)
    count = len(x)
    return {
        "x": np.array(x),
        "y": np.array(y),
        "baseline": np.array(baseline),
        "run": np.full(count, seed),
        "month": np.array(month),
    }


def build(split_name: str, limit: int | None = None, workers: int = 1) -> dict[str, Any]:
    """All rows of a split (its first ``limit`` runs if given), in seed order."""
    seeds: Sequence[int] = SPLITS[split_name].seeds
    if limit is not None:
        seeds = seeds[:limit]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(rows, seeds, [split_name] * len(seeds), chunksize=4))
    else:
        parts = [rows(seed, split_name) for seed in seeds]
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def main(argv: Sequence[str] | None = None) -> None:
    """Write the three splits as .npz files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--workers", type=int, default=2, help="processes (output is the same)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in SPLITS:
        data = build(name, workers=args.workers)
        data["features"] = np.array([f"{n} ({u})" for n, u in FEATURES])
        data["outputs"] = np.array([f"{n} ({u})" for n, u in OUTPUTS])
        with (args.out / f"{name}.npz").open("wb") as file:
            np.savez(file, allow_pickle=False, **data)
        print(
            f"{name}: {len(data['x'])} rows from {len(set(data['run'].tolist()))} runs", flush=True
        )


if __name__ == "__main__":
    main()
