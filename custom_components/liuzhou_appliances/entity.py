"""The base entity of every Liuzhou appliance entity."""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import LiuzhouCoordinator
from .link.model import Value
from .setpoints import fit_value


class LiuzhouEntity(CoordinatorEntity[LiuzhouCoordinator]):
    """An entity of one appliance, kept current by its coordinator's pushed state.

    Unavailable while the appliance is disconnected (the coordinator then marks
    its last update as failed).
    """

    _attr_has_entity_name = True

    def __init__(self, coordinator: LiuzhouCoordinator, key: str) -> None:
        """Identify the entity as ``<appliance_id>_<key>`` on the appliance's device."""
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.appliance_id}_{key}"
        self._attr_device_info = coordinator.device_info

    def _value(self, key: str) -> Value | None:
        """The current value of a capability, or None if the appliance has not reported it."""
        return self.coordinator.data.get(key) if self.coordinator.data else None

    async def _async_write(self, values: Mapping[str, Value]) -> None:
        """Write values a person set; converted numbers are fitted to the declared step first.

        Home Assistant hands the entity values converted from the person's units
        (°F to °C), which rarely fall on the appliance's step (setpoints.py).
        """
        declaration = self.coordinator.declaration
        unit = self.hass.config.units.temperature_unit
        await self.coordinator.async_write(
            {key: fit_value(declaration, key, value, unit) for key, value in values.items()}
        )
