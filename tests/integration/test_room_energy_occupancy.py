"""An AC's energy controller takes occupancy from its room's state, on real appliances.

A room whose state is set (select, action or webhook) is the AC's occupancy:
vacant is empty, occupied is occupied, arriving with a time pre-conditions
from the preset's lead before it, the lead the room starts its AC at. An AC in
no room, or in one whose state was never set, keeps the household's occupancy
entity (none set: the room counts as occupied).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.diagnostics import async_get_config_entry_diagnostics
from custom_components.liuzhou_appliances.energy.ac_policy import BALANCED_LEAD
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.room_occupancy import OPT_VACANT_AC
from custom_components.liuzhou_appliances.runtime_data import room_presence

from .conftest import PairedAppliance, StartAppliance, wait_until
from .energy_helpers import (
    VALLEY_NIGHT,
    add_household,
    add_household_with_power_limit,
    appliance_power,
    at_valley_night,
    energy_status,
    entity_id,
    set_energy_optimisation,
    set_home_power,
    wait_long,
)

pytestmark = at_valley_night

SETBACK = 28.0  # the house defaults' setback temperature (room_occupancy.HouseDefaults)


async def _cooling_ac_in_a_room(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> tuple[PairedAppliance, str]:
    """A household on the commercial time-of-use tariff holding vacant rooms at the setback,
    and an AC cooling at 26 °C in the area "Bedroom" (energy optimisation still off)."""
    await add_household(hass, tariff="commercial_tou", **{OPT_VACANT_AC: "setback"})
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await ac.coordinator.async_write({"on": True, "mode": "cool", "target_temperature": 26.0})
    await ac.push()
    area = ar.async_get(hass).async_create("Bedroom")
    devices = dr.async_get(hass)
    device = devices.async_get_device({(DOMAIN, ac.appliance.id)})
    assert device is not None
    devices.async_update_device(device.id, area_id=area.id)
    await hass.async_block_till_done()
    return ac, area.id


async def _optimised(hass: HomeAssistant, ac: PairedAppliance, status: str) -> None:
    """Energy optimisation on; its first decision made (after compiling, in the executor)."""
    await set_energy_optimisation(hass, ac, True)
    await wait_long(hass, lambda: energy_status(hass, ac).state == status, 60)


async def _set_room(hass: HomeAssistant, area_id: str, state: str, **data: Any) -> None:
    await hass.services.async_call(
        DOMAIN,
        "set_room_state",
        {"area_id": area_id, "state": state, **data},
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done()


async def _until(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, ac: PairedAppliance, when: datetime
) -> None:
    """Let the clock run on to ``when`` in steps of 10 s: the loop's pass each minute, the
    link's keepalive answered in between (over the real socket)."""
    while dt_util.utcnow() < when:
        freezer.tick(timedelta(seconds=10))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        await wait_until(hass, lambda: ac.coordinator.connected)
        await asyncio.sleep(0.02)
        await hass.async_block_till_done()
    await ac.push()
    await hass.async_block_till_done()


def _target(ac: PairedAppliance) -> float:
    return float(ac.simulator.values()["target_temperature"])


def _reason(hass: HomeAssistant, ac: PairedAppliance) -> list[str] | None:
    reason: list[str] | None = energy_status(hass, ac).attributes["reason"]
    return reason


# 06:50 China time: ten minutes before the valley ends, the flat price at 07:00 ahead.
BEFORE_FLAT = VALLEY_NIGHT.replace(hour=6, minute=50)


@pytest.mark.freeze_time(BEFORE_FLAT, tick=True)
async def test_a_vacant_rooms_ac_is_not_run_for_comfort(
    hass: HomeAssistant, start_appliance: StartAppliance, freezer: FrozenDateTimeFactory
) -> None:
    """Occupied: pre-cooled for the dearer hours ahead. Checked out, the room is vacant: the
    controller keeps the house's setback, never cools below it for the dearer hours (it
    did, taking the room for occupied), sets back further once they have begun; a
    walk-in: comfort at the guest's setpoint again."""
    ac, area_id = await _cooling_ac_in_a_room(hass, start_appliance)
    await _set_room(hass, area_id, "occupied")
    await _optimised(hass, ac, "active_room")
    assert _reason(hass, ac) == ["room_occupied"]
    assert _target(ac) < 26.0  # occupied: pre-cooled while it is cheap
    # (Read directly: the diagnostics download does not run under a frozen clock.)
    diagnostics = await async_get_config_entry_diagnostics(hass, ac.entry)
    assert diagnostics["energy"] == {
        "enabled": True,
        "status": "active_room",
        "reasons": ["room_occupied"],
        "occupancy_source": "room_state",
    }

    # Check-out: the room holds its AC at the setback and is vacant; the controller
    # follows at once, not at its next minute.
    await _set_room(hass, area_id, "check_out")
    assert _reason(hass, ac) == ["room_vacant"]
    assert energy_status(hass, ac).state == "active_room"
    values = ac.simulator.values()
    assert (values["on"], values["mode"], values["target_temperature"]) == (True, "cool", SETBACK)

    # The next writes (one per 5 minutes at most), still before the flat price: kept
    # ready at the setback, not pre-cooled below it.
    await _until(hass, freezer, ac, dt_util.as_utc(BEFORE_FLAT) + timedelta(minutes=7))
    assert _reason(hass, ac) == ["room_vacant"]
    assert _target(ac) >= SETBACK
    assert ac.simulator.values()["on"] is True  # the loop never switches the AC

    # Flat price from 07:00: nobody in or expected, set back beyond the house's setback.
    await _until(hass, freezer, ac, dt_util.as_utc(BEFORE_FLAT) + timedelta(minutes=16))
    assert _target(ac) > SETBACK

    # A walk-in: occupied again, the AC is run for comfort around the guest's setpoint
    # (relaxed toward the comfort band's edge in the dearer hours).
    await _set_room(hass, area_id, "occupied")
    await hass.services.async_call(
        "climate",
        "set_temperature",
        {"entity_id": entity_id(hass, "climate", ac.appliance.id, "climate"), "temperature": 24.0},
        blocking=True,
    )
    await _until(hass, freezer, ac, dt_util.as_utc(BEFORE_FLAT) + timedelta(minutes=23))
    assert _reason(hass, ac) == ["room_occupied"]
    assert _target(ac) < SETBACK


@pytest.mark.parametrize("control_mode", ["fuzzy", "predictive"])
async def test_an_arrival_pre_conditions_at_the_lead(
    hass: HomeAssistant,
    start_appliance: StartAppliance,
    freezer: FrozenDateTimeFactory,
    control_mode: str,
) -> None:
    """Booked for 02:20: set back until the balanced preset's 15 minutes before it; from
    then the room's start (comfort at the house defaults) is held, not set back. The
    predictive controller is given the same arrival (as a stay; without an outdoor
    humidity sensor it decides with the fuzzy one, on that stay)."""
    ac, area_id = await _cooling_ac_in_a_room(hass, start_appliance)
    await hass.services.async_call(
        "select",
        "select_option",
        {
            "entity_id": entity_id(hass, "select", ac.appliance.id, "control_mode"),
            "option": control_mode,
        },
        blocking=True,
    )
    await _set_room(hass, area_id, "arriving")  # the house defaults at once
    await _set_room(hass, area_id, "vacant")  # cancelled: the setback
    arrival = dt_util.as_utc(VALLEY_NIGHT) + timedelta(minutes=20)
    await _set_room(hass, area_id, "arriving", arrival=arrival.isoformat())
    await _optimised(hass, ac, "active_room")
    assert _reason(hass, ac) == ["room_arriving"]
    loop = ac.entry.runtime_data.energy.ac_loop
    if control_mode == "fuzzy":
        policy = loop._policy
        assert _target(ac) > SETBACK  # empty until the lead: set back
    else:
        assert loop.predictive.controller is not None
        policy = loop.predictive.controller.policy
        # It would switch an empty room off, which the loop leaves to the room's state.
        assert _target(ac) >= SETBACK
    assert policy._preconditioning_for is None

    # One minute inside the lead: the room starts its AC at the house defaults and the
    # controller pre-conditions for the guest, holding the 26 °C (not setting it back).
    await _until(hass, freezer, ac, arrival - BALANCED_LEAD + timedelta(minutes=1))
    assert _target(ac) == 26.0
    await _until(hass, freezer, ac, arrival - BALANCED_LEAD + timedelta(minutes=8))
    assert _reason(hass, ac) == ["room_arriving"]
    assert _target(ac) == 26.0
    # The deciding controller pre-conditions for the room's arrival, at the preset's lead.
    assert policy.lead == BALANCED_LEAD
    assert policy._preconditioning_for == arrival


async def test_an_ac_in_a_room_whose_state_was_never_set_keeps_the_household_occupancy(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """A home that never uses the rooms' occupancy: nothing changes for its ACs."""
    ac, _area_id = await _cooling_ac_in_a_room(hass, start_appliance)
    await _optimised(hass, ac, "active_no_occupancy")
    assert _reason(hass, ac) == ["no_occupancy_entity"]
    assert ac.entry.runtime_data.energy.ac_loop.occupancy_source == "none"
    assert _target(ac) == 26.0  # counts as occupied: the setpoint held, not set back


async def test_an_ac_moved_to_another_room_follows_that_room(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """The room an AC is in is read again when devices or areas change: moved out of a room
    set vacant into one never set, it follows the household's occupancy, and back again."""
    ac, area_id = await _cooling_ac_in_a_room(hass, start_appliance)
    await _set_room(hass, area_id, "vacant")
    entry_id = ac.entry.entry_id
    now = dt_util.utcnow()
    assert room_presence(hass, entry_id, now) is not None
    devices = dr.async_get(hass)
    device = devices.async_get_device({(DOMAIN, ac.appliance.id)})
    assert device is not None
    other = ar.async_get(hass).async_create("Study")
    devices.async_update_device(device.id, area_id=other.id)
    await hass.async_block_till_done()
    assert room_presence(hass, entry_id, now) is None
    devices.async_update_device(device.id, area_id=area_id)
    await hass.async_block_till_done()
    found = room_presence(hass, entry_id, now)
    assert found is not None
    assert not found.occupied


async def test_load_shedding_takes_a_vacant_room_for_vacant(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """The household's presence says someone is home; the Bedroom is set vacant: its AC
    is the first load shed (off), not an occupied room's setpoint moved by 1 K."""
    await add_household_with_power_limit(hass, power="1000", unit="W", limit_kw=3.0, presence="on")
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await ac.coordinator.async_write({"on": True, "mode": "cool", "target_temperature": 26.0})
    await ac.appliance.mcu.advance(120)  # the compressor runs: the AC draws power
    await ac.push()
    await wait_until(hass, lambda: appliance_power(ac) > 0)
    area = ar.async_get(hass).async_create("Bedroom")
    devices = dr.async_get(hass)
    device = devices.async_get_device({(DOMAIN, ac.appliance.id)})
    assert device is not None
    devices.async_update_device(device.id, area_id=area.id)
    await hass.async_block_till_done()
    await _set_room(hass, area.id, "vacant")  # as it showed: nothing sent, followed from now
    await set_energy_optimisation(hass, ac, True)
    ac_power = float(ac.coordinator.data["power"])  # type: ignore[arg-type]
    await set_home_power(hass, str(3000 + ac_power / 2), "W")
    assert ac.simulator.values()["on"] is False
    assert energy_status(hass, ac).attributes["reason"] == ["shed_ac_vacant_off", "power_limit"]
