"""The energy sensor never publishes a lower total than it already did for the same meter.

An appliance whose counter goes back (firmware that loses energy in a power
cut, a reset or replaced controller) must not make Home Assistant book
negative consumption; nor may a Home Assistant restart.
"""

from __future__ import annotations

import json

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
import pytest
from pytest_homeassistant_custom_component.common import mock_restore_cache_with_extra_data

from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.bridge import simulator_state_path
from firmware_bridge.mcu.simulated import ENERGY_RESERVE_KEY

from .conftest import PairedAppliance, StartAppliance, current_state
from .energy_helpers import entity_id
from .platform_helpers import wait_for_state


async def _count_to(machine: PairedAppliance, kwh: float) -> None:
    """The appliance's counter moves on to ``kwh`` (it never goes back by itself)."""
    simulator = machine.simulator
    simulator.restore_state({**simulator.export_state(), "energy_kwh": kwh})
    await machine.push()


async def _reboot_losing_energy(hass: HomeAssistant, machine: PairedAppliance, kwh: float) -> None:
    """A power cut on firmware that saved ``kwh`` and no reserve; the hub reconnects."""
    appliance = machine.appliance
    await appliance.power_cut()
    path = simulator_state_path(appliance.state_dir, appliance.id)
    state = json.loads(path.read_text(encoding="utf-8"))
    state["energy_kwh"] = kwh
    state.pop(ENERGY_RESERVE_KEY, None)
    path.write_text(json.dumps(state), encoding="utf-8")
    await appliance.restart(power_cut=True)
    machine.coordinator.async_wake_reconnect()


def _energy(hass: HomeAssistant, machine: PairedAppliance) -> str:
    return entity_id(hass, "sensor", machine.appliance.id, "energy")


@pytest.mark.parametrize("saved_kwh", [13.0, 0.0], ids=["power_cut", "counter_reset"])
async def test_total_carries_on_when_the_appliance_counter_goes_back(
    hass: HomeAssistant, start_appliance: StartAppliance, saved_kwh: float
) -> None:
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    sensor = _energy(hass, ac)
    await _count_to(ac, 13.0)
    await wait_for_state(hass, sensor, lambda s: s.state == "13.0")
    await _count_to(ac, 13.009)
    await wait_for_state(hass, sensor, lambda s: s.state == "13.009")
    await _reboot_losing_energy(hass, ac, saved_kwh)
    await wait_for_state(hass, sensor, lambda s: s.state == STATE_UNAVAILABLE)
    await wait_for_state(hass, sensor, lambda s: s.state != STATE_UNAVAILABLE)
    assert ac.coordinator.data["energy"] == saved_kwh  # the appliance went back...
    assert current_state(hass, sensor).state == "13.009"  # ...the sensor did not
    # What the appliance counts from then on is added to what was shown.
    await _count_to(ac, saved_kwh + 0.005)
    state = await wait_for_state(hass, sensor, lambda s: s.state != "13.009")
    assert float(state.state) == pytest.approx(13.014)


async def _set_up_again_after_a_restart(
    hass: HomeAssistant, machine: PairedAppliance, stored: State, extra: dict[str, object]
) -> None:
    """Unload the entry, put ``stored`` in the restore cache as a restart would, set it up."""
    assert await hass.config_entries.async_unload(machine.entry.entry_id)
    await hass.async_block_till_done()
    mock_restore_cache_with_extra_data(hass, [(stored, extra)])
    assert await hass.config_entries.async_setup(machine.entry.entry_id)
    await hass.async_block_till_done()


async def test_total_survives_a_restart_while_the_appliance_lost_energy(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    sensor = _energy(hass, ac)
    unique_id = f"{ac.appliance.id}_energy"
    await _count_to(ac, 13.0)
    await wait_for_state(hass, sensor, lambda s: s.state == "13.0")
    # Home Assistant last showed 13.009 kWh; meanwhile the appliance lost 9 Wh.
    extra = {"meter": unique_id, "total": 13.009, "reading": 13.009, "offset": 0.0}
    await _set_up_again_after_a_restart(hass, ac, State(sensor, "13.009"), extra)
    state = await wait_for_state(hass, sensor, lambda s: s.state != STATE_UNAVAILABLE)
    assert state.state == "13.009"
    await _count_to(ac, 13.002)
    state = await wait_for_state(hass, sensor, lambda s: s.state != "13.009")
    assert float(state.state) == pytest.approx(13.011)


async def test_another_meter_starts_from_its_own_reading(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """A total kept for another appliance (the entity id reused) is not this meter's."""
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    sensor = _energy(hass, ac)
    await _count_to(ac, 2.5)
    await wait_for_state(hass, sensor, lambda s: s.state == "2.5")
    extra = {"meter": "lz-ac-00000000_energy", "total": 40.0, "reading": 40.0, "offset": 0.0}
    await _set_up_again_after_a_restart(hass, ac, State(sensor, "40.0"), extra)
    state = await wait_for_state(hass, sensor, lambda s: s.state != STATE_UNAVAILABLE)
    assert state.state == "2.5"
