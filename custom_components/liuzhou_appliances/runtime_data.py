"""What each kind of config entry holds while loaded, and how the two kinds find each other.

An appliance entry's runtime data is its coordinator and its energy runtime;
the household energy entry's is the ``HouseholdEnergy``. Nothing per entry
lives in ``hass.data``: an appliance finds the household through the household
entry (``household_energy``), the household finds the appliances through the
appliance entries (``appliance_energies``). Each runtime is found from its
set-up until its unload begins (its ``attached`` flag), as the set-up and the
unload order their steps around that moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .const import DOMAIN, HOUSEHOLD_UNIQUE_ID

if TYPE_CHECKING:
    from .coordinator import LiuzhouCoordinator
    from .energy_runtime.appliance import ApplianceEnergy
    from .energy_runtime.household import HouseholdEnergy
    from .estate_hub import EstateHub
    from .fridge_fault_monitor import FridgeFaultMonitor
    from .room_occupancy import RoomPresence
    from .room_runtime import RoomOccupancy
    from .voice_panel import VoicePanelBridge
    from .wet_cycle_runtime import WetCycleRuntime


@dataclass(slots=True)
class ApplianceRuntimeData:
    """One appliance entry's runtime: connection, energy features, voice panel, a washer's or
    dishwasher's run prediction, a refrigerator's fault detector."""

    coordinator: LiuzhouCoordinator
    energy: ApplianceEnergy
    # None when the appliance declares no voice panel.
    panel: VoicePanelBridge | None = None
    # Washers and dishwashers: the predicted run (finish time, remaining energy, planning).
    prediction: WetCycleRuntime | None = None
    # None unless the appliance is a refrigerator.
    fridge_faults: FridgeFaultMonitor | None = None


@dataclass(slots=True)
class HouseholdRuntimeData:
    """The household energy entry's runtime: tariff, household sensors, load shedding, the
    rooms' occupancy (room_runtime.py), and the estate hub when its options name an estate
    and a building."""

    energy: HouseholdEnergy
    rooms: RoomOccupancy | None = None
    estate: EstateHub | None = None


type LiuzhouConfigEntry = ConfigEntry[ApplianceRuntimeData]
type HouseholdConfigEntry = ConfigEntry[HouseholdRuntimeData]
# What a platform serving both kinds of entry (the sensors, diagnostics) is given.
type AnyLiuzhouConfigEntry = LiuzhouConfigEntry | HouseholdConfigEntry


def household_entry(entry: ConfigEntry[Any]) -> HouseholdConfigEntry | None:
    """The entry as the household energy entry, or None if it is an appliance's.

    Told by the unique id, so it also holds before the entry is set up.
    """
    return entry if entry.unique_id == HOUSEHOLD_UNIQUE_ID else None


def appliance_entry(entry: ConfigEntry[Any]) -> LiuzhouConfigEntry | None:
    """The entry as an appliance's, or None if it is the household energy entry."""
    return None if entry.unique_id == HOUSEHOLD_UNIQUE_ID else entry


def _household_runtime(hass: HomeAssistant) -> HouseholdRuntimeData | None:
    """The household entry's runtime while it is set up (else None)."""
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, HOUSEHOLD_UNIQUE_ID)
    runtime = getattr(entry, "runtime_data", None)
    if not isinstance(runtime, HouseholdRuntimeData) or not runtime.energy.attached:
        return None
    return runtime


def household_energy(hass: HomeAssistant) -> HouseholdEnergy | None:
    """The household runtime, if the household entry is set up (else None)."""
    runtime = _household_runtime(hass)
    return None if runtime is None else runtime.energy


def household_rooms(hass: HomeAssistant) -> RoomOccupancy | None:
    """The rooms' occupancy runtime, if the household entry is set up (else None)."""
    runtime = _household_runtime(hass)
    return None if runtime is None else runtime.rooms


def room_presence(hass: HomeAssistant, entry_id: str, now: datetime) -> RoomPresence | None:
    """The state of the room an appliance entry is in, if the room's state is set (else None)."""
    rooms = household_rooms(hass)
    return None if rooms is None else rooms.presence_of(entry_id, now)


def appliance_energies(hass: HomeAssistant) -> Iterator[ApplianceEnergy]:
    """The energy runtime of every set-up appliance entry."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        runtime = getattr(entry, "runtime_data", None)
        if isinstance(runtime, ApplianceRuntimeData) and runtime.energy.attached:
            yield runtime.energy


def loaded_appliance(entry: ConfigEntry[Any]) -> ApplianceRuntimeData | None:
    """The runtime of an appliance entry while it is set up, else None."""
    runtime = getattr(entry, "runtime_data", None)
    if isinstance(runtime, ApplianceRuntimeData) and runtime.energy.attached:
        return runtime
    return None
