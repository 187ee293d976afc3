"""Binary sensors: doors, door lock, alarms, refills, compressor and active faults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import LiuzhouCoordinator
from .descriptions import BINARY_SENSORS, LiuzhouBinarySensorEntityDescription, declared
from .entity import LiuzhouEntity
from .runtime_data import LiuzhouConfigEntry

# Binary sensors only read pushed state; nothing here talks to the appliance.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LiuzhouConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors the appliance declares."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        LiuzhouBinarySensor(coordinator, description)
        for description in declared(BINARY_SENSORS, coordinator.declaration)
    )


class LiuzhouBinarySensor(LiuzhouEntity, BinarySensorEntity):
    """A binary sensor mirroring one capability (or derived from the state)."""

    entity_description: LiuzhouBinarySensorEntityDescription

    def __init__(
        self, coordinator: LiuzhouCoordinator, description: LiuzhouBinarySensorEntityDescription
    ) -> None:
        """Build the binary sensor of ``description``."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def is_on(self) -> bool | None:
        """Whether the sensed condition holds."""
        if self.entity_description.is_on_fn is not None:
            return self.entity_description.is_on_fn(self.coordinator.data)
        value = self._value(self.entity_description.key)
        return value if isinstance(value, bool) else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Details, such as the list of active fault codes."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.coordinator.data)
