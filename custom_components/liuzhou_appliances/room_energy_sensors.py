"""Sensors of energy per room, per floor and for the property (on the household entry).

Descriptions are the data: each says which groups have it (``kinds``) and reads
the group through ``PropertyEnergy`` (``value_fn``, ``attributes_fn``). Power is
a measurement (W); energy (kWh, ``total_increasing``) and cost (CNY, ``total``)
are what the Energy dashboard takes as a device's consumption and a cost. The
energy sensor keeps its group's totals across restarts; until it has taken
them back, energy, cost and savings read unknown (never a drop to zero).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
import logging
from typing import Any, Final, Self

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import UnitOfEnergy, UnitOfPower
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.restore_state import ExtraStoredData, RestoreEntity
from homeassistant.helpers.typing import StateType

from .energy.group_totals import GroupTotalsError
from .energy_entities import CURRENCY_CNY
from .energy_runtime import HouseholdEnergy
from .room_energy import Group, GroupKind, PropertyEnergy, names_by_room

_LOGGER = logging.getLogger(__package__)

_PLACES: Final[frozenset[GroupKind]] = frozenset({"room", "floor"})
_PROPERTY: Final[frozenset[GroupKind]] = frozenset({"property"})
# Seconds between two writes of a sensor of this kind of group. A floor or the
# property changes whenever any of its hundreds of appliances reports; writing
# each change made the recorder store several states per report (measured on a
# hub of 300 appliances with every AC on). The last change is always written.
WRITE_INTERVAL: Final[dict[GroupKind, float]] = {"room": 0.0, "floor": 5.0, "property": 5.0}


@dataclass(frozen=True, kw_only=True)
class GroupSensorEntityDescription(SensorEntityDescription):
    """A sensor of a room, floor or the property: ``value_fn`` reads it from the runtime.

    ``follows``: the members' sensors (``room_energy.SENSORS``) whose changes it shows.
    ``totals``: the value is one of the group's totals (unknown until restored).
    ``keeps_totals``: this sensor stores and restores the group's totals.
    """

    value_fn: Callable[[PropertyEnergy, Group], StateType]
    kinds: frozenset[GroupKind]
    follows: frozenset[str]
    attributes_fn: Callable[[PropertyEnergy, Group], Mapping[str, Any]] | None = None
    totals: bool = False
    keeps_totals: bool = False


def _power(kinds: frozenset[GroupKind], translation_key: str) -> GroupSensorEntityDescription:
    return GroupSensorEntityDescription(
        key="power",
        translation_key=translation_key,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=1,
        value_fn=lambda runtime, group: runtime.power_w(group),
        kinds=kinds,
        follows=frozenset({"power"}),
    )


def _energy(kinds: frozenset[GroupKind], translation_key: str) -> GroupSensorEntityDescription:
    return GroupSensorEntityDescription(
        key="energy",
        translation_key=translation_key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda runtime, group: round(group.totals.energy.total, 6),
        kinds=kinds,
        follows=frozenset({"energy"}),
        totals=True,
        keeps_totals=True,
    )


def _cost(kinds: frozenset[GroupKind], translation_key: str) -> GroupSensorEntityDescription:
    # Monetary sensors allow state class "total" only.
    return GroupSensorEntityDescription(
        key="energy_cost",
        translation_key=translation_key,
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=CURRENCY_CNY,
        suggested_display_precision=2,
        value_fn=lambda runtime, group: round(group.totals.cost, 4),
        kinds=kinds,
        follows=frozenset({"energy"}),
        totals=True,
    )


GROUP_SENSORS: Final[tuple[GroupSensorEntityDescription, ...]] = (
    # A room's and a floor's device is named after it: "Tower A / 301 Energy".
    _power(_PLACES, "power"),
    _energy(_PLACES, "energy"),
    _cost(_PLACES, "energy_cost"),
    # The property's are on the household's device, next to the tariff's sensors.
    _power(_PROPERTY, "property_power"),
    _energy(_PROPERTY, "property_energy"),
    _cost(_PROPERTY, "property_energy_cost"),
    # Savings may go down (a plan that costs more than it saves), see docs/energy.md.
    GroupSensorEntityDescription(
        key="energy_savings",
        translation_key="property_energy_savings",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=CURRENCY_CNY,
        suggested_display_precision=2,
        value_fn=lambda runtime, group: round(group.totals.savings.total, 4),
        kinds=_PROPERTY,
        follows=frozenset({"savings"}),
        totals=True,
    ),
    GroupSensorEntityDescription(
        key="appliances_with_faults",
        translation_key="appliances_with_faults",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda runtime, group: len(runtime.faulty(group)),
        attributes_fn=lambda runtime, group: names_by_room(runtime.faulty(group)),
        kinds=_PROPERTY,
        follows=frozenset({"faults"}),
    ),
    GroupSensorEntityDescription(
        key="appliances_offline",
        translation_key="appliances_offline",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda runtime, group: len(runtime.offline(group)),
        attributes_fn=lambda runtime, group: names_by_room(runtime.offline(group)),
        kinds=_PROPERTY,
        follows=frozenset({"energy"}),
    ),
)


@dataclass(slots=True)
class StoredGroupTotals(ExtraStoredData):
    """A group's totals as the restore-state store keeps them (``GroupTotals.as_dict``)."""

    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON for the restore-state store."""
        return self.data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Wrap stored data; it is checked when the totals take it back."""
        return cls(data)


class GroupSensor(SensorEntity):
    """A room's, floor's or the property's sensor, following its group."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: GroupSensorEntityDescription

    def __init__(
        self, runtime: PropertyEnergy, group: Group, description: GroupSensorEntityDescription
    ) -> None:
        """Unique id: ``room_{area_id}_{key}``, ``floor_{floor_id}_{key}`` or ``property_{key}``."""
        self.runtime = runtime
        self.group = group
        self.entity_description = description
        self._attr_unique_id = f"{group.unique_id_prefix}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={group.device_identifier})
        self._interval = WRITE_INTERVAL[group.kind]
        self._last_write = -self._interval
        self._write_later: CALLBACK_TYPE | None = None

    async def async_added_to_hass(self) -> None:
        """Follow the group."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.group.async_add_listener(self._group_changed, self.entity_description.follows)
        )
        self.async_on_remove(self._cancel_write)

    @callback
    def _group_changed(self) -> None:
        """Write now, or at the end of the interval since the last write (once)."""
        if self._write_later is not None:
            return
        wait = self._last_write + self._interval - self.hass.loop.time()
        if wait <= 0:
            self._write_now()
        else:
            self._write_later = async_call_later(self.hass, wait, self._write_due)

    @callback
    def _write_due(self, _now: Any) -> None:
        self._write_later = None
        self._write_now()

    @callback
    def _write_now(self) -> None:
        self._last_write = self.hass.loop.time()
        self.async_write_ha_state()

    @callback
    def _cancel_write(self) -> None:
        if self._write_later is not None:
            self._write_later()
            self._write_later = None

    @property
    def native_value(self) -> StateType:
        """The value now (unknown for totals not yet restored)."""
        if self.entity_description.totals and not self.group.totals.restored:
            return None
        return self.entity_description.value_fn(self.runtime, self.group)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The names per room (faults, offline), at most ``MAX_LISTED_NAMES``."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.runtime, self.group)


class GroupTotalsSensor(GroupSensor, RestoreEntity):
    """The group's energy sensor: also keeps the group's totals across restarts."""

    async def async_added_to_hass(self) -> None:
        """Take the stored totals back, then show them (and the group's other totals)."""
        await super().async_added_to_hass()
        stored = await self.async_get_last_extra_data()
        if stored is not None:
            try:
                self.group.totals.restore(stored.as_dict(), self.runtime.price())
            except GroupTotalsError as err:
                _LOGGER.warning("%s: stored totals not usable (%s); starting at 0", self.name, err)
        self.group.totals.restored = True
        self.group.async_notify()

    @property
    def extra_restore_state_data(self) -> StoredGroupTotals:
        """The group's totals and each member's last reading."""
        return StoredGroupTotals(self.group.totals.as_dict())


def group_sensors(runtime: PropertyEnergy, group: Group) -> list[GroupSensor]:
    """The sensors a group of this kind has."""
    return [
        (GroupTotalsSensor if description.keeps_totals else GroupSensor)(
            runtime, group, description
        )
        for description in GROUP_SENSORS
        if group.kind in description.kinds
    ]


@callback
def async_setup_room_energy(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    household: HouseholdEnergy,
    household_device: DeviceInfo,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Start the room, floor and property sensors of the household entry until it unloads.

    ``household_device`` is the household's device (``household.household_device_info``):
    made first, since the room and floor devices hang from it.
    """
    dr.async_get(hass).async_get_or_create(config_entry_id=entry.entry_id, **household_device)
    runtime = PropertyEnergy(
        hass, entry, household, lambda group: async_add_entities(group_sensors(runtime, group))
    )
    entry.async_on_unload(runtime.async_start())


def all_group_descriptions() -> list[tuple[str, str, frozenset[str]]]:
    """(platform, translation key, states) of every room, floor and property sensor; for tests."""
    return [
        ("sensor", str(description.translation_key), frozenset[str]())
        for description in GROUP_SENSORS
    ]
