"""Sensors of all four appliance types against real simulated appliances."""

from __future__ import annotations

from datetime import datetime, timedelta
import math
from typing import Any

from homeassistant.components.sensor import ATTR_OPTIONS, ATTR_STATE_CLASS
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.liuzhou_appliances.descriptions import (
    SENSORS,
    STABLE_TIMESTAMP_TOLERANCE_S,
    seconds_until_finish,
)
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.pushed_state import ApplianceState
from custom_components.liuzhou_appliances.wet_cycle_runtime import WetCycleRuntime

from .conftest import PairedAppliance, StartAppliance, current_state
from .platform_helpers import entity_id, only_platform, wait_for_state

# A firmware that counts down its declared profile and declares no model: the finish time
# is then the hub's model's (the default simulated firmware runs the model itself).
OLD_FIRMWARE = {"remaining": "declared"}


async def _start(
    start_appliance: StartAppliance,
    kind: ApplianceType,
    *,
    enable_all: bool = False,
    simulator_options: dict[str, Any] | None = None,
) -> PairedAppliance:
    with only_platform(Platform.SENSOR, enable_all=enable_all):
        return await start_appliance(kind, simulator_options=simulator_options)


def _follow_simulated_clock(machine: PairedAppliance) -> WetCycleRuntime:
    """The machine's run predictor, its clock the simulation's (which the test moves)."""
    prediction = machine.entry.runtime_data.prediction
    assert isinstance(prediction, WetCycleRuntime)
    mcu = machine.appliance.mcu
    prediction.clock = lambda: mcu.simulated_seconds
    return prediction


def _sensor(hass: HomeAssistant, appliance: PairedAppliance, key: str) -> str:
    return entity_id(hass, "sensor", appliance.appliance.id, key)


@pytest.mark.parametrize("kind", list(ApplianceType))
async def test_sensor_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    start_appliance: StartAppliance,
    kind: ApplianceType,
) -> None:
    """Every declared sensor, with its device class, unit and translated name."""
    appliance = await _start(start_appliance, kind, enable_all=True)
    await snapshot_platform(hass, entity_registry, snapshot, appliance.entry.entry_id)

    # Power in W (measurement) and energy in kWh (total_increasing), as the
    # Energy dashboard requires of an individual device's consumption.
    values = appliance.simulator.values()
    power = hass.states.get(_sensor(hass, appliance, "power"))
    energy = hass.states.get(_sensor(hass, appliance, "energy"))
    assert power is not None
    assert energy is not None
    assert float(power.state) == values["power"]
    assert float(energy.state) == values["energy"]
    assert power.attributes[ATTR_DEVICE_CLASS] == "power"
    assert power.attributes[ATTR_STATE_CLASS] == "measurement"
    assert power.attributes[ATTR_UNIT_OF_MEASUREMENT] == "W"
    assert energy.attributes[ATTR_DEVICE_CLASS] == "energy"
    assert energy.attributes[ATTR_STATE_CLASS] == "total_increasing"
    assert energy.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"


async def test_rarely_used_sensors_are_disabled_by_default(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, start_appliance: StartAppliance
) -> None:
    """The start-delay countdown is registered but disabled until the user enables it."""
    washer = await _start(start_appliance, ApplianceType.LAUNDRY_WASHER)
    entry = entity_registry.async_get(_sensor(hass, washer, "delay_remaining"))
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(entry.entity_id) is None


async def test_air_conditioner_sensors_follow_the_room(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Humidity, outdoor temperature, power and energy follow the simulated physics."""
    ac = await _start(start_appliance, ApplianceType.ROOM_AIR_CONDITIONER)
    energy_before = ac.simulator.values()["energy"]
    ac.simulator.write("on", True)
    ac.simulator.write("mode", "cool")
    ac.simulator.write("target_temperature", 18)
    await ac.appliance.mcu.advance(3600)
    values = ac.simulator.values()
    assert values["energy"] > energy_before
    for key in ("humidity", "outdoor_temperature", "power", "energy"):
        await wait_for_state(
            hass,
            _sensor(hass, ac, key),
            lambda state, key=key: state.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE)
            and float(state.state) == values[key],
        )


async def test_fridge_temperatures(hass: HomeAssistant, start_appliance: StartAppliance) -> None:
    """Compartment temperatures come from the appliance, in °C."""
    fridge = await _start(start_appliance, ApplianceType.REFRIGERATOR)
    values = fridge.simulator.values()
    for key in ("fridge_temperature", "freezer_temperature"):
        state = hass.states.get(_sensor(hass, fridge, key))
        assert state is not None
        assert float(state.state) == values[key]
        assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "°C"


def _moment(state_value: str) -> datetime:
    moment = dt_util.parse_datetime(state_value)
    assert moment is not None
    return moment


@pytest.mark.parametrize("kind", [ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER])
async def test_run_state_countdown_and_stable_finish_time(
    hass: HomeAssistant, start_appliance: StartAppliance, kind: ApplianceType
) -> None:
    """Operational state and phase are enums; the finish time only moves when the plan does."""
    machine = await _start(start_appliance, kind, enable_all=True, simulator_options=OLD_FIRMWARE)
    status = _sensor(hass, machine, "operational_state")
    phase = _sensor(hass, machine, "phase")
    remaining = _sensor(hass, machine, "remaining_time")
    finish = _sensor(hass, machine, "finish_time")
    declaration = machine.simulator.declaration

    state = hass.states.get(status)
    assert state is not None
    assert state.state == "stopped"
    assert state.attributes[ATTR_OPTIONS] == list(
        declaration.capabilities["operational_state"].options
    )
    phase_state = hass.states.get(phase)
    assert phase_state is not None
    assert phase_state.attributes[ATTR_OPTIONS] == list(declaration.capabilities["phase"].options)
    # No run under way: no time remaining (not the selected programme's length) and no
    # finish time, although the appliance reports how long the programme would take.
    assert machine.simulator.values()["remaining_time"] > 0
    for idle in (finish, remaining):
        idle_state = hass.states.get(idle)
        assert idle_state is not None
        assert idle_state.state == STATE_UNKNOWN

    # The hub's clock moves with the simulation (frozen here: the test moves it).
    prediction = _follow_simulated_clock(machine)
    machine.simulator.command("start", {})
    await machine.push()
    await wait_for_state(hass, status, lambda s: s.state == "running")
    seconds_left = machine.simulator.values()["remaining_time"]
    assert isinstance(seconds_left, int)
    state = await wait_for_state(hass, finish, lambda s: s.state != STATE_UNKNOWN)
    planned = _moment(state.state)
    # The finish time is the hub's estimate of the run (the model's), near the physics'.
    estimate = prediction.estimate
    assert estimate is not None
    assert estimate.source == "model"
    assert state.attributes["source"] == "model"
    expected = dt_util.utcnow() + timedelta(seconds=estimate.remaining_s)
    assert abs((planned - expected).total_seconds()) < 5
    assert abs(estimate.remaining_s - seconds_left) < 600
    # The time remaining is the appliance's own countdown.
    await wait_for_state(hass, remaining, lambda s: s.state == str(math.ceil(seconds_left / 60)))

    # The countdown ticks (30 simulated seconds pass while the wall clock barely
    # moves): the moment shifts by 30 s, under the one-minute tolerance.
    await machine.appliance.mcu.advance(30)
    await wait_for_state(
        hass,
        remaining,
        lambda s: s.state == str(math.ceil(int(machine.simulator.values()["remaining_time"]) / 60)),
    )
    state = hass.states.get(finish)
    assert state is not None
    assert _moment(state.state) == planned

    # Five simulated minutes pass at once: the plan moved, and so does the finish time,
    # earlier by well over the tolerance (not exactly the 330 s gone: the model's estimate
    # also takes in what the heating showed).
    await machine.appliance.mcu.advance(300)
    state = await wait_for_state(hass, finish, lambda s: _moment(s.state) != planned)
    assert (planned - _moment(state.state)).total_seconds() > 2 * STABLE_TIMESTAMP_TOLERANCE_S
    await wait_for_state(hass, phase, lambda s: s.state != "idle")

    # Paused: still under way, the remaining time stays.
    machine.simulator.command("pause", {})
    await machine.push()
    await wait_for_state(hass, status, lambda s: s.state == "paused")
    state = hass.states.get(remaining)
    assert state is not None
    assert state.state == str(math.ceil(int(machine.simulator.values()["remaining_time"]) / 60))

    machine.simulator.command("stop", {})
    await machine.push()
    await wait_for_state(hass, finish, lambda s: s.state == STATE_UNKNOWN)
    await wait_for_state(hass, remaining, lambda s: s.state == STATE_UNKNOWN)
    await wait_for_state(hass, status, lambda s: s.state == "stopped")


async def test_delayed_start(hass: HomeAssistant, start_appliance: StartAppliance) -> None:
    """A delayed start: the finish time includes the wait, which counts down on its own sensor."""
    washer = await _start(
        start_appliance,
        ApplianceType.LAUNDRY_WASHER,
        enable_all=True,
        simulator_options=OLD_FIRMWARE,
    )
    prediction = _follow_simulated_clock(washer)
    washer.simulator.command("start", {"delay_s": 7200})
    await washer.push()
    delay = await wait_for_state(
        hass, _sensor(hass, washer, "delay_remaining"), lambda s: s.state == "120"
    )
    assert delay.attributes[ATTR_UNIT_OF_MEASUREMENT] == "min"
    seconds_left = washer.simulator.values()["remaining_time"]
    assert isinstance(seconds_left, int)
    assert seconds_left > 7200
    state = await wait_for_state(
        hass, _sensor(hass, washer, "finish_time"), lambda s: s.state != STATE_UNKNOWN
    )
    # The wait plus the model's estimate of the whole run, near the physics' own.
    estimate = prediction.estimate
    assert estimate is not None
    assert estimate.source == "model"
    assert estimate.remaining_s > 7200
    assert abs(estimate.remaining_s - seconds_left) < 600
    expected = dt_util.utcnow() + timedelta(seconds=estimate.remaining_s)
    assert abs((_moment(state.state) - expected).total_seconds()) < 5
    # Cancelled: no wait and no time remaining any more.
    washer.simulator.command("stop", {})
    await washer.push()
    for key in ("delay_remaining", "remaining_time", "finish_time"):
        await wait_for_state(hass, _sensor(hass, washer, key), lambda s: s.state == STATE_UNKNOWN)


async def test_sensors_unavailable_while_disconnected(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Every sensor is unavailable while the appliance is off the network."""
    fridge = await _start(start_appliance, ApplianceType.REFRIGERATOR)
    await fridge.appliance.stop()
    for key in ("power", "energy", "fridge_temperature"):
        await wait_for_state(
            hass, _sensor(hass, fridge, key), lambda s: s.state == STATE_UNAVAILABLE
        )


def test_countdowns_without_values() -> None:
    """Countdowns the appliance has not reported (or reports oddly) read unknown."""
    washer_sensors = {d.key: d for d in SENSORS[ApplianceType.LAUNDRY_WASHER]}
    remaining = washer_sensors["remaining_time"].value_fn
    assert remaining is not None
    assert remaining({}) is None
    assert remaining({"operational_state": "running", "remaining_time": True}) is None
    assert remaining({"operational_state": "running", "remaining_time": 61}) == 2
    assert remaining({"operational_state": "paused", "remaining_time": 61}) == 2
    # Not under way: how long the programme would take is no time remaining.
    for state in ("stopped", "finished", "error"):
        assert remaining({"operational_state": state, "remaining_time": 3600}) is None
    delay = washer_sensors["delay_remaining"].value_fn
    assert delay is not None
    assert delay({"operational_state": "running", "delay_remaining": 120}) == 2
    assert delay({"operational_state": "running", "delay_remaining": 0}) is None  # started
    assert seconds_until_finish({"operational_state": "running"}) is None
    assert seconds_until_finish({"operational_state": "finished", "remaining_time": 0}) is None
    assert seconds_until_finish({"operational_state": "paused", "remaining_time": 90}) == 90


async def test_an_option_the_sensor_was_not_built_with_reads_unknown(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """A state from newer firmware (before the entry reloads with its declaration) is unknown."""
    washer = await _start(start_appliance, ApplianceType.LAUNDRY_WASHER)
    entity = _sensor(hass, washer, "phase")
    assert current_state(hass, entity).state == "idle"
    coordinator = washer.coordinator
    newer = ApplianceState({**coordinator.values, "phase": "steaming"}, coordinator.reads)
    coordinator.async_set_updated_data(newer)
    await hass.async_block_till_done()
    assert current_state(hass, entity).state == STATE_UNKNOWN
