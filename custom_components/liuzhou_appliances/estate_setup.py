"""Starting and stopping the estate hub with the household entry (docs/estate.md).

Only a household whose options name an estate and a building loads
``estate_hub`` (and with it Home Assistant's MQTT integration's module): a
home without an estate or without MQTT is not touched.
"""

from __future__ import annotations

from functools import partial

from homeassistant.core import HomeAssistant

from .const import CONF_BUILDING_ID, CONF_ESTATE_ID
from .runtime_data import (
    HouseholdConfigEntry,
    HouseholdRuntimeData,
    appliance_energies,
    household_energy,
)


async def async_start_estate_hub(hass: HomeAssistant, entry: HouseholdConfigEntry) -> None:
    """Start publishing in the background if the options name an estate and a building."""
    estate = entry.options.get(CONF_ESTATE_ID)
    building = entry.options.get(CONF_BUILDING_ID)
    if not estate or not building:
        return
    from .estate_hub import EstateHub  # here: it loads the MQTT integration's module

    hub = EstateHub(
        hass,
        entry,
        estate,
        building,
        partial(appliance_energies, hass),
        partial(household_energy, hass),
    )
    entry.runtime_data.estate = hub
    # Waiting for the MQTT client must not hold up the household's set-up.
    entry.async_create_background_task(hass, hub.async_start(), "liuzhou_estate_start")


async def async_stop_estate_hub(runtime: HouseholdRuntimeData) -> None:
    """Say offline and stop listening (nothing to do without an estate hub)."""
    hub = runtime.estate
    if hub is not None:
        runtime.estate = None
        await hub.async_stop()
