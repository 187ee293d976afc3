"""Compartment setpoints of the refrigerator against a real simulated appliance."""

from __future__ import annotations

from homeassistant.components.number.const import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.pushed_state import ApplianceState

from .conftest import PairedAppliance, StartAppliance, current_state
from .platform_helpers import entity_id, only_platform, wait_for_state


@pytest.fixture
async def fridge(start_appliance: StartAppliance) -> PairedAppliance:
    """A simulated refrigerator with only the number platform set up."""
    with only_platform(Platform.NUMBER):
        return await start_appliance(ApplianceType.REFRIGERATOR)


async def _set(hass: HomeAssistant, entity: str, value: float) -> None:
    await hass.services.async_call(
        NUMBER_DOMAIN, SERVICE_SET_VALUE, {ATTR_ENTITY_ID: entity, ATTR_VALUE: value}, blocking=True
    )


async def test_number_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    fridge: PairedAppliance,
) -> None:
    """One number per declared setpoint, with the declared bounds and step."""
    await snapshot_platform(hass, entity_registry, snapshot, fridge.entry.entry_id)
    declaration = fridge.simulator.declaration
    for key in ("fridge_target_temperature", "freezer_target_temperature"):
        if key not in declaration.capabilities:
            continue
        capability = declaration.capabilities[key]
        state = hass.states.get(entity_id(hass, "number", fridge.appliance.id, key))
        assert state is not None
        assert float(state.state) == fridge.simulator.values()[key]
        assert (state.attributes["min"], state.attributes["max"], state.attributes["step"]) == (
            capability.minimum,
            capability.maximum,
            capability.step,
        )


async def test_set_value_reaches_the_fridge(hass: HomeAssistant, fridge: PairedAppliance) -> None:
    """A new setpoint reaches the appliance and comes back pushed."""
    entity = entity_id(hass, "number", fridge.appliance.id, "fridge_target_temperature")
    current = fridge.simulator.values()["fridge_target_temperature"]
    wanted = 3 if current != 3 else 5
    await _set(hass, entity, wanted)
    assert fridge.simulator.values()["fridge_target_temperature"] == wanted
    await wait_for_state(hass, entity, lambda s: float(s.state) == wanted)

    # Changed on the appliance's own panel: pushed to Home Assistant.
    fridge.simulator.write("fridge_target_temperature", 7)
    await fridge.push()
    await wait_for_state(hass, entity, lambda s: float(s.state) == 7)


async def test_set_value_rejections(hass: HomeAssistant, fridge: PairedAppliance) -> None:
    """Off-step, out-of-range and not-now values fail with a translated reason."""
    entity = entity_id(hass, "number", fridge.appliance.id, "fridge_target_temperature")
    before = fridge.simulator.values()["fridge_target_temperature"]
    # Within the bounds but off the declared whole-degree step: rejected by the hub's check.
    with pytest.raises(HomeAssistantError) as error:
        await _set(hass, entity, 4.5)
    assert error.value.translation_key == "value_out_of_range"
    assert error.value.translation_placeholders is not None
    assert error.value.translation_placeholders["key"] == "fridge_target_temperature"
    # Outside the declared bounds: Home Assistant's check against the entity's min/max.
    with pytest.raises(ServiceValidationError) as error:
        await _set(hass, entity, 12)
    assert error.value.translation_key == "out_of_range"
    # In vacation mode the fridge holds 15 °C and refuses a setpoint: the appliance says why.
    fridge.simulator.write("mode", "vacation")
    with pytest.raises(HomeAssistantError) as error:
        await _set(hass, entity, 4)
    assert error.value.translation_key == "write_rejected"
    assert error.value.translation_placeholders is not None
    assert error.value.translation_placeholders["error"] == "INVALID_STATE"
    assert fridge.simulator.values()["fridge_target_temperature"] == before


async def test_unreported_value_reads_unknown(hass: HomeAssistant, fridge: PairedAppliance) -> None:
    """A setpoint missing from the appliance's state shows unknown, not a stale number."""
    entity = entity_id(hass, "number", fridge.appliance.id, "freezer_target_temperature")
    partial = dict(fridge.coordinator.data)
    del partial["freezer_target_temperature"]
    fridge.coordinator.async_set_updated_data(ApplianceState(partial, fridge.coordinator.reads))
    await wait_for_state(hass, entity, lambda s: s.state == STATE_UNKNOWN)


@pytest.fixture
async def fridge_in_fahrenheit(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> PairedAppliance:
    """The refrigerator in a Home Assistant set to US customary units (°F)."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    with only_platform(Platform.NUMBER):
        return await start_appliance(ApplianceType.REFRIGERATOR)


@pytest.mark.parametrize(
    ("key", "bounds_and_step"),
    [
        # 1-8 °C in 1 °C steps.
        ("fridge_target_temperature", (33, 47, 2)),
        # -24 to -16 °C in 1 °C steps: below zero in °C, around zero in °F.
        ("freezer_target_temperature", (-12, 4, 2)),
    ],
)
async def test_fahrenheit_steps_reach_every_setpoint(
    hass: HomeAssistant,
    fridge_in_fahrenheit: PairedAppliance,
    key: str,
    bounds_and_step: tuple[float, float, float],
) -> None:
    """In °F the slider's min, max and step give every declared setpoint, one per step.

    1 °C is 1.8 °F: a 1 °F step would ask for 40 °F = 4.44 °C, off the
    compartment's whole-degree step. The step offered is 2 °F, and each value
    is sent snapped to the nearest whole °C.
    """
    fridge = fridge_in_fahrenheit
    entity = entity_id(hass, "number", fridge.appliance.id, key)
    attributes = current_state(hass, entity).attributes
    assert (attributes["min"], attributes["max"], attributes["step"]) == bounds_and_step
    capability = fridge.simulator.declaration.capabilities[key]
    sent: list[float] = []
    fahrenheit = attributes["min"]
    while fahrenheit <= attributes["max"]:
        await _set(hass, entity, fahrenheit)
        celsius = fridge.simulator.values()[key]
        assert float(celsius).is_integer()
        shown = celsius * 1.8 + 32
        await wait_for_state(hass, entity, lambda s, shown=shown: abs(float(s.state) - shown) < 0.5)
        sent.append(celsius)
        fahrenheit += attributes["step"]
    # Every setpoint the compartment declares, in order, each reached once.
    assert sent == list(range(int(capability.minimum), int(capability.maximum) + 1))


async def test_fahrenheit_outside_the_bounds_is_refused(
    hass: HomeAssistant, fridge_in_fahrenheit: PairedAppliance
) -> None:
    """Beyond the shown bounds Home Assistant refuses with its own translated error."""
    fridge = fridge_in_fahrenheit
    entity = entity_id(hass, "number", fridge.appliance.id, "fridge_target_temperature")
    before = fridge.simulator.values()["fridge_target_temperature"]
    with pytest.raises(ServiceValidationError) as error:
        await _set(hass, entity, 50)
    assert error.value.translation_key == "out_of_range"
    assert fridge.simulator.values()["fridge_target_temperature"] == before
