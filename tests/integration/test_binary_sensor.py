"""Binary sensors of all four appliance types against real simulated appliances."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.liuzhou_appliances.link.model import ApplianceType

from .conftest import PairedAppliance, StartAppliance
from .platform_helpers import entity_id, only_platform, wait_for_state


async def _start(
    start_appliance: StartAppliance, kind: ApplianceType, *, enable_all: bool = False
) -> PairedAppliance:
    with only_platform(Platform.BINARY_SENSOR, enable_all=enable_all):
        return await start_appliance(kind)


def _state(hass: HomeAssistant, entity: str) -> str:
    state = hass.states.get(entity)
    assert state is not None, entity
    return state.state


def _binary(hass: HomeAssistant, appliance: PairedAppliance, key: str) -> str:
    return entity_id(hass, "binary_sensor", appliance.appliance.id, key)


@pytest.mark.parametrize("kind", list(ApplianceType))
async def test_binary_sensor_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    start_appliance: StartAppliance,
    kind: ApplianceType,
) -> None:
    """Every declared binary sensor with its device class, category and translated name."""
    appliance = await _start(start_appliance, kind, enable_all=True)
    await snapshot_platform(hass, entity_registry, snapshot, appliance.entry.entry_id)


async def test_fridge_diagnostics_and_defaults(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, start_appliance: StartAppliance
) -> None:
    """Compressor and defrost are diagnostic and disabled until wanted (they switch often)."""
    fridge = await _start(start_appliance, ApplianceType.REFRIGERATOR)
    compressor = entity_registry.async_get(_binary(hass, fridge, "compressor_running"))
    defrost = entity_registry.async_get(_binary(hass, fridge, "defrost_active"))
    assert compressor is not None
    assert defrost is not None
    assert compressor.entity_category is EntityCategory.DIAGNOSTIC
    assert compressor.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert defrost.entity_category is EntityCategory.DIAGNOSTIC
    assert defrost.disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_fridge_door_and_door_alarm(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Opening the door is pushed at once; left open, the door alarm follows."""
    fridge = await _start(start_appliance, ApplianceType.REFRIGERATOR)
    door = _binary(hass, fridge, "door_open")
    alarm = _binary(hass, fridge, "door_alarm")
    assert _state(hass, door) == STATE_OFF
    fridge.simulator.open_door()
    await fridge.push()
    await wait_for_state(hass, door, lambda s: s.state == STATE_ON)
    assert _state(hass, alarm) == STATE_OFF
    await fridge.appliance.mcu.advance(fridge.simulator.door_alarm_after_s + 5)
    await wait_for_state(hass, alarm, lambda s: s.state == STATE_ON)
    fridge.simulator.close_door()
    await fridge.push()
    await wait_for_state(hass, door, lambda s: s.state == STATE_OFF)
    await wait_for_state(hass, alarm, lambda s: s.state == STATE_OFF)


@pytest.mark.parametrize(
    ("kind", "codes"),
    [
        (ApplianceType.ROOM_AIR_CONDITIONER, ["outdoor_unit", "refrigerant_low"]),
        (ApplianceType.REFRIGERATOR, ["compressor"]),
        (ApplianceType.LAUNDRY_WASHER, ["drain"]),
        (ApplianceType.DISHWASHER, ["leak"]),
    ],
)
async def test_faults_list_their_codes(
    hass: HomeAssistant, start_appliance: StartAppliance, kind: ApplianceType, codes: list[str]
) -> None:
    """The problem sensor turns on with the active fault codes as an attribute."""
    appliance = await _start(start_appliance, kind)
    faults = _binary(hass, appliance, "faults")
    state = hass.states.get(faults)
    assert state is not None
    assert (state.state, state.attributes["faults"]) == (STATE_OFF, [])
    for code in codes:
        appliance.simulator.inject_fault(code)
    await appliance.push()
    state = await wait_for_state(hass, faults, lambda s: s.state == STATE_ON)
    assert state.attributes["faults"] == codes
    for code in codes:
        appliance.simulator.clear_fault(code)
    await appliance.push()
    state = await wait_for_state(hass, faults, lambda s: s.state == STATE_OFF)
    assert state.attributes["faults"] == []


async def test_washer_door_lock(hass: HomeAssistant, start_appliance: StartAppliance) -> None:
    """The lock sensor reads off (locked) while the washer runs, on (unlocked) when stopped."""
    washer = await _start(start_appliance, ApplianceType.LAUNDRY_WASHER)
    lock = _binary(hass, washer, "door_locked")
    assert _state(hass, lock) == STATE_ON
    washer.simulator.command("start", {})
    await washer.push()
    await wait_for_state(hass, lock, lambda s: s.state == STATE_OFF)
    washer.simulator.command("stop", {})
    await washer.push()
    await wait_for_state(hass, lock, lambda s: s.state == STATE_ON)


async def test_dishwasher_refills_and_door(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Rinse aid and salt report a refill need; the door reports open."""
    dishwasher = await _start(start_appliance, ApplianceType.DISHWASHER)
    simulator = dishwasher.simulator
    rinse_aid = _binary(hass, dishwasher, "rinse_aid_low")
    salt = _binary(hass, dishwasher, "salt_low")
    door = _binary(hass, dishwasher, "door_open")
    assert _state(hass, rinse_aid) == STATE_OFF
    simulator.rinse_aid_used = simulator.rinse_aid_cycles
    simulator.salt_used = simulator.salt_cycles
    simulator.open_door()
    await dishwasher.push()
    await wait_for_state(hass, rinse_aid, lambda s: s.state == STATE_ON)
    await wait_for_state(hass, salt, lambda s: s.state == STATE_ON)
    await wait_for_state(hass, door, lambda s: s.state == STATE_ON)
    simulator.refill()
    await dishwasher.push()
    await wait_for_state(hass, rinse_aid, lambda s: s.state == STATE_OFF)
    await wait_for_state(hass, salt, lambda s: s.state == STATE_OFF)


async def test_binary_sensors_unavailable_while_disconnected(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Unavailable while the appliance is off the network."""
    washer = await _start(start_appliance, ApplianceType.LAUNDRY_WASHER)
    await washer.appliance.stop()
    for key in ("faults", "door_locked"):
        await wait_for_state(
            hass, _binary(hass, washer, key), lambda s: s.state == STATE_UNAVAILABLE
        )
