"""Wet-cycle physics of the washer and the dishwasher: one lumped thermal mass through a programme.

A programme is a list of ``CycleStep``s (fill, heat, hold, drain). The drum or
tub, the load (laundry or dishes) and the water in it form one lumped thermal
mass that loses heat to the room through ``loss_w_per_k``. The heater (2 kW)
puts ``heater_w · efficiency`` into it, so heating water takes
``(m_water · 4186 + C_load) · ΔT / (P · η)`` plus what the losses take on the
way. Every step integrates this linear model in closed form (exponential
approach to equilibrium) and stops exactly at thresholds (target reached,
top-up band left), so the energy and the timing do not depend on the step
size the caller uses. Filling mixes inlet water into the mass in ≤ 10 s
slices; draining removes water (and its heat capacity) linearly.

``CycleRun`` is one run through the steps; ``simulate_cycle`` runs a
programme to its end at fixed conditions and ``nominal_profile`` turns its
step records into the (seconds, watts) profile a declaration carries. Nothing
here knows the link protocol or the Matter state machine (``wet_cycle.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
import math
from typing import Final

WATER_J_PER_KG_K: Final = 4186.0
FILL_SLICE_S: Final = 10.0
# EN 60456 (washers) and EN 60436 (dishwashers) test conditions: the nominal
# profiles in the declarations are simulated at these.
NOMINAL_INLET_C: Final = 15.0
NOMINAL_AMBIENT_C: Final = 23.0


class StepKind(StrEnum):
    """What the machine does in a step."""

    FILL = "fill"  # let in ``water_kg`` over ``seconds``
    HEAT = "heat"  # heater on until ``target_c``
    HOLD = "hold"  # run the motor/pump ``seconds``; top up to ``target_c`` if set
    DRAIN = "drain"  # pump the water out over ``seconds``


@dataclass(frozen=True, slots=True)
class CycleStep:
    """One step of a programme; ``phase`` is what the appliance reports meanwhile."""

    phase: str
    kind: StepKind
    seconds: float = 0.0
    motor_w: float = 0.0  # drum motor, circulation or drain pump, valve, fan
    target_c: float | None = None
    water_kg: float = 0.0
    loss_factor: float = 1.0  # >1: vented (drying)
    band_k: float = 2.0  # top-up hysteresis in HOLD


@dataclass(frozen=True, slots=True)
class MachineParameters:
    """Thermal and electrical parameters of a programme machine."""

    heater_w: float
    heater_efficiency: float
    loss_w_per_k: float
    standby_w: float  # networked standby (EU 801/2013 allows up to 2 W)
    electronics_w: float  # control board and display while a programme runs


@dataclass(frozen=True, slots=True)
class StepRecord:
    """Measured time and energy of one step (for profiles and tests)."""

    phase: str
    seconds: float
    joules: float


def _approach_time(current: float, threshold: float, equilibrium: float, tau: float) -> float:
    """Time for an exponential approach from ``current`` toward ``equilibrium`` to cross
    ``threshold`` (inf if it never does)."""
    if (threshold - equilibrium) * (current - equilibrium) <= 0:
        return math.inf
    ratio = (threshold - equilibrium) / (current - equilibrium)
    if ratio > 1.0:
        return math.inf  # moving away from the threshold
    return -tau * math.log(ratio)


class CycleRun:
    """One run of a programme through its steps."""

    def __init__(
        self,
        steps: Sequence[CycleStep],
        machine: MachineParameters,
        load_j_per_k: float,
        *,
        start_temperature_c: float,
    ) -> None:
        if not steps:
            raise ValueError("a programme needs at least one step")
        self.steps = tuple(steps)
        self.machine = machine
        self.load_j_per_k = load_j_per_k
        self.index = 0
        self.in_step_s = 0.0
        self.temperature_c = start_temperature_c
        self.water_kg = 0.0
        self.heater_on = False
        self.power_w = 0.0
        self.records = [StepRecord(step.phase, 0.0, 0.0) for step in self.steps]

    @property
    def done(self) -> bool:
        """Whether every step has run."""
        return self.index >= len(self.steps)

    @property
    def phase(self) -> str:
        """The current step's phase."""
        return self.steps[min(self.index, len(self.steps) - 1)].phase

    @property
    def capacity_j_per_k(self) -> float:
        """Heat capacity of load, machine and water."""
        return self.load_j_per_k + self.water_kg * WATER_J_PER_KG_K

    def _loss(self, step: CycleStep) -> float:
        return self.machine.loss_w_per_k * step.loss_factor

    def _evolve(self, seconds: float, heater_w: float, ambient_c: float, loss: float) -> None:
        tau = self.capacity_j_per_k / loss
        equilibrium = ambient_c + heater_w * self.machine.heater_efficiency / loss
        self.temperature_c = equilibrium + (self.temperature_c - equilibrium) * math.exp(
            -seconds / tau
        )

    def heat_time(self, target_c: float, ambient_c: float, loss_factor: float = 1.0) -> float:
        """Seconds the heater needs to bring the current mass to ``target_c``."""
        loss = self.machine.loss_w_per_k * loss_factor
        equilibrium = ambient_c + self.machine.heater_w * self.machine.heater_efficiency / loss
        if self.temperature_c >= target_c:
            return 0.0
        return _approach_time(
            self.temperature_c, target_c, equilibrium, self.capacity_j_per_k / loss
        )

    def idle(self, seconds: float, ambient_c: float) -> None:
        """Paused or in error: nothing runs, the mass cools."""
        self.heater_on = False
        self._evolve(seconds, 0.0, ambient_c, self.machine.loss_w_per_k)
        self.power_w = self.machine.electronics_w

    def advance(self, seconds: float, *, inlet_c: float, ambient_c: float) -> float:
        """Run for ``seconds`` (or until done); return the electrical energy used (J)."""
        machine = self.machine
        joules = 0.0
        left = seconds
        while left > 1e-9 and not self.done:
            step = self.steps[self.index]
            loss = self._loss(step)
            heater = 0.0
            if step.kind is StepKind.HEAT:
                assert step.target_c is not None
                self.heater_on = True
                need = self.heat_time(step.target_c, ambient_c, step.loss_factor)
                chunk = min(left, need)
                heater = machine.heater_w
                self._evolve(chunk, heater, ambient_c, loss)
                finished = chunk >= need
                if finished:
                    self.temperature_c = max(self.temperature_c, step.target_c)
            else:
                chunk = min(left, step.seconds - self.in_step_s)
                if step.kind is StepKind.FILL:
                    chunk = min(chunk, FILL_SLICE_S)
                    self.heater_on = False
                    added = step.water_kg * chunk / step.seconds
                    capacity = self.capacity_j_per_k
                    self.temperature_c = (
                        capacity * self.temperature_c + added * WATER_J_PER_KG_K * inlet_c
                    ) / (capacity + added * WATER_J_PER_KG_K)
                    self.water_kg += added
                    self._evolve(chunk, 0.0, ambient_c, loss)
                elif step.kind is StepKind.DRAIN:
                    chunk = min(chunk, FILL_SLICE_S)
                    self.heater_on = False
                    remaining = step.seconds - self.in_step_s
                    self._evolve(chunk, 0.0, ambient_c, loss)
                    self.water_kg *= max(0.0, 1.0 - chunk / remaining) if remaining > 0 else 0.0
                else:  # HOLD, with a thermostat top-up if it has a target
                    if step.target_c is None:
                        self.heater_on = False
                    elif self.heater_on:
                        chunk = min(
                            chunk, self.heat_time(step.target_c, ambient_c, step.loss_factor)
                        )
                    else:
                        if self.temperature_c < step.target_c - step.band_k:
                            self.heater_on = True
                            continue
                        tau = self.capacity_j_per_k / loss
                        chunk = min(
                            chunk,
                            _approach_time(
                                self.temperature_c, step.target_c - step.band_k, ambient_c, tau
                            ),
                        )
                    heater = machine.heater_w if self.heater_on else 0.0
                    self._evolve(chunk, heater, ambient_c, loss)
                    if (
                        self.heater_on
                        and step.target_c is not None
                        and self.temperature_c >= step.target_c - 1e-9
                    ):
                        self.heater_on = False
                    elif (
                        not self.heater_on
                        and step.target_c is not None
                        and self.temperature_c <= step.target_c - step.band_k + 1e-9
                    ):
                        self.heater_on = True
                finished = self.in_step_s + chunk >= step.seconds - 1e-9
            power = heater + step.motor_w + machine.electronics_w
            joules += power * chunk
            record = self.records[self.index]
            self.records[self.index] = StepRecord(
                record.phase, record.seconds + chunk, record.joules + power * chunk
            )
            left -= chunk
            self.in_step_s += chunk
            if finished:
                if step.kind is StepKind.DRAIN:
                    self.water_kg = 0.0
                self.index += 1
                self.in_step_s = 0.0
                self.heater_on = False
        self.power_w = self.current_power()
        return joules

    def current_power(self) -> float:
        """What the machine draws now, in the step it is in."""
        machine = self.machine
        if self.done:
            return machine.standby_w
        step = self.steps[self.index]
        heating = step.kind is StepKind.HEAT or (step.kind is StepKind.HOLD and self.heater_on)
        return (machine.heater_w if heating else 0.0) + step.motor_w + machine.electronics_w

    def remaining_s(self, planned: Sequence[float], ambient_c: float) -> float:
        """Estimated seconds left: the current step from the physics, the rest as planned."""
        if self.done:
            return 0.0
        step = self.steps[self.index]
        if step.kind is StepKind.HEAT:
            assert step.target_c is not None
            current = self.heat_time(step.target_c, ambient_c, step.loss_factor)
        else:
            current = step.seconds - self.in_step_s
        return current + sum(planned[self.index + 1 :])


def simulate_cycle(
    steps: Sequence[CycleStep],
    machine: MachineParameters,
    load_j_per_k: float,
    *,
    inlet_c: float,
    ambient_c: float,
) -> list[StepRecord]:
    """Run a programme to the end at fixed conditions; return each step's time and energy."""
    run = CycleRun(steps, machine, load_j_per_k, start_temperature_c=ambient_c)
    for _ in range(100_000):
        if run.done:
            break
        run.advance(3600.0, inlet_c=inlet_c, ambient_c=ambient_c)
    if not run.done:
        raise RuntimeError("programme does not end")
    return run.records


def nominal_profile(records: Sequence[StepRecord]) -> tuple[int, float, list[list[float]]]:
    """Duration (s), energy (kWh) and a (seconds, watts) profile of a simulated run.

    Each step becomes one segment at its mean power; boundaries are rounded to
    whole seconds cumulatively (so the segments add up to the duration) and
    neighbours with the same power are merged.
    """
    segments: list[list[float]] = []
    elapsed = 0.0
    carried_joules = 0.0
    for record in records:
        start = round(elapsed)
        elapsed += record.seconds
        seconds = round(elapsed) - start
        carried_joules += record.joules
        if seconds <= 0:
            continue  # too short to show; its energy goes to the next segment
        watts = round(carried_joules / seconds, 1)
        carried_joules = 0.0
        if segments and segments[-1][1] == watts:
            segments[-1][0] += seconds
        else:
            segments.append([seconds, watts])
    if carried_joules and segments:
        last = segments[-1]
        last[1] = round((last[0] * last[1] + carried_joules) / last[0], 1)
    duration = round(elapsed)
    energy_kwh = round(sum(record.joules for record in records) / 3.6e6, 3)
    return duration, energy_kwh, [[int(s), w] for s, w in segments]
