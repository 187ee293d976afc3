"""Energy entities on each appliance's device: enable switch, preset, plan and savings sensors.

Declared as description tables, like the appliance's own entities
(``descriptions.py``): each description reads (``value_fn``, ``is_on_fn``,
``current_fn``) and drives (``set_fn``, ``select_fn``) the appliance's
``ApplianceEnergy``; ``exists_fn`` says which appliances have it. The switch,
the preset and the savings total survive restarts (RestoreEntity); without a
household energy entry the sensors are unknown and the status reads
"not configured".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import STATE_ON, EntityCategory
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.helpers.typing import StateType

from .coordinator import LiuzhouCoordinator
from .energy.ac import ComfortPreset
from .energy.ac_predictive_status import ControlMode
from .energy_runtime import ApplianceEnergy, EnergyStatus
from .entity import LiuzhouEntity
from .link.declaration import Declaration
from .link.model import ApplianceType
from .runtime_data import ApplianceRuntimeData

CURRENCY_CNY: Final = "CNY"
_RUNS: Final = frozenset({ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER})


def _every_appliance(declaration: Declaration) -> bool:
    return True


def _plans_runs(declaration: Declaration) -> bool:
    """Washers and dishwashers with a delayed start (nothing to plan without one)."""
    return declaration.type in _RUNS and declaration.max_delay_s > 0


def _is_ac(declaration: Declaration) -> bool:
    return declaration.type is ApplianceType.ROOM_AIR_CONDITIONER


def _estimates_savings(declaration: Declaration) -> bool:
    """Planned runs and the AC; a fridge's pre-cooling savings are not estimated (docs)."""
    return _plans_runs(declaration) or _is_ac(declaration)


# --- descriptions -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EnergySwitchEntityDescription(SwitchEntityDescription):
    """A switch of the energy runtime: ``is_on_fn`` reads it, ``set_fn`` turns it."""

    is_on_fn: Callable[[ApplianceEnergy], bool]
    set_fn: Callable[[ApplianceEnergy, bool], Awaitable[None]]
    exists_fn: Callable[[Declaration], bool] = _every_appliance


@dataclass(frozen=True, kw_only=True)
class EnergySelectEntityDescription(SelectEntityDescription):
    """A select of the energy runtime: ``current_fn`` reads it, ``select_fn`` sets it.

    ``restore_fn`` takes the option kept across a restart (before anything acts).
    """

    current_fn: Callable[[ApplianceEnergy], str]
    select_fn: Callable[[ApplianceEnergy, str], Awaitable[None]]
    restore_fn: Callable[[ApplianceEnergy, str], None]
    exists_fn: Callable[[Declaration], bool] = _every_appliance


@dataclass(frozen=True, kw_only=True)
class EnergySensorEntityDescription(SensorEntityDescription):
    """A sensor of the energy runtime: ``value_fn`` and ``attributes_fn`` read it.

    With ``restore_fn`` the value is kept across restarts and handed back to the
    runtime (the savings total).
    """

    value_fn: Callable[[ApplianceEnergy], StateType | datetime]
    attributes_fn: Callable[[ApplianceEnergy], Mapping[str, Any]] | None = None
    restore_fn: Callable[[ApplianceEnergy, float], None] | None = None
    exists_fn: Callable[[Declaration], bool] = _every_appliance


def _set_preset(energy: ApplianceEnergy, option: str) -> Awaitable[None]:
    return energy.async_set_preset(ComfortPreset(option))


def _restore_preset(energy: ApplianceEnergy, option: str) -> None:
    energy.preset = ComfortPreset(option)


def _set_control_mode(energy: ApplianceEnergy, option: str) -> Awaitable[None]:
    return energy.async_set_control_mode(ControlMode(option))


def _restore_control_mode(energy: ApplianceEnergy, option: str) -> None:
    energy.control_mode = ControlMode(option)


def _status_details(energy: ApplianceEnergy) -> dict[str, Any]:
    """The reasons (codes Home Assistant shows translated), and the last decision's latency.

    With predictive control chosen: the controller in charge (``fuzzy`` or
    ``predictive``) and why (``controller_reason``, a ``FallbackReason``).
    """
    decision_ms = energy.ac_loop.last_decision_ms
    details: dict[str, Any] = {
        "reason": list(energy.reasons) or None,
        "decision_ms": round(decision_ms, 3) if decision_ms is not None else None,
    }
    if energy.control_mode is ControlMode.PREDICTIVE:
        details.update(energy.ac_loop.predictive.attributes())
    return details


def _planned_start(energy: ApplianceEnergy) -> datetime | None:
    plan = energy.runs.plan
    return None if plan is None or energy.household is None else plan.start


def _expected_cost(energy: ApplianceEnergy) -> float | None:
    plan = energy.runs.plan
    return None if plan is None or energy.household is None else round(plan.cost, 4)


def _savings(energy: ApplianceEnergy) -> float | None:
    return None if energy.household is None else round(energy.savings.total, 4)


def _restore_savings(energy: ApplianceEnergy, total: float) -> None:
    energy.savings.total = total


ENERGY_SWITCHES: Final[tuple[EnergySwitchEntityDescription, ...]] = (
    # Whether the hub may act on this appliance (what it does and why: the status sensor).
    EnergySwitchEntityDescription(
        key="energy_optimisation",
        translation_key="energy_optimisation",
        is_on_fn=lambda energy: energy.enabled,
        set_fn=lambda energy, on: energy.async_set_enabled(on),
    ),
)
ENERGY_SELECTS: Final[tuple[EnergySelectEntityDescription, ...]] = (
    # Only the AC's comfort controller has presets; switching compiles once, in the executor.
    EnergySelectEntityDescription(
        key="energy_preset",
        translation_key="energy_preset",
        options=[str(preset) for preset in ComfortPreset],
        current_fn=lambda energy: str(energy.preset),
        select_fn=_set_preset,
        restore_fn=_restore_preset,
        exists_fn=_is_ac,
    ),
    # Which controller sets the AC's target and fan: the fuzzy one, or the room thermal
    # model's (experimental; it falls back to the fuzzy one and says why).
    EnergySelectEntityDescription(
        key="control_mode",
        translation_key="control_mode",
        options=[str(mode) for mode in ControlMode],
        current_fn=lambda energy: str(energy.control_mode),
        select_fn=_set_control_mode,
        restore_fn=_restore_control_mode,
        exists_fn=_is_ac,
    ),
)
ENERGY_SENSORS: Final[tuple[EnergySensorEntityDescription, ...]] = (
    EnergySensorEntityDescription(
        key="energy_status",
        translation_key="energy_status",
        device_class=SensorDeviceClass.ENUM,
        options=[str(status) for status in EnergyStatus],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda energy: str(energy.status),
        attributes_fn=_status_details,
    ),
    EnergySensorEntityDescription(
        key="planned_start",
        translation_key="planned_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_planned_start,
        exists_fn=_plans_runs,
    ),
    EnergySensorEntityDescription(
        key="expected_cost",
        translation_key="expected_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement=CURRENCY_CNY,
        suggested_display_precision=2,
        value_fn=_expected_cost,
        exists_fn=_plans_runs,
    ),
    # Monetary sensors allow state class "total" only; the estimate may also go down
    # (pre-cooling at a cheap hour costs a little now), see docs/energy.md.
    EnergySensorEntityDescription(
        key="energy_savings",
        translation_key="energy_savings",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=CURRENCY_CNY,
        suggested_display_precision=2,
        value_fn=_savings,
        restore_fn=_restore_savings,
        exists_fn=_estimates_savings,
    ),
)


# --- entities -----------------------------------------------------------------------


class _EnergyEntity(LiuzhouEntity):
    """Follows both the appliance (availability) and its energy runtime."""

    def __init__(
        self,
        coordinator: LiuzhouCoordinator,
        energy: ApplianceEnergy,
        description: EntityDescription,
    ) -> None:
        super().__init__(coordinator, description.key)
        self.energy = energy
        self.entity_description = description

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.energy.async_add_listener(self.async_write_ha_state))


class EnergySwitch(_EnergyEntity, SwitchEntity, RestoreEntity):
    """Energy optimisation on/off (off by default; restored after a restart)."""

    entity_description: EnergySwitchEntityDescription

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state == STATE_ON:
            await self.entity_description.set_fn(self.energy, True)

    @property
    def available(self) -> bool:
        """Always: a hub setting, so it can be turned off (and shedding released) while away."""
        return True

    @property
    def is_on(self) -> bool:
        """The runtime's setting."""
        return self.entity_description.is_on_fn(self.energy)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start the controllers."""
        await self.entity_description.set_fn(self.energy, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Hand the appliance back to its own control."""
        await self.entity_description.set_fn(self.energy, False)


class EnergySelect(_EnergyEntity, SelectEntity, RestoreEntity):
    """A setting of the energy runtime, restored after a restart."""

    entity_description: EnergySelectEntityDescription

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state in self.options:
            self.entity_description.restore_fn(self.energy, last.state)

    @property
    def current_option(self) -> str:
        """The option in use."""
        return self.entity_description.current_fn(self.energy)

    async def async_select_option(self, option: str) -> None:
        """Use another option."""
        await self.entity_description.select_fn(self.energy, option)


class EnergySensor(_EnergyEntity, SensorEntity):
    """A sensor of the energy runtime."""

    entity_description: EnergySensorEntityDescription
    # The AC loop's latency changes every minute: shown, but not kept in the history.
    _unrecorded_attributes = frozenset({"decision_ms"})

    @property
    def native_value(self) -> StateType | datetime:
        """The value now."""
        return self.entity_description.value_fn(self.energy)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Details, such as the status's reasons."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.energy)


class RestoredEnergySensor(EnergySensor, RestoreSensor):
    """A sensor whose value is kept across restarts (the savings total)."""

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        restore_fn = self.entity_description.restore_fn
        last = await self.async_get_last_sensor_data()
        if restore_fn is None or last is None:
            return
        if isinstance(last.native_value, int | float | str):
            try:
                restore_fn(self.energy, float(last.native_value))
            except ValueError:
                restore_fn(self.energy, 0.0)


class _Described(Protocol):
    """What ``_energy_entities`` needs from a description."""

    @property
    def exists_fn(self) -> Callable[[Declaration], bool]: ...


def _energy_entities[EntityT: _EnergyEntity, DescriptionT: _Described](
    make: Callable[[LiuzhouCoordinator, ApplianceEnergy, DescriptionT], EntityT],
    table: tuple[DescriptionT, ...],
    runtime: ApplianceRuntimeData,
) -> list[EntityT]:
    """The entities of ``table`` that the appliance has."""
    declaration = runtime.coordinator.declaration
    return [
        make(runtime.coordinator, runtime.energy, description)
        for description in table
        if description.exists_fn(declaration)
    ]


def _energy_sensor(
    coordinator: LiuzhouCoordinator,
    energy: ApplianceEnergy,
    description: EnergySensorEntityDescription,
) -> EnergySensor:
    if description.restore_fn is not None:
        return RestoredEnergySensor(coordinator, energy, description)
    return EnergySensor(coordinator, energy, description)


def energy_switches(runtime: ApplianceRuntimeData) -> list[EnergySwitch]:
    """The energy switches of the appliance (every appliance has the enable switch)."""
    return _energy_entities(EnergySwitch, ENERGY_SWITCHES, runtime)


def energy_selects(runtime: ApplianceRuntimeData) -> list[EnergySelect]:
    """The energy selects of the appliance (the AC's preset)."""
    return _energy_entities(EnergySelect, ENERGY_SELECTS, runtime)


def energy_sensors(runtime: ApplianceRuntimeData) -> list[EnergySensor]:
    """Status for all; savings where they are estimated; plan sensors for delayed starts."""
    return _energy_entities(_energy_sensor, ENERGY_SENSORS, runtime)


def all_energy_descriptions() -> list[tuple[str, str, frozenset[str]]]:
    """(platform, translation key, states) of every energy entity; used by tests."""
    return [
        *(("switch", str(d.translation_key), frozenset[str]()) for d in ENERGY_SWITCHES),
        *(("select", str(d.translation_key), frozenset(d.options or ())) for d in ENERGY_SELECTS),
        *(("sensor", str(d.translation_key), frozenset(d.options or ())) for d in ENERGY_SENSORS),
    ]
