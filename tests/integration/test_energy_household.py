"""The household energy entry: menu, form validation, options, single instance, bad data."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.liuzhou_appliances.const import DOMAIN, HOUSEHOLD_UNIQUE_ID
from custom_components.liuzhou_appliances.energy.shedding import DEMAND_RESPONSE_LEVELS
from custom_components.liuzhou_appliances.energy.tariff import TimeOfUseTariff
from custom_components.liuzhou_appliances.energy_runtime import HouseholdEnergy
from custom_components.liuzhou_appliances.runtime_data import household_energy

from .energy_helpers import add_household

OVERLAPPING = "00:00-12:00 0.3\n11:00-24:00 0.6"


async def _household_form(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "household_energy"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "household_energy"
    return str(result["flow_id"])


@pytest.mark.parametrize(
    ("table", "detail"),
    [
        (OVERLAPPING, "11:00-24:00 与 00:00-12:00 从 11:00 起重叠"),
        ("22:00 0.3", "第 1 行：请写成“HH:MM-HH:MM 电价”，例如 22:00-06:00 0.3"),
        ("00:00-12:00 0.3\n12:00-23:00 0.6", "一天中有 60 分钟没有电价，第一个从 23:00 开始"),
        ("00:00-12:00 0.3\n12:00-25:00 0.6", "12:00-25:00：25:00 不是 00:00 到 24:00 之间的时间"),
    ],
)
async def test_a_mistake_in_the_table_is_described_in_chinese(
    hass: HomeAssistant, table: str, detail: str
) -> None:
    """What is wrong with a typed table reads in the home's language, with the user's own times."""
    hass.config.language = "zh-Hans"
    flow_id = await _household_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"tariff": "custom_tou", "custom_table": table}
    )
    assert result["errors"] == {"custom_table": "custom_table_invalid"}
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["detail"] == detail


async def test_household_entry_validates_then_is_created_once(hass: HomeAssistant) -> None:
    flow_id = await _household_form(hass)
    configure = hass.config_entries.flow.async_configure
    result = await configure(flow_id, {"tariff": "sensor"})
    assert result["errors"] == {"price_entity": "price_entity_required"}
    result = await configure(flow_id, {"tariff": "custom_tou"})
    assert result["errors"] == {"custom_table": "custom_table_required"}
    result = await configure(flow_id, {"tariff": "custom_tou", "custom_table": OVERLAPPING})
    assert result["errors"] == {"custom_table": "custom_table_invalid"}
    assert result["description_placeholders"] is not None
    assert "overlap" in result["description_placeholders"]["detail"]
    result = await configure(flow_id, {"tariff": "custom_tou", "custom_table": "22:00 0.3"})
    assert result["description_placeholders"] is not None
    assert "HH:MM-HH:MM" in result["description_placeholders"]["detail"]
    result = await configure(
        flow_id, {"tariff": "residential_tiered", "home_power_entity": "sensor.home_power"}
    )
    assert result["errors"] == {"base": "shedding_needs_sensor_and_limit"}
    table = "22:00-06:00 0.3\n06:00-22:00 0.6"
    result = await configure(flow_id, {"tariff": "custom_tou", "custom_table": table})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == HOUSEHOLD_UNIQUE_ID
    assert entry.options["custom_table"] == table
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    manager = household_energy(hass)
    assert isinstance(manager, HouseholdEnergy)
    assert isinstance(manager.tariff, TimeOfUseTariff)
    # Single instance.
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await configure(result["flow_id"], {"next_step_id": "household_energy"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "household_already_configured"


async def test_options_flow_changes_the_tariff_and_reloads(hass: HomeAssistant) -> None:
    entry = await add_household(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "household"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"tariff": "custom_tou", "custom_table": OVERLAPPING}
    )
    assert result["errors"] == {"custom_table": "custom_table_invalid"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"tariff": "commercial_tou", "commercial_flat_price": 0.8}
    )
    # The second step: the house defaults rooms return to (room_options.py).
    assert result["step_id"] == "house_defaults"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    manager = household_energy(hass)
    assert manager is not None
    assert manager.tariff.name == "Guangxi commercial time-of-use"
    assert manager.entry.options["commercial_flat_price"] == 0.8
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert household_energy(hass) is None


async def test_stored_options_that_make_no_tariff_fail_setup_clearly(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=HOUSEHOLD_UNIQUE_ID,
        data={},
        options={"tariff": "custom_tou", "custom_table": OVERLAPPING},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert household_energy(hass) is None


async def test_household_diagnostics_show_the_settings(hass: HomeAssistant) -> None:
    from custom_components.liuzhou_appliances.diagnostics import (
        async_get_config_entry_diagnostics,
    )

    entry = await add_household(hass, tariff="commercial_tou")
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    # No appliance in an area yet: no rooms; no estate ids: no estate link.
    assert diagnostics == {
        "options": {"tariff": "commercial_tou"},
        "shed": [],
        "rooms": {"rooms": [], "audit_lines": 0},
        "estate": None,
    }


def test_new_texts_exist_in_both_languages() -> None:
    """Services, exceptions, selector and flow texts: the same keys, Chinese not copied."""
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN / "translations"
    english = json.loads((folder / "en.json").read_text(encoding="utf-8"))
    chinese = json.loads((folder / "zh-Hans.json").read_text(encoding="utf-8"))

    def shape(node: object) -> object:
        return {k: shape(v) for k, v in node.items()} if isinstance(node, dict) else None

    for section in ("config", "options", "exceptions", "selector", "services"):
        assert shape(english[section]) == shape(chinese[section]), section
    for key in (
        "tariff_invalid",
        "unknown_device",
        "device_not_loaded",
        "not_a_run_appliance",
        "household_not_configured",
        "unknown_programme",
        "plan_infeasible",
        "nothing_to_cancel",
        "unknown_demand_response_action",
        "unknown_demand_response_level",
        "invalid_demand_response_duration",
        "no_voice_panel",
        "announcement_empty",
        "panel_rejected",
        "voice_panel_timeout",
        "voice_panel_failed",
        "voice_panel_no_assist",
    ):
        assert english["exceptions"][key]["message"] != chinese["exceptions"][key]["message"]
    assert set(english["services"]) == {
        "plan_run",
        "cancel_run",
        "demand_response",
        "voice_log",
        "erase_voice_log",
        "set_room_state",
        "export_stay",
        "provision",
    }
    services_yaml = (folder.parent / "services.yaml").read_text(encoding="utf-8")
    for service, texts in english["services"].items():
        for field in texts.get("fields", {}):
            assert f"    {field}:" in services_yaml, (service, field)
    # Every select option in services.yaml and the household form has its label.
    for key, options in (
        ("demand_response_action", {"start", "stop"}),
        ("demand_response_level", set(DEMAND_RESPONSE_LEVELS)),
    ):
        assert f"translation_key: {key}" in services_yaml
        assert set(english["selector"][key]["options"]) == options
        assert english["selector"][key] != chinese["selector"][key]
