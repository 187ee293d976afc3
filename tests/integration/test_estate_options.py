"""The household's estate options: checked ids, and homes without an estate or MQTT unaffected."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.liuzhou_appliances.const import CONF_BUILDING_ID, CONF_ESTATE_ID
from custom_components.liuzhou_appliances.estate_hub import EstateHub

from .energy_helpers import add_household


@pytest.mark.parametrize(
    ("ids", "errors"),
    [
        ({CONF_ESTATE_ID: "riverside"}, {"base": "estate_needs_both_ids"}),
        ({CONF_BUILDING_ID: "tower-a"}, {"base": "estate_needs_both_ids"}),
        (
            {CONF_ESTATE_ID: "river side", CONF_BUILDING_ID: "tower-a"},
            {CONF_ESTATE_ID: "estate_id_invalid"},
        ),
        (
            {CONF_ESTATE_ID: "riverside", CONF_BUILDING_ID: "tower/a"},
            {CONF_BUILDING_ID: "estate_id_invalid"},
        ),
        (
            {CONF_ESTATE_ID: "riverside", CONF_BUILDING_ID: "command"},
            {CONF_BUILDING_ID: "estate_id_invalid"},
        ),
    ],
)
async def test_estate_ids_checked(
    hass: HomeAssistant, ids: dict[str, str], errors: dict[str, str]
) -> None:
    entry = await add_household(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"tariff": "residential_tiered", **ids}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors


async def test_a_home_without_an_estate_does_not_load_mqtt(hass: HomeAssistant) -> None:
    entry = await add_household(hass)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.estate is None
    assert "mqtt" not in hass.config.components


async def test_an_estate_without_mqtt_works_locally(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """Estate ids but no MQTT integration: the household loads, one warning, nothing else."""
    entry = await add_household(hass, **{CONF_ESTATE_ID: "riverside", CONF_BUILDING_ID: "b1"})
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert isinstance(entry.runtime_data.estate, EstateHub)
    assert "MQTT integration is not set up" in caplog.text
    assert await hass.config_entries.async_unload(entry.entry_id)
