"""In-progress energy state survives saving the household options and a restart.

A demand-response event, what it shed and a planned run go on when the
household entry reloads because its options were saved, and when Home
Assistant restarts (the state is kept in a Store and restored at set-up).
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.energy_runtime import HouseholdEnergy
from custom_components.liuzhou_appliances.energy_runtime.runtime_state import (
    DATA_RUNTIME_STATE,
    STORE_KEY,
)
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.runtime_data import household_energy

from .conftest import PairedAppliance, StartAppliance, current_state, wait_until
from .energy_helpers import (
    add_household,
    appliance_power,
    at_valley_night,
    energy_status,
    entity_id,
    set_energy_optimisation,
)

pytestmark = at_valley_night


def _manager(hass: HomeAssistant) -> HouseholdEnergy:
    manager = household_energy(hass)
    assert manager is not None
    return manager


async def _dishwasher_paused_by_a_critical_event(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> PairedAppliance:
    dishwasher = await start_appliance(ApplianceType.DISHWASHER)
    await dishwasher.coordinator.async_command("start", {"delay_s": 0})
    await dishwasher.appliance.mcu.advance(300)  # filled, heating
    await dishwasher.push()
    await wait_until(hass, lambda: appliance_power(dishwasher) > 0)
    await set_energy_optimisation(hass, dishwasher, True)
    await hass.services.async_call(
        DOMAIN,
        "demand_response",
        {"action": "start", "level": "critical", "duration": "02:00:00"},
        blocking=True,
    )
    assert dishwasher.simulator.values()["operational_state"] == "paused"
    return dishwasher


async def _save_household_options(
    hass: HomeAssistant, entry: MockConfigEntry, **changes: Any
) -> None:
    """Save the household options through its options flow (the entry then reloads)."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**entry.options, **changes}
    )
    # The second step, the house defaults (room_options.py): kept as they are.
    assert result["step_id"] == "house_defaults"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()


async def _home_assistant_stops(hass: HomeAssistant) -> None:
    """The final write of a stopping Home Assistant: pending Store saves are written."""
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()


async def _restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    entries: list[MockConfigEntry],
) -> None:
    """What a restart leaves: only the Store. Then the entries are set up again.

    The appliance entries go first: without them loaded, unloading the
    household cannot reach their appliances (a restart sends them nothing).
    """
    kept = copy.deepcopy(hass_storage[STORE_KEY])
    for entry in entries:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    hass.data.pop(DATA_RUNTIME_STATE)  # the state in memory is gone
    hass_storage[STORE_KEY] = kept
    for entry in reversed(entries):
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_saving_options_mid_event_keeps_the_dishwasher_paused_until_the_end(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    entry = await add_household(hass)
    dishwasher = await _dishwasher_paused_by_a_critical_event(hass, start_appliance)
    before = _manager(hass)
    await _save_household_options(hass, entry, power_cap_kw=3.0)
    manager = _manager(hass)
    assert manager is not before  # reloaded with the new options
    assert manager.power_cap_w == 3000.0
    assert dishwasher.simulator.values()["operational_state"] == "paused"
    assert manager.shedding.demand_response is not None
    assert manager.shedding.demand_response.level == "critical"
    assert current_state(hass, "sensor.household_energy_demand_response").state == "critical"
    assert energy_status(hass, dishwasher).state == "shed"
    # The event runs to its end, not to the reload: then the dishwasher is handed back.
    await _until_the_event_is_over(hass, manager, dishwasher)
    assert energy_status(hass, dishwasher).state != "shed"


@pytest.mark.parametrize(
    "household_first", [True, False], ids=["household_first", "appliance_first"]
)
async def test_restart_mid_event_restores_the_event_and_what_it_shed(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    start_appliance: StartAppliance,
    household_first: bool,
) -> None:
    household = await add_household(hass)
    dishwasher = await _dishwasher_paused_by_a_critical_event(hass, start_appliance)
    await _home_assistant_stops(hass)
    kept = hass_storage[STORE_KEY]["data"]
    assert kept["household"]["demand_response"]["level"] == "critical"
    assert kept["appliances"][dishwasher.appliance.id]["shed_steps"] == ["pause_run"]
    # Set up again in either order after the restart.
    order = [dishwasher.entry, household] if household_first else [household, dishwasher.entry]
    await _restart(hass, hass_storage, order)
    await wait_until(hass, lambda: dishwasher.coordinator.connected)
    manager = _manager(hass)
    assert manager.shedding.demand_response is not None
    assert manager.shedding.demand_response.level == "critical"
    assert dishwasher.simulator.values()["operational_state"] == "paused"
    await wait_until(hass, lambda: energy_status(hass, dishwasher).state == "shed")
    assert [action.action for action in manager.shedding.shedder.active] == ["pause_run"]
    await _until_the_event_is_over(hass, manager, dishwasher)


async def _until_the_event_is_over(
    hass: HomeAssistant, manager: HouseholdEnergy, dishwasher: PairedAppliance
) -> None:
    """Two hours pass (the connection's timers too: it reconnects); then it runs again."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=119))
    await hass.async_block_till_done()
    assert manager.shedding.demand_response is not None
    dishwasher.coordinator.async_wake_reconnect()
    await wait_until(hass, lambda: dishwasher.coordinator.connected)
    assert dishwasher.simulator.values()["operational_state"] == "paused"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=2, seconds=1))
    await hass.async_block_till_done()
    assert manager.shedding.demand_response is None
    dishwasher.coordinator.async_wake_reconnect()
    await wait_until(hass, lambda: dishwasher.simulator.values()["operational_state"] == "running")


def _device_id(hass: HomeAssistant, machine: PairedAppliance) -> str:
    device = dr.async_get(hass).async_get_device({(DOMAIN, machine.appliance.id)})
    assert device is not None
    return device.id


async def test_planned_run_survives_saved_options_and_a_restart(
    hass: HomeAssistant, hass_storage: dict[str, Any], start_appliance: StartAppliance
) -> None:
    now = dt_util.now()
    boundary = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
    dear, cheap = f"{now.hour:02d}:00", f"{boundary.hour:02d}:00"
    table = f"{dear}-{cheap} 1.0\n{cheap}-{dear} 0.2"
    household = await add_household(hass, tariff="custom_tou", custom_table=table)
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    await set_energy_optimisation(hass, washer, True)
    response = await hass.services.async_call(
        DOMAIN,
        "plan_run",
        {
            "device_id": _device_id(hass, washer),
            "programme": "quick",
            "finish_by": (dt_util.utcnow() + timedelta(hours=9)).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    start = datetime.fromisoformat(str(response["start"]))
    assert start == boundary
    savings = float(response["savings"])  # type: ignore[arg-type]
    assert savings > 0
    planned = entity_id(hass, "sensor", washer.appliance.id, "planned_start")
    savings_sensor = entity_id(hass, "sensor", washer.appliance.id, "energy_savings")

    def planned_start() -> datetime | None:
        state = hass.states.get(planned)
        return None if state is None else dt_util.parse_datetime(state.state)

    assert planned_start() == start
    await _save_household_options(hass, household, power_cap_kw=4.0)
    assert planned_start() == start
    await _home_assistant_stops(hass)
    await _restart(hass, hass_storage, [washer.entry, household])
    await wait_until(hass, lambda: washer.coordinator.connected)
    await wait_until(hass, lambda: planned_start() == start)
    assert float(current_state(hass, savings_sensor).state) == 0.0  # not credited yet
    # The washer starts at the planned time; the plan's savings are credited then.
    delay = int(washer.simulator.values()["delay_remaining"])
    await washer.appliance.mcu.advance(delay + 1)
    await washer.push()
    await wait_until(hass, lambda: washer.coordinator.data.get("operational_state") == "running")
    await wait_until(
        hass,
        lambda: float(current_state(hass, savings_sensor).state)
        == pytest.approx(savings, abs=1e-3),
    )
