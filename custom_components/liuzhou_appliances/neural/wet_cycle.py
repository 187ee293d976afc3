"""Inputs of the washer/dishwasher remaining time and energy predictor (``models/wet_cycle``).

One row describes a run in progress: what the declaration says of the
programme (its profile at default options, 15 °C inlet water), the options
chosen, the inlet water temperature, and what the run has shown so far
(elapsed time, energy, how long and how hard the heater has drawn). Built
from declared profiles rather than programme names, so the row means the same
for any declared programme. The dataset generator and the integration both
build rows here, so training and use cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any, Final

import numpy as np

from custom_components.liuzhou_appliances.link.declaration import Programme

HEATER_ON_W: Final = 1000.0  # above this the heater is on (motors and pumps stay below 600 W)
RINSE_OPTIONS: Final = ("none", "normal", "extra", "max")
# (name, unit) of each input column, in order; the model's metadata repeats them with ranges.
FEATURES: Final = (
    ("dishwasher", "0/1"),
    ("declared_duration", "h"),
    ("declared_energy", "kWh"),
    ("declared_heating", "h"),
    ("water_temperature", "°C"),
    ("spin_speed", "krpm"),
    ("rinses", "option index"),
    ("inlet_water_temperature", "°C"),
    ("elapsed", "h"),
    ("energy_so_far", "kWh"),
    ("heating_so_far", "h"),
    ("heater_power", "kW"),
    ("heater_on", "0/1"),
    ("declared_remaining", "h"),
    ("declared_remaining_energy", "kWh"),
)
OUTPUTS: Final = (("remaining", "h"), ("remaining_energy", "kWh"))


@dataclass(frozen=True, slots=True)
class RunObservation:
    """What the hub knows of a run in progress.

    ``water_temperature_c`` is the setting (0: cold, or a dishwasher), ``spin_rpm``
    the final spin (0 for a dishwasher), ``rinses`` an entry of ``RINSE_OPTIONS``
    ("normal" for a dishwasher). ``heater_s`` is how long the power was above
    ``HEATER_ON_W`` and ``heater_mean_w`` the mean power meanwhile (0 before).
    """

    dishwasher: bool
    water_temperature_c: float
    spin_rpm: float
    rinses: str
    inlet_water_c: float
    elapsed_s: float
    energy_kwh: float
    heater_s: float
    heater_mean_w: float
    heater_on: bool


def declared_remaining(programme: Programme, elapsed_s: float) -> tuple[float, float]:
    """What the declared profile leaves after ``elapsed_s``: (seconds, kWh), never negative."""
    start = 0.0
    joules = 0.0
    for seconds, watts in programme.profile:
        end = start + seconds
        if end > elapsed_s:
            joules += watts * (end - max(start, elapsed_s))
        start = end
    return max(programme.duration_s - elapsed_s, 0.0), joules / 3.6e6


def declared_heating_s(programme: Programme) -> float:
    """Seconds of the declared profile with the heater on."""
    return float(sum(s for s, watts in programme.profile if watts >= HEATER_ON_W))


def profile_so_far(programme: Programme, elapsed_s: float) -> tuple[float, float, float]:
    """What ``programme``'s profile has used by ``elapsed_s``: (kWh, seconds with the heater
    on, joules drawn meanwhile), the heater counting as on at ``HEATER_ON_W`` or more."""
    start = joules = heater_s = heater_j = 0.0
    for seconds, watts in programme.profile:
        part = min(start + seconds, elapsed_s) - start
        if part > 0:
            joules += watts * part
            if watts >= HEATER_ON_W:
                heater_s += part
                heater_j += watts * part
        start += seconds
    return joules / 3.6e6, heater_s, heater_j


def joined_observation(
    expected: Programme,
    declared: Programme,
    joined_at_s: float,
    since: RunObservation,
    *,
    heater_on_now: bool,
) -> RunObservation:
    """A run the hub joined ``joined_at_s`` seconds into, as one ``RunObservation``.

    Before the join the run is taken to have gone as ``expected`` says (the declared
    profile reshaped to what the model expects of the run at its settings and inlet
    water, ``wet_cycle_prediction.predicted_programme``); from the join on it is what
    the hub saw (``since``: a ``RunTracker`` started at the join). The heater's power
    is the one seen since the join, else the declared profile's; ``heater_on_now``
    (the power reported now) stands until the tracker has seen a step of the run.
    Raises ``ValueError`` for a negative or non-finite ``joined_at_s``.
    """
    if not (math.isfinite(joined_at_s) and joined_at_s >= 0):
        raise ValueError(f"a run cannot be joined {joined_at_s} s in")
    kwh, heater_s, heater_j = profile_so_far(expected, joined_at_s)
    if since.heater_s > 0:
        heater_w = since.heater_mean_w
    else:
        _, declared_s, declared_j = profile_so_far(declared, float(declared.duration_s))
        heater_w = declared_j / declared_s if declared_s and heater_s else 0.0
    return RunObservation(
        dishwasher=since.dishwasher,
        water_temperature_c=since.water_temperature_c,
        spin_rpm=since.spin_rpm,
        rinses=since.rinses,
        inlet_water_c=since.inlet_water_c,
        elapsed_s=joined_at_s + since.elapsed_s,
        energy_kwh=kwh + since.energy_kwh,
        heater_s=heater_s + since.heater_s,
        heater_mean_w=heater_w,
        heater_on=since.heater_on if since.elapsed_s > 0 else heater_on_now,
    )


def run_features(programme: Programme, run: RunObservation) -> np.ndarray[Any, Any]:
    """The model's input row, shape (len(FEATURES),) float64, in the units of ``FEATURES``.

    Raises ``ValueError`` for a rinse option outside ``RINSE_OPTIONS``.
    """
    if run.rinses not in RINSE_OPTIONS:
        raise ValueError(f"rinses must be one of {', '.join(RINSE_OPTIONS)}, not {run.rinses!r}")
    remaining_s, remaining_kwh = declared_remaining(programme, run.elapsed_s)
    return np.array(
        [
            float(run.dishwasher),
            programme.duration_s / 3600.0,
            programme.energy_kwh,
            declared_heating_s(programme) / 3600.0,
            run.water_temperature_c,
            run.spin_rpm / 1000.0,
            float(RINSE_OPTIONS.index(run.rinses)),
            run.inlet_water_c,
            run.elapsed_s / 3600.0,
            run.energy_kwh,
            run.heater_s / 3600.0,
            run.heater_mean_w / 1000.0,
            float(run.heater_on),
            remaining_s / 3600.0,
            remaining_kwh,
        ]
    )


class RunTracker:
    """Follows one washer's or dishwasher's reported values into a ``RunObservation``.

    Call ``update`` with each snapshot of values (``operational_state``, ``phase``,
    ``power`` W, ``energy`` kWh) and the time it was seen (seconds, any origin). A
    run starts when the state is running outside the ``idle`` phase (a delayed
    start has not begun); time and heating count only while it runs; stopped,
    finished or an error ends it. The heater counts as on for the time since the
    previous snapshot when the power now is at least ``HEATER_ON_W``, as the
    dataset's power samples do.
    """

    def __init__(self, *, dishwasher: bool) -> None:
        """A tracker with no run under way."""
        self.dishwasher = dishwasher
        self._running = False
        self._last_s = 0.0
        self._elapsed_s = 0.0
        self._energy_start = 0.0
        self._energy_kwh = 0.0
        self._heater_s = 0.0
        self._heater_j = 0.0
        self._heater_on = False

    @property
    def under_way(self) -> bool:
        """Whether a run has started and not ended."""
        return self._running

    def update(self, now_s: float, values: dict[str, Any]) -> None:
        """Take one snapshot of the appliance's values."""
        state, phase = values.get("operational_state"), values.get("phase")
        power, energy = values.get("power"), values.get("energy")
        if state in ("stopped", "finished", "error", None):
            self._running = False
            return
        if not isinstance(power, int | float) or not isinstance(energy, int | float):
            return
        runs_now = state == "running" and phase != "idle"
        if not self._running:
            if runs_now:
                self._running, self._last_s = True, now_s
                self._elapsed_s = self._heater_s = self._heater_j = 0.0
                self._energy_start = self._energy_kwh = float(energy)
                self._heater_on = False
            return
        dt = max(now_s - self._last_s, 0.0)
        self._last_s = now_s
        self._energy_kwh = float(energy)
        if not runs_now:
            return  # paused: the programme's clock stops
        self._elapsed_s += dt
        self._heater_on = power >= HEATER_ON_W
        if self._heater_on:
            self._heater_s += dt
            self._heater_j += power * dt

    def to_json(self) -> dict[str, float | bool]:
        """The run so far as JSON (kept across a restart of the hub); {} with none under way."""
        if not self._running:
            return {}
        return {
            "elapsed_s": self._elapsed_s,
            "energy_start": self._energy_start,
            "energy_kwh": self._energy_kwh,
            "heater_s": self._heater_s,
            "heater_j": self._heater_j,
            "heater_on": self._heater_on,
        }

    @classmethod
    def from_json(cls, data: Any, *, dishwasher: bool, now_s: float) -> RunTracker:
        """A tracker going on with a kept run, as if its last snapshot was at ``now_s``.

        Raises ValueError (naming the field) for anything ``to_json`` did not write.
        """
        if not isinstance(data, dict):
            raise ValueError("a kept run is not an object")
        tracker = cls(dishwasher=dishwasher)
        numbers = {}
        for key in ("elapsed_s", "energy_start", "energy_kwh", "heater_s", "heater_j"):
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key} is not a number")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{key} is {value}")
            numbers[key] = float(value)
        if not isinstance(data.get("heater_on"), bool):
            raise ValueError("heater_on is not true or false")
        if numbers["energy_kwh"] < numbers["energy_start"]:
            raise ValueError("energy_kwh is below energy_start")
        tracker._running, tracker._last_s = True, now_s
        tracker._elapsed_s, tracker._heater_s = numbers["elapsed_s"], numbers["heater_s"]
        tracker._energy_start, tracker._energy_kwh = numbers["energy_start"], numbers["energy_kwh"]
        tracker._heater_j, tracker._heater_on = numbers["heater_j"], bool(data["heater_on"])
        return tracker

    def observation(
        self, *, water_temperature: str, spin_rpm: float, rinses: str, inlet_water_c: float
    ) -> RunObservation | None:
        """The run so far with these settings, or None if no run is under way.

        ``water_temperature`` is the setting as reported ("cold", "40", ...).
        """
        if not self._running:
            return None
        return RunObservation(
            dishwasher=self.dishwasher,
            water_temperature_c=0.0 if water_temperature == "cold" else float(water_temperature),
            spin_rpm=spin_rpm,
            rinses=rinses,
            inlet_water_c=inlet_water_c,
            elapsed_s=self._elapsed_s,
            energy_kwh=max(self._energy_kwh - self._energy_start, 0.0),
            heater_s=self._heater_s,
            heater_mean_w=self._heater_j / self._heater_s if self._heater_s else 0.0,
            heater_on=self._heater_on,
        )
