"""Selects: fridge mode, washer and dishwasher programme and washer options."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import LiuzhouCoordinator
from .descriptions import SELECTS, LiuzhouSelectEntityDescription, declared
from .energy_entities import energy_selects
from .entity import LiuzhouEntity
from .room_select import async_setup_room_selects
from .runtime_data import AnyLiuzhouConfigEntry, appliance_entry, household_entry

# One write at a time per appliance keeps the order the user chose.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnyLiuzhouConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the selects the appliance declares, or the household's rooms' occupancy."""
    if (household := household_entry(entry)) is not None:
        async_setup_room_selects(hass, household, async_add_entities)
        return
    appliance = appliance_entry(entry)
    assert appliance is not None  # an entry is the household's or an appliance's
    coordinator = appliance.runtime_data.coordinator
    async_add_entities(
        LiuzhouSelect(coordinator, description)
        for description in declared(SELECTS, coordinator.declaration)
    )
    async_add_entities(energy_selects(appliance.runtime_data))


class LiuzhouSelect(LiuzhouEntity, SelectEntity):
    """A select writing one enum capability; it offers exactly the declared options."""

    entity_description: LiuzhouSelectEntityDescription

    def __init__(
        self, coordinator: LiuzhouCoordinator, description: LiuzhouSelectEntityDescription
    ) -> None:
        """Build the select with the options the appliance declares."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        self._attr_options = list(coordinator.declaration.capability(description.key).options)

    @property
    def current_option(self) -> str | None:
        """The option the appliance reports."""
        value = self._value(self.entity_description.key)
        return value if isinstance(value, str) else None

    async def async_select_option(self, option: str) -> None:
        """Write the option; the appliance's rejection (e.g. while running) is raised."""
        await self._async_write({self.entity_description.key: option})
