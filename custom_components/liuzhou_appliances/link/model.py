"""The appliance data model, declared once as data.

Both the hub (the Home Assistant integration) and the appliance side
(firmware_bridge and its simulators) read this module; nothing else defines
what an appliance can report or accept.

Concepts and names follow the Matter 1.2-1.4 clusters for the four device
types (Refrigerator, Room Air Conditioner, Laundry Washer, Dishwasher) so
users and appliance makers meet familiar ideas: Operational State,
the mode clusters, Temperature Control, Thermostat, Fan Control,
Refrigerator Alarm, Electrical Power/Energy Measurement and Device Energy
Management. ``AttributeSpec.matter`` names the cluster attribute each key
mirrors, or ``vendor:`` where Matter has none.

An appliance *type* fixes the vocabulary (``APPLIANCE_TYPES``). A *model*
declares which optional capabilities it has, with its own bounds, options
and programme list (``Declaration``, in declaration.py); the hub builds its
entities from that declaration, so a new model needs no hub code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import math
from typing import Final

from .errors import (
    UnknownCapabilityError,
    UnsupportedCommandError,
)


class ApplianceType(StrEnum):
    """Appliance types, named after the Matter device types."""

    REFRIGERATOR = "refrigerator"
    ROOM_AIR_CONDITIONER = "room_air_conditioner"
    LAUNDRY_WASHER = "laundry_washer"
    DISHWASHER = "dishwasher"


class ValueKind(StrEnum):
    """How a value is represented on the wire (JSON) and on the MCU link."""

    BOOL = "bool"  # true / false
    NUMBER = "number"  # JSON number; min/max/step apply
    ENUM = "enum"  # one string out of ``options``
    DURATION = "duration"  # whole seconds >= 0
    FAULTS = "faults"  # list of active fault codes (strings), possibly empty


class OperationalState(StrEnum):
    """Matter Operational State, plus ``finished`` (Matter signals it as an event)."""

    STOPPED = "stopped"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    ERROR = "error"


type Value = bool | int | float | str | list[str]

# Integers beyond this lose precision as JSON numbers and overflow float maths.
MAX_SAFE_INTEGER: Final = 2**53 - 1


def is_finite_number(value: int | float) -> bool:
    """Whether ``value`` is finite and, if an integer, within ±MAX_SAFE_INTEGER.

    Never raises: ``math.isfinite`` alone raises OverflowError for huge integers.
    """
    if isinstance(value, int):
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    return math.isfinite(value)


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """One attribute of an appliance type.

    ``attribute_id`` is the compact identifier used on the MCU serial link; it
    is unique across all types and never reused.
    """

    key: str
    attribute_id: int
    kind: ValueKind
    matter: str
    writable: bool = False
    required: bool = True
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    options: tuple[str, ...] = ()
    decimals: int = 0  # resolution on the MCU link: value * 10**decimals as int32


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command an appliance type accepts; ``args`` names its optional arguments."""

    name: str
    matter: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ApplianceTypeSpec:
    """The vocabulary of one appliance type."""

    type: ApplianceType
    matter_device_type: int
    attributes: tuple[AttributeSpec, ...]
    commands: tuple[CommandSpec, ...] = ()
    fault_codes: tuple[str, ...] = ()
    has_programmes: bool = False

    def attribute(self, key: str) -> AttributeSpec:
        """Return the attribute spec for ``key`` or raise UNKNOWN_CAPABILITY."""
        for spec in self.attributes:
            if spec.key == key:
                return spec
        raise UnknownCapabilityError(f"{self.type} has no attribute {key!r}", key=key)

    def command(self, name: str) -> CommandSpec:
        """Return the command spec for ``name`` or raise UNSUPPORTED_COMMAND."""
        for spec in self.commands:
            if spec.name == name:
                return spec
        raise UnsupportedCommandError(f"{self.type} has no command {name!r}")


# --- the vocabulary --------------------------------------------------------

_COMMON: Final = (
    AttributeSpec(
        "power",
        1,
        ValueKind.NUMBER,
        "ElectricalPowerMeasurement.ActivePower",
        unit="W",
        minimum=0,
        maximum=10000,
        decimals=1,
    ),
    AttributeSpec(
        "energy",
        2,
        ValueKind.NUMBER,
        "ElectricalEnergyMeasurement.CumulativeEnergyImported",
        unit="kWh",
        minimum=0,
        decimals=3,
    ),
    AttributeSpec("faults", 3, ValueKind.FAULTS, "OperationalState.OperationalError"),
)

# Washer and dishwasher share the Operational State cluster and its commands.
_OPERATION_COMMANDS: Final = (
    # delay_s: start after this many seconds; finish_in_s: be done in this many
    # seconds (the appliance derives the delay). Relative times avoid relying
    # on the appliance's clock.
    CommandSpec("start", "OperationalState.Start", args=("delay_s", "finish_in_s")),
    CommandSpec("pause", "OperationalState.Pause"),
    CommandSpec("resume", "OperationalState.Resume"),
    CommandSpec("stop", "OperationalState.Stop"),
)


def _operation_attributes(base_id: int, phases: tuple[str, ...]) -> tuple[AttributeSpec, ...]:
    return (
        AttributeSpec(
            "operational_state",
            base_id,
            ValueKind.ENUM,
            "OperationalState.OperationalState",
            options=tuple(OperationalState),
        ),
        AttributeSpec(
            "phase",
            base_id + 1,
            ValueKind.ENUM,
            "OperationalState.CurrentPhase",
            options=phases,
        ),
        # Time until the run is done, a delayed start's wait included; while
        # stopped, how long the selected programme would take.
        AttributeSpec(
            "remaining_time",
            base_id + 2,
            ValueKind.DURATION,
            "OperationalState.CountdownTime",
            unit="s",
            minimum=0,
        ),
        AttributeSpec(
            "delay_remaining",
            base_id + 3,
            ValueKind.DURATION,
            "DeviceEnergyManagement.Forecast.StartTime",
            unit="s",
            minimum=0,
            required=False,
        ),
    )


REFRIGERATOR: Final = ApplianceTypeSpec(
    type=ApplianceType.REFRIGERATOR,
    matter_device_type=0x0070,
    attributes=(
        *_COMMON,
        AttributeSpec(
            "mode",
            16,
            ValueKind.ENUM,
            "RefrigeratorAndTemperatureControlledCabinetMode.CurrentMode",
            writable=True,
            options=("normal", "eco", "quick_freeze", "vacation"),
        ),
        AttributeSpec(
            "fridge_temperature",
            17,
            ValueKind.NUMBER,
            "TemperatureMeasurement.MeasuredValue",
            unit="°C",
            minimum=-10,
            maximum=30,
            decimals=1,
        ),
        AttributeSpec(
            "fridge_target_temperature",
            18,
            ValueKind.NUMBER,
            "TemperatureControl.TemperatureSetpoint",
            writable=True,
            unit="°C",
            minimum=1,
            maximum=8,
            step=1,
            decimals=1,
        ),
        AttributeSpec(
            "freezer_temperature",
            19,
            ValueKind.NUMBER,
            "TemperatureMeasurement.MeasuredValue",
            unit="°C",
            required=False,
            minimum=-40,
            maximum=30,
            decimals=1,
        ),
        AttributeSpec(
            "freezer_target_temperature",
            20,
            ValueKind.NUMBER,
            "TemperatureControl.TemperatureSetpoint",
            writable=True,
            unit="°C",
            required=False,
            minimum=-24,
            maximum=-16,
            step=1,
            decimals=1,
        ),
        AttributeSpec("door_open", 21, ValueKind.BOOL, "BooleanState.StateValue"),
        AttributeSpec("door_alarm", 22, ValueKind.BOOL, "RefrigeratorAlarm.State.DoorOpen"),
        AttributeSpec(
            "compressor_running",
            23,
            ValueKind.BOOL,
            "vendor:CompressorRunning",
            required=False,
        ),
        AttributeSpec("defrost_active", 24, ValueKind.BOOL, "vendor:DefrostActive", required=False),
    ),
    # Wire-stable: append only. The suspected_* codes come from the fridge's own fault
    # detector (the fridge_fault model, PROTOCOL.md 7.6): a likely fault, not a failure.
    fault_codes=(
        "temperature_sensor",
        "compressor",
        "defrost_heater",
        "fan",
        "communication",
        "suspected_door_seal",
        "suspected_condenser",
        "suspected_compressor",
        "suspected_defrost",
    ),
)

ROOM_AIR_CONDITIONER: Final = ApplianceTypeSpec(
    type=ApplianceType.ROOM_AIR_CONDITIONER,
    matter_device_type=0x0072,
    attributes=(
        *_COMMON,
        AttributeSpec("on", 32, ValueKind.BOOL, "OnOff.OnOff", writable=True),
        AttributeSpec(
            "mode",
            33,
            ValueKind.ENUM,
            "Thermostat.SystemMode",
            writable=True,
            options=("cool", "heat", "dry", "fan_only", "auto"),
        ),
        AttributeSpec(
            "target_temperature",
            34,
            ValueKind.NUMBER,
            "Thermostat.OccupiedCoolingSetpoint",
            writable=True,
            unit="°C",
            minimum=16,
            maximum=30,
            step=0.5,
            decimals=1,
        ),
        AttributeSpec(
            "temperature",
            35,
            ValueKind.NUMBER,
            "Thermostat.LocalTemperature",
            unit="°C",
            minimum=-20,
            maximum=60,
            decimals=1,
        ),
        AttributeSpec(
            "humidity",
            36,
            ValueKind.NUMBER,
            "RelativeHumidityMeasurement.MeasuredValue",
            unit="%",
            minimum=0,
            maximum=100,
            required=False,
            decimals=0,
        ),
        AttributeSpec(
            "outdoor_temperature",
            37,
            ValueKind.NUMBER,
            "Thermostat.OutdoorTemperature",
            unit="°C",
            minimum=-40,
            maximum=70,
            required=False,
            decimals=1,
        ),
        AttributeSpec(
            "fan_speed",
            38,
            ValueKind.ENUM,
            "FanControl.FanMode",
            writable=True,
            options=("auto", "low", "medium", "high"),
        ),
        AttributeSpec(
            "swing",
            39,
            ValueKind.ENUM,
            "FanControl.RockSetting",
            writable=True,
            required=False,
            options=("off", "vertical", "horizontal", "both"),
        ),
        AttributeSpec("eco", 40, ValueKind.BOOL, "vendor:Eco", writable=True, required=False),
        AttributeSpec(
            "sleep",
            41,
            ValueKind.BOOL,
            "FanControl.WindSetting.SleepWind",
            writable=True,
            required=False,
        ),
        # What the unit is doing now: Matter's ThermostatRunningState bits (Heat,
        # Cool, Fan) as one value, with drying (cooling in dry mode) told apart.
        # "idle" while the compressor rests (setpoint reached, restart delay,
        # dry mode paused) or the unit is off; "fan" in fan-only mode.
        AttributeSpec(
            "running_state",
            42,
            ValueKind.ENUM,
            "Thermostat.ThermostatRunningState",
            required=False,
            options=("idle", "cooling", "heating", "drying", "fan"),
        ),
    ),
    fault_codes=(
        "indoor_sensor",
        "outdoor_unit",
        "refrigerant_low",
        "compressor_overheat",
        "communication",
    ),
)

LAUNDRY_WASHER: Final = ApplianceTypeSpec(
    type=ApplianceType.LAUNDRY_WASHER,
    matter_device_type=0x0073,
    attributes=(
        *_COMMON,
        AttributeSpec(
            "programme",
            48,
            ValueKind.ENUM,
            "LaundryWasherMode.CurrentMode",
            writable=True,
            options=(
                "cotton",
                "eco_40_60",
                "synthetics",
                "mixed",
                "wool",
                "delicates",
                "quick",
                "bedding",
            ),
        ),
        AttributeSpec(
            "water_temperature",
            49,
            ValueKind.ENUM,
            "TemperatureControl.SelectedTemperatureLevel",
            writable=True,
            required=False,
            options=("cold", "20", "30", "40", "60", "90"),
        ),
        AttributeSpec(
            "spin_speed",
            50,
            ValueKind.ENUM,
            "LaundryWasherControls.SpinSpeedCurrent",
            writable=True,
            required=False,
            options=("0", "400", "800", "1000", "1200", "1400"),
        ),
        AttributeSpec(
            "rinses",
            51,
            ValueKind.ENUM,
            "LaundryWasherControls.NumberOfRinses",
            writable=True,
            required=False,
            options=("none", "normal", "extra", "max"),
        ),
        *_operation_attributes(
            52, ("idle", "filling", "heating", "washing", "rinsing", "spinning")
        ),
        AttributeSpec("door_locked", 56, ValueKind.BOOL, "vendor:DoorLocked"),
    ),
    commands=_OPERATION_COMMANDS,
    fault_codes=(
        "water_supply",
        "drain",
        "unbalanced_load",
        "door_lock",
        "heater",
        "motor",
        "communication",
    ),
    has_programmes=True,
)

DISHWASHER: Final = ApplianceTypeSpec(
    type=ApplianceType.DISHWASHER,
    matter_device_type=0x0075,
    attributes=(
        *_COMMON,
        AttributeSpec(
            "programme",
            64,
            ValueKind.ENUM,
            "DishwasherMode.CurrentMode",
            writable=True,
            options=("eco", "auto", "intensive", "quick", "glass", "pre_rinse"),
        ),
        *_operation_attributes(68, ("idle", "pre_wash", "washing", "rinsing", "drying")),
        AttributeSpec("rinse_aid_low", 72, ValueKind.BOOL, "vendor:RinseAidLow", required=False),
        AttributeSpec("salt_low", 73, ValueKind.BOOL, "vendor:SaltLow", required=False),
        AttributeSpec(
            "door_open",
            74,
            ValueKind.BOOL,
            "DishwasherAlarm.State.DoorError",
            required=False,
        ),
    ),
    commands=_OPERATION_COMMANDS,
    fault_codes=("water_supply", "drain", "heater", "leak", "circulation_pump", "communication"),
    has_programmes=True,
)

APPLIANCE_TYPES: Final[Mapping[ApplianceType, ApplianceTypeSpec]] = {
    spec.type: spec for spec in (REFRIGERATOR, ROOM_AIR_CONDITIONER, LAUNDRY_WASHER, DISHWASHER)
}

ATTRIBUTES_BY_ID: Final[Mapping[int, AttributeSpec]] = {
    attr.attribute_id: attr for spec in APPLIANCE_TYPES.values() for attr in spec.attributes
}
