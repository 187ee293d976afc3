"""Selects (fridge mode, programmes, washer options) against real simulated appliances."""

from __future__ import annotations

from homeassistant.components.select import (
    ATTR_OPTION,
    ATTR_OPTIONS,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.liuzhou_appliances.link.model import ApplianceType

from .conftest import PairedAppliance, StartAppliance
from .platform_helpers import entity_id, only_platform, wait_for_state


async def _start(start_appliance: StartAppliance, kind: ApplianceType) -> PairedAppliance:
    with only_platform(Platform.SELECT):
        return await start_appliance(kind)


def _select(hass: HomeAssistant, appliance: PairedAppliance, key: str) -> str:
    return entity_id(hass, "select", appliance.appliance.id, key)


async def _choose(hass: HomeAssistant, entity: str, option: str) -> None:
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: entity, ATTR_OPTION: option},
        blocking=True,
    )


@pytest.mark.parametrize(
    "kind",
    [ApplianceType.REFRIGERATOR, ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER],
)
async def test_select_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    start_appliance: StartAppliance,
    kind: ApplianceType,
) -> None:
    """One select per declared enum setting, offering exactly the declared options."""
    appliance = await _start(start_appliance, kind)
    await snapshot_platform(hass, entity_registry, snapshot, appliance.entry.entry_id)
    declaration = appliance.simulator.declaration
    values = appliance.simulator.values()
    for entry in er.async_entries_for_config_entry(entity_registry, appliance.entry.entry_id):
        key = entry.unique_id.removeprefix(f"{appliance.appliance.id}_")
        state = hass.states.get(entry.entity_id)
        assert state is not None
        assert state.attributes[ATTR_OPTIONS] == list(declaration.capabilities[key].options)
        assert state.state == values[key]
    if kind is not ApplianceType.REFRIGERATOR:
        # The programme select offers the declared programmes, in their order.
        state = hass.states.get(_select(hass, appliance, "programme"))
        assert state is not None
        assert state.attributes[ATTR_OPTIONS] == [p.id for p in declaration.programmes]


async def test_fridge_mode(hass: HomeAssistant, start_appliance: StartAppliance) -> None:
    """Choosing a mode reaches the fridge and is confirmed by its push."""
    fridge = await _start(start_appliance, ApplianceType.REFRIGERATOR)
    mode = _select(hass, fridge, "mode")
    await _choose(hass, mode, "eco")
    assert fridge.simulator.values()["mode"] == "eco"
    await wait_for_state(hass, mode, lambda s: s.state == "eco")
    # Changed on the fridge's own panel.
    fridge.simulator.write("mode", "quick_freeze")
    await fridge.push()
    await wait_for_state(hass, mode, lambda s: s.state == "quick_freeze")


async def test_washer_programme_and_options(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Programme, water temperature, spin speed and rinses reach the washer."""
    washer = await _start(start_appliance, ApplianceType.LAUNDRY_WASHER)
    choices = {
        "programme": "cotton",
        "water_temperature": "60",
        "spin_speed": "1000",
        "rinses": "extra",
    }
    for key, option in choices.items():
        await _choose(hass, _select(hass, washer, key), option)
        assert washer.simulator.values()[key] == option
    for key, option in choices.items():
        await wait_for_state(hass, _select(hass, washer, key), lambda s, o=option: s.state == o)


async def test_dishwasher_programme(hass: HomeAssistant, start_appliance: StartAppliance) -> None:
    """The dishwasher programme reaches the appliance."""
    dishwasher = await _start(start_appliance, ApplianceType.DISHWASHER)
    programme = _select(hass, dishwasher, "programme")
    await _choose(hass, programme, "intensive")
    assert dishwasher.simulator.values()["programme"] == "intensive"
    await wait_for_state(hass, programme, lambda s: s.state == "intensive")


async def test_select_rejections(hass: HomeAssistant, start_appliance: StartAppliance) -> None:
    """Settings the washer refuses fail with the appliance's reason; nothing changes."""
    washer = await _start(start_appliance, ApplianceType.LAUNDRY_WASHER)
    programme = _select(hass, washer, "programme")
    water = _select(hass, washer, "water_temperature")
    await _choose(hass, programme, "wool")
    # A declared option the wool programme cannot do: the appliance rejects it.
    with pytest.raises(HomeAssistantError) as error:
        await _choose(hass, water, "90")
    assert error.value.translation_key == "value_out_of_range"
    assert error.value.translation_placeholders is not None
    assert error.value.translation_placeholders["key"] == "water_temperature"
    # Not an option at all: Home Assistant's own check.
    with pytest.raises(ServiceValidationError):
        await _choose(hass, water, "95")
    # Settings are fixed while a programme runs: sent anyway, refused by the washer.
    washer.simulator.command("start", {})
    await washer.push()
    with pytest.raises(HomeAssistantError) as error:
        await _choose(hass, programme, "quick")
    assert error.value.translation_key == "write_rejected"
    assert error.value.translation_placeholders is not None
    assert error.value.translation_placeholders["error"] == "INVALID_STATE"
    assert washer.simulator.values()["programme"] == "wool"
