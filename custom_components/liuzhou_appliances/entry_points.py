"""Home Assistant entry points of the Liuzhou Appliances integration."""

from __future__ import annotations

from functools import partial

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import (
    area_registry as ar,
    config_validation as cv,
    device_registry as dr,
)
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from . import room_index
from .const import (
    CONF_APPLIANCE_ID,
    CONF_AREA_ID,
    CONF_VOICE_LOG,
    DOMAIN,
    HOUSEHOLD_PLATFORMS,
    HOUSEHOLD_UNIQUE_ID,
    PLATFORMS,
)
from .coordinator import LiuzhouCoordinator
from .energy.tariff import TariffError
from .energy_runtime import (
    ApplianceEnergy,
    HouseholdEnergy,
    async_keep_runtime,
    async_load_runtime_state,
)
from .estate_setup import async_start_estate_hub, async_stop_estate_hub
from .fridge_fault_monitor import FridgeFaultMonitor, async_remove_window
from .household import async_household_device_info
from .hub_limits import async_appliance_added, async_appliance_removed
from .issues import async_clear_all_issues
from .link.model import ApplianceType
from .naming import async_type_name
from .room_occupancy import RoomStateError
from .room_runtime import RoomOccupancy
from .room_webhook import async_register_room_webhook
from .runtime_data import (
    AnyLiuzhouConfigEntry,
    ApplianceRuntimeData,
    HouseholdConfigEntry,
    HouseholdRuntimeData,
    LiuzhouConfigEntry,
    appliance_energies,
    appliance_entry,
    household_energy,
    household_entry,
    loaded_appliance,
    room_presence,
)
from .services import async_setup_services
from .voice.install import async_listen_device_changes, installer
from .voice_log import VoiceLog
from .voice_panel import VoicePanelBridge
from .wet_cycle_runtime import WET_KINDS, WetCycleRuntime, async_remove_run

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the service actions; appliances are added through config entries only."""
    async_setup_services(hass)
    async_listen_device_changes(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: AnyLiuzhouConfigEntry) -> bool:
    """Connect to one appliance and set up its entities.

    Unreachable -> ConfigEntryNotReady, key rejected -> ConfigEntryAuthFailed
    (both raised by the first refresh). The household energy entry has no
    appliance: it starts the HouseholdEnergy instead.
    """
    if (household := household_entry(entry)) is not None:
        return await _async_setup_household(hass, household)
    appliance = appliance_entry(entry)
    assert appliance is not None  # an entry is the household's or an appliance's
    return await _async_setup_appliance(hass, appliance)


async def _async_setup_appliance(hass: HomeAssistant, entry: LiuzhouConfigEntry) -> bool:
    """The appliance's connection, its energy runtime, then its entities."""
    async_appliance_added(hass, entry.entry_id)
    coordinator = LiuzhouCoordinator(hass, entry)
    try:
        await coordinator.async_config_entry_first_refresh()
    except BaseException:
        await coordinator.async_close()
        async_appliance_removed(hass, entry.entry_id)
        raise
    if (stop_watching := coordinator.async_watch_bluetooth()) is not None:
        entry.async_on_unload(stop_watching)
    coordinator.type_name = await async_type_name(hass, coordinator.hello.type)
    _async_apply_chosen_area(hass, coordinator)
    state = await async_load_runtime_state(
        hass, partial(household_energy, hass), partial(appliance_energies, hass)
    )
    energy = ApplianceEnergy(hass, coordinator, partial(household_energy, hass))
    # What was shed or planned before a reload or restart goes on.
    energy.restore_runtime(
        (state.kept.get("appliances") or {}).get(coordinator.appliance_id),
        held=state.household_holds(coordinator.appliance_id),
    )
    panel = None
    if coordinator.declaration.voice_panel is not None:
        panel = VoicePanelBridge(
            hass, coordinator, VoiceLog(enabled=entry.options.get(CONF_VOICE_LOG, False))
        )
        entry.async_on_unload(panel.async_start())
    prediction = None
    if ApplianceType(coordinator.declaration.type) in WET_KINDS:
        prediction = WetCycleRuntime(hass, coordinator)
        entry.async_on_unload(await prediction.async_start())  # loads the model off the loop
        energy.runs.profile_for = prediction.planning_programme
    fridge_faults = None
    if FridgeFaultMonitor.wanted(coordinator):
        fridge_faults = FridgeFaultMonitor(hass, coordinator)
        entry.async_on_unload(fridge_faults.async_stop)
    entry.runtime_data = ApplianceRuntimeData(
        coordinator, energy, panel, prediction=prediction, fridge_faults=fridge_faults
    )
    energy.attached = True
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    energy.async_start()
    if fridge_faults is not None:
        await fridge_faults.async_start()  # loads its model in the executor; never raises
    # Assist's sentences, with this appliance's name in the name list (voice/install.py).
    installer(hass).async_request()
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


async def _async_setup_household(hass: HomeAssistant, entry: HouseholdConfigEntry) -> bool:
    """The household's tariff, sensors and load shedding, shared by every appliance.

    A demand-response event and what is shed go on from where they were before
    the entry was reloaded (its options saved) or Home Assistant restarted.
    """
    state = await async_load_runtime_state(
        hass, partial(household_energy, hass), partial(appliance_energies, hass)
    )
    try:
        household = HouseholdEnergy(
            hass, entry, partial(appliance_energies, hass), partial(room_presence, hass)
        )
    except TariffError as err:  # options are validated by the flow; stored data may be old
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="tariff_invalid",
            translation_placeholders={"detail": str(err)},
        ) from err
    try:
        rooms = RoomOccupancy(hass, entry, partial(_loaded_appliance, hass))
    except RoomStateError as err:  # house defaults are validated by the flow; data may be old
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_house_defaults",
            translation_placeholders={"detail": err.detail},
        ) from err
    await rooms.async_load()
    entry.runtime_data = HouseholdRuntimeData(household, rooms)
    restored = household.restore_runtime(state.kept.get("household"))
    household.attached = True
    await household.async_start()
    if restored:
        await household.async_resume_runtime()
    for energy in appliance_energies(hass):
        energy.async_notify()  # their entities leave "not configured" now, not at the next change
        await energy.async_tick()
    # Its own device (price now, tariff period, demand response) before the platforms: the
    # rooms' devices hang from it, and the select platform may make them before the sensors.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **await async_household_device_info(hass, household)
    )
    await hass.config_entries.async_forward_entry_setups(entry, HOUSEHOLD_PLATFORMS)
    rooms.async_start()
    entry.async_on_unload(rooms.async_add_listener(partial(_room_changed, hass, entry)))
    entry.async_on_unload(async_register_room_webhook(hass, entry, rooms))
    entry.async_on_unload(rooms.async_stop)
    await async_start_estate_hub(hass, entry)
    return True


@callback
def _room_changed(hass: HomeAssistant, entry: HouseholdConfigEntry, area_id: str) -> None:
    """A room's new state: the energy controllers of its ACs follow it now, not a minute on."""
    room = room_index.rooms(hass).get(area_id)
    for entry_id in () if room is None else room.entry_ids:
        runtime = _loaded_appliance(hass, entry_id)
        if runtime is not None and runtime.energy.kind is ApplianceType.ROOM_AIR_CONDITIONER:
            entry.async_create_task(
                hass, runtime.energy.async_tick(), f"{DOMAIN} room {area_id} energy"
            )


def _loaded_appliance(hass: HomeAssistant, entry_id: str) -> ApplianceRuntimeData | None:
    entry = hass.config_entries.async_get_entry(entry_id)
    return None if entry is None else loaded_appliance(entry)


async def async_unload_entry(hass: HomeAssistant, entry: AnyLiuzhouConfigEntry) -> bool:
    """Unload the entities, then close the connection and its tasks."""
    runtime = entry.runtime_data
    if isinstance(runtime, HouseholdRuntimeData):
        return await _async_unload_household(hass, entry, runtime.energy)
    async_keep_runtime(hass)  # the appliance's plan and shed steps, for its next set-up
    runtime.energy.attached = False
    runtime.energy.async_stop()
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await runtime.coordinator.async_close()
        async_appliance_removed(hass, entry.entry_id)
        runtime.coordinator.async_remove_issues()
    return unloaded


async def _async_unload_household(
    hass: HomeAssistant, entry: AnyLiuzhouConfigEntry, household: HouseholdEnergy
) -> bool:
    """Stop the household runtime; the appliances' energy entities read "not configured"."""
    if not await hass.config_entries.async_unload_platforms(entry, HOUSEHOLD_PLATFORMS):
        return False
    if isinstance(entry.runtime_data, HouseholdRuntimeData):
        await async_stop_estate_hub(entry.runtime_data)
    # Saved options reload the entry: what is shed stays shed for the next set-up,
    # nothing is resumed only because options were saved. Any other unload
    # (disabled, deleted, unloaded) hands the loads back, as nobody manages them
    # any more; a demand-response event is kept either way (it goes on outside).
    options_saved = dict(entry.options) != dict(household.options)
    await household.async_stop(hand_back=not options_saved)
    async_keep_runtime(hass)
    household.attached = False
    for energy in appliance_energies(hass):
        energy.async_notify()
    return True


async def async_remove_entry(hass: HomeAssistant, entry: AnyLiuzhouConfigEntry) -> None:
    """Forget the entry's kept runtime state; a removed household hands every load back.

    A removed appliance's issues go too: one waiting to retry its set-up was
    never loaded, so no unload deleted an issue its failed set-up raised.
    """
    state = await async_load_runtime_state(
        hass, partial(household_energy, hass), partial(appliance_energies, hass)
    )
    if household_entry(entry) is not None:
        state.kept = {**state.kept, "household": None}
        for energy in appliance_energies(hass):
            await energy.shedding.async_release()
        async_keep_runtime(hass)
    else:
        async_clear_all_issues(hass, entry.data[CONF_APPLIANCE_ID])
        await async_remove_window(hass, entry.entry_id)
        await async_remove_run(hass, entry.entry_id)
        if not any(
            other.entry_id != entry.entry_id and appliance_entry(other) is not None
            for other in hass.config_entries.async_entries(DOMAIN)
        ):
            await installer(hass).async_remove()  # the last appliance: our sentences go
        appliances = dict(state.kept.get("appliances") or {})
        appliances.pop(entry.data.get(CONF_APPLIANCE_ID), None)
        state.kept = {**state.kept, "appliances": appliances}
    await state.store.async_save(state.kept)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: AnyLiuzhouConfigEntry, device: DeviceEntry
) -> bool:
    """Allow removing a device only when it is not this entry's appliance (or household)."""
    own = (
        HOUSEHOLD_UNIQUE_ID if household_entry(entry) is not None else entry.data[CONF_APPLIANCE_ID]
    )
    return (DOMAIN, own) not in device.identifiers
