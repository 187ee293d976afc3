"""Energy entities on each appliance's device: enable switch, preset, plan and savings sensors.

They read and drive the appliance's ``ApplianceEnergy``. The switch, the
preset and the savings total survive restarts (RestoreEntity); without a
household energy entry the sensors are unknown and the status reads
"not configured".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

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
from homeassistant.core import HomeAssistant
from homeassistant.helpers.restore_state import RestoreEntity

from .coordinator import LiuzhouCoordinator
from .energy.ac import ComfortPreset
from .energy_manager import ApplianceEnergy, EnergyStatus, energy_data
from .entity import LiuzhouEntity
from .link.model import ApplianceType, Declaration

CURRENCY_CNY: Final = "CNY"
_RUNS: Final = frozenset({ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER})

SWITCH: Final = SwitchEntityDescription(
    key="energy_optimisation", translation_key="energy_optimisation"
)
PRESET: Final = SelectEntityDescription(
    key="energy_preset",
    translation_key="energy_preset",
    options=[str(preset) for preset in ComfortPreset],
)
STATUS: Final = SensorEntityDescription(
    key="energy_status",
    translation_key="energy_status",
    device_class=SensorDeviceClass.ENUM,
    options=[str(status) for status in EnergyStatus],
    entity_category=EntityCategory.DIAGNOSTIC,
)
PLANNED_START: Final = SensorEntityDescription(
    key="planned_start", translation_key="planned_start", device_class=SensorDeviceClass.TIMESTAMP
)
EXPECTED_COST: Final = SensorEntityDescription(
    key="expected_cost",
    translation_key="expected_cost",
    device_class=SensorDeviceClass.MONETARY,
    native_unit_of_measurement=CURRENCY_CNY,
    suggested_display_precision=2,
)
# Monetary sensors allow state class "total" only; the estimate may also go down
# (pre-cooling at a cheap hour costs a little now), see docs/energy.md.
SAVINGS: Final = SensorEntityDescription(
    key="energy_savings",
    translation_key="energy_savings",
    device_class=SensorDeviceClass.MONETARY,
    state_class=SensorStateClass.TOTAL,
    native_unit_of_measurement=CURRENCY_CNY,
    suggested_display_precision=2,
)


def energy_of(hass: HomeAssistant, coordinator: LiuzhouCoordinator) -> ApplianceEnergy:
    """The appliance's energy runtime (created by setup before the platforms)."""
    energy = energy_data(hass).appliances[coordinator.config_entry.entry_id]
    return energy


def has_preset(kind: ApplianceType) -> bool:
    """Only the AC's comfort controller has presets."""
    return kind is ApplianceType.ROOM_AIR_CONDITIONER


def sensor_descriptions(
    kind: ApplianceType, declaration: Declaration
) -> tuple[SensorEntityDescription, ...]:
    """Status for all; savings where they are estimated; plan sensors for delayed starts."""
    if kind in _RUNS:
        if declaration.max_delay_s <= 0:
            return (STATUS,)  # no delayed start: nothing to plan
        return (STATUS, PLANNED_START, EXPECTED_COST, SAVINGS)
    if kind is ApplianceType.ROOM_AIR_CONDITIONER:
        return (STATUS, SAVINGS)
    return (STATUS,)  # fridge: pre-cooling's savings are not estimated (docs/energy.md)


class _EnergyEntity(LiuzhouEntity):
    """Follows both the appliance (availability) and its energy runtime."""

    def __init__(self, coordinator: LiuzhouCoordinator, energy: ApplianceEnergy, key: str) -> None:
        super().__init__(coordinator, key)
        self.energy = energy

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.energy.async_add_listener(self.async_write_ha_state))


class EnergySwitch(_EnergyEntity, SwitchEntity, RestoreEntity):
    """Energy optimisation on/off (off by default; restored after a restart)."""

    entity_description = SWITCH

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state == STATE_ON:
            await self.energy.async_set_enabled(True)

    @property
    def available(self) -> bool:
        """Always: a hub setting, so it can be turned off (and shedding released) while away."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether the hub may act on this appliance (what it does and why: the status sensor)."""
        return self.energy.enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start the controllers."""
        await self.energy.async_set_enabled(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Hand the appliance back to its own control."""
        await self.energy.async_set_enabled(False)


class EnergyPresetSelect(_EnergyEntity, SelectEntity, RestoreEntity):
    """Comfort / balanced / eco for the AC comfort controller (restored)."""

    entity_description = PRESET

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state in self.options:
            self.energy.preset = ComfortPreset(last.state)

    @property
    def current_option(self) -> str:
        """The preset in use."""
        return str(self.energy.preset)

    async def async_select_option(self, option: str) -> None:
        """Switch preset (its surface compiles once, in the executor)."""
        await self.energy.async_set_preset(ComfortPreset(option))


class _EnergySensor(_EnergyEntity, SensorEntity):
    """A sensor of the energy runtime."""


class EnergyStatusSensor(_EnergySensor):
    """What the energy features do now; the reason as an attribute."""

    # The AC loop's latency changes every minute: shown, but not kept in the history.
    _unrecorded_attributes = frozenset({"decision_ms"})

    @property
    def native_value(self) -> str:
        """The status."""
        return str(self.energy.status)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The reasons (codes Home Assistant shows translated), and the last decision's latency."""
        return {
            "reason": list(self.energy.reasons) or None,
            "decision_ms": (
                round(self.energy.last_decision_ms, 3)
                if self.energy.last_decision_ms is not None
                else None
            ),
        }


class PlannedStartSensor(_EnergySensor):
    """When the planned run starts (unknown without a plan)."""

    @property
    def native_value(self) -> datetime | None:
        """The planned start."""
        plan = self.energy.plan
        return None if plan is None or self.energy.manager is None else plan.start


class ExpectedCostSensor(_EnergySensor):
    """What the planned run costs at the planned time (CNY)."""

    @property
    def native_value(self) -> float | None:
        """The expected cost."""
        plan = self.energy.plan
        return None if plan is None or self.energy.manager is None else round(plan.cost, 4)


class SavingsSensor(_EnergySensor, RestoreSensor):
    """Savings so far (CNY), kept across restarts; unknown without a household entry."""

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        last = await self.async_get_last_sensor_data()
        if last is not None and isinstance(last.native_value, int | float | str):
            try:
                self.energy.savings = float(last.native_value)
            except ValueError:
                self.energy.savings = 0.0

    @property
    def native_value(self) -> float | None:
        """The total so far."""
        if self.energy.manager is None:
            return None
        return round(self.energy.savings, 4)


_SENSOR_CLASSES: Final[dict[str, type[_EnergySensor]]] = {
    STATUS.key: EnergyStatusSensor,
    PLANNED_START.key: PlannedStartSensor,
    EXPECTED_COST.key: ExpectedCostSensor,
    SAVINGS.key: SavingsSensor,
}


def energy_switches(hass: HomeAssistant, coordinator: LiuzhouCoordinator) -> list[EnergySwitch]:
    """The enable switch of every appliance."""
    return [EnergySwitch(coordinator, energy_of(hass, coordinator), SWITCH.key)]


def energy_selects(
    hass: HomeAssistant, coordinator: LiuzhouCoordinator
) -> list[EnergyPresetSelect]:
    """The preset select (AC only)."""
    energy = energy_of(hass, coordinator)
    if not has_preset(energy.kind):
        return []
    return [EnergyPresetSelect(coordinator, energy, PRESET.key)]


def energy_sensors(hass: HomeAssistant, coordinator: LiuzhouCoordinator) -> list[SensorEntity]:
    """Status, plan and savings sensors for the appliance's type."""
    energy = energy_of(hass, coordinator)
    sensors: list[SensorEntity] = []
    for description in sensor_descriptions(energy.kind, coordinator.declaration):
        entity = _SENSOR_CLASSES[description.key](coordinator, energy, description.key)
        entity.entity_description = description
        sensors.append(entity)
    return sensors


def all_energy_descriptions() -> list[tuple[str, str, frozenset[str]]]:
    """(platform, translation key, states) of every energy entity; used by tests."""
    out: list[tuple[str, str, frozenset[str]]] = [
        ("switch", str(SWITCH.translation_key), frozenset()),
        ("select", str(PRESET.translation_key), frozenset(PRESET.options or ())),
    ]
    for description in (STATUS, PLANNED_START, EXPECTED_COST, SAVINGS):
        states = frozenset(description.options or ())
        out.append(("sensor", str(description.translation_key), states))
    return out
