"""What every appliance simulator shares: identity, clock, energy meter, faults.

A simulator plays an appliance's MCU. The network module (``firmware_bridge``)
reads ``values()``, forwards writes and commands, and advances the physics with
``step(dt)`` from a clock that may run faster than real time. Everything here
is plain, deterministic Python: the same seed and the same sequence of calls
give the same values, whatever the step sizes (the physics integrate with
internal sub-steps so 0.1 s and 60 s steps agree closely).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime, timedelta
import hashlib
import json
import math
from pathlib import Path
from typing import Any, Final

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType, Value, ValueKind
from custom_components.liuzhou_appliances.link.server import ApplianceIdentity

from .climate import LiuzhouClimate, Season

SIMULATOR_FIRMWARE: Final = "sim-1.0.0"
STATE_SCHEMA: Final = 1
JOULES_PER_KWH: Final = 3.6e6

DECLARATIONS_DIR: Final = Path(__file__).resolve().parent.parent / "declarations"

# Short type names used in appliance ids ("lz-ac-3f2a9c01").
TYPE_PREFIX: Final[Mapping[ApplianceType, str]] = {
    ApplianceType.REFRIGERATOR: "fr",
    ApplianceType.ROOM_AIR_CONDITIONER: "ac",
    ApplianceType.LAUNDRY_WASHER: "wm",
    ApplianceType.DISHWASHER: "dw",
}


def _digest(*parts: object) -> str:
    return hashlib.sha256(":".join(str(part) for part in parts).encode()).hexdigest()


def appliance_id_for(appliance_type: ApplianceType, seed: int, index: int) -> str:
    """A stable id, unique per (type, seed, index): ``lz-<type>-<8 hex>``."""
    return f"lz-{TYPE_PREFIX[appliance_type]}-{_digest('id', appliance_type, seed, index)[:8]}"


def pairing_code_for(appliance_type: ApplianceType, seed: int, index: int) -> str:
    """The 8-digit pairing code printed on the simulated appliance's label."""
    number = int(_digest("pairing", appliance_type, seed, index), 16) % 10**8
    return f"{number:08d}"


def load_declaration(appliance_type: ApplianceType) -> Declaration:
    """The reference declaration of the simulated model of ``appliance_type``."""
    path = DECLARATIONS_DIR / f"{appliance_type.value}.json"
    return Declaration.from_dict(json.loads(path.read_text(encoding="utf-8")))


class EnergyMeter:
    """Cumulative imported energy; it only ever grows (Matter CumulativeEnergyImported)."""

    __slots__ = ("_joules",)

    def __init__(self) -> None:
        self._joules = 0.0

    def add(self, watts: float, seconds: float) -> None:
        """Integrate ``watts`` drawn for ``seconds``."""
        if watts > 0 and seconds > 0:
            self._joules += watts * seconds

    @property
    def kwh(self) -> float:
        """The counter in kWh."""
        return self._joules / JOULES_PER_KWH

    def restore(self, kwh: float) -> None:
        """Take a saved counter, never going backwards."""
        self._joules = max(self._joules, kwh * JOULES_PER_KWH)


def number_value(value: Value) -> float:
    """A validated NUMBER or DURATION value as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _state_number(state: Mapping[str, Any], key: str, *, minimum: float = -math.inf) -> float:
    value = state.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"state {key!r} must be a finite number, got {value!r}")
    if value < minimum:
        raise ValueError(f"state {key!r} must be at least {minimum}, got {value!r}")
    return float(value)


def state_number(
    state: Mapping[str, Any], key: str, *, minimum: float = -math.inf, maximum: float = math.inf
) -> float:
    """Read a finite number from a saved state or raise ValueError saying what is wrong."""
    value = _state_number(state, key, minimum=minimum)
    if value > maximum:
        raise ValueError(f"state {key!r} must be at most {maximum}, got {value!r}")
    return value


def state_choice(state: Mapping[str, Any], key: str, options: tuple[str, ...]) -> str:
    """Read one of ``options`` from a saved state or raise ValueError."""
    value = state.get(key)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"state {key!r} must be one of {', '.join(options)}, got {value!r}")
    return value


def state_bool(state: Mapping[str, Any], key: str) -> bool:
    """Read a boolean from a saved state or raise ValueError."""
    value = state.get(key)
    if not isinstance(value, bool):
        raise ValueError(f"state {key!r} must be true or false, got {value!r}")
    return value


def resolve_start(season: Season | str, start: datetime | None) -> datetime:
    """The simulated wall-clock start: ``start`` if given, else mid-month of the season."""
    if start is not None:
        return start.replace(tzinfo=None)
    return Season(season).default_start()


class AppliancePhysics(ABC):
    """The physics model of one appliance: its values, writes, commands and time.

    It knows nothing of frames or networks: ``SimulatedSerialMcu``
    (mcu/simulated.py) puts it on the MCU end of a serial link, and
    ``SimulatedProduct`` (bridge.py) adds the network module. See
    docs/architecture.md, "Simulators".

    Subclasses implement ``_all_values``, ``_write``, ``_command`` (if the type
    has commands), ``_advance`` and the state hooks. The base class validates
    writes and commands against the declaration (again: cheap, and it keeps
    direct callers such as tests and the demo honest), keeps the simulated
    clock and the energy meter, and rounds reported values to the resolution
    the MCU link carries.
    """

    def __init__(
        self,
        declaration: Declaration,
        identity: ApplianceIdentity,
        pairing_code: str,
        *,
        climate: LiuzhouClimate,
        start: datetime,
    ) -> None:
        if declaration.type is not identity.type:
            raise ValueError(f"declaration is for {declaration.type}, identity for {identity.type}")
        if len(pairing_code) != 8 or not pairing_code.isdigit():
            raise ValueError("pairing code must be 8 digits")
        self.declaration = declaration
        self.identity = identity
        self.pairing_code = pairing_code
        self.climate = climate
        self.start = start
        self._elapsed_s = 0.0
        self._energy = EnergyMeter()
        self._faults: list[str] = []
        self._caps = declaration.capabilities
        # Simulated seconds per wall-clock second (the MCU's speed). Durations the
        # appliance reports or takes in commands are wall-clock seconds, as a real
        # appliance's are; the physics runs on simulated seconds.
        self.time_scale = 1.0

    # --- clock ------------------------------------------------------------------

    @property
    def elapsed_s(self) -> float:
        """Simulated seconds since the simulator was created."""
        return self._elapsed_s

    @property
    def now(self) -> datetime:
        """Simulated local wall-clock time (Liuzhou, China Standard Time, naive)."""
        return self.start + timedelta(seconds=self._elapsed_s)

    @property
    def climate_time_s(self) -> float:
        """The climate's time axis (seconds since 1 January of the start year)."""
        return self._climate_origin_s + self._elapsed_s

    @property
    def _climate_origin_s(self) -> float:
        return LiuzhouClimate.seconds_of_year(self.start)

    # --- the MCU interface --------------------------------------------------------

    @property
    def energy_kwh(self) -> float:
        """Unrounded energy counter."""
        return self._energy.kwh

    @property
    def faults(self) -> tuple[str, ...]:
        """Active fault codes, in the order they appeared."""
        return tuple(self._faults)

    def values(self) -> dict[str, Value]:
        """A full snapshot: one value for every declared capability, at wire resolution."""
        raw = self._all_values()
        raw["faults"] = list(self.faults)
        out: dict[str, Value] = {}
        for key, capability in self._caps.items():
            value = raw[key]
            spec = capability.spec
            if spec.kind is ValueKind.NUMBER and not isinstance(value, bool):
                assert isinstance(value, int | float)
                number = float(value)
                # A sensor saturates at its declared range.
                if capability.minimum is not None:
                    number = max(number, capability.minimum)
                if capability.maximum is not None:
                    number = min(number, capability.maximum)
                value = round(number) if spec.decimals == 0 else round(number, spec.decimals)
            elif spec.kind is ValueKind.DURATION:
                value = max(0, math.ceil(number_value(value) - 1e-9))
                if capability.maximum is not None:
                    value = min(value, int(capability.maximum))
            out[key] = value
        return out

    def write(self, key: str, value: Value) -> None:
        """Apply a write from the hub; LinkError(INVALID_STATE) when not allowed now."""
        normalised = self.declaration.validate_write(key, value)
        self._write(key, normalised)

    def command(self, name: str, args: Mapping[str, int]) -> None:
        """Run a command from the hub (start, pause, resume, stop)."""
        normalised = self.declaration.validate_command(name, args)
        self._command(name, normalised)

    def step(self, dt: float) -> None:
        """Advance the physics by ``dt`` simulated seconds."""
        if not math.isfinite(dt) or dt < 0:
            raise ValueError(f"dt must be a finite number of seconds >= 0, got {dt!r}")
        if dt == 0:
            return
        self._advance(dt)
        self._elapsed_s += dt

    def inject_fault(self, code: str) -> None:
        """Make fault ``code`` (one of the type's fault codes) active."""
        if code not in self.declaration.type_spec.fault_codes:
            raise LinkError(
                ErrorCode.OUT_OF_RANGE,
                f"{self.declaration.type} has no fault {code!r}; "
                f"known: {', '.join(self.declaration.type_spec.fault_codes)}",
            )
        if code not in self._faults:
            self._faults.append(code)
            self._faults_changed()

    def clear_fault(self, code: str) -> None:
        """Clear fault ``code`` if active."""
        if code in self._faults:
            self._faults.remove(code)
            self._faults_changed()

    def export_state(self) -> dict[str, Any]:
        """JSON-ready state to save across reboots (energy counter, settings, physics)."""
        return {
            "schema": STATE_SCHEMA,
            "type": str(self.declaration.type),
            "appliance_id": self.identity.appliance_id,
            "energy_kwh": self._energy.kwh,
            "elapsed_s": self._elapsed_s,
            "faults": list(self._faults),
            **self._export_extra(),
        }

    def restore_state(self, state: Mapping[str, Any]) -> None:
        """Take a saved state; raise ValueError (changing nothing) if it does not fit.

        The energy counter never goes backwards: the larger of the saved and
        the current counter wins.
        """
        if not isinstance(state, Mapping):
            raise ValueError("state must be an object")
        if state.get("schema") != STATE_SCHEMA:
            raise ValueError(f"state schema must be {STATE_SCHEMA}, got {state.get('schema')!r}")
        if state.get("type") != str(self.declaration.type):
            raise ValueError(f"state is for {state.get('type')!r}, not {self.declaration.type}")
        energy = state_number(state, "energy_kwh", minimum=0)
        elapsed = state_number(state, "elapsed_s", minimum=0)
        faults = state.get("faults")
        known = self.declaration.type_spec.fault_codes
        if not isinstance(faults, list) or not all(
            isinstance(code, str) and code in known for code in faults
        ):
            raise ValueError(f"state 'faults' must be a list of {', '.join(known)}")
        apply_extra = self._restore_extra(state)  # validates everything before changing anything
        self._energy.restore(energy)
        self._elapsed_s = elapsed
        self._faults = list(dict.fromkeys(faults))
        apply_extra()
        self._faults_changed()

    # --- for subclasses -----------------------------------------------------------

    @abstractmethod
    def _all_values(self) -> dict[str, Value]:
        """Every attribute of the type this simulator models (faults are added here)."""

    @abstractmethod
    def _write(self, key: str, value: Value) -> None:
        """Apply a validated write."""

    def _command(self, name: str, args: Mapping[str, int]) -> None:
        raise LinkError(ErrorCode.UNSUPPORTED_COMMAND, f"{self.declaration.type} has no commands")

    @abstractmethod
    def _advance(self, dt: float) -> None:
        """Advance the physics by ``dt`` > 0 seconds; ``self.elapsed_s`` is the start."""

    def _faults_changed(self) -> None:  # noqa: B027 - most types need no reaction
        """React to a fault appearing or clearing."""

    @abstractmethod
    def _export_extra(self) -> dict[str, Any]:
        """Type-specific JSON-ready state."""

    @abstractmethod
    def _restore_extra(self, state: Mapping[str, Any]) -> Any:
        """Validate type-specific state; return a callable that applies it."""
