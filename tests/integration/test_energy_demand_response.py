"""Demand response on real simulated appliances: the grid-event entity and the action."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Any

from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.liuzhou_appliances.const import DOMAIN, EVENT_LOAD_SHED
from custom_components.liuzhou_appliances.energy_runtime import HouseholdEnergy
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.runtime_data import appliance_energies, household_energy

from .conftest import PairedAppliance, StartAppliance, wait_until
from .energy_helpers import (
    PRESENCE,
    add_household,
    add_household_with_power_limit,
    appliance_power,
    energy_status,
    let_a_minute_pass,
    push_and_wait_for_target,
    set_energy_optimisation,
    set_home_power,
    start_optimised_cooling_ac,
)

GRID = "binary_sensor.grid_event"


def _status(hass: HomeAssistant, machine: PairedAppliance) -> tuple[str, list[str] | None]:
    """The energy status and its reasons (translation keys: what is shed, and why)."""
    state = energy_status(hass, machine)
    return state.state, state.attributes.get("reason")


def _manager(hass: HomeAssistant) -> HouseholdEnergy:
    manager = household_energy(hass)
    assert manager is not None
    return manager


def _active(hass: HomeAssistant) -> list[str]:
    return [action.action for action in _manager(hass).shedding.shedder.active]


def _actions(event: Event[dict[str, Any]], key: str) -> list[tuple[str, str]]:
    return [(item["action"], item["appliance_id"]) for item in event.data[key]]


async def _add_household_watching_the_grid(hass: HomeAssistant) -> None:
    """The household entry with the grid-event entity (no event yet), the room occupied."""
    hass.states.async_set(PRESENCE, "on")
    hass.states.async_set(GRID, "off")
    await add_household(hass, occupancy_entity=PRESENCE, grid_event_entity=GRID)


async def _home(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> tuple[PairedAppliance, PairedAppliance, PairedAppliance]:
    """An occupied room's AC cooling, a washer waiting to start, a dishwasher running."""
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    dishwasher = await start_appliance(ApplianceType.DISHWASHER)
    await ac.coordinator.async_write({"on": True, "mode": "cool", "target_temperature": 26.0})
    await ac.appliance.mcu.advance(120)  # the compressor runs: the AC draws power
    await washer.coordinator.async_command("start", {"delay_s": 3600})
    await dishwasher.coordinator.async_command("start", {"delay_s": 0})
    await dishwasher.appliance.mcu.advance(300)  # filled, heating
    for machine in (ac, washer, dishwasher):
        await machine.push()
    await wait_until(hass, lambda: appliance_power(ac) > 0)
    await wait_until(hass, lambda: appliance_power(dishwasher) > 0)
    await wait_until(hass, lambda: bool(washer.coordinator.data.get("delay_remaining")))
    for machine in (ac, washer, dishwasher):
        await set_energy_optimisation(hass, machine, True)
    await push_and_wait_for_target(hass, ac)
    return ac, washer, dishwasher


async def test_grid_event_entity_sheds_to_moderate_and_restores_in_reverse(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    await _add_household_watching_the_grid(hass)
    ac, washer, dishwasher = await _home(hass, start_appliance)
    shed_events = async_capture_events(hass, EVENT_LOAD_SHED)
    target = float(ac.coordinator.data["target_temperature"])  # type: ignore[arg-type]
    # No power sensor at all: the event alone sheds, down to defer_run (moderate).
    hass.states.async_set(GRID, "on")
    await hass.async_block_till_done()
    assert ac.simulator.values()["target_temperature"] == target + 2.0
    assert ac.simulator.values()["mode"] == "cool"  # fan only is critical's
    assert washer.simulator.values()["operational_state"] == "paused"  # held
    assert dishwasher.simulator.values()["operational_state"] == "running"  # not paused
    status, reason = _status(hass, ac)
    assert status == "shed"
    assert reason == ["shed_ac_relax_2k", "grid_event"]  # the furthest step, and why
    assert len(shed_events) == 1
    assert shed_events[0].data["trigger"] == "grid_event"
    assert _actions(shed_events[0], "shed") == [
        ("ac_relax_1k", ac.appliance.id),
        ("ac_relax_2k", ac.appliance.id),
        ("defer_run", washer.appliance.id),
    ]
    assert shed_events[0].data["shed"][0]["name"] == ac.entry.title
    assert shed_events[0].data["shed"][0]["reason"] == f"grid event from {GRID} (moderate)"
    # A timer tick during the event changes nothing.
    await let_a_minute_pass(hass)
    assert len(shed_events) == 1
    # The event ends: everything back, last shed first.
    hass.states.async_set(GRID, "off")
    await hass.async_block_till_done()
    assert _actions(shed_events[1], "restored") == [
        ("defer_run", washer.appliance.id),
        ("ac_relax_2k", ac.appliance.id),
        ("ac_relax_1k", ac.appliance.id),
    ]
    assert shed_events[1].data["active"] == []
    values = washer.simulator.values()
    assert values["operational_state"] == "running"
    assert values["delay_remaining"] > 0  # still waiting for its start
    assert ac.simulator.values()["target_temperature"] == target
    assert _status(hass, ac)[0] != "shed"
    assert _status(hass, ac)[1] is None


async def test_action_with_duration_sheds_critical_then_restores_one_step_at_a_time(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    await add_household_with_power_limit(hass, power="800", unit="W", limit_kw=6.0, presence="on")
    ac, washer, dishwasher = await _home(hass, start_appliance)
    shed_events = async_capture_events(hass, EVENT_LOAD_SHED)
    # Far under the power limit: only the event sheds, all six steps (critical).
    response = await hass.services.async_call(
        DOMAIN,
        "demand_response",
        {"action": "start", "level": "critical", "duration": {"seconds": 50}},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    shed = response["shed"]
    assert isinstance(shed, list)
    assert [(item["action"], item["appliance_id"]) for item in shed] == [  # type: ignore[index,call-overload]
        ("ac_relax_1k", ac.appliance.id),
        ("ac_relax_2k", ac.appliance.id),
        ("defer_run", washer.appliance.id),
        ("pause_run", dishwasher.appliance.id),
        ("ac_fan_only", ac.appliance.id),
    ]
    assert ac.simulator.values()["mode"] == "fan_only"
    assert washer.simulator.values()["operational_state"] == "paused"
    assert dishwasher.simulator.values()["operational_state"] == "paused"
    assert _status(hass, dishwasher) == ("shed", ["shed_pause_run", "grid_event"])
    assert _status(hass, ac) == ("shed", ["shed_ac_fan_only", "grid_event"])
    first = shed[0]
    assert isinstance(first, dict)
    assert str(first["reason"]).startswith("demand response action (critical, until ")
    # The duration runs out: with a power reading, restoring goes one step per update.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=51))
    await hass.async_block_till_done()
    assert _manager(hass).shedding.demand_response is None
    assert _actions(shed_events[-1], "restored") == [("ac_fan_only", ac.appliance.id)]
    assert ac.simulator.values()["mode"] == "cool"
    assert dishwasher.simulator.values()["operational_state"] == "paused"
    expected = [
        ("pause_run", dishwasher.appliance.id),
        ("defer_run", washer.appliance.id),
        ("ac_relax_2k", ac.appliance.id),
        ("ac_relax_1k", ac.appliance.id),
    ]
    for step, power in zip(expected, ("700", "600", "500", "400"), strict=True):
        await set_home_power(hass, power, "W")
        assert _actions(shed_events[-1], "restored") == [step]
        assert shed_events[-1].data["trigger"] == "power_limit"
    assert dishwasher.simulator.values()["operational_state"] == "running"
    assert _active(hass) == []
    assert _status(hass, ac)[0] != "shed"


async def test_power_limit_still_applies_beyond_the_event_depth(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    await add_household_with_power_limit(hass, power="800", unit="kW", limit_kw=3.0, presence="on")
    ac, washer, dishwasher = await _home(hass, start_appliance)
    await set_home_power(hass, "0.8", "kW")
    await hass.services.async_call(
        DOMAIN, "demand_response", {"action": "start"}, blocking=True
    )  # moderate, until stopped
    assert dishwasher.simulator.values()["operational_state"] == "running"
    # 9 kW (read in kW): the limit sheds further, past the event's depth.
    await set_home_power(hass, "9", "kW")
    assert dishwasher.simulator.values()["operational_state"] == "paused"
    assert ac.simulator.values()["mode"] == "fan_only"
    assert _status(hass, dishwasher)[1] == ["shed_pause_run", "power_limit"]
    event_steps = ["ac_relax_1k", "ac_relax_2k", "defer_run"]
    assert _active(hass) == [*event_steps, "pause_run", "ac_fan_only"]
    # A missing power reading during the event hands back only what the limit shed.
    await set_home_power(hass, "unavailable")
    assert dishwasher.simulator.values()["operational_state"] == "running"
    assert ac.simulator.values()["mode"] == "cool"
    assert washer.simulator.values()["operational_state"] == "paused"
    # Far under the limit: the event's steps stay while it lasts.
    await set_home_power(hass, "0.4", "kW")
    assert _active(hass) == event_steps
    # Stopped by the action: restored one step per update, last shed first.
    await hass.services.async_call(DOMAIN, "demand_response", {"action": "stop"}, blocking=True)
    assert washer.simulator.values()["operational_state"] == "running"
    assert _active(hass) == event_steps[:2]
    # A second stop is no error (it is just another update).
    await hass.services.async_call(DOMAIN, "demand_response", {"action": "stop"}, blocking=True)
    assert _active(hass) == event_steps[:1]


async def test_unavailable_grid_entity_is_no_event_and_logged_once(
    hass: HomeAssistant, start_appliance: StartAppliance, caplog: pytest.LogCaptureFixture
) -> None:
    hass.states.async_set(GRID, "unavailable")
    await add_household(hass, grid_event_entity=GRID, grid_event_level="critical")
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    await washer.coordinator.async_command("start", {"delay_s": 0})
    await washer.appliance.mcu.advance(300)
    await wait_until(hass, lambda: appliance_power(washer) > 0)
    await set_energy_optimisation(hass, washer, True)
    with caplog.at_level(logging.WARNING):
        hass.states.async_set(GRID, "unknown")
        await hass.async_block_till_done()
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
        await hass.async_block_till_done()
    assert washer.simulator.values()["operational_state"] == "running"
    assert caplog.text.count(f"Demand response: {GRID} is") == 1
    # Back and on: critical pauses the running washer.
    hass.states.async_set(GRID, "on")
    await hass.async_block_till_done()
    assert washer.simulator.values()["operational_state"] == "paused"
    # Unavailable mid-event counts as the event's end.
    hass.states.async_set(GRID, "unavailable")
    await hass.async_block_till_done()
    assert washer.simulator.values()["operational_state"] == "running"
    assert caplog.text.count(f"Demand response: {GRID} is") == 2


async def test_unloading_the_household_hands_back_what_the_event_shed(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    entry = await add_household(hass)
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    await washer.coordinator.async_command("start", {"delay_s": 0})
    await washer.appliance.mcu.advance(300)
    await wait_until(hass, lambda: appliance_power(washer) > 0)
    await set_energy_optimisation(hass, washer, True)
    await hass.services.async_call(
        DOMAIN,
        "demand_response",
        {"action": "start", "level": "critical", "duration": "01:00:00"},
        blocking=True,
    )
    assert washer.simulator.values()["operational_state"] == "paused"
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert washer.simulator.values()["operational_state"] == "running"


@pytest.mark.parametrize(
    ("data", "key", "placeholder"),
    [
        ({"action": "begin"}, "unknown_demand_response_action", "begin"),
        ({"action": "start", "level": "severe"}, "unknown_demand_response_level", "severe"),
        ({"action": "start", "duration": "-00:10:00"}, "invalid_demand_response_duration", "-"),
        ({"action": "start", "duration": 0}, "invalid_demand_response_duration", "0:00:00"),
    ],
)
async def test_bad_demand_response_input_is_a_translated_error(
    hass: HomeAssistant, data: dict[str, object], key: str, placeholder: str
) -> None:
    await add_household(hass)
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(DOMAIN, "demand_response", data, blocking=True)
    assert caught.value.translation_key == key
    placeholders = caught.value.translation_placeholders or {}
    assert any(placeholder in value for value in placeholders.values())
    assert _manager(hass).shedding.demand_response is None


async def test_demand_response_needs_the_household_entry(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    await start_appliance(ApplianceType.LAUNDRY_WASHER)  # loads the integration's actions
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "demand_response", {"action": "start"}, blocking=True
        )
    assert caught.value.translation_key == "household_not_configured"


async def _shed_ac_then_disconnect(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> tuple[PairedAppliance, float]:
    """An occupied room's AC shed 2 K by the grid-event entity, then off the network."""
    await _add_household_watching_the_grid(hass)
    ac, target = await start_optimised_cooling_ac(hass, start_appliance)
    hass.states.async_set(GRID, "on")
    await hass.async_block_till_done()
    assert ac.simulator.values()["target_temperature"] == target + 2.0
    await ac.appliance.stop()
    await wait_until(hass, lambda: not ac.coordinator.connected)
    # The shedder's timer runs while it is away (it used to forget the AC here).
    await let_a_minute_pass(hass)
    return ac, target


async def _reconnect(hass: HomeAssistant, ac: PairedAppliance) -> None:
    await ac.appliance.restart()
    ac.coordinator.async_wake_reconnect()
    await wait_until(hass, lambda: ac.coordinator.connected)
    await hass.async_block_till_done()


async def test_appliance_shed_then_away_is_restored_when_it_returns_after_the_event(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    ac, target = await _shed_ac_then_disconnect(hass, start_appliance)
    shed_events = async_capture_events(hass, EVENT_LOAD_SHED)
    hass.states.async_set(GRID, "off")  # the event ends while the AC is away
    await hass.async_block_till_done()
    await _reconnect(hass, ac)
    # Still relaxed on the unit after its power cycle until the hub writes it back.
    await wait_until(hass, lambda: ac.simulator.values()["target_temperature"] == target)
    assert _status(hass, ac)[0] != "shed"
    assert _status(hass, ac)[1] is None
    assert _active(hass) == []
    assert [action for action, _ in _actions(shed_events[-1], "restored")] == [
        "ac_relax_2k",
        "ac_relax_1k",
    ]
    # The AC loop acts again (it holds nothing back for a shed that is over).
    ac_energy = next(appliance_energies(hass))
    assert ac_energy.status.value != "shed"


async def test_appliance_shed_then_away_stays_shed_when_it_returns_during_the_event(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    ac, target = await _shed_ac_then_disconnect(hass, start_appliance)
    await _reconnect(hass, ac)
    assert ac.simulator.values()["target_temperature"] == target + 2.0
    assert _status(hass, ac)[0] == "shed"
    assert _active(hass) == ["ac_relax_1k", "ac_relax_2k"]
    # The event ends with the AC connected: written back as usual.
    hass.states.async_set(GRID, "off")
    await hass.async_block_till_done()
    assert ac.simulator.values()["target_temperature"] == target
    assert _status(hass, ac)[0] != "shed"


async def test_appliance_shed_by_the_power_limit_then_away_is_restored_step_by_step(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    await add_household_with_power_limit(hass, power="0.5", unit="kW", limit_kw=3.0, presence="on")
    ac, target = await start_optimised_cooling_ac(hass, start_appliance)
    await set_home_power(hass, "9", "kW")
    assert ac.simulator.values()["mode"] == "fan_only"
    shed = _active(hass)
    await ac.appliance.stop()
    await wait_until(hass, lambda: not ac.coordinator.connected)
    await set_home_power(hass, "0.4", "kW")
    assert _active(hass) == []  # parked while away, not forgotten
    assert _status(hass, ac)[0] != "off"
    await _reconnect(hass, ac)
    # Back under the limit: restored one step per update, last shed first.
    for remaining in range(len(shed) - 1, 0, -1):
        await wait_until(hass, lambda remaining=remaining: len(_active(hass)) == remaining)
        await set_home_power(hass, f"0.{remaining}", "kW")
    await wait_until(hass, lambda: _active(hass) == [])
    values = ac.simulator.values()
    assert (values["mode"], values["target_temperature"]) == ("cool", target)
    assert _status(hass, ac)[0] != "shed"


async def test_switching_off_a_shed_appliance_releases_it_and_on_again_sheds_it_afresh(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    await _add_household_watching_the_grid(hass)
    ac, washer, _ = await _home(hass, start_appliance)
    target = float(ac.coordinator.data["target_temperature"])  # type: ignore[arg-type]
    hass.states.async_set(GRID, "on")
    await hass.async_block_till_done()
    assert ac.simulator.values()["target_temperature"] == target + 2.0
    assert washer.simulator.values()["operational_state"] == "paused"
    await set_energy_optimisation(hass, ac, False)
    await set_energy_optimisation(hass, washer, False)
    # Released: the user's own settings are back and nothing of them is shed any more.
    assert ac.simulator.values()["target_temperature"] == target
    assert washer.simulator.values()["operational_state"] == "running"
    assert _active(hass) == []
    assert _status(hass, ac) == ("off", None)
    assert _status(hass, washer) == ("off", None)
    # The user changes the target; the event's end must not write a stale one over it.
    await ac.coordinator.async_write({"target_temperature": target - 1.0})
    hass.states.async_set(GRID, "off")
    await hass.async_block_till_done()
    await let_a_minute_pass(hass)
    assert ac.simulator.values()["target_temperature"] == target - 1.0
    assert _status(hass, ac) == ("off", None)
    # On again during a new event: shedding considers it afresh.
    hass.states.async_set(GRID, "on")
    await hass.async_block_till_done()
    await set_energy_optimisation(hass, ac, True)
    await hass.async_block_till_done()
    assert _active(hass) == ["ac_relax_1k", "ac_relax_2k"]
    assert ac.simulator.values()["target_temperature"] == target + 1.0
    assert _status(hass, ac)[0] == "shed"


async def test_switching_off_an_away_shed_appliance_drops_its_held_steps(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    ac, target = await _shed_ac_then_disconnect(hass, start_appliance)
    assert _manager(hass).shedding.waits_for(ac.appliance.id)
    await set_energy_optimisation(hass, ac, False)
    assert not _manager(hass).shedding.waits_for(ac.appliance.id)
    assert ac.entry.runtime_data.energy.status.value == "off"
    await _reconnect(hass, ac)
    # The unit kept the relaxed target through its power cycle: the user's is written back.
    await wait_until(hass, lambda: ac.simulator.values()["target_temperature"] == target)
    assert _active(hass) == []  # the event is still on, but the switch is off
    assert _status(hass, ac) == ("off", None)
    hass.states.async_set(GRID, "off")
    await hass.async_block_till_done()
    assert ac.simulator.values()["target_temperature"] == target
    assert _status(hass, ac) == ("off", None)
