"""Helpers of the energy integration tests: the household entry, entity lookups, common steps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.liuzhou_appliances.const import DOMAIN, HOUSEHOLD_UNIQUE_ID
from custom_components.liuzhou_appliances.energy.tariff import CHINA_TZ
from custom_components.liuzhou_appliances.link.model import ApplianceType

from .conftest import PairedAppliance, StartAppliance, wait_until

HOME_POWER = "sensor.home_power"
PRESENCE = "binary_sensor.presence"

# 02:00 China time on a summer night (18:00 UTC, 11:00 in the harness's US/Pacific, no
# daylight-saving change near): the Guangxi commercial time-of-use valley, the day's
# cheapest price, with the next dearer period five hours away. The AC controller then
# holds an occupied room at the setpoint and sets a vacant one back; an hour before a
# dearer period it would pre-cool instead, in flat or peak hours it relaxes the setpoint.
VALLEY_NIGHT = datetime(2026, 7, 15, 2, 0, tzinfo=CHINA_TZ)
# Home Assistant's clock (wall, monotonic, event loop) starts at VALLEY_NIGHT and then runs
# on in real time, so real sockets, timeouts and executor jobs behave as unfrozen.
at_valley_night = pytest.mark.freeze_time(VALLEY_NIGHT, tick=True)


async def add_household(hass: HomeAssistant, **options: Any) -> MockConfigEntry:
    """Set up the household energy entry with ``options``."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Household energy",
        unique_id=HOUSEHOLD_UNIQUE_ID,
        data={},
        options={"tariff": "residential_tiered", **options},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def add_household_with_power_limit(
    hass: HomeAssistant, *, power: str, unit: str, limit_kw: float, presence: str
) -> MockConfigEntry:
    """The household entry reading ``HOME_POWER`` (now ``power`` ``unit``) against ``limit_kw``,
    in a room whose ``PRESENCE`` sensor reads ``presence``."""
    hass.states.async_set(HOME_POWER, power, {"unit_of_measurement": unit})
    hass.states.async_set(PRESENCE, presence)
    return await add_household(
        hass, home_power_entity=HOME_POWER, power_limit_kw=limit_kw, occupancy_entity=PRESENCE
    )


async def set_home_power(hass: HomeAssistant, power: str, unit: str | None = None) -> None:
    """A new ``HOME_POWER`` reading (no unit: a state such as ``unavailable``), acted upon."""
    hass.states.async_set(
        HOME_POWER, power, None if unit is None else {"unit_of_measurement": unit}
    )
    await hass.async_block_till_done()


async def let_a_minute_pass(hass: HomeAssistant) -> None:
    """Fire the timers a minute (and a second) from now and let them run."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await hass.async_block_till_done()


def entity_id(hass: HomeAssistant, platform: str, appliance_id: str, key: str) -> str:
    """The entity id of an appliance's entity by its key."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{appliance_id}_{key}")
    assert found is not None, f"no {platform} {key}"
    return found


def energy_status(hass: HomeAssistant, machine: PairedAppliance) -> State:
    """The state of an appliance's energy status sensor."""
    state = hass.states.get(entity_id(hass, "sensor", machine.appliance.id, "energy_status"))
    assert state is not None
    return state


async def set_energy_optimisation(hass: HomeAssistant, machine: PairedAppliance, on: bool) -> None:
    """Turn an appliance's energy optimisation switch on or off."""
    await hass.services.async_call(
        "switch",
        "turn_on" if on else "turn_off",
        {"entity_id": entity_id(hass, "switch", machine.appliance.id, "energy_optimisation")},
        blocking=True,
    )


def appliance_power(machine: PairedAppliance) -> float:
    """The appliance's last reported power draw in W (0 when it reports none)."""
    power = machine.coordinator.data.get("power")
    return float(power) if isinstance(power, int | float) else 0.0


async def push_and_wait_for_target(hass: HomeAssistant, ac: PairedAppliance) -> None:
    """Push the AC's state and wait until the hub sees the unit's own target temperature."""
    await ac.push()
    await wait_until(
        hass,
        lambda: ac.coordinator.data.get("target_temperature")
        == ac.simulator.values()["target_temperature"],
    )


async def start_optimised_cooling_ac(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> tuple[PairedAppliance, float]:
    """A room AC cooling at 26 °C, its compressor drawing power, with energy optimisation on;
    returns it and the target temperature the hub then sees."""
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await ac.coordinator.async_write({"on": True, "mode": "cool", "target_temperature": 26.0})
    await ac.appliance.mcu.advance(120)
    await ac.push()
    await wait_until(hass, lambda: appliance_power(ac) > 0)
    await set_energy_optimisation(hass, ac, True)
    await push_and_wait_for_target(hass, ac)
    return ac, float(ac.coordinator.data["target_temperature"])  # type: ignore[arg-type]


async def wait_long(hass: HomeAssistant, condition: Callable[[], bool], seconds: float) -> None:
    """Like wait_until, for work in the executor (compiling a fuzzy surface takes seconds)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
        await hass.async_block_till_done()
    raise AssertionError("condition not reached")
