"""Programme machines (washer, dishwasher): the wet-cycle physics and the Matter state machine.

Physics (``CycleRun``): a programme is a list of ``CycleStep``s. The drum or
tub, the load (laundry or dishes) and the water in it form one lumped thermal
mass that loses heat to the room through ``loss_w_per_k``. The heater (2 kW)
puts ``heater_w · efficiency`` into it, so heating water takes
``(m_water · 4186 + C_load) · ΔT / (P · η)`` plus what the losses take on the
way. Every step integrates this linear model in closed form (exponential
approach to equilibrium) and stops exactly at thresholds (target reached,
top-up band left), so the energy and the timing do not depend on the step
size the caller uses. Filling mixes inlet water into the mass in ≤ 10 s
slices; draining removes water (and its heat capacity) linearly.

State machine (``WetApplianceSimulator``), after Matter's Operational State
cluster: stopped → (start) → running → (done) → finished; pause/resume
between running and paused; stop from anywhere ends the cycle. Start is
answered with INVALID_STATE when paused (resume instead) or in error; start
while already running is a no-op (Matter: "no error, no action") unless it
carries a new delay, pause when stopped/finished/error and resume when not
paused are INVALID_STATE, pause while paused and resume while running are
no-ops. Any active fault puts the appliance in error and freezes the cycle;
clearing the last fault leaves it paused (resume continues) or stopped.
Stop always works; with a fault still active the state stays error.

A delayed start (``delay_s``, or ``finish_in_s`` from which the delay is
derived from the programme's estimated duration) is ``running`` with phase
``idle`` and ``delay_remaining`` counting down; ``remaining_time`` is then
the delay plus the programme (time until done). Settings cannot change once
started (INVALID_STATE), as on the appliances: stop first.

The reported ``remaining_time`` is the firmware's estimate, not the physics:
by default the ``wet_cycle`` model on the run observed so far
(``firmware_bridge.models.WetCyclePredictor``), the declared profile where it
cannot answer (``remaining="declared"`` always, as a firmware without a
model; ``remaining="physics"`` the exact value, an oracle for tests). The
network module's class picks the file (``module="linux"``, the default:
``wet_cycle.tflite``; ``module="mcu"``: ``wet_cycle_int8.tflite``), and the
declaration's wet_cycle entry carries that file's version.
``physical_remaining_s`` is the physics' own value either way.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import math
from typing import Any, Final

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import OperationalState, Value
from custom_components.liuzhou_appliances.link.server import ApplianceIdentity
from firmware_bridge.models import ModuleClass, RemainingSource, WetCyclePredictor

from .base import AppliancePhysics
from .climate import LiuzhouClimate

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


class WetApplianceSimulator(AppliancePhysics):
    """Shared state machine of the washer and the dishwasher."""

    def __init__(
        self,
        declaration: Declaration,
        identity: ApplianceIdentity,
        pairing_code: str,
        *,
        climate: LiuzhouClimate,
        start: datetime,
        machine: MachineParameters,
        recipe_ids: Collection[str],
        inlet_water_c: float | None = None,
        ambient_c: float | None = None,
        remaining: RemainingSource | str = RemainingSource.MODEL,
        module: ModuleClass | str = ModuleClass.LINUX,
    ) -> None:
        self.remaining_source = RemainingSource(remaining)
        self.predictor = WetCyclePredictor(
            dishwasher=self.dishwasher,
            use_model=self.remaining_source is RemainingSource.MODEL,
            module=module,
        )
        declaration = self.predictor.declared_as_run(declaration)
        super().__init__(declaration, identity, pairing_code, climate=climate, start=start)
        unknown = [p.id for p in declaration.programmes if p.id not in recipe_ids]
        if unknown:
            raise ValueError(f"no recipe for programmes {unknown}")
        self.machine = machine
        self.fixed_inlet_c = inlet_water_c
        self.fixed_ambient_c = ambient_c
        self.programme = declaration.programmes[0].id
        self._state = OperationalState.STOPPED
        self._run: CycleRun | None = None
        self._planned: list[float] = []
        self._delay_s = 0.0
        self._power_w = machine.standby_w
        self._estimates: dict[tuple[Any, ...], float] = {}

    # --- conditions ------------------------------------------------------------------

    def inlet_c(self) -> float:
        """Cold water supply temperature."""
        if self.fixed_inlet_c is not None:
            return self.fixed_inlet_c
        return self.climate.mains_water(self.climate_time_s)

    def ambient_c(self) -> float:
        """Temperature of the room the machine stands in."""
        if self.fixed_ambient_c is not None:
            return self.fixed_ambient_c
        return self.climate.indoor_unconditioned(self.climate_time_s)

    # --- for subclasses --------------------------------------------------------------

    @abstractmethod
    def plan(self) -> tuple[list[CycleStep], float]:
        """The steps of the selected programme with the current options, and the load's
        heat capacity (J/K)."""

    @abstractmethod
    def _settings_key(self) -> tuple[Any, ...]:
        """Everything the plan depends on (for caching estimates)."""

    @property
    def dishwasher(self) -> bool:
        """Whether this machine is a dishwasher (the predictor's first input)."""
        return False

    def run_options(self) -> tuple[str, float, str]:
        """Water temperature setting ("cold", "40" ...), final spin (rpm) and rinses, as the
        predictor takes them; a dishwasher has none ("cold", 0, "normal")."""
        return "cold", 0.0, "normal"

    def _check_startable(self) -> None:
        """Raise INVALID_STATE if the machine cannot start now (e.g. door open)."""

    def _finished(self) -> None:
        """A programme ran to its end."""

    # --- state ---------------------------------------------------------------------

    @property
    def operational_state(self) -> OperationalState:
        """Matter Operational State."""
        return self._state

    @property
    def cycle(self) -> CycleRun | None:
        """The programme run in progress (also while paused, delayed or in error)."""
        return self._run

    @property
    def delay_remaining_s(self) -> float:
        """Seconds until a delayed start begins."""
        return self._delay_s

    def estimated_duration_s(self) -> float:
        """How long the selected programme takes now (cached per settings and conditions)."""
        inlet, ambient = round(self.inlet_c(), 1), round(self.ambient_c())
        key = (*self._settings_key(), inlet, ambient)
        cached = self._estimates.get(key)
        if cached is None:
            steps, load = self.plan()
            records = simulate_cycle(steps, self.machine, load, inlet_c=inlet, ambient_c=ambient)
            cached = sum(record.seconds for record in records)
            if len(self._estimates) > 256:
                self._estimates.clear()
            self._estimates[key] = cached
        return cached

    def expected_duration_s(self) -> float:
        """How long the selected programme takes, as the firmware reports it before a run
        (and uses for ``finish_in_s``): the physics estimate with ``remaining="physics"``,
        else the predictor's answer for a run not yet begun."""
        if self.remaining_source is RemainingSource.PHYSICS:
            return self.estimated_duration_s()
        return self._predicted_remaining_s()

    def physical_remaining_s(self) -> float:
        """Seconds until the run under way is done (delay included) by the physics: the
        current step from its state, the rest as simulated at the start (0 with no run)."""
        run = self._run
        if run is None:
            return 0.0
        return self._delay_s + run.remaining_s(self._planned, self.ambient_c())

    def _predicted_remaining_s(self) -> float:
        temperature, spin, rinses = self.run_options()
        return self.predictor.remaining_s(
            self.declaration.programme(self.programme),
            water_temperature=temperature,
            spin_rpm=spin,
            rinses=rinses,
            inlet_water_c=self.inlet_c(),
        )

    def _observe(self, now_s: float, phase: str) -> None:
        """Feed the predictor what the firmware sees of its own run (a fault freezes the
        run, so it counts as paused rather than as the end)."""
        state = self._state
        if state is OperationalState.ERROR and self._run is not None:
            state = OperationalState.PAUSED
        self.predictor.observe(
            now_s,
            {
                "operational_state": str(state),
                "phase": phase,
                "power": self._power_w,
                "energy": self._energy.kwh,
            },
        )

    def _require_settable(self, key: str) -> None:
        if self._run is not None:
            raise LinkError(
                ErrorCode.INVALID_STATE,
                f"cannot change {key} while a programme is {self._state}; stop it first",
                key=key,
            )

    def _command(self, name: str, args: Mapping[str, int]) -> None:
        state = self._state
        if name == "start":
            if state is OperationalState.RUNNING and not args:
                return  # Matter: already running, no error and no action
            if state in (OperationalState.RUNNING, OperationalState.PAUSED):
                raise LinkError(
                    ErrorCode.INVALID_STATE,
                    f"a programme is {state}; stop it before starting again"
                    + ("" if state is OperationalState.RUNNING else " or resume it"),
                )
            if state is OperationalState.ERROR:
                raise LinkError(ErrorCode.INVALID_STATE, f"fault active: {', '.join(self._faults)}")
            self._check_startable()
            self._start(args)
        elif name == "pause":
            if state is OperationalState.PAUSED:
                return
            if state is not OperationalState.RUNNING:
                raise LinkError(ErrorCode.INVALID_STATE, f"cannot pause: the machine is {state}")
            self._state = OperationalState.PAUSED
        elif name == "resume":
            if state is OperationalState.RUNNING:
                return
            if state is not OperationalState.PAUSED:
                raise LinkError(ErrorCode.INVALID_STATE, f"cannot resume: the machine is {state}")
            self._check_startable()
            self._state = OperationalState.RUNNING
        elif name == "stop":
            self._run = None
            self._delay_s = 0.0
            self._state = OperationalState.ERROR if self._faults else OperationalState.STOPPED
        else:
            raise LinkError(ErrorCode.UNSUPPORTED_COMMAND, f"no command {name!r}")

    def _start(self, args: Mapping[str, int]) -> None:
        """``delay_s`` and ``finish_in_s`` are wall-clock seconds (see ``time_scale``)."""
        duration = self._wall_s(self.expected_duration_s())
        if "finish_in_s" in args:
            delay = args["finish_in_s"] - duration
            if delay < 0:
                raise LinkError(
                    ErrorCode.OUT_OF_RANGE,
                    f"{self.programme} takes {duration} s; it cannot be done in "
                    f"{args['finish_in_s']} s",
                )
        else:
            delay = args.get("delay_s", 0)
        if delay > self.declaration.max_delay_s:
            raise LinkError(
                ErrorCode.OUT_OF_RANGE,
                f"a delay of {delay} s exceeds this model's {self.declaration.max_delay_s} s",
            )
        steps, load = self.plan()
        records = simulate_cycle(
            steps, self.machine, load, inlet_c=self.inlet_c(), ambient_c=self.ambient_c()
        )
        self._planned = [record.seconds for record in records]
        self._run = CycleRun(steps, self.machine, load, start_temperature_c=self.ambient_c())
        self._delay_s = float(delay) * self.time_scale
        self._state = OperationalState.RUNNING
        if not self._delay_s:
            self._observe(self.elapsed_s, self._run.phase)

    def _faults_changed(self) -> None:
        if self._faults:
            self._state = OperationalState.ERROR
        elif self._state is OperationalState.ERROR:
            self._state = (
                OperationalState.PAUSED if self._run is not None else OperationalState.STOPPED
            )

    def _advance(self, dt: float) -> None:
        self._advance_physics(dt)
        run = self._run
        phase = "idle" if run is None or self._delay_s > 0 else run.phase
        self._observe(self.elapsed_s + dt, phase)

    def _advance_physics(self, dt: float) -> None:
        run = self._run
        machine = self.machine
        if run is None:
            self._power_w = machine.standby_w
            self._energy.add(self._power_w, dt)
            return
        ambient = self.ambient_c()
        if self._state is not OperationalState.RUNNING:
            run.idle(dt, ambient)
            self._power_w = run.power_w
            self._energy.add(self._power_w, dt)
            return
        left = dt
        if self._delay_s > 0:
            waited = min(left, self._delay_s)
            self._delay_s -= waited
            left -= waited
            self._energy.add(machine.standby_w, waited)
            self._power_w = machine.standby_w
            if left > 0:  # the programme begins within this step: its clock starts here
                self._observe(self.elapsed_s + waited, run.phase)
        if left > 0:
            joules = run.advance(left, inlet_c=self.inlet_c(), ambient_c=ambient)
            self._energy.add(joules / left, left)
            self._power_w = run.power_w
            if run.done:
                self._run = None
                self._state = OperationalState.FINISHED
                self._power_w = machine.standby_w
                self._finished()

    # --- values ------------------------------------------------------------------

    def _operation_values(self) -> dict[str, Value]:
        run = self._run
        if run is not None:
            if self.remaining_source is RemainingSource.PHYSICS:
                remaining = self.physical_remaining_s()
            else:
                remaining = self._delay_s + self._predicted_remaining_s()
            phase = "idle" if self._delay_s > 0 else run.phase
        elif self._state is OperationalState.FINISHED:
            remaining, phase = 0.0, "idle"
        else:
            remaining, phase = self.expected_duration_s(), "idle"
        return {
            "power": self._power_w,
            "energy": self._energy.kwh,
            "programme": self.programme,
            "operational_state": str(self._state),
            "phase": phase,
            "remaining_time": self._wall_s(remaining),
            "delay_remaining": self._wall_s(self._delay_s),
        }

    def _wall_s(self, simulated_s: float) -> int:
        """Simulated seconds as whole wall-clock seconds at ``time_scale``, never early."""
        return math.ceil(simulated_s / self.time_scale - 1e-9)

    # --- persistence ---------------------------------------------------------------
    # A reboot aborts a running programme (no power-failure memory); the settings,
    # the energy counter and the consumables survive.

    def _restore_programme(self, state: Mapping[str, Any]) -> str:
        programme = state.get("programme")
        ids = tuple(p.id for p in self.declaration.programmes)
        if programme not in ids:
            raise ValueError(f"state 'programme' must be one of {', '.join(ids)}")
        assert isinstance(programme, str)
        return programme

    def _after_restore(self) -> Callable[[], None]:
        def apply() -> None:
            self._run = None
            self._delay_s = 0.0
            self._state = OperationalState.STOPPED

        return apply
