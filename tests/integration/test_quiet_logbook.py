"""Appliances at work do not flood the logbook.

Home Assistant's logbook lists every change of an entity's state, except for
entities with a unit of measurement or a state class (numeric sensors, drawn
as graphs instead) and except changes of attributes only. So what switches
several times an hour in normal operation must be one of those, or disabled
by default: a fridge's compressor cycling is no event for the homeowner, a
door opening is.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from homeassistant.components.sensor import ATTR_STATE_CLASS
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.link.model import ApplianceType

from .conftest import PairedAppliance, StartAppliance, wait_until


def _logbook_entries(hass: HomeAssistant, machine: PairedAppliance) -> Counter[str]:
    """Count, per entity key of ``machine``, the state changes the logbook would list."""
    keys = {
        entry.entity_id: entry.unique_id.removeprefix(f"{machine.appliance.id}_")
        for entry in er.async_entries_for_config_entry(er.async_get(hass), machine.entry.entry_id)
    }
    entries: Counter[str] = Counter()

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if old is None or new is None or new.entity_id not in keys or new.state == old.state:
            return
        if ATTR_UNIT_OF_MEASUREMENT in new.attributes or ATTR_STATE_CLASS in new.attributes:
            return
        entries[keys[new.entity_id]] += 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, changed)
    return entries


async def _run_for_hours(
    hass: HomeAssistant, machine: PairedAppliance, hours: int, key: str
) -> list[object]:
    """Advance the appliance a minute at a time; return the values ``key`` went through."""
    seen = [machine.simulator.values()[key]]
    for _ in range(hours * 60):
        await machine.appliance.mcu.advance(60)
        await asyncio.sleep(0.005)  # let the pushed change cross the connection
        await hass.async_block_till_done()
        value = machine.simulator.values()[key]
        if value != seen[-1]:
            seen.append(value)
    await machine.push()
    await wait_until(hass, lambda: machine.coordinator.data == machine.simulator.values())
    return seen


async def test_a_cycling_fridge_compressor_is_no_logbook_entry(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Three hours of a fridge at work: the compressor cycles, the logbook sees only doors."""
    fridge = await start_appliance(ApplianceType.REFRIGERATOR)
    entries = _logbook_entries(hass, fridge)
    switches = await _run_for_hours(hass, fridge, 3, "compressor_running")
    assert len(switches) >= 7  # it does cycle
    assert set(entries) <= {"door_open", "door_alarm"}, entries


async def test_a_working_air_conditioner_is_no_logbook_entry(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """An AC cooling, then resting: what it does now is an attribute, not a logbook entry."""
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await ac.coordinator.async_write({"on": True, "mode": "cool", "target_temperature": 24.0})
    entries = _logbook_entries(hass, ac)
    actions = await _run_for_hours(hass, ac, 1, "running_state")
    await ac.coordinator.async_write({"target_temperature": 30.0})
    actions += await _run_for_hours(hass, ac, 1, "running_state")
    assert {"cooling", "idle"} <= set(actions)
    state = hass.states.get(
        er.async_get(hass).async_get_entity_id("climate", DOMAIN, f"{ac.appliance.id}_climate")
        or ""
    )
    assert state is not None
    assert state.attributes["hvac_action"] == "idle"
    assert not entries, entries
