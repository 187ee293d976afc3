"""The property's rooms and floors as Home Assistant knows them.

A room is a Home Assistant area that holds at least one paired appliance; its
floor is the area's floor. Home Assistant's device, area and floor registries
are the one source of truth (provisioning writes them, a person may change
them in the UI); this module only reads them, so nothing here can disagree
with what the UI shows. The room and floor devices the household entry adds
(energy, occupancy) are told apart from appliances by their identifiers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import area_registry as ar, device_registry as dr, floor_registry as fr

from .const import DOMAIN, HOUSEHOLD_UNIQUE_ID

_ROOM_PREFIX = "room_"
_FLOOR_PREFIX = "floor_"


@dataclass(frozen=True, slots=True)
class Room:
    """One area holding paired appliances: its ids, name, floor and appliances."""

    area_id: str
    name: str
    floor_id: str | None
    # The appliances' config entry ids and device ids, in the same order.
    entry_ids: tuple[str, ...]
    device_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Floor:
    """One floor holding at least one room: its ids, name, level and rooms' area ids."""

    floor_id: str
    name: str
    level: int | None
    area_ids: tuple[str, ...]


def room_device_identifier(area_id: str) -> tuple[str, str]:
    """The device registry identifier of the household's device for one room."""
    return (DOMAIN, f"{_ROOM_PREFIX}{area_id}")


def floor_device_identifier(floor_id: str) -> tuple[str, str]:
    """The device registry identifier of the household's device for one floor."""
    return (DOMAIN, f"{_FLOOR_PREFIX}{floor_id}")


def _appliance_entry_ids(hass: HomeAssistant) -> set[str]:
    return {
        entry.entry_id
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.unique_id != HOUSEHOLD_UNIQUE_ID
    }


def rooms(hass: HomeAssistant) -> dict[str, Room]:
    """Every area holding at least one paired appliance, by area id (sorted by name)."""
    appliance_entries = _appliance_entry_ids(hass)
    devices = dr.async_get(hass)
    areas = ar.async_get(hass)
    found: dict[str, list[tuple[str, str]]] = {}
    for device in devices.devices.values():
        if device.area_id is None or device.disabled:
            continue
        entry_id = next((e for e in device.config_entries if e in appliance_entries), None)
        if entry_id is not None:
            found.setdefault(device.area_id, []).append((entry_id, device.id))
    result: list[Room] = []
    for area_id, members in found.items():
        area = areas.async_get_area(area_id)
        if area is None:
            continue
        members.sort()
        result.append(
            Room(
                area_id=area_id,
                name=area.name,
                floor_id=area.floor_id,
                entry_ids=tuple(entry_id for entry_id, _ in members),
                device_ids=tuple(device_id for _, device_id in members),
            )
        )
    result.sort(key=lambda room: (room.name, room.area_id))
    return {room.area_id: room for room in result}


def floors(hass: HomeAssistant, room_map: dict[str, Room] | None = None) -> dict[str, Floor]:
    """Every floor holding at least one room, by floor id (sorted by level, then name)."""
    room_map = rooms(hass) if room_map is None else room_map
    registry = fr.async_get(hass)
    by_floor: dict[str, list[str]] = {}
    for room in room_map.values():
        if room.floor_id is not None:
            by_floor.setdefault(room.floor_id, []).append(room.area_id)
    result: list[Floor] = []
    for floor_id, area_ids in by_floor.items():
        floor = registry.async_get_floor(floor_id)
        if floor is not None:
            result.append(Floor(floor_id, floor.name, floor.level, tuple(area_ids)))
    result.sort(key=lambda f: (f.level is None, f.level or 0, f.name))
    return {floor.floor_id: floor for floor in result}


def rooms_by_entry(room_map: dict[str, Room]) -> dict[str, Room]:
    """The room of each appliance entry (by config entry id) that is in one.

    One pass over ``room_map`` (``rooms(hass)``), so that a caller placing many
    appliances reads the registries once instead of once per appliance.
    """
    return {entry_id: room for room in room_map.values() for entry_id in room.entry_ids}


@callback
def async_track_rooms(hass: HomeAssistant, action: Callable[[], None]) -> CALLBACK_TYPE:
    """Call ``action`` (in the event loop) after any change to devices, areas or floors.

    Several registry events in one loop iteration (provisioning a room makes a
    few) call it once. Returns the function that stops the tracking.
    """
    pending = False

    @callback
    def _run() -> None:
        nonlocal pending
        pending = False
        action()

    @callback
    def _changed(_event: Event[Any]) -> None:
        nonlocal pending
        if not pending:
            pending = True
            hass.loop.call_soon(_run)

    removers = [
        hass.bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, _changed),
        hass.bus.async_listen(ar.EVENT_AREA_REGISTRY_UPDATED, _changed),
        hass.bus.async_listen(fr.EVENT_FLOOR_REGISTRY_UPDATED, _changed),
    ]

    @callback
    def _stop() -> None:
        nonlocal pending
        pending = False
        for remove in removers:
            remove()

    return _stop
