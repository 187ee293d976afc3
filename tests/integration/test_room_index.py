"""Rooms and floors read from Home Assistant's registries (room_index.py)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr, floor_registry as fr

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.room_index import (
    async_track_rooms,
    floors,
    room_device_identifier,
    rooms,
    rooms_by_entry,
)

from .conftest import StartAppliance
from .energy_helpers import add_household


async def test_rooms_and_floors_follow_the_registries(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """An area is a room once it holds an appliance; household devices in it do not count."""
    household = await add_household(hass)
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    fridge = await start_appliance(ApplianceType.REFRIGERATOR)
    devices = dr.async_get(hass)
    floor_registry = fr.async_get(hass)
    third = floor_registry.async_create("Tower A / 3", level=3)
    first = floor_registry.async_create("Tower A / 1", level=1)
    room_301 = ar.async_get(hass).async_create("Tower A / 301", floor_id=third.floor_id)
    room_101 = ar.async_get(hass).async_create("Tower A / 101", floor_id=first.floor_id)
    ar.async_get(hass).async_create("Lobby")
    changes: list[None] = []
    stop = async_track_rooms(hass, lambda: changes.append(None))

    assert rooms(hass) == {}
    ac_device = devices.async_get_device({(DOMAIN, ac.entry.unique_id or "")})
    fridge_device = devices.async_get_device({(DOMAIN, fridge.entry.unique_id or "")})
    assert ac_device is not None
    assert fridge_device is not None
    devices.async_update_device(ac_device.id, area_id=room_301.id)
    devices.async_update_device(fridge_device.id, area_id=room_301.id)
    # A household device in a room (a room's own device) is not an appliance.
    devices.async_get_or_create(
        config_entry_id=household.entry_id,
        identifiers={room_device_identifier(room_101.id)},
        name="Room 101",
    )
    household_room_device = devices.async_get_device({room_device_identifier(room_101.id)})
    assert household_room_device is not None
    devices.async_update_device(household_room_device.id, area_id=room_101.id)
    await hass.async_block_till_done()

    found = rooms(hass)
    assert list(found) == [room_301.id]
    room = found[room_301.id]
    assert room.name == "Tower A / 301"
    assert room.floor_id == third.floor_id
    assert set(room.entry_ids) == {ac.entry.entry_id, fridge.entry.entry_id}
    assert set(room.device_ids) == {ac_device.id, fridge_device.id}
    assert rooms_by_entry(rooms(hass)).get(ac.entry.entry_id) == room
    assert list(floors(hass)) == [third.floor_id]
    # Several registry events in one iteration are reported once.
    assert len(changes) == 1

    devices.async_update_device(fridge_device.id, area_id=room_101.id)
    await hass.async_block_till_done()
    assert list(floors(hass)) == [first.floor_id, third.floor_id]  # by level
    assert len(changes) == 2

    stop()
    devices.async_update_device(fridge_device.id, area_id=None)
    await hass.async_block_till_done()
    assert len(changes) == 2
    assert fridge.entry.entry_id not in rooms_by_entry(rooms(hass))
