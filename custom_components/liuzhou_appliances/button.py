"""Buttons: start, pause, resume and stop a washer or dishwasher run."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import LiuzhouCoordinator
from .descriptions import BUTTONS, LiuzhouButtonEntityDescription, declared
from .entity import LiuzhouEntity
from .runtime_data import LiuzhouConfigEntry

# One command at a time per appliance keeps the order the user pressed them in.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LiuzhouConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the command buttons of the appliance's type."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        LiuzhouButton(coordinator, description)
        for description in declared(BUTTONS, coordinator.declaration)
    )


class LiuzhouButton(LiuzhouEntity, ButtonEntity):
    """A button sending one command.

    It is offered in every state: a press the appliance cannot take now (start
    while running) is sent anyway and its rejection is raised to the user.
    """

    entity_description: LiuzhouButtonEntityDescription

    def __init__(
        self, coordinator: LiuzhouCoordinator, description: LiuzhouButtonEntityDescription
    ) -> None:
        """Build the button of ``description``."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    async def async_press(self) -> None:
        """Send the command."""
        await self.coordinator.async_command(self.entity_description.key)
