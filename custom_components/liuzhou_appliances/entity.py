"""The base entity of every Liuzhou appliance entity."""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.core import callback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import LiuzhouCoordinator
from .link.model import Value
from .pushed_state import StateReads
from .setpoints import fit_value


class LiuzhouEntity(CoordinatorEntity[LiuzhouCoordinator]):
    """An entity of one appliance, kept current by its coordinator's pushed state.

    Unavailable while the appliance is disconnected (the coordinator then marks
    its last update as failed). A push updates the entity only if it changed a
    key the entity read for its state (``pushed_state.py``).
    """

    _attr_has_entity_name = True
    coordinator_context: StateReads

    def __init__(self, coordinator: LiuzhouCoordinator, key: str) -> None:
        """Identify the entity as ``<appliance_id>_<key>`` on the appliance's device."""
        super().__init__(coordinator, StateReads())
        self._attr_unique_id = f"{coordinator.appliance_id}_{key}"
        self._attr_device_info = coordinator.device_info

    @callback
    def async_write_ha_state(self) -> None:
        """Write the state, adding the keys it read to those a push is checked against.

        Until the first push reached the entity, every push does: what it did
        when it was added (restoring a total, for example) was not recorded.
        """
        if self.coordinator_context.keys is None:
            super().async_write_ha_state()
        else:
            self.coordinator.async_call_recording(
                super().async_write_ha_state, self.coordinator_context
            )

    def _value(self, key: str) -> Value | None:
        """The current value of a capability, or None if the appliance has not reported it."""
        return self.coordinator.values.get(key)

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
