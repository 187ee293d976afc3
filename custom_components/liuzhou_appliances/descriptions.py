"""Entity descriptions, as data, for every capability of every appliance type.

Each table maps an appliance type to the descriptions of the entities it may
have. A description's ``key`` is the capability key it mirrors (or the command
name, for buttons); the entity exists only when the appliance's declaration
has that capability (``exists_fn`` overrides this for derived entities). Bounds,
steps and options never live here: they come from the declaration, so a new
appliance model needs no code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
import math
from typing import Final, Protocol

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntityDescription,
)
from homeassistant.components.button import ButtonEntityDescription
from homeassistant.components.number import NumberDeviceClass, NumberEntityDescription
from homeassistant.components.select import SelectEntityDescription
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.helpers.typing import StateType

from .link.declaration import Declaration
from .link.model import ApplianceType, OperationalState, Value

type Values = Mapping[str, Value]

# A timestamp sensor only moves when its moment shifts by more than this.
STABLE_TIMESTAMP_TOLERANCE_S: Final = 60

# Operational states in which the appliance is on its way to finishing a run.
_UNDER_WAY: Final = frozenset({OperationalState.RUNNING, OperationalState.PAUSED})


class _Described(Protocol):
    """What ``declared`` needs from a description."""

    @property
    def key(self) -> str: ...

    @property
    def exists_fn(self) -> Callable[[Declaration], bool] | None: ...


def declared[DescriptionT: _Described](
    table: Mapping[ApplianceType, tuple[DescriptionT, ...]], declaration: Declaration
) -> list[DescriptionT]:
    """The descriptions of ``table`` that apply to the appliance ``declaration`` declares."""
    return [
        description
        for description in table.get(declaration.type, ())
        if (
            description.exists_fn(declaration)
            if description.exists_fn is not None
            else description.key in declaration.capabilities
        )
    ]


def _declares_all(*keys: str) -> Callable[[Declaration], bool]:
    return lambda declaration: all(key in declaration.capabilities for key in keys)


def _has_command(name: str) -> Callable[[Declaration], bool]:
    return lambda declaration: any(spec.name == name for spec in declaration.type_spec.commands)


# --- sensor -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LiuzhouSensorEntityDescription(SensorEntityDescription):
    """A sensor mirroring a capability, or derived from several.

    ``value_fn`` maps the appliance state to the sensor value (default: the
    capability named by ``key`` as is). For enum sensors the options are the
    declared ones. ``seconds_until_fn`` makes a timestamp sensor: seconds from
    now until the moment shown (None: unknown); the sensor keeps its state
    unless that moment moves by more than a minute, so a countdown that ticks
    every second does not rewrite it.
    """

    value_fn: Callable[[Values], StateType] | None = None
    seconds_until_fn: Callable[[Values], int | None] | None = None
    exists_fn: Callable[[Declaration], bool] | None = None


def _minutes_left(key: str) -> Callable[[Values], StateType]:
    """Whole minutes left of a run under way; None (unknown) when no run is under way.

    Rounded up: the state changes once a minute, not every second. Like Matter's
    CountdownTime, which is null when it does not apply: a stopped or finished
    appliance reports how long its selected programme would take, which is no
    time *remaining*. A delayed start that is not counting down is no wait either.
    """

    def minutes(values: Values) -> StateType:
        seconds = values.get(key)
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            return None
        if values.get("operational_state") not in _UNDER_WAY:
            return None
        if key == "delay_remaining" and seconds <= 0:
            return None
        return math.ceil(seconds / 60)

    return minutes


def seconds_until_finish(values: Values) -> int | None:
    """Seconds until the run under way is done; None when no run is under way.

    ``remaining_time`` counts down to the end of the run, a delayed start's
    wait included (Matter's CountdownTime; see the data model), so the start
    delay is not added again.
    """
    remaining = values.get("remaining_time")
    if values.get("operational_state") not in _UNDER_WAY or not isinstance(remaining, int):
        return None
    return remaining


_POWER: Final = LiuzhouSensorEntityDescription(
    key="power",
    translation_key="power",
    device_class=SensorDeviceClass.POWER,
    state_class=SensorStateClass.MEASUREMENT,
    native_unit_of_measurement=UnitOfPower.WATT,
    suggested_display_precision=1,
)
_ENERGY: Final = LiuzhouSensorEntityDescription(
    key="energy",
    translation_key="energy",
    device_class=SensorDeviceClass.ENERGY,
    state_class=SensorStateClass.TOTAL_INCREASING,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=2,
)


def _temperature_sensor(key: str) -> LiuzhouSensorEntityDescription:
    return LiuzhouSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
    )


def _operation_sensors(kind: str) -> tuple[LiuzhouSensorEntityDescription, ...]:
    """Operational state, phase and timing of a washer or dishwasher."""
    return (
        LiuzhouSensorEntityDescription(
            key="operational_state",
            translation_key="operational_state",
            device_class=SensorDeviceClass.ENUM,
        ),
        LiuzhouSensorEntityDescription(
            key="phase", translation_key=f"{kind}_phase", device_class=SensorDeviceClass.ENUM
        ),
        LiuzhouSensorEntityDescription(
            key="remaining_time",
            translation_key="remaining_time",
            device_class=SensorDeviceClass.DURATION,
            native_unit_of_measurement=UnitOfTime.MINUTES,
            # Whole minutes: without it Home Assistant >= 2025.6 shows "12.00 min".
            suggested_display_precision=0,
            value_fn=_minutes_left("remaining_time"),
        ),
        LiuzhouSensorEntityDescription(
            key="finish_time",
            translation_key="finish_time",
            device_class=SensorDeviceClass.TIMESTAMP,
            seconds_until_fn=seconds_until_finish,
            exists_fn=_declares_all("remaining_time", "operational_state"),
        ),
        LiuzhouSensorEntityDescription(
            key="delay_remaining",
            translation_key="delay_remaining",
            device_class=SensorDeviceClass.DURATION,
            native_unit_of_measurement=UnitOfTime.MINUTES,
            # Whole minutes: without it Home Assistant >= 2025.6 shows "12.00 min".
            suggested_display_precision=0,
            value_fn=_minutes_left("delay_remaining"),
            entity_registry_enabled_default=False,
        ),
    )


# A washer's or dishwasher's predicted remaining energy (wet_cycle_runtime.py): no capability,
# it exists where the hub predicts runs.
REMAINING_ENERGY: Final = LiuzhouSensorEntityDescription(
    key="remaining_energy",
    translation_key="remaining_energy",
    device_class=SensorDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=2,
)


SENSORS: Final[Mapping[ApplianceType, tuple[LiuzhouSensorEntityDescription, ...]]] = {
    ApplianceType.ROOM_AIR_CONDITIONER: (
        _POWER,
        _ENERGY,
        LiuzhouSensorEntityDescription(
            key="humidity",
            translation_key="humidity",
            device_class=SensorDeviceClass.HUMIDITY,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=PERCENTAGE,
        ),
        _temperature_sensor("outdoor_temperature"),
    ),
    ApplianceType.REFRIGERATOR: (
        _POWER,
        _ENERGY,
        _temperature_sensor("fridge_temperature"),
        _temperature_sensor("freezer_temperature"),
    ),
    ApplianceType.LAUNDRY_WASHER: (_POWER, _ENERGY, *_operation_sensors("washer")),
    ApplianceType.DISHWASHER: (_POWER, _ENERGY, *_operation_sensors("dishwasher")),
}


# --- binary_sensor ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LiuzhouBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A binary sensor; ``is_on_fn`` maps the state (default: the capability's bool)."""

    is_on_fn: Callable[[Values], bool | None] | None = None
    attributes_fn: Callable[[Values], Mapping[str, object]] | None = None
    exists_fn: Callable[[Declaration], bool] | None = None


def _active_faults(values: Values) -> list[str]:
    faults = values.get("faults")
    return [code for code in faults if isinstance(code, str)] if isinstance(faults, list) else []


def _door_unlocked(values: Values) -> bool | None:
    # The lock device class reads "on" as unlocked.
    locked = values.get("door_locked")
    return None if not isinstance(locked, bool) else not locked


_FAULTS: Final = LiuzhouBinarySensorEntityDescription(
    key="faults",
    translation_key="faults",
    device_class=BinarySensorDeviceClass.PROBLEM,
    is_on_fn=lambda values: bool(_active_faults(values)),
    attributes_fn=lambda values: {"faults": _active_faults(values)},
)

BINARY_SENSORS: Final[Mapping[ApplianceType, tuple[LiuzhouBinarySensorEntityDescription, ...]]] = {
    ApplianceType.ROOM_AIR_CONDITIONER: (_FAULTS,),
    ApplianceType.REFRIGERATOR: (
        _FAULTS,
        LiuzhouBinarySensorEntityDescription(
            key="door_open", translation_key="door", device_class=BinarySensorDeviceClass.DOOR
        ),
        LiuzhouBinarySensorEntityDescription(
            key="door_alarm",
            translation_key="door_alarm",
            device_class=BinarySensorDeviceClass.PROBLEM,
        ),
        # The compressor cycles several times an hour: every switch would be a
        # logbook entry. Off by default; the power sensor shows the same cycling
        # as a graph, which the logbook leaves out (numeric, with a unit).
        LiuzhouBinarySensorEntityDescription(
            key="compressor_running",
            translation_key="compressor_running",
            device_class=BinarySensorDeviceClass.RUNNING,
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
        ),
        LiuzhouBinarySensorEntityDescription(
            key="defrost_active",
            translation_key="defrost_active",
            device_class=BinarySensorDeviceClass.RUNNING,
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
        ),
    ),
    ApplianceType.LAUNDRY_WASHER: (
        _FAULTS,
        LiuzhouBinarySensorEntityDescription(
            key="door_locked",
            translation_key="door_lock",
            device_class=BinarySensorDeviceClass.LOCK,
            is_on_fn=_door_unlocked,
        ),
    ),
    ApplianceType.DISHWASHER: (
        _FAULTS,
        LiuzhouBinarySensorEntityDescription(
            key="door_open", translation_key="door", device_class=BinarySensorDeviceClass.DOOR
        ),
        LiuzhouBinarySensorEntityDescription(
            key="rinse_aid_low",
            translation_key="rinse_aid_low",
            device_class=BinarySensorDeviceClass.PROBLEM,
        ),
        LiuzhouBinarySensorEntityDescription(
            key="salt_low", translation_key="salt_low", device_class=BinarySensorDeviceClass.PROBLEM
        ),
    ),
}


# --- select -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LiuzhouSelectEntityDescription(SelectEntityDescription):
    """A select writing one enum capability; its options are the declared ones."""

    exists_fn: Callable[[Declaration], bool] | None = None


SELECTS: Final[Mapping[ApplianceType, tuple[LiuzhouSelectEntityDescription, ...]]] = {
    ApplianceType.REFRIGERATOR: (
        LiuzhouSelectEntityDescription(key="mode", translation_key="fridge_mode"),
    ),
    ApplianceType.LAUNDRY_WASHER: (
        LiuzhouSelectEntityDescription(key="programme", translation_key="washer_programme"),
        LiuzhouSelectEntityDescription(
            key="water_temperature", translation_key="water_temperature"
        ),
        LiuzhouSelectEntityDescription(key="spin_speed", translation_key="spin_speed"),
        LiuzhouSelectEntityDescription(key="rinses", translation_key="rinses"),
    ),
    ApplianceType.DISHWASHER: (
        LiuzhouSelectEntityDescription(key="programme", translation_key="dishwasher_programme"),
    ),
}


# --- number -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LiuzhouNumberEntityDescription(NumberEntityDescription):
    """A number writing one numeric capability; bounds and step are the declared ones."""

    exists_fn: Callable[[Declaration], bool] | None = None


def _setpoint(key: str) -> LiuzhouNumberEntityDescription:
    return LiuzhouNumberEntityDescription(
        key=key,
        translation_key=key,
        device_class=NumberDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
    )


NUMBERS: Final[Mapping[ApplianceType, tuple[LiuzhouNumberEntityDescription, ...]]] = {
    ApplianceType.REFRIGERATOR: (
        _setpoint("fridge_target_temperature"),
        _setpoint("freezer_target_temperature"),
    ),
}


# --- button -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LiuzhouButtonEntityDescription(ButtonEntityDescription):
    """A button sending the command named by ``key`` (no arguments)."""

    exists_fn: Callable[[Declaration], bool] | None = None


def _operation_buttons() -> tuple[LiuzhouButtonEntityDescription, ...]:
    return tuple(
        LiuzhouButtonEntityDescription(key=name, translation_key=name, exists_fn=_has_command(name))
        for name in ("start", "pause", "resume", "stop")
    )


BUTTONS: Final[Mapping[ApplianceType, tuple[LiuzhouButtonEntityDescription, ...]]] = {
    ApplianceType.LAUNDRY_WASHER: _operation_buttons(),
    ApplianceType.DISHWASHER: _operation_buttons(),
}


def all_descriptions() -> Iterable[tuple[str, ApplianceType, _Described]]:
    """Every (platform, appliance type, description) in the tables; used by tests."""
    tables: dict[str, Mapping[ApplianceType, tuple[_Described, ...]]] = {
        "sensor": SENSORS,
        "binary_sensor": BINARY_SENSORS,
        "select": SELECTS,
        "number": NUMBERS,
        "button": BUTTONS,
    }
    for platform, table in tables.items():
        for appliance_type, descriptions in table.items():
            for description in descriptions:
                yield platform, appliance_type, description
