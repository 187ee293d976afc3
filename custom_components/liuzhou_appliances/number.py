"""Numbers: the fridge and freezer compartment setpoints."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass, NumberEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import LiuzhouCoordinator
from .descriptions import NUMBERS, LiuzhouNumberEntityDescription, declared
from .entity import LiuzhouEntity
from .runtime_data import LiuzhouConfigEntry
from .setpoints import user_step

# One write at a time per appliance keeps the order the user chose.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LiuzhouConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the numbers the appliance declares."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        LiuzhouNumber(coordinator, description)
        for description in declared(NUMBERS, coordinator.declaration)
    )


class LiuzhouNumber(LiuzhouEntity, NumberEntity):
    """A number writing one numeric capability within its declared bounds and step."""

    entity_description: LiuzhouNumberEntityDescription

    def __init__(
        self, coordinator: LiuzhouCoordinator, description: LiuzhouNumberEntityDescription
    ) -> None:
        """Build the number with the bounds and step the appliance declares."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        capability = coordinator.declaration.capability(description.key)
        if capability.minimum is not None:
            self._attr_native_min_value = capability.minimum
        if capability.maximum is not None:
            self._attr_native_max_value = capability.maximum
        self._declared_step = capability.step

    @property
    def native_step(self) -> float | None:
        """The declared step, or whole units above it where the person uses other units.

        Home Assistant converts the bounds and the value, never the step.
        """
        user_unit = (
            self.hass.config.units.temperature_unit
            if self.device_class == NumberDeviceClass.TEMPERATURE
            else self.native_unit_of_measurement
        )
        return user_step(self._declared_step, self.native_unit_of_measurement, user_unit)

    @property
    def native_value(self) -> float | None:
        """The value the appliance reports."""
        value = self._value(self.entity_description.key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return value

    async def async_set_native_value(self, value: float) -> None:
        """Write the value, fitted to the declared step (it may come converted from °F)."""
        await self._async_write({self.entity_description.key: value})
