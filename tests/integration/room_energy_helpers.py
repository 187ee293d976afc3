"""Helpers of the room and floor energy tests: a small property of simulated appliances."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
)
import pytest

from custom_components.liuzhou_appliances.const import DOMAIN, HOUSEHOLD_UNIQUE_ID
from custom_components.liuzhou_appliances.link.model import ApplianceType

from .conftest import PairedAppliance, StartAppliance, current_state
from .energy_helpers import entity_id
from .platform_helpers import wait_for_state


@dataclass
class Property:
    """Tower A: floor 1 with rooms 101 and 102, floor 2 with room 201; three appliances."""

    floor_1: str
    floor_2: str
    room_101: str
    room_102: str
    room_201: str
    ac: PairedAppliance
    washer: PairedAppliance
    fridge: PairedAppliance


async def start_property(hass: HomeAssistant, start_appliance: StartAppliance) -> Property:
    """Floors and areas named as provisioning names them, the appliances not yet placed."""
    floors = fr.async_get(hass)
    areas = ar.async_get(hass)
    floor_1 = floors.async_create("Tower A / 1", level=1).floor_id
    floor_2 = floors.async_create("Tower A / 2", level=2).floor_id
    return Property(
        floor_1=floor_1,
        floor_2=floor_2,
        room_101=areas.async_create("Tower A / 101", floor_id=floor_1).id,
        room_102=areas.async_create("Tower A / 102", floor_id=floor_1).id,
        room_201=areas.async_create("Tower A / 201", floor_id=floor_2).id,
        ac=await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER, index=0),
        washer=await start_appliance(ApplianceType.LAUNDRY_WASHER, index=1),
        fridge=await start_appliance(ApplianceType.REFRIGERATOR, index=2),
    )


def device_of(hass: HomeAssistant, machine: PairedAppliance) -> dr.DeviceEntry:
    """The appliance's device."""
    device = dr.async_get(hass).async_get_device({(DOMAIN, machine.appliance.id)})
    assert device is not None
    return device


async def place(hass: HomeAssistant, machine: PairedAppliance, area_id: str | None) -> None:
    """Put the appliance's device in an area (None: in none), as a person does in the UI."""
    dr.async_get(hass).async_update_device(device_of(hass, machine).id, area_id=area_id)
    await hass.async_block_till_done()
    await hass.async_block_till_done()


def group_entity(hass: HomeAssistant, prefix: str, key: str) -> str | None:
    """The entity id of ``{prefix}_{key}``: ``room_<area>``, ``floor_<id>`` or ``property``."""
    return er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{prefix}_{key}")


def group_value(hass: HomeAssistant, prefix: str, key: str) -> float:
    """The numeric state of a room's, floor's or the property's sensor."""
    found = group_entity(hass, prefix, key)
    assert found is not None, f"no {prefix}_{key}"
    return float(current_state(hass, found).state)


def appliance_energy(hass: HomeAssistant, machine: PairedAppliance) -> float:
    """The appliance's own energy sensor (kWh)."""
    sensor = entity_id(hass, "sensor", machine.appliance.id, "energy")
    return float(current_state(hass, sensor).state)


def price(hass: HomeAssistant) -> float:
    """The household's electricity price now (CNY/kWh)."""
    found = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{HOUSEHOLD_UNIQUE_ID}_electricity_price"
    )
    assert found is not None
    return float(current_state(hass, found).state)


async def count_to(hass: HomeAssistant, machine: PairedAppliance, kwh: float) -> None:
    """The appliance's counter moves on to ``kwh``; wait until its energy sensor shows it."""
    simulator = machine.simulator
    simulator.restore_state({**simulator.export_state(), "energy_kwh": kwh})
    await machine.push()
    sensor = entity_id(hass, "sensor", machine.appliance.id, "energy")
    await wait_for_state(hass, sensor, lambda s: s.state == str(kwh))
    await hass.async_block_till_done()


def approx(value: float) -> object:
    """Equal to ``value`` up to the sensors' rounding."""
    return pytest.approx(value, abs=1e-4)
