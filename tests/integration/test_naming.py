"""Names a person would give: new appliances are named after their type, in the server language.

Pairing ends in a name-and-area form suggesting the translated type ("Air
conditioner", "空调"), numbered only when the name is taken; the device shows
the translated type with the model code, and the appliance id as its serial
number. Entries made before keep their titles, devices and entity ids.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
import pytest

from custom_components.liuzhou_appliances.const import CONF_AREA_ID, DOMAIN, HOUSEHOLD_UNIQUE_ID
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.naming import async_type_name, first_free_name

from .conftest import PairedAppliance, StartAppliance, legacy_title
from .test_config_flow import discovery

if TYPE_CHECKING:
    from firmware_bridge.bridge import SimulatedProduct

type StartSimulated = Callable[..., Awaitable[SimulatedProduct]]

TYPE_NAMES = {
    "en": {
        ApplianceType.ROOM_AIR_CONDITIONER: "Air conditioner",
        ApplianceType.REFRIGERATOR: "Refrigerator",
        ApplianceType.LAUNDRY_WASHER: "Washing machine",
        ApplianceType.DISHWASHER: "Dishwasher",
    },
    "zh-Hans": {
        ApplianceType.ROOM_AIR_CONDITIONER: "空调",
        ApplianceType.REFRIGERATOR: "冰箱",
        ApplianceType.LAUNDRY_WASHER: "洗衣机",
        ApplianceType.DISHWASHER: "洗碗机",
    },
}


async def pair_by_hand(hass: HomeAssistant, appliance: SimulatedProduct) -> Any:
    """The manual flow up to its name-and-area form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "appliance"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": appliance.host, "port": appliance.port, "pairing_code": appliance.code},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "name"
    return result


def suggested(result: Any, field: str) -> Any:
    """The default a form field is pre-filled with."""
    for key in result["data_schema"].schema:
        if key == field:
            return key.default()
    raise AssertionError(f"no field {field}")


async def name_it(hass: HomeAssistant, result: Any, **answers: Any) -> Any:
    created = await hass.config_entries.flow.async_configure(result["flow_id"], answers)
    assert created["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert created["result"].state is ConfigEntryState.LOADED
    return created["result"]


def device_of(hass: HomeAssistant, appliance_id: str) -> dr.DeviceEntry:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, appliance_id)})
    assert device is not None
    return device


def climate_entity_id(hass: HomeAssistant, appliance_id: str) -> str | None:
    return er.async_get(hass).async_get_entity_id("climate", DOMAIN, f"{appliance_id}_climate")


async def unload_all(hass: HomeAssistant) -> None:
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
async def test_every_type_has_a_translated_name(hass: HomeAssistant, language: str) -> None:
    hass.config.language = language
    for kind in ApplianceType:
        assert await async_type_name(hass, kind) == TYPE_NAMES[language][kind]


def test_a_number_only_when_the_name_is_taken() -> None:
    assert first_free_name("Air conditioner", set()) == "Air conditioner"
    assert first_free_name("Air conditioner", {"Refrigerator"}) == "Air conditioner"
    assert first_free_name("Air conditioner", {"air conditioner"}) == "Air conditioner 2"
    taken = {"Air conditioner", "Air conditioner 2", "Air conditioner 4"}
    assert first_free_name("Air conditioner", taken) == "Air conditioner 3"
    assert first_free_name("空调", {"空调"}) == "空调 2"


async def test_two_air_conditioners_are_numbered_and_the_device_shows_type_and_model(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    first, second = await start_simulated(index=0), await start_simulated(index=1)
    result = await pair_by_hand(hass, first)
    assert suggested(result, "name") == "Air conditioner"
    assert result["description_placeholders"] == {
        "type": "Air conditioner",
        "model": first.model,
        "appliance_id": first.id,
    }
    entry = await name_it(hass, result)
    assert entry.title == "Air conditioner"
    result = await pair_by_hand(hass, second)
    assert suggested(result, "name") == "Air conditioner 2"
    assert (await name_it(hass, result)).title == "Air conditioner 2"

    device = device_of(hass, first.id)
    assert device.name == "Air conditioner"
    # Home Assistant shows "model (model id)": "Air conditioner (SIM-KFR-35GW)".
    assert (device.model, device.model_id, device.serial_number) == (
        "Air conditioner",
        first.model,
        first.id,
    )
    assert "room_air_conditioner" not in (device.model, device.model_id)
    assert device_of(hass, second.id).name == "Air conditioner 2"
    assert climate_entity_id(hass, first.id) == "climate.air_conditioner"
    assert climate_entity_id(hass, second.id) == "climate.air_conditioner_2"
    assert hass.states.get("climate.air_conditioner_2") is not None
    await unload_all(hass)


async def test_chinese_server_names_in_chinese(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    hass.config.language = "zh-Hans"
    washer = await start_simulated(ApplianceType.LAUNDRY_WASHER)
    result = await pair_by_hand(hass, washer)
    assert suggested(result, "name") == "洗衣机"
    assert result["description_placeholders"]["type"] == "洗衣机"
    entry = await name_it(hass, result)
    assert entry.title == "洗衣机"
    device = device_of(hass, washer.id)
    assert (device.name, device.model, device.model_id) == ("洗衣机", "洗衣机", washer.model)

    household = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    household = await hass.config_entries.flow.async_configure(
        household["flow_id"], {"next_step_id": "household_energy"}
    )
    household = await hass.config_entries.flow.async_configure(household["flow_id"], {})
    assert household["type"] is FlowResultType.CREATE_ENTRY
    assert household["result"].unique_id == HOUSEHOLD_UNIQUE_ID
    assert household["title"] == "家庭能源"
    await hass.async_block_till_done()
    await unload_all(hass)


async def test_english_household_title(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "household_energy"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["title"] == "Household energy"
    await hass.async_block_till_done()
    await unload_all(hass)


async def test_the_user_names_it_and_chooses_the_area(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    bedroom = ar.async_get(hass).async_create("Bedroom")
    ac = await start_simulated()
    result = await pair_by_hand(hass, ac)
    entry = await name_it(hass, result, name="  Bedroom AC ", area_id=bedroom.id)
    assert entry.title == "Bedroom AC"
    device = device_of(hass, ac.id)
    assert (device.name, device.area_id) == ("Bedroom AC", bedroom.id)
    assert climate_entity_id(hass, ac.id) == "climate.bedroom_ac"
    # The area was for the device's creation only: not kept, not applied again.
    assert CONF_AREA_ID not in entry.data
    dr.async_get(hass).async_update_device(device.id, area_id=None)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert device_of(hass, ac.id).area_id is None
    await unload_all(hass)


async def test_an_empty_name_means_the_type(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    fridge = await start_simulated(ApplianceType.REFRIGERATOR)
    entry = await name_it(hass, await pair_by_hand(hass, fridge), name=" ")
    assert entry.title == "Refrigerator"
    assert device_of(hass, fridge.id).area_id is None
    await unload_all(hass)


async def test_discovered_appliance_is_named_after_pairing(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    dishwasher = await start_simulated(ApplianceType.DISHWASHER)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(dishwasher)
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"pairing_code": dishwasher.code}
    )
    assert result["step_id"] == "name"
    assert suggested(result, "name") == "Dishwasher"
    assert (await name_it(hass, result)).title == "Dishwasher"
    await unload_all(hass)


async def test_existing_entries_keep_their_names_and_entity_ids(
    hass: HomeAssistant, start_appliance: StartAppliance, start_simulated: StartSimulated
) -> None:
    """An installation from before: its title, device name and entity ids stay as they were."""
    old: PairedAppliance = await start_appliance()
    title = legacy_title(old.coordinator.hello)
    assert old.entry.title == title
    entity_id = climate_entity_id(hass, old.appliance.id)
    assert entity_id is not None
    assert entity_id == "climate." + title.lower().replace("-", "_").replace(" ", "_")
    await hass.config_entries.async_reload(old.entry.entry_id)
    await hass.async_block_till_done()
    assert old.entry.title == title
    assert device_of(hass, old.appliance.id).name == title
    assert climate_entity_id(hass, old.appliance.id) == entity_id
    # The new type-based model shows on the old device too; its name does not change.
    assert device_of(hass, old.appliance.id).model == "Air conditioner"

    # A name the user gave a device counts as taken.
    dr.async_get(hass).async_update_device(
        device_of(hass, old.appliance.id).id, name_by_user="Air conditioner"
    )
    result = await pair_by_hand(hass, await start_simulated(index=1))
    assert suggested(result, "name") == "Air conditioner 2"
    await name_it(hass, result)
    await unload_all(hass)
