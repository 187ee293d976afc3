"""Which appliance a sentence means: type, name, area and floor slots, and the asking device.

Order (first that decides wins):

1. the device the text came from (an appliance's own voice panel, ``intent_obj.device_id``),
   when it is one of ours and of a type the intent serves and no other name or place was said;
2. our appliances of the intent's types (narrowed by the ``appliance_type`` slot), filtered
   by the ``name``, ``area`` and ``floor`` slots (names and aliases, case-insensitive);
3. with several left, those in the asking satellite's area (``preferred_area_id``), if any.

Exactly one left is the target. None raises ``VoiceError("not_found")``; several raise
``VoiceError("which_one")`` naming them. Appliances whose entry is not loaded (offline
since start-up) are found too, so the answer can say they are offline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    floor_registry as fr,
    intent,
)

from custom_components.liuzhou_appliances.const import CONF_APPLIANCE_ID, DOMAIN
from custom_components.liuzhou_appliances.coordinator import LiuzhouCoordinator
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.runtime_data import loaded_appliance

from .errors import VoiceError, no_target


@dataclass(frozen=True, slots=True)
class Appliance:
    """One of our appliances as voice sees it.

    ``coordinator`` is None while the entry is not loaded; ``kind`` is then
    unknown (None) too, unless the device remembers it.
    """

    entry: ConfigEntry[Any]
    device: dr.DeviceEntry
    coordinator: LiuzhouCoordinator | None
    kind: ApplianceType | None

    @property
    def name(self) -> str:
        """The name the user sees (their own, else the device's)."""
        return self.device.name_by_user or self.device.name or self.entry.title

    @property
    def online(self) -> bool:
        """Connected now (or parked on BLE, answering on demand)."""
        return self.coordinator is not None and self.coordinator.connected


def our_appliances(hass: HomeAssistant) -> list[Appliance]:
    """Every appliance entry of ours that has a device, loaded or not."""
    devices = dr.async_get(hass)
    found = []
    for entry in hass.config_entries.async_entries(DOMAIN):
        appliance_id = entry.data.get(CONF_APPLIANCE_ID)
        if appliance_id is None:
            continue  # the household entry
        device = devices.async_get_device({(DOMAIN, appliance_id)})
        if device is None:
            continue
        runtime = loaded_appliance(entry)
        coordinator = runtime.coordinator if runtime is not None else None
        kind = coordinator.hello.type if coordinator is not None else _kind_of_id(appliance_id)
        found.append(Appliance(entry, device, coordinator, kind))
    return found


# Appliance ids carry their type ("lz-wm-…", PROTOCOL.md 3); used only while not loaded.
_ID_KINDS = {
    "ac": ApplianceType.ROOM_AIR_CONDITIONER,
    "fr": ApplianceType.REFRIGERATOR,
    "wm": ApplianceType.LAUNDRY_WASHER,
    "dw": ApplianceType.DISHWASHER,
}


def _kind_of_id(appliance_id: str) -> ApplianceType | None:
    parts = appliance_id.split("-")
    return _ID_KINDS.get(parts[1]) if len(parts) > 2 and parts[0] == "lz" else None


def _fold(text: str) -> str:
    return "".join(text.split()).casefold()


def _slot(slots: Mapping[str, Any], name: str) -> str | None:
    value = slots.get(name, {}).get("value")
    return str(value) if value not in (None, "") else None


def _area_ids(hass: HomeAssistant, spoken: str) -> set[str]:
    wanted = _fold(spoken)
    return {
        area.id
        for area in ar.async_get(hass).async_list_areas()
        if wanted in {_fold(area.name), *(_fold(alias) for alias in area.aliases)}
    }


def _floor_area_ids(hass: HomeAssistant, spoken: str) -> set[str]:
    wanted = _fold(spoken)
    floors = {
        floor.floor_id
        for floor in fr.async_get(hass).async_list_floors()
        if wanted in {_fold(floor.name), *(_fold(alias) for alias in floor.aliases)}
    }
    return {area.id for area in ar.async_get(hass).async_list_areas() if area.floor_id in floors}


def _named(appliance: Appliance, spoken: str) -> bool:
    names = {appliance.device.name_by_user, appliance.device.name, appliance.entry.title}
    return _fold(spoken) in {_fold(name) for name in names if name}


@dataclass(frozen=True, slots=True)
class Wanted:
    """What the sentence said about the target (for the answer when nothing fits)."""

    kinds: tuple[ApplianceType, ...]
    name: str | None
    area: str | None
    floor: str | None


def wanted_from_slots(slots: Mapping[str, Any], kinds: Iterable[ApplianceType]) -> Wanted:
    """The kinds the intent serves, narrowed by an ``appliance_type`` slot, and the filters."""
    served = tuple(kinds)
    said = _slot(slots, "appliance_type")
    if said is not None:
        if said not in {kind.value for kind in served}:
            raise VoiceError("wrong_kind", kind=said)
        served = (ApplianceType(said),)
    return Wanted(served, _slot(slots, "name"), _slot(slots, "area"), _slot(slots, "floor"))


def resolve(hass: HomeAssistant, intent_obj: intent.Intent, wanted: Wanted) -> Appliance:
    """The one appliance meant (see the module docstring); VoiceError otherwise."""
    appliances = our_appliances(hass)
    if wanted.name is None and wanted.area is None and wanted.floor is None:
        for appliance in appliances:
            if appliance.device.id == intent_obj.device_id and appliance.kind in wanted.kinds:
                return appliance
    candidates = [a for a in appliances if a.kind in wanted.kinds or a.kind is None]
    if wanted.name is not None:
        candidates = [a for a in candidates if _named(a, wanted.name)]
    # An unknown kind (not loaded, id of another shape) counts only when named.
    candidates = [a for a in candidates if a.kind in wanted.kinds or wanted.name is not None]
    if wanted.area is not None:
        areas = _area_ids(hass, wanted.area)
        candidates = [a for a in candidates if a.device.area_id in areas]
    if wanted.floor is not None:
        areas = _floor_area_ids(hass, wanted.floor)
        candidates = [a for a in candidates if a.device.area_id in areas]
    if len(candidates) > 1:
        preferred = _slot(intent_obj.slots, "preferred_area_id") or _device_area(
            hass, intent_obj.device_id
        )
        in_area = [a for a in candidates if preferred and a.device.area_id == preferred]
        if in_area:
            candidates = in_area
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise no_target(
            "not_found", name=wanted.name, area=wanted.area, floor=wanted.floor, kinds=wanted.kinds
        )
    raise no_target("which_one", names=sorted(a.name for a in candidates), kinds=wanted.kinds)


def _device_area(hass: HomeAssistant, device_id: str | None) -> str | None:
    """The area of the device the text came from (a satellite), if any."""
    if device_id is None:
        return None
    device = dr.async_get(hass).async_get(device_id)
    return device.area_id if device is not None else None
