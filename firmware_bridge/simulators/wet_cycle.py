"""Programme machines (washer, dishwasher): the Matter state machine over the wet-cycle physics.

The physics (``CycleRun``, ``CycleStep``, ``MachineParameters``,
``simulate_cycle``, ``nominal_profile``: fill, heat, hold and drain of one
thermal mass) lives in ``wet_physics.py``; its names are importable from
here too. The programme tables are in ``washer.py`` and ``dishwasher.py``.

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
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
import math
from typing import Any

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import OperationalState, Value
from custom_components.liuzhou_appliances.link.server import ApplianceIdentity
from firmware_bridge.models import ModuleClass, RemainingSource, WetCyclePredictor

from .base import AppliancePhysics
from .climate import LiuzhouClimate
from .wet_physics import (
    FILL_SLICE_S,
    NOMINAL_AMBIENT_C,
    NOMINAL_INLET_C,
    WATER_J_PER_KG_K,
    CycleRun,
    CycleStep,
    MachineParameters,
    StepKind,
    StepRecord,
    nominal_profile,
    simulate_cycle,
)

__all__ = [
    "FILL_SLICE_S",
    "NOMINAL_AMBIENT_C",
    "NOMINAL_INLET_C",
    "WATER_J_PER_KG_K",
    "CycleRun",
    "CycleStep",
    "MachineParameters",
    "StepKind",
    "StepRecord",
    "WetApplianceSimulator",
    "nominal_profile",
    "simulate_cycle",
]


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
