"""Switches: the energy optimisation switch of every appliance."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .energy_entities import energy_switches
from .runtime_data import LiuzhouConfigEntry

# Turning energy optimisation on or off may write the appliance's settings back.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LiuzhouConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the energy optimisation switch."""
    async_add_entities(energy_switches(entry.runtime_data))
