"""Home Assistant entry points of the Liuzhou Appliances integration."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from .const import CONF_APPLIANCE_ID, DOMAIN, PLATFORMS
from .coordinator import LiuzhouConfigEntry, LiuzhouCoordinator

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the integration; appliances are added through config entries only."""
    return True


async def async_setup_entry(hass: HomeAssistant, entry: LiuzhouConfigEntry) -> bool:
    """Connect to one appliance and set up its entities.

    Unreachable -> ConfigEntryNotReady, key rejected -> ConfigEntryAuthFailed
    (both raised by the first refresh).
    """
    coordinator = LiuzhouCoordinator(hass, entry)
    try:
        await coordinator.async_config_entry_first_refresh()
    except BaseException:
        await coordinator.async_close()
        raise
    entry.runtime_data = coordinator
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_options_updated(hass: HomeAssistant, entry: LiuzhouConfigEntry) -> None:
    """Options change the keepalive and the offline time: reconnect with them."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: LiuzhouConfigEntry) -> bool:
    """Unload the entities, then close the connection and its tasks."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        coordinator = entry.runtime_data
        await coordinator.async_close()
        coordinator.async_remove_issues()
    return unloaded


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: LiuzhouConfigEntry, device: DeviceEntry
) -> bool:
    """Allow removing a device only when it is not this entry's appliance."""
    return (DOMAIN, entry.data[CONF_APPLIANCE_ID]) not in device.identifiers
