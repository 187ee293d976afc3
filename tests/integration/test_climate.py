"""The air conditioner's climate entity against a real simulated appliance."""

from __future__ import annotations

from typing import Any

from homeassistant.components.climate import (
    DATA_COMPONENT as CLIMATE_DATA_COMPONENT,
    ClimateEntity,
)
from homeassistant.components.climate.const import (
    ATTR_CURRENT_HUMIDITY,
    ATTR_CURRENT_TEMPERATURE,
    ATTR_FAN_MODE,
    ATTR_HVAC_ACTION,
    ATTR_HVAC_MODE,
    ATTR_PRESET_MODE,
    ATTR_SWING_MODE,
    DOMAIN as CLIMATE_DOMAIN,
    SERVICE_SET_FAN_MODE,
    SERVICE_SET_HVAC_MODE,
    SERVICE_SET_PRESET_MODE,
    SERVICE_SET_SWING_MODE,
    SERVICE_SET_TEMPERATURE,
    HVACAction,
    HVACMode,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_TEMPERATURE,
    MAJOR_VERSION,
    MINOR_VERSION,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.link.model import ApplianceType

from .conftest import PairedAppliance, StartAppliance, current_state
from .platform_helpers import entity_id, only_platform, wait_for_state

AC = ApplianceType.ROOM_AIR_CONDITIONER


@pytest.fixture
async def ac(start_appliance: StartAppliance) -> PairedAppliance:
    """A simulated air conditioner with only the climate platform set up."""
    with only_platform(Platform.CLIMATE):
        return await start_appliance(AC)


def _climate(hass: HomeAssistant, ac: PairedAppliance) -> str:
    return entity_id(hass, "climate", ac.appliance.id, "climate")


async def _call(hass: HomeAssistant, service: str, entity: str, **data: Any) -> None:
    await hass.services.async_call(
        CLIMATE_DOMAIN, service, {ATTR_ENTITY_ID: entity, **data}, blocking=True
    )


async def test_climate_entity(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    ac: PairedAppliance,
) -> None:
    """The entity mirrors the declared modes, bounds, fan speeds, swing and presets."""
    await snapshot_platform(hass, entity_registry, snapshot, ac.entry.entry_id)
    state = hass.states.get(_climate(hass, ac))
    assert state is not None
    declaration = ac.simulator.declaration
    values = ac.simulator.values()
    setpoint = declaration.capabilities["target_temperature"]
    assert state.attributes["min_temp"] == setpoint.minimum
    assert state.attributes["max_temp"] == setpoint.maximum
    assert state.attributes["target_temp_step"] == setpoint.step
    assert state.attributes["fan_modes"] == list(declaration.capabilities["fan_speed"].options)
    assert state.attributes[ATTR_CURRENT_TEMPERATURE] == values["temperature"]
    assert state.attributes[ATTR_CURRENT_HUMIDITY] == values["humidity"]
    assert HVACMode.OFF in state.attributes["hvac_modes"]
    # The entity carries the device's name (it is the appliance's main feature).
    assert state.name == ac.entry.title


async def test_hvac_mode_and_power(hass: HomeAssistant, ac: PairedAppliance) -> None:
    """Switching on in a mode is one write; off, on and back reach the unit."""
    climate = _climate(hass, ac)
    await _call(hass, SERVICE_SET_HVAC_MODE, climate, **{ATTR_HVAC_MODE: HVACMode.COOL})
    assert ac.simulator.values()["on"] is True
    assert ac.simulator.values()["mode"] == "cool"
    await wait_for_state(hass, climate, lambda s: s.state == HVACMode.COOL)

    await _call(hass, SERVICE_SET_HVAC_MODE, climate, **{ATTR_HVAC_MODE: HVACMode.HEAT_COOL})
    assert ac.simulator.values()["mode"] == "auto"
    await wait_for_state(hass, climate, lambda s: s.state == HVACMode.HEAT_COOL)

    await _call(hass, SERVICE_TURN_OFF, climate)
    assert ac.simulator.values()["on"] is False
    await wait_for_state(hass, climate, lambda s: s.state == HVACMode.OFF)

    await _call(hass, SERVICE_TURN_ON, climate)
    assert ac.simulator.values()["on"] is True
    # Back on in the mode it had.
    await wait_for_state(hass, climate, lambda s: s.state == HVACMode.HEAT_COOL)

    await _call(hass, SERVICE_SET_HVAC_MODE, climate, **{ATTR_HVAC_MODE: HVACMode.OFF})
    assert ac.simulator.values()["on"] is False
    await wait_for_state(hass, climate, lambda s: s.state == HVACMode.OFF)


async def test_hvac_action_says_what_the_unit_does(
    hass: HomeAssistant, ac: PairedAppliance
) -> None:
    """Off, idle while the compressor rests, cooling, drying, fan: as the unit reports."""
    climate = _climate(hass, ac)
    simulator = ac.simulator

    async def action_after_a_minute() -> str:
        simulator.step(60.0)  # the physics stands still in these tests: move it on
        await ac.push()
        state = await wait_for_state(
            hass,
            climate,
            lambda s: s.attributes.get(ATTR_HVAC_ACTION) == _ACTIONS[simulator.unit.running_state],
        )
        return str(state.attributes[ATTR_HVAC_ACTION])

    assert current_state(hass, climate).attributes[ATTR_HVAC_ACTION] == HVACAction.OFF
    # On, heating towards 16 °C in a summer room: nothing to do, the unit idles.
    await _call(
        hass, SERVICE_SET_TEMPERATURE, climate, **{ATTR_TEMPERATURE: 16, ATTR_HVAC_MODE: "heat"}
    )
    assert await action_after_a_minute() == HVACAction.IDLE
    await _call(hass, SERVICE_SET_HVAC_MODE, climate, **{ATTR_HVAC_MODE: HVACMode.COOL})
    assert await action_after_a_minute() == HVACAction.COOLING
    await _call(hass, SERVICE_SET_HVAC_MODE, climate, **{ATTR_HVAC_MODE: HVACMode.DRY})
    assert await action_after_a_minute() == HVACAction.DRYING
    await _call(hass, SERVICE_SET_HVAC_MODE, climate, **{ATTR_HVAC_MODE: HVACMode.FAN_ONLY})
    assert await action_after_a_minute() == HVACAction.FAN
    await _call(hass, SERVICE_TURN_OFF, climate)
    await wait_for_state(
        hass, climate, lambda s: s.attributes.get(ATTR_HVAC_ACTION) == HVACAction.OFF
    )


_ACTIONS = {
    "idle": HVACAction.IDLE,
    "cooling": HVACAction.COOLING,
    "heating": HVACAction.HEATING,
    "drying": HVACAction.DRYING,
    "fan": HVACAction.FAN,
}


async def test_set_temperature(hass: HomeAssistant, ac: PairedAppliance) -> None:
    """The setpoint, alone or with a mode, reaches the unit; whole numbers go as such."""
    climate = _climate(hass, ac)
    await _call(hass, SERVICE_SET_TEMPERATURE, climate, **{ATTR_TEMPERATURE: 24.5})
    assert ac.simulator.values()["target_temperature"] == 24.5
    await wait_for_state(hass, climate, lambda s: s.attributes["temperature"] == 24.5)

    await _call(
        hass,
        SERVICE_SET_TEMPERATURE,
        climate,
        **{ATTR_TEMPERATURE: 21, ATTR_HVAC_MODE: HVACMode.HEAT},
    )
    values = ac.simulator.values()
    assert (values["target_temperature"], values["on"], values["mode"]) == (21, True, "heat")
    await wait_for_state(
        hass, climate, lambda s: s.state == HVACMode.HEAT and s.attributes["temperature"] == 21
    )

    await _call(
        hass,
        SERVICE_SET_TEMPERATURE,
        climate,
        **{ATTR_TEMPERATURE: 20, ATTR_HVAC_MODE: HVACMode.OFF},
    )
    values = ac.simulator.values()
    assert (values["target_temperature"], values["on"]) == (20, False)


async def test_fan_swing_and_presets(hass: HomeAssistant, ac: PairedAppliance) -> None:
    """Fan speed, swing and the eco/sleep presets reach the unit and come back."""
    climate = _climate(hass, ac)
    await _call(hass, SERVICE_SET_FAN_MODE, climate, **{ATTR_FAN_MODE: "high"})
    assert ac.simulator.values()["fan_speed"] == "high"
    await wait_for_state(hass, climate, lambda s: s.attributes[ATTR_FAN_MODE] == "high")

    await _call(hass, SERVICE_SET_SWING_MODE, climate, **{ATTR_SWING_MODE: "vertical"})
    assert ac.simulator.values()["swing"] == "vertical"
    await wait_for_state(hass, climate, lambda s: s.attributes[ATTR_SWING_MODE] == "vertical")

    await _call(hass, SERVICE_SET_PRESET_MODE, climate, **{ATTR_PRESET_MODE: "eco"})
    assert (ac.simulator.values()["eco"], ac.simulator.values()["sleep"]) == (True, False)
    await wait_for_state(hass, climate, lambda s: s.attributes[ATTR_PRESET_MODE] == "eco")

    # One preset at a time: sleep switches eco off in the same write.
    await _call(hass, SERVICE_SET_PRESET_MODE, climate, **{ATTR_PRESET_MODE: "sleep"})
    assert (ac.simulator.values()["eco"], ac.simulator.values()["sleep"]) == (False, True)
    await wait_for_state(hass, climate, lambda s: s.attributes[ATTR_PRESET_MODE] == "sleep")

    await _call(hass, SERVICE_SET_PRESET_MODE, climate, **{ATTR_PRESET_MODE: "none"})
    assert (ac.simulator.values()["eco"], ac.simulator.values()["sleep"]) == (False, False)
    await wait_for_state(hass, climate, lambda s: s.attributes[ATTR_PRESET_MODE] == "none")


async def test_pushed_changes(hass: HomeAssistant, ac: PairedAppliance) -> None:
    """Changes made at the unit (its remote) and by its physics show up in Home Assistant."""
    climate = _climate(hass, ac)
    ac.simulator.write("on", True)
    ac.simulator.write("mode", "dry")
    ac.simulator.write("target_temperature", 26.5)
    await ac.push()
    state = await wait_for_state(hass, climate, lambda s: s.state == HVACMode.DRY)
    assert state.attributes["temperature"] == 26.5

    before = ac.simulator.values()["temperature"]
    ac.simulator.write("mode", "cool")
    ac.simulator.write("target_temperature", 16)
    ac.simulator.write("fan_speed", "high")
    await ac.appliance.mcu.advance(1800)
    after = ac.simulator.values()["temperature"]
    assert after != before
    await wait_for_state(hass, climate, lambda s: s.attributes[ATTR_CURRENT_TEMPERATURE] == after)


async def test_rejections(hass: HomeAssistant, ac: PairedAppliance) -> None:
    """Values the unit cannot take fail with a translated reason and change nothing."""
    climate = _climate(hass, ac)
    before = ac.simulator.values()
    # Inside the bounds but off the declared 0.5 step: the hub's validation says why.
    with pytest.raises(HomeAssistantError) as error:
        await _call(hass, SERVICE_SET_TEMPERATURE, climate, **{ATTR_TEMPERATURE: 22.3})
    assert error.value.translation_key == "value_out_of_range"
    assert error.value.translation_placeholders is not None
    assert error.value.translation_placeholders["key"] == "target_temperature"
    # Outside the declared bounds: Home Assistant's own check, from the declared min/max.
    with pytest.raises(ServiceValidationError) as error:
        await _call(hass, SERVICE_SET_TEMPERATURE, climate, **{ATTR_TEMPERATURE: 35})
    assert error.value.translation_key == "temp_out_of_range"
    # Home Assistant's "auto" is a schedule; the unit has no such mode. From 2025.7
    # Home Assistant rejects a mode the entity does not list before calling it.
    with pytest.raises(ServiceValidationError) as error:
        await _call(hass, SERVICE_SET_HVAC_MODE, climate, **{ATTR_HVAC_MODE: HVACMode.AUTO})
    if (MAJOR_VERSION, MINOR_VERSION) >= (2025, 7):
        assert error.value.translation_domain == "climate"
        assert error.value.translation_key == "not_valid_hvac_mode"
    else:
        assert error.value.translation_domain == DOMAIN
        assert error.value.translation_key == "value_out_of_range"
        assert error.value.translation_placeholders is not None
        assert error.value.translation_placeholders["key"] == "hvac_mode"
    with pytest.raises(ServiceValidationError) as error:
        await _call(hass, SERVICE_SET_FAN_MODE, climate, **{ATTR_FAN_MODE: "turbo"})
    assert error.value.translation_key == "not_valid_fan_mode"
    assert ac.simulator.values() == before


@pytest.fixture
async def ac_in_fahrenheit(hass: HomeAssistant, start_appliance: StartAppliance) -> PairedAppliance:
    """The air conditioner in a Home Assistant set to US customary units (°F)."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    with only_platform(Platform.CLIMATE):
        return await start_appliance(AC)


async def test_fahrenheit_bounds_and_step_are_whole_degrees(
    hass: HomeAssistant, ac_in_fahrenheit: PairedAppliance
) -> None:
    """16-30 °C in 0.5 °C steps is offered as 61-86 °F in 1 °F steps, inside the unit's range."""
    state = hass.states.get(_climate(hass, ac_in_fahrenheit))
    assert state is not None
    assert (
        state.attributes["min_temp"],
        state.attributes["max_temp"],
        state.attributes["target_temp_step"],
    ) == (61, 86, 1)


async def test_every_fahrenheit_setpoint_the_card_offers_reaches_the_unit(
    hass: HomeAssistant, ac_in_fahrenheit: PairedAppliance
) -> None:
    """From min_temp to max_temp in target_temp_step (the card's arrows), each value is taken.

    72 °F is 22.22 °C, off the unit's 0.5 °C step: it is sent as 22 °C, which
    shows as 72 °F again. Every whole °F round-trips, and every press moves the
    setpoint (never a refused or silently kept value).
    """
    ac = ac_in_fahrenheit
    climate = _climate(hass, ac)
    attributes = current_state(hass, climate).attributes
    setpoint = ac.simulator.declaration.capabilities["target_temperature"]
    fahrenheit = attributes["min_temp"]
    sent: dict[float, float] = {}
    while fahrenheit <= attributes["max_temp"]:
        await _call(hass, SERVICE_SET_TEMPERATURE, climate, **{ATTR_TEMPERATURE: fahrenheit})
        celsius = ac.simulator.values()["target_temperature"]
        assert setpoint.minimum <= celsius <= setpoint.maximum
        assert (celsius - setpoint.minimum) / setpoint.step == int(
            (celsius - setpoint.minimum) / setpoint.step
        )
        await wait_for_state(
            hass, climate, lambda s, asked=fahrenheit: s.attributes["temperature"] == asked
        )
        sent[fahrenheit] = celsius
        fahrenheit += attributes["target_temp_step"]
    celsius_sent = list(sent.values())
    assert (celsius_sent[0], celsius_sent[-1]) == (setpoint.minimum, setpoint.maximum)
    assert celsius_sent == sorted(set(celsius_sent))  # every press moved the setpoint
    assert sent[72] == 22  # the example of the report


async def test_fahrenheit_outside_the_bounds_is_refused(
    hass: HomeAssistant, ac_in_fahrenheit: PairedAppliance
) -> None:
    """Below 61 °F or above 86 °F: Home Assistant's own translated range error, nothing sent."""
    ac = ac_in_fahrenheit
    climate = _climate(hass, ac)
    before = ac.simulator.values()["target_temperature"]
    for fahrenheit in (60, 87):
        with pytest.raises(ServiceValidationError) as error:
            await _call(hass, SERVICE_SET_TEMPERATURE, climate, **{ATTR_TEMPERATURE: fahrenheit})
        assert error.value.translation_key == "temp_out_of_range"
    assert ac.simulator.values()["target_temperature"] == before


async def test_unavailable_while_disconnected(hass: HomeAssistant, ac: PairedAppliance) -> None:
    """Unavailable while the unit is off the network; a command then fails loudly."""
    climate = _climate(hass, ac)
    await ac.appliance.stop()
    await wait_for_state(hass, climate, lambda s: s.state == STATE_UNAVAILABLE)
    # Home Assistant skips unavailable entities in service calls; a command that
    # races the disconnect reaches the entity and must fail with a reason.
    entity = hass.data[CLIMATE_DATA_COMPONENT].get_entity(climate)
    assert entity is not None
    with pytest.raises(HomeAssistantError) as error:
        await entity.async_turn_on()
    assert error.value.translation_key == "appliance_unavailable"

    await ac.appliance.restart()
    ac.coordinator.async_wake_reconnect()
    await wait_for_state(hass, climate, lambda s: s.state != STATE_UNAVAILABLE)


def test_only_the_compatibility_shim_uses_the_pre_2026_11_temperature_names() -> None:
    """Home Assistant 2026.11 warns about (and 2027.11 breaks) subclasses defining them."""
    from custom_components.liuzhou_appliances import compat
    from custom_components.liuzhou_appliances.climate import LiuzhouClimate

    members = {"temperature_unit", "current_temperature", "target_temperature"}
    assert not (members | {f"_attr_{name}" for name in members}) & set(vars(LiuzhouClimate))
    native = hasattr(ClimateEntity, "native_current_temperature")
    assert compat.NATIVE_CLIMATE_TEMPERATURES is native
    shimmed = members & set(vars(compat.NativeTemperatureClimateEntity))
    assert shimmed == (set() if native else members)
