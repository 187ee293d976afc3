"""Home Assistant entry points of the Liuzhou Appliances integration."""

from __future__ import annotations

from typing import cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from .const import CONF_APPLIANCE_ID, DOMAIN, HOUSEHOLD_UNIQUE_ID, PLATFORMS
from .coordinator import LiuzhouConfigEntry, LiuzhouCoordinator
from .energy.tariff import TariffError
from .energy_manager import ApplianceEnergy, EnergyManager, energy_data
from .services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the service actions; appliances are added through config entries only."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: LiuzhouConfigEntry) -> bool:
    """Connect to one appliance and set up its entities.

    Unreachable -> ConfigEntryNotReady, key rejected -> ConfigEntryAuthFailed
    (both raised by the first refresh). The household energy entry has no
    appliance: it starts the EnergyManager instead.
    """
    if entry.unique_id == HOUSEHOLD_UNIQUE_ID:
        return await _async_setup_household(hass, cast(ConfigEntry[EnergyManager], entry))
    coordinator = LiuzhouCoordinator(hass, entry)
    try:
        await coordinator.async_config_entry_first_refresh()
    except BaseException:
        await coordinator.async_close()
        raise
    entry.runtime_data = coordinator
    energy = ApplianceEnergy(hass, coordinator)
    energy_data(hass).appliances[entry.entry_id] = energy
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    energy.async_start()
    return True


async def _async_setup_household(hass: HomeAssistant, entry: ConfigEntry[EnergyManager]) -> bool:
    """The household's tariff, sensors and load shedding, shared by every appliance."""
    try:
        manager = EnergyManager(hass, entry)
    except TariffError as err:  # options are validated by the flow; stored data may be old
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="tariff_invalid",
            translation_placeholders={"detail": str(err)},
        ) from err
    entry.runtime_data = manager
    energy_data(hass).manager = manager
    await manager.async_start()
    for energy in energy_data(hass).appliances.values():
        energy.async_notify()  # their entities leave "not configured" now, not at the next change
        await energy.async_tick()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: LiuzhouConfigEntry) -> bool:
    """Unload the entities, then close the connection and its tasks."""
    if entry.unique_id == HOUSEHOLD_UNIQUE_ID:
        manager = cast(EnergyManager, entry.runtime_data)
        await manager.async_stop()
        data = energy_data(hass)
        if data.manager is manager:
            data.manager = None
        for energy in data.appliances.values():
            energy.async_notify()
        return True
    appliance_energy = energy_data(hass).appliances.pop(entry.entry_id, None)
    if appliance_energy is not None:
        appliance_energy.async_stop()
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
