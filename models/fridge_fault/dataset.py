"""Dataset of the fridge fault detector: seeded appliance runs of the simulator's fridge.

Each run draws, from its own seed: a moment of the year (Liuzhou's weather
from ``firmware_bridge.simulators.climate``), the room the fridge stands in,
how often the household opens it (10-60 times a day on the simulator's
meal-time schedule), the fridge setpoint (2-4 °C) and, for two runs in three,
one physical fault (``firmware_bridge.simulators.fridge_faults``) with a
random severity and an onset between day 2.5 and day 6 of the run. The
fridge's physics (``FridgeModel``) runs ``RUN_DAYS`` days on a 30 s step; what
it reports is sampled each minute into a ``FridgeObserver``, as a hub would
see it, and a row is taken each hour once 48 hours are known.

Labels: a row is the run's fault once its window ends after the onset, else
healthy; rows less than ``SETTLE_H`` hours after the onset are marked so
training can leave them out (their window has barely seen the fault).
``warm_hour`` is the hour the fresh-food contents first pass ``warm_c`` =
max(4 °C, setpoint + 1 K) (``nan`` if never within the run).

Splits never share seeds. Training and validation draw rooms from kitchen,
pantry and living room under one year's weather; the held-out split uses
other seeds, a room never trained on (a hot kitchen next to the stove) and
another year's weather.

``python -m models.fridge_fault.dataset [--out DIR] [--jobs N]`` writes
``train.npz``, ``validation.npz`` and ``test.npz``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np

from custom_components.liuzhou_appliances.neural.fridge_fault import (
    FAULTS,
    FEATURES,
    OUTPUTS,
    FridgeObserver,
    FridgeSample,
)
from firmware_bridge.simulators.climate import LiuzhouClimate
from firmware_bridge.simulators.fridge_faults import FaultKind, PhysicalFault
from firmware_bridge.simulators.refrigerator import DoorSchedule, FridgeModel, FridgeParameters
from models.splits import Split

RUN_DAYS: Final = 8
STEP_S: Final = 30.0
SAMPLE_EVERY: Final = 2  # steps: one report a minute
FIRST_ROW_H: Final = 48
SETTLE_H: Final = 6
ONSET_DAYS: Final = (2.5, 6.0)
ROOMS: Final = {  # offset of the room from an unconditioned Liuzhou room (°C)
    "kitchen": 1.0,
    "pantry": -1.0,
    "living_room": 0.0,
    "hot_kitchen": 3.5,  # held out
}
SEVERITY: Final[dict[str, tuple[float, float]]] = {
    "door_seal": (0.3, 1.0),
    "condenser": (0.4, 1.0),
    "compressor": (0.3, 1.0),
    "defrost": (0.6, 1.0),
}


SPLITS: Final = {
    "train": Split(range(0, 360), ("kitchen", "pantry", "living_room"), 1),
    "validation": Split(range(100_000, 100_120), ("kitchen", "pantry", "living_room"), 1),
    "test": Split(range(200_000, 200_200), ("hot_kitchen",), 2),
}


@dataclass(frozen=True, slots=True)
class RunSetting:
    """Everything one run was drawn with."""

    seed: int
    start_s: float  # climate-axis seconds
    room_offset_c: float
    openings_per_day: float
    fridge_target_c: float
    fault: PhysicalFault | None
    frost_start_s: float


def draw(seed: int, split: Split) -> RunSetting:
    """The setting of run ``seed``."""
    rng = np.random.default_rng([seed, 7])
    start = float(rng.uniform(0, 365)) * 86400.0
    room = split.rooms[int(rng.integers(len(split.rooms)))]
    openings = float(rng.uniform(10, 60))
    target = float(rng.choice([2.0, 3.0, 4.0]))
    fault = None
    choice = int(rng.integers(6))
    if choice < len(FAULTS):
        kind: FaultKind = FAULTS[choice]
        low, high = SEVERITY[kind]
        fault = PhysicalFault(
            kind, float(rng.uniform(low, high)), float(rng.uniform(*ONSET_DAYS)) * 86400.0
        )
    return RunSetting(
        seed, start, ROOMS[room], openings, target, fault, float(rng.uniform(0, 10 * 3600))
    )


def label(setting: RunSetting) -> int:
    """The output index of the run's fault (0: healthy)."""
    return 0 if setting.fault is None else 1 + FAULTS.index(setting.fault.kind)


def simulate(setting: RunSetting, climate: LiuzhouClimate) -> dict[str, np.ndarray[Any, Any]]:
    """Run one appliance for ``RUN_DAYS``; its hourly rows and their labels."""
    parameters = replace(FridgeParameters(), openings_per_day=setting.openings_per_day)
    ambient0 = climate.indoor_unconditioned(setting.start_s) + setting.room_offset_c
    model = FridgeModel(parameters, has_freezer=True, ambient_c=ambient0)
    model.fridge_target_c = model.fridge_air_c = model.fridge_contents_c = setting.fridge_target_c
    model.run_since_defrost_s = model.frost_s = setting.frost_start_s
    model.physical_faults = () if setting.fault is None else (setting.fault,)
    doors = DoorSchedule(f"fridge-fault:{setting.seed}", setting.openings_per_day)
    observer = FridgeObserver()
    warm_c = max(4.0, setting.fridge_target_c + 1.0)
    warm_hour = np.nan
    x, hours = [], []
    steps_per_hour = round(3600 / STEP_S)
    ambient = ambient0
    door_was_open = False
    door = _Doors(doors, setting.start_s, RUN_DAYS * 86400.0)
    for step in range(RUN_DAYS * 24 * steps_per_hour):
        t = step * STEP_S
        # The fridge pushes a door change when it happens; the rest is read each minute.
        door_open = door.open_at(t)
        if step % SAMPLE_EVERY == 0 or door_open != door_was_open:
            door_was_open = door_open
            ambient = climate.indoor_unconditioned(setting.start_s + t) + setting.room_offset_c
            observer.add(
                FridgeSample(
                    t,
                    model.compressor_on,
                    model.power_w,
                    model.fridge_air_c,
                    model.fridge_target_c,
                    model.freezer_c,
                    model.freezer_target_c,
                    door_open,
                    model.defrosting,
                )
            )
            if step % steps_per_hour == 0 and t >= FIRST_ROW_H * 3600:  # on the minute
                row = observer.features()
                if row is not None:
                    x.append(row)
                    hours.append(t / 3600)
        open_s, openings = door.exposure(t, t + STEP_S)
        model.advance(STEP_S, ambient_c=ambient, door_open_s=open_s, openings=openings)
        if np.isnan(warm_hour) and model.fridge_contents_c > warm_c:
            warm_hour = (t + STEP_S) / 3600
    hour = np.array(hours)
    onset_h = np.inf if setting.fault is None else setting.fault.onset_s / 3600
    since = hour - onset_h
    y = np.where(since > 0, label(setting), 0)
    count = len(hour)
    return {
        "x": np.array(x),
        "y": y.astype(np.int64),
        "run": np.full(count, setting.seed),
        "hour": hour,
        "run_fault": np.full(count, label(setting)),
        "severity": np.full(count, 0.0 if setting.fault is None else setting.fault.severity),
        "onset_hour": np.full(count, onset_h if setting.fault else np.nan),
        "settling": (since > 0) & (since < SETTLE_H),
        "warm_hour": np.full(count, warm_hour),
    }


class _Doors:
    """A run's door openings (run seconds), read forward in time: the schedule's
    ``exposure``/``open_since`` without searching two hours of events every step."""

    def __init__(self, doors: DoorSchedule, start_s: float, length_s: float) -> None:
        first, last = int(start_s // 3600) - 1, int((start_s + length_s) // 3600) + 1
        self._events = [
            (a - start_s, b - start_s)
            for hour in range(first, last + 1)
            for a, b in doors.events(hour)
        ]
        self._next = 0  # the first event not yet over

    def _skip(self, t: float) -> None:
        while self._next < len(self._events) and self._events[self._next][1] <= t:
            self._next += 1

    def open_at(self, t: float) -> bool:
        """Whether the door is open at ``t`` (calls in time order)."""
        self._skip(t)
        return self._next < len(self._events) and self._events[self._next][0] <= t

    def exposure(self, t0: float, t1: float) -> tuple[float, int]:
        """Seconds open within [t0, t1) and openings starting in it (calls in time order)."""
        self._skip(t0)
        open_s, openings, i = 0.0, 0, self._next
        while i < len(self._events) and self._events[i][0] < t1:
            start, end = self._events[i]
            open_s += max(0.0, min(end, t1) - max(start, t0))
            openings += t0 <= start < t1
            i += 1
        return open_s, openings


def _run(args: tuple[int, str]) -> dict[str, np.ndarray[Any, Any]]:
    seed, split_name = args
    split = SPLITS[split_name]
    return simulate(draw(seed, split), LiuzhouClimate(seed=split.climate_seed))


def build(
    split_name: str, limit: int | None = None, jobs: int = 1
) -> dict[str, np.ndarray[Any, Any]]:
    """All rows of a split (its first ``limit`` runs if given), in seed order."""
    split = SPLITS[split_name]
    seeds: Sequence[int] = split.seeds if limit is None else split.seeds[:limit]
    work = [(seed, split_name) for seed in seeds]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            parts = list(pool.map(_run, work, chunksize=4))
    else:
        parts = [_run(item) for item in work]
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def main(argv: Sequence[str] | None = None) -> None:
    """Write the three splits as .npz files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in SPLITS:
        data = build(name, args.limit, args.jobs)
        data["features"] = np.array([f"{n} ({u})" for n, u in FEATURES])
        data["outputs"] = np.array([f"{n} ({u})" for n, u in OUTPUTS])
        with (args.out / f"{name}.npz").open("wb") as file:
            np.savez(file, allow_pickle=False, **data)
        runs = len(set(data["run"].tolist()))
        print(f"{name}: {len(data['x'])} rows from {runs} runs")


if __name__ == "__main__":
    main()
