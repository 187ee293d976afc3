"""Refrigerator: a ~300 L frost-free fridge-freezer (Chinese class "BCD-300W").

``FridgeModel`` holds the physics and the controller as plain state so the
energy team can run it directly; ``RefrigeratorSimulator`` adds the
declaration, the door schedule and persistence.

Model (``FridgeParameters``; figures for a 300 L unit, 210 L fridge + 90 L
freezer, R600a, one compressor, a fan-forced evaporator in the freezer and a
motorised air damper feeding the fridge, as most Chinese "W" (风冷) models):

* Fridge: an air node (air, shelves, the liner's surface: ~8 kJ/K; it is what
  the sensor reads and what the door disturbs) and a contents node (~15 kg of
  food and drinks, ~70 kJ/K) coupled at ~10 W/K. Cabinet leakage 0.55 W/K
  (60-70 mm PU foam over ~2.5 m² of fridge walls, plus the gasket).
* Freezer: one node (~20 kg of frozen food at ~2 kJ/kgK, liner, evaporator:
  ~50 kJ/K), leakage 0.45 W/K.
* Door: while open, warm kitchen air exchanges at ~12 W/K, and each opening
  spills the cold air (~0.3 kg ≈ 400 J/K with the shelves' surface). 30
  openings a day on a seeded, meal-time-weighted random schedule, 3-50 s
  each (median ~12 s); tests and demos use ``open_door``/``close_door``.
* Compressor: ~115 W of cooling at 25 °C ambient drawing ~80 W (COP ≈ 1.45,
  typical of small R600a reciprocating compressors at −25 °C evaporating),
  capacity falling 1.2 %/K and power rising 0.6 %/K with a warmer kitchen;
  evaporator fan 6 W; electronics 1.5 W. The freezer thermostat (±1 K) and
  the fridge damper (±0.7 K) both call for the compressor; with the damper
  open 40 % of the cooling goes to the fridge while the freezer also calls,
  75 % when only the fridge does (the freezer fan then blows mostly through
  the damper). Minimum on 2 min, off 5 min.
* Defrost: frost costs ~10 % of the capacity per 10 h of compressor run; then
  a 180 W heater runs 20 min with the compressor off, ~35 % of its heat ending
  up in the freezer (the rest melts frost and leaves with the meltwater).
* Modes: eco raises the setpoints (fridge +1 K, freezer +2 K), quick_freeze
  holds the freezer at −26 °C for 26 h then returns to normal, vacation keeps
  the fridge at 15 °C (no food inside; it stays dry and odour-free).
* Fault detector: a declaration listing ``fridge_fault`` (the reference one
  does) makes the firmware run that model on its own readings (each minute
  and on each door change; ``FridgeFaultDetector``) and report
  ``suspected_<fault>`` in ``faults`` while it suspects one.
  ``fault_detector=False`` is a firmware without it (the model is taken out
  of the declaration). Its 48 h window is not saved: after a restore it
  starts again.

Calibration check: in a 30 °C kitchen the compressor runs ~40-45 % of the
time and the unit uses ~1.0 kWh a day (~370 kWh/yr); at 25 °C ~0.8 kWh,
consistent with 250-400 kWh/yr labels of 300 L fridge-freezers (GB 12021.2
grade 2-3 / the older EU A+ to A++ classes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
import math
import random
from typing import Any, Final

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import Value
from custom_components.liuzhou_appliances.link.server import ApplianceIdentity
from custom_components.liuzhou_appliances.neural.fridge_fault import FridgeSample
from firmware_bridge.models import FRIDGE_FAULT, FridgeFaultDetector

from .base import AppliancePhysics, number_value, state_choice, state_number
from .climate import LiuzhouClimate
from .fridge_faults import PhysicalFault, effects_at

MAX_SUBSTEP_S: Final = 10.0
DETECTOR_SAMPLE_S: Final = 60.0  # the fault detector reads the fridge each minute
MODES: Final = ("normal", "eco", "quick_freeze", "vacation")

# Relative door-opening rate by hour of the day (breakfast, lunch, dinner peaks).
_DOOR_RATE_BY_HOUR: Final = (
    0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.5, 1.8, 2.0, 1.0, 0.8, 1.5,
    2.0, 1.2, 0.8, 0.8, 1.0, 1.8, 2.6, 2.2, 1.6, 1.2, 0.8, 0.4,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class FridgeParameters:
    """Physical parameters of the fridge-freezer (see the module docstring)."""

    fridge_air_j_per_k: float = 8e3
    fridge_contents_j_per_k: float = 70e3
    fridge_air_contents_w_per_k: float = 10.0
    fridge_leak_w_per_k: float = 0.55
    freezer_j_per_k: float = 50e3
    freezer_leak_w_per_k: float = 0.45
    door_open_w_per_k: float = 12.0
    door_spill_j_per_k: float = 400.0
    compressor_cooling_w: float = 115.0  # at 25 °C ambient
    compressor_electric_w: float = 80.0  # at 25 °C ambient
    fan_w: float = 6.0
    electronics_w: float = 1.5
    fridge_share: float = 0.4  # while the freezer also calls for cold
    fridge_share_freezer_satisfied: float = 0.75
    freezer_band_k: float = 1.0
    fridge_band_k: float = 0.7
    min_on_s: float = 120.0
    min_off_s: float = 300.0
    defrost_heater_w: float = 180.0
    defrost_duration_s: float = 1200.0
    defrost_every_run_s: float = 10 * 3600.0
    defrost_heat_to_freezer: float = 0.35
    frost_loss_per_interval: float = 0.1
    openings_per_day: float = 30.0
    quick_freeze_c: float = -26.0
    quick_freeze_s: float = 26 * 3600.0
    vacation_fridge_c: float = 15.0
    eco_fridge_offset_k: float = 1.0
    eco_freezer_offset_k: float = 2.0

    def cooling_w(self, ambient_c: float) -> float:
        """Compressor cooling capacity with a clean evaporator."""
        return self.compressor_cooling_w * max(0.5, 1.0 - 0.012 * (ambient_c - 25.0))

    def electric_w(self, ambient_c: float) -> float:
        """Compressor electrical power."""
        return self.compressor_electric_w * max(0.8, 1.0 + 0.006 * (ambient_c - 25.0))


class FridgeModel:
    """Compartment temperatures, compressor, damper and defrost (no I/O, no clock)."""

    def __init__(
        self, parameters: FridgeParameters, *, has_freezer: bool, ambient_c: float
    ) -> None:
        self.parameters = parameters
        self.has_freezer = has_freezer
        self.mode = "normal"
        self.fridge_target_c = 4.0
        self.freezer_target_c = -18.0
        # Start settled at the setpoints (the appliance has been running).
        self.fridge_air_c = 4.0
        self.fridge_contents_c = 4.0
        self.freezer_c = -18.0 if has_freezer else ambient_c
        self.compressor_on = False
        self.since_switch_s = 1e9
        self.damper_open = False
        self.freezer_calling = False
        self.run_since_defrost_s = 0.0
        self.defrost_left_s = 0.0
        self.quick_freeze_left_s = 0.0
        self.power_w = parameters.electronics_w
        self.faults: frozenset[str] = frozenset()
        # Faults of the machine itself (fridge_faults.py), by onset on ``clock_s``.
        self.physical_faults: tuple[PhysicalFault, ...] = ()
        self.frost_s = 0.0  # frost on the evaporator, in clean-run seconds of frost growth
        self.run_s = 0.0  # compressor run time, for duty-cycle statistics
        self.clock_s = 0.0

    def fridge_setpoint(self) -> float:
        """Effective fridge setpoint after the mode."""
        if self.mode == "vacation":
            return self.parameters.vacation_fridge_c
        if self.mode == "eco":
            return self.fridge_target_c + self.parameters.eco_fridge_offset_k
        return self.fridge_target_c

    def freezer_setpoint(self) -> float:
        """Effective freezer setpoint after the mode."""
        if self.mode == "quick_freeze":
            return self.parameters.quick_freeze_c
        if self.mode == "eco":
            return self.freezer_target_c + self.parameters.eco_freezer_offset_k
        return self.freezer_target_c

    @property
    def defrosting(self) -> bool:
        """Whether a defrost cycle is running."""
        return self.defrost_left_s > 0

    def _thermostat(self, dt: float) -> bool:
        """Whether the compressor should run during the next ``dt`` seconds."""
        p = self.parameters
        if "temperature_sensor" in self.faults:
            # Sensorless fallback every appliance maker ships: a fixed 20 min on / 25 off
            # with the damper open.
            self.damper_open = self.freezer_calling = True
            return self.clock_s % 2700.0 < 1200.0
        fridge_set = self.fridge_setpoint()
        if self.fridge_air_c > fridge_set + p.fridge_band_k:
            self.damper_open = True
        elif self.fridge_air_c < fridge_set - p.fridge_band_k:
            self.damper_open = False
        if not self.has_freezer:
            return self.damper_open
        freezer_set = self.freezer_setpoint()
        if self.freezer_c > freezer_set + p.freezer_band_k:
            self.freezer_calling = True
        elif self.freezer_c < freezer_set - p.freezer_band_k:
            self.freezer_calling = False
        return self.freezer_calling or self.damper_open

    def advance(self, dt: float, *, ambient_c: float, door_open_s: float, openings: int) -> float:
        """Advance ``dt`` seconds (callers sub-step to <= 10 s); return the energy used (J).

        ``door_open_s`` is how long the fridge door stood open within ``dt``,
        ``openings`` how many times it was opened.
        """
        p = self.parameters
        self.clock_s += dt
        if self.quick_freeze_left_s > 0:
            self.quick_freeze_left_s = max(0.0, self.quick_freeze_left_s - dt)
            if self.quick_freeze_left_s == 0 and self.mode == "quick_freeze":
                self.mode = "normal"

        effects = effects_at(self.physical_faults, self.clock_s)
        # Defrost start: due by run time and the compressor is (or may go) off.
        heater_w = 0.0
        if self.defrosting:
            self.defrost_left_s = max(0.0, self.defrost_left_s - dt)
            if "defrost_heater" not in self.faults:
                heater_w = p.defrost_heater_w * effects.defrost_heater
                if self.defrost_left_s == 0:
                    self.run_since_defrost_s = 0.0
                    # A weak heater melts only its share of the frost.
                    self.frost_s *= 1.0 - effects.defrost_heater
        elif self.has_freezer and self.run_since_defrost_s >= p.defrost_every_run_s:
            self.defrost_left_s = p.defrost_duration_s
            self._switch(False)

        want = not self.defrosting and "compressor" not in self.faults and self._thermostat(dt)
        if want != self.compressor_on:
            minimum = p.min_off_s if want else p.min_on_s
            if self.since_switch_s >= minimum or (not want and self.defrosting):
                self._switch(want)
            elif not want and "compressor" in self.faults:
                self._switch(False)
        self.since_switch_s += dt

        cooling = 0.0
        electric = p.electronics_w + heater_w
        if self.compressor_on:
            floor = 0.5 if effects.iced_floor is None else effects.iced_floor
            frost = max(
                floor, 1.0 - p.frost_loss_per_interval * self.frost_s / p.defrost_every_run_s
            )
            cooling = p.cooling_w(ambient_c) * frost * effects.capacity
            electric += p.electric_w(ambient_c) * effects.electric + p.fan_w
            self.run_since_defrost_s += dt
            self.frost_s += dt * effects.frost_rate
            self.run_s += dt
        to_fridge = 0.0
        if self.has_freezer:
            if self.damper_open:
                share = p.fridge_share if self.freezer_calling else p.fridge_share_freezer_satisfied
                to_fridge = cooling * share * (0.3 if "fan" in self.faults else 1.0)
        else:
            to_fridge = cooling
        to_freezer = cooling - to_fridge

        # Fridge: air node and contents node.
        door_w = p.door_open_w_per_k * (ambient_c - self.fridge_air_c) * door_open_s / dt
        spill_w = p.door_spill_j_per_k * (ambient_c - self.fridge_air_c) * openings / dt
        contents_w = p.fridge_air_contents_w_per_k * (self.fridge_contents_c - self.fridge_air_c)
        air_w = (
            (p.fridge_leak_w_per_k + effects.fridge_leak_extra_w_per_k)
            * (ambient_c - self.fridge_air_c)
            + door_w
            + spill_w
            + contents_w
            - to_fridge
        )
        self.fridge_air_c += air_w * dt / p.fridge_air_j_per_k
        self.fridge_contents_c -= contents_w * dt / p.fridge_contents_j_per_k
        if self.has_freezer:
            freezer_w = (
                p.freezer_leak_w_per_k * (ambient_c - self.freezer_c)
                + heater_w * p.defrost_heat_to_freezer
                - to_freezer
            )
            self.freezer_c += freezer_w * dt / p.freezer_j_per_k
        self.power_w = electric
        return electric * dt

    def _switch(self, on: bool) -> None:
        if on != self.compressor_on:
            self.compressor_on = on
            self.since_switch_s = 0.0


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's Poisson sampler (small means only)."""
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


class DoorSchedule:
    """Seeded random door openings as a pure function of time (step sizes never matter)."""

    def __init__(self, seed: str, openings_per_day: float) -> None:
        self._seed = seed
        total = sum(_DOOR_RATE_BY_HOUR)
        self._rate = tuple(openings_per_day * r / total for r in _DOOR_RATE_BY_HOUR)
        self._cache: dict[int, tuple[tuple[float, float], ...]] = {}

    def events(self, hour: int) -> tuple[tuple[float, float], ...]:
        """(start, end) times (climate-axis seconds) of openings starting in ``hour``."""
        cached = self._cache.get(hour)
        if cached is None:
            rng = random.Random(f"{self._seed}:door:{hour}")
            count = _poisson(rng, self._rate[hour % 24])
            starts = sorted(hour * 3600.0 + rng.uniform(0, 3600.0) for _ in range(count))
            events: list[tuple[float, float]] = []
            for start in starts:
                duration = min(50.0, max(3.0, rng.lognormvariate(math.log(12.0), 0.6)))
                if events and start < events[-1][1]:
                    continue  # still open from the previous opening
                events.append((start, start + duration))
            if len(self._cache) > 1024:
                self._cache.clear()
            cached = self._cache[hour] = tuple(events)
        return cached

    def _around(self, t0: float, t1: float) -> list[tuple[float, float]]:
        first, last = math.floor(t0 / 3600.0) - 1, math.floor(t1 / 3600.0)
        return [event for hour in range(first, last + 1) for event in self.events(hour)]

    def exposure(self, t0: float, t1: float) -> tuple[float, int]:
        """Seconds the door is open within [t0, t1) and openings starting in it."""
        open_s, openings = 0.0, 0
        for start, end in self._around(t0, t1):
            open_s += max(0.0, min(end, t1) - max(start, t0))
            if t0 <= start < t1:
                openings += 1
        return open_s, openings

    def open_since(self, t: float) -> float | None:
        """When the current opening started, if the door is open at ``t``."""
        for start, end in self._around(t, t):
            if start <= t < end:
                return start
        return None


class RefrigeratorSimulator(AppliancePhysics):
    """A fridge-freezer in a Liuzhou kitchen."""

    def __init__(
        self,
        declaration: Declaration,
        identity: ApplianceIdentity,
        pairing_code: str,
        *,
        climate: LiuzhouClimate,
        start: datetime,
        door_seed: str,
        parameters: FridgeParameters | None = None,
        ambient_c: float | None = None,
        door_alarm_after_s: float = 60.0,
        random_door_openings: bool = True,
        physical_faults: tuple[PhysicalFault, ...] = (),
        fault_detector: bool = True,
    ) -> None:
        """``physical_faults``: faults of the machine (fridge_faults.py), their onsets in
        seconds from ``start``. ``fault_detector``: run ``fridge_fault`` if the
        declaration lists it; ``False`` takes it out of the declaration."""
        if not fault_detector:
            # A firmware without the detector must not declare it: the hub leaves its own
            # detector off for a fridge that declares fridge_fault (PROTOCOL.md 7.6).
            declaration = replace(
                declaration, models=tuple(m for m in declaration.models if m.id != FRIDGE_FAULT)
            )
        super().__init__(declaration, identity, pairing_code, climate=climate, start=start)
        self.parameters = parameters or FridgeParameters()
        self.fixed_ambient_c = ambient_c
        self.door_alarm_after_s = door_alarm_after_s
        self.random_door_openings = random_door_openings
        has_freezer = "freezer_temperature" in declaration.capabilities
        self.model = FridgeModel(
            self.parameters, has_freezer=has_freezer, ambient_c=self.ambient_c()
        )
        self.model.physical_faults = physical_faults
        self.doors = DoorSchedule(door_seed, self.parameters.openings_per_day)
        self._held_open_since: float | None = None  # explicit open_door(), simulator time
        self._spill_pending = False  # the cold air falls out once per opening
        self._reported = (self.model.fridge_air_c, self.model.freezer_c)
        runs_detector = any(m.id == FRIDGE_FAULT for m in declaration.models)
        self.detector = FridgeFaultDetector() if runs_detector else None
        self._detector_read: tuple[float, bool] | None = None  # minute, door open

    @property
    def faults(self) -> tuple[str, ...]:
        """Active fault codes, then the fault detector's suspected code, if any."""
        code = None if self.detector is None else self.detector.code
        return tuple(self._faults) if code is None else (*self._faults, code)

    def ambient_c(self, t: float | None = None) -> float:
        """Kitchen temperature: fixed if configured, else the unconditioned indoor climate."""
        if self.fixed_ambient_c is not None:
            return self.fixed_ambient_c
        return self.climate.indoor_unconditioned(self.climate_time_s if t is None else t)

    # --- the door ------------------------------------------------------------------

    def open_door(self) -> None:
        """Someone opens the fridge door and keeps it open until ``close_door``."""
        if self._held_open_since is None:
            self._held_open_since = self._elapsed_s
            self._spill_pending = True

    def close_door(self) -> None:
        """The door is closed."""
        self._held_open_since = None

    @property
    def door_open(self) -> bool:
        """Whether the fridge door is open now."""
        return self._held_open_since is not None or (
            self.random_door_openings and self.doors.open_since(self.climate_time_s) is not None
        )

    @property
    def door_open_for_s(self) -> float:
        """How long the door has stood open (0 when closed)."""
        if self._held_open_since is not None:
            return self._elapsed_s - self._held_open_since
        if self.random_door_openings:
            since = self.doors.open_since(self.climate_time_s)
            if since is not None:
                return self.climate_time_s - since
        return 0.0

    # --- physics -------------------------------------------------------------------

    def _advance(self, dt: float) -> None:
        steps = max(1, math.ceil(dt / MAX_SUBSTEP_S - 1e-9))
        h = dt / steps
        energy = 0.0
        origin = self._climate_origin_s + self._elapsed_s
        for n in range(steps):
            t0 = origin + n * h
            if self.random_door_openings:
                open_s, openings = self.doors.exposure(t0, t0 + h)
            else:
                open_s, openings = 0.0, 0
            if self._held_open_since is not None:
                open_s = h
                openings = max(openings, 1) if self._spill_pending else 0
                self._spill_pending = False
            energy += self.model.advance(
                h, ambient_c=self.ambient_c(t0 + h / 2), door_open_s=open_s, openings=openings
            )
            if self.detector is not None:
                self._feed_detector(self._elapsed_s + (n + 1) * h, origin + (n + 1) * h)
        self._energy.add(energy / dt, dt)
        if "temperature_sensor" not in self._faults:
            self._reported = (self.model.fridge_air_c, self.model.freezer_c)

    def _feed_detector(self, elapsed_s: float, climate_s: float) -> None:
        """Give the detector the fridge's readings at ``elapsed_s`` on a new minute or
        a door change (what the firmware sees: a failed sensor reads its last value)."""
        assert self.detector is not None
        door = self._held_open_since is not None or (
            self.random_door_openings and self.doors.open_since(climate_s) is not None
        )
        minute = math.floor(elapsed_s / DETECTOR_SAMPLE_S)
        if self._detector_read == (minute, door):
            return
        self._detector_read = (minute, door)
        model = self.model
        sensor_failed = "temperature_sensor" in self._faults
        fridge_c, freezer_c = (
            self._reported if sensor_failed else (model.fridge_air_c, model.freezer_c)
        )
        self.detector.observe(
            FridgeSample(
                time_s=elapsed_s,
                compressor_on=model.compressor_on,
                power_w=model.power_w,
                fridge_c=fridge_c,
                fridge_target_c=model.fridge_setpoint(),
                freezer_c=freezer_c if model.has_freezer else None,
                freezer_target_c=model.freezer_setpoint() if model.has_freezer else None,
                door_open=door,
                defrost_active=model.defrosting,
            )
        )

    def _faults_changed(self) -> None:
        self.model.faults = frozenset(self._faults)

    # --- MCU interface -------------------------------------------------------------

    def _all_values(self) -> dict[str, Value]:
        model = self.model
        return {
            "power": model.power_w,
            "energy": self._energy.kwh,
            "mode": model.mode,
            "fridge_temperature": self._reported[0],
            "fridge_target_temperature": model.fridge_target_c,
            "freezer_temperature": self._reported[1],
            "freezer_target_temperature": model.freezer_target_c,
            "door_open": self.door_open,
            "door_alarm": self.door_open_for_s > self.door_alarm_after_s,
            "compressor_running": model.compressor_on,
            "defrost_active": model.defrosting,
        }

    def _write(self, key: str, value: Value) -> None:
        model = self.model
        if key == "mode":
            assert isinstance(value, str)
            if value == "quick_freeze" and not model.has_freezer:
                raise LinkError(ErrorCode.INVALID_STATE, "this model has no freezer", key=key)
            if value == "quick_freeze" and model.mode != "quick_freeze":
                model.quick_freeze_left_s = self.parameters.quick_freeze_s
            elif value != "quick_freeze":
                model.quick_freeze_left_s = 0.0
            model.mode = value
        elif key == "fridge_target_temperature":
            if model.mode == "vacation":
                raise LinkError(
                    ErrorCode.INVALID_STATE,
                    "the fridge holds 15 °C in vacation mode; leave vacation mode first",
                    key=key,
                )
            model.fridge_target_c = number_value(value)
        elif key == "freezer_target_temperature":
            if model.mode == "quick_freeze":
                raise LinkError(
                    ErrorCode.INVALID_STATE,
                    "quick freeze is running; set the freezer after it ends or switch it off",
                    key=key,
                )
            model.freezer_target_c = number_value(value)
        else:
            raise LinkError(ErrorCode.READ_ONLY, f"{key} is read-only", key=key)

    # --- persistence ---------------------------------------------------------------

    def _export_extra(self) -> dict[str, Any]:
        model = self.model
        return {
            "mode": model.mode,
            "fridge_target_temperature": model.fridge_target_c,
            "freezer_target_temperature": model.freezer_target_c,
            "fridge_air_c": model.fridge_air_c,
            "fridge_contents_c": model.fridge_contents_c,
            "freezer_c": model.freezer_c,
            "run_since_defrost_s": model.run_since_defrost_s,
            "quick_freeze_left_s": model.quick_freeze_left_s,
        }

    def _restore_extra(self, state: Mapping[str, Any]) -> Callable[[], None]:
        mode = state_choice(state, "mode", MODES)
        fridge_target = state_number(state, "fridge_target_temperature", minimum=1, maximum=8)
        freezer_target = state_number(state, "freezer_target_temperature", minimum=-24, maximum=-16)
        fridge_air = state_number(state, "fridge_air_c", minimum=-40, maximum=60)
        contents = state_number(state, "fridge_contents_c", minimum=-40, maximum=60)
        freezer = state_number(state, "freezer_c", minimum=-40, maximum=60)
        run = state_number(state, "run_since_defrost_s", minimum=0)
        quick = state_number(state, "quick_freeze_left_s", minimum=0)
        if mode == "quick_freeze" and not self.model.has_freezer:
            raise ValueError("state has quick_freeze but this model has no freezer")

        def apply() -> None:
            model = self.model
            model.mode, model.fridge_target_c, model.freezer_target_c = (
                mode,
                fridge_target,
                freezer_target,
            )
            model.fridge_air_c, model.fridge_contents_c, model.freezer_c = (
                fridge_air,
                contents,
                freezer,
            )
            model.run_since_defrost_s, model.quick_freeze_left_s = run, quick
            model.frost_s = run
            self._reported = (fridge_air, freezer)

        return apply
