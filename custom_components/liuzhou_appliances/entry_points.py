"""Home Assistant entry points of the Liuzhou Appliances integration."""

from __future__ import annotations

from typing import cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import (
    area_registry as ar,
    config_validation as cv,
    device_registry as dr,
)
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from .const import (
    CONF_APPLIANCE_ID,
    CONF_AREA_ID,
    DOMAIN,
    HOUSEHOLD_PLATFORMS,
    HOUSEHOLD_UNIQUE_ID,
    PLATFORMS,
)
from .coordinator import LiuzhouConfigEntry, LiuzhouCoordinator
from .energy.tariff import TariffError
from .energy_manager import (
    ApplianceEnergy,
    EnergyManager,
    async_keep_runtime,
    async_load_energy_data,
    energy_data,
    household_holds,
)
from .naming import async_type_name
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
    coordinator.type_name = await async_type_name(hass, coordinator.hello.type)
    _async_apply_chosen_area(hass, coordinator)
    data = await async_load_energy_data(hass)
    energy = ApplianceEnergy(hass, coordinator)
    # What was shed or planned before a reload or restart goes on.
    energy.restore_runtime(
        (data.kept.get("appliances") or {}).get(coordinator.appliance_id),
        held=household_holds(data, coordinator.appliance_id),
    )
    data.appliances[entry.entry_id] = energy
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    energy.async_start()
    return True


def _async_apply_chosen_area(hass: HomeAssistant, coordinator: LiuzhouCoordinator) -> None:
    """Put a newly paired appliance's device in the area chosen when pairing (once)."""
    entry = coordinator.config_entry
    area_id = entry.data.get(CONF_AREA_ID)
    if area_id is None:
        return
    registry = dr.async_get(hass)
    device = registry.async_get_or_create(config_entry_id=entry.entry_id, **coordinator.device_info)
    if device.area_id is None and ar.async_get(hass).async_get_area(area_id) is not None:
        registry.async_update_device(device.id, area_id=area_id)
    data = {key: value for key, value in entry.data.items() if key != CONF_AREA_ID}
    hass.config_entries.async_update_entry(entry, data=data)


async def _async_setup_household(hass: HomeAssistant, entry: ConfigEntry[EnergyManager]) -> bool:
    """The household's tariff, sensors and load shedding, shared by every appliance.

    A demand-response event and what is shed go on from where they were before
    the entry was reloaded (its options saved) or Home Assistant restarted.
    """
    data = await async_load_energy_data(hass)
    try:
        manager = EnergyManager(hass, entry)
    except TariffError as err:  # options are validated by the flow; stored data may be old
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="tariff_invalid",
            translation_placeholders={"detail": str(err)},
        ) from err
    entry.runtime_data = manager
    restored = manager.restore_runtime(data.kept.get("household"))
    data.manager = manager
    await manager.async_start()
    if restored:
        await manager.async_resume_runtime()
    for energy in energy_data(hass).appliances.values():
        energy.async_notify()  # their entities leave "not configured" now, not at the next change
        await energy.async_tick()
    # Its own device: price now, tariff period, demand response.
    await hass.config_entries.async_forward_entry_setups(entry, HOUSEHOLD_PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: LiuzhouConfigEntry) -> bool:
    """Unload the entities, then close the connection and its tasks."""
    if entry.unique_id == HOUSEHOLD_UNIQUE_ID:
        if not await hass.config_entries.async_unload_platforms(entry, HOUSEHOLD_PLATFORMS):
            return False
        manager = cast(EnergyManager, entry.runtime_data)
        # Saved options reload the entry: what is shed stays shed for the next set-up,
        # nothing is resumed only because options were saved. Any other unload
        # (disabled, deleted, unloaded) hands the loads back, as nobody manages them
        # any more; a demand-response event is kept either way (it goes on outside).
        options_saved = dict(entry.options) != dict(manager.options)
        await manager.async_stop(hand_back=not options_saved)
        async_keep_runtime(hass)
        data = energy_data(hass)
        if data.manager is manager:
            data.manager = None
        for energy in data.appliances.values():
            energy.async_notify()
        return True
    async_keep_runtime(hass)  # the appliance's plan and shed steps, for its next set-up
    appliance_energy = energy_data(hass).appliances.pop(entry.entry_id, None)
    if appliance_energy is not None:
        appliance_energy.async_stop()
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        coordinator = entry.runtime_data
        await coordinator.async_close()
        coordinator.async_remove_issues()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: LiuzhouConfigEntry) -> None:
    """Forget the entry's kept runtime state; a removed household hands every load back."""
    data = await async_load_energy_data(hass)
    if entry.unique_id == HOUSEHOLD_UNIQUE_ID:
        data.kept = {**data.kept, "household": None}
        for energy in data.appliances.values():
            await energy.async_release_shedding()
        async_keep_runtime(hass)
    else:
        appliances = dict(data.kept.get("appliances") or {})
        appliances.pop(entry.data.get(CONF_APPLIANCE_ID), None)
        data.kept = {**data.kept, "appliances": appliances}
    if data.store is not None:
        await data.store.async_save(data.kept)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: LiuzhouConfigEntry, device: DeviceEntry
) -> bool:
    """Allow removing a device only when it is not this entry's appliance (or household)."""
    own = (
        HOUSEHOLD_UNIQUE_ID
        if entry.unique_id == HOUSEHOLD_UNIQUE_ID
        else entry.data[CONF_APPLIANCE_ID]
    )
    return (DOMAIN, own) not in device.identifiers
