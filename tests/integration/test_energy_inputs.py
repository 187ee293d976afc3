"""Household inputs on the Home Assistant side: price sensor, kW sensors, occupancy, bad options."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)

from custom_components.liuzhou_appliances.const import DOMAIN, HOUSEHOLD_UNIQUE_ID
from custom_components.liuzhou_appliances.energy.tariff import SensorPriceTariff
from custom_components.liuzhou_appliances.energy_runtime import HouseholdEnergy
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.runtime_data import household_energy

from .conftest import StartAppliance
from .energy_helpers import add_household, entity_id


def _manager(hass: HomeAssistant) -> HouseholdEnergy:
    manager = household_energy(hass)
    assert manager is not None
    return manager


async def test_sensor_tariff_follows_the_price_sensor(hass: HomeAssistant) -> None:
    hass.states.async_set("sensor.price", "0.82", {"unit_of_measurement": "CNY/kWh"})
    await add_household(hass, tariff="sensor", price_entity="sensor.price")
    manager = _manager(hass)
    assert isinstance(manager.tariff, SensorPriceTariff)
    assert manager.price_now(dt_util.utcnow()) == pytest.approx(0.82)
    hass.states.async_set("sensor.price", "0.31", {"unit_of_measurement": "CNY/kWh"})
    assert manager.price_now(dt_util.utcnow()) == pytest.approx(0.31)
    # Not a number, or unavailable: no price (the AC then falls back), never an exception.
    hass.states.async_set("sensor.price", "cheap")
    assert manager.price_now(dt_util.utcnow()) is None
    hass.states.async_set("sensor.price", "unavailable")
    assert manager.price_now(dt_util.utcnow()) is None


async def test_planning_context_reads_power_sensors_in_kw(hass: HomeAssistant) -> None:
    hass.states.async_set("sensor.home_power", "2.5", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.solar", "1.2", {"unit_of_measurement": "kW"})
    await add_household(
        hass,
        home_power_entity="sensor.home_power",
        power_limit_kw=9.0,
        solar_surplus_entity="sensor.solar",
        power_cap_kw=4.0,
    )
    context = _manager(hass).planning_context(dt_util.utcnow(), 500.0)
    assert context.base_load_w == pytest.approx(2000.0)  # the appliance's own 500 W left out
    assert context.power_cap_w == pytest.approx(4000.0)
    assert context.surplus is not None
    # pytest.approx compares equal to floats, which mypy cannot know.
    assert context.surplus.watts == (pytest.approx(1200.0),)  # type: ignore[comparison-overlap]
    # Watts stay watts; a home below the appliance's own draw is no negative base load.
    hass.states.async_set("sensor.home_power", "300", {"unit_of_measurement": "W"})
    assert _manager(hass).planning_context(dt_util.utcnow(), 500.0).base_load_w == 0.0


@pytest.mark.parametrize(
    ("state", "expected"),
    [("on", 1.0), ("home", 1.0), ("not_home", 0.0), ("off", 0.0), ("paused", None)],
)
async def test_occupancy_states(hass: HomeAssistant, state: str, expected: float | None) -> None:
    hass.states.async_set("input_boolean.someone_in", state)
    await add_household(hass, occupancy_entity="input_boolean.someone_in")
    assert _manager(hass).occupancy() == expected


async def test_stored_sensor_tariff_without_a_sensor_fails_setup(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=HOUSEHOLD_UNIQUE_ID, data={}, options={"tariff": "sensor"}
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert household_energy(hass) is None


async def test_custom_table_price_that_is_not_a_number_is_named(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "household_energy"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"tariff": "custom_tou", "custom_table": "22:00-06:00 0.3\n06:00-22:00 dear"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"custom_table": "custom_table_invalid"}
    assert result["description_placeholders"] is not None
    assert result["description_placeholders"]["detail"] == "line 2: 'dear' is not a price"


async def test_preset_select_and_a_corrupt_restored_savings_total(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER, setup=False)
    suffix = ac.appliance.id.replace("-", "_")
    from homeassistant.helpers import entity_registry as er

    er.async_get(hass).async_get_or_create(
        "sensor",
        DOMAIN,
        f"{ac.appliance.id}_energy_savings",
        suggested_object_id=f"restored_{suffix}",
        config_entry=ac.entry,
    )
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(f"sensor.restored_{suffix}", "garbled"),
                {"native_value": "garbled", "native_unit_of_measurement": "CNY"},
            )
        ],
    )
    await hass.config_entries.async_setup(ac.entry.entry_id)
    await hass.async_block_till_done()
    status = entity_id(hass, "sensor", ac.appliance.id, "energy_status")
    assert hass.states.get(status).state == "not_configured"  # type: ignore[union-attr]
    await add_household(hass)
    assert hass.states.get(status).state == "off"  # type: ignore[union-attr]
    energy = ac.entry.runtime_data.energy
    assert energy.savings.total == 0.0  # not a number: start from zero rather than fail
    assert hass.states.get(f"sensor.restored_{suffix}").state == "0.0"  # type: ignore[union-attr]
    select = entity_id(hass, "select", ac.appliance.id, "energy_preset")
    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": "eco"}, blocking=True
    )
    assert str(energy.preset) == "eco"
    assert hass.states.get(select).state == "eco"  # type: ignore[union-attr]
