"""The household energy entry's device: electricity price, tariff period, demand response."""

from __future__ import annotations

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.liuzhou_appliances.const import DOMAIN, HOUSEHOLD_UNIQUE_ID
from custom_components.liuzhou_appliances.energy.tariff import CHINA_TZ
from custom_components.liuzhou_appliances.entry_points import async_remove_config_entry_device

from .energy_helpers import VALLEY_NIGHT, add_household, at_valley_night

# Prices and periods depend on the hour: every test starts at 02:00 China time in July.
pytestmark = at_valley_night

GRID = "binary_sensor.grid_event"


def _state(hass: HomeAssistant, key: str) -> State:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{HOUSEHOLD_UNIQUE_ID}_{key}"
    )
    assert entity_id is not None, f"no household sensor {key}"
    state = hass.states.get(entity_id)
    assert state is not None
    return state


async def _at(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    """Move the clock to ``when`` (a whole minute) and let the minute's timers run."""
    freezer.move_to(when)
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done()


async def test_household_device_and_its_entities(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """A service device with price, period and demand response: its page is not empty."""
    entry = await add_household(hass)
    device = device_registry.async_get_device({(DOMAIN, HOUSEHOLD_UNIQUE_ID)})
    assert device is not None
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert device.name == entry.title
    assert device.model == "Guangxi residential (tiered, China time)"
    entities = er.async_entries_for_device(entity_registry, device.id)
    assert {e.unique_id for e in entities} == {
        f"{HOUSEHOLD_UNIQUE_ID}_{key}"
        for key in ("electricity_price", "tariff_period", "demand_response")
    } | {
        # The property's summary (room_energy_sensors.py).
        f"property_{key}"
        for key in (
            "power",
            "energy",
            "energy_cost",
            "energy_savings",
            "appliances_with_faults",
            "appliances_offline",
        )
    }
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
    # Residential: the first tier's price at every hour, so flat all day.
    price = _state(hass, "electricity_price")
    assert float(price.state) == 0.5283
    assert price.attributes["unit_of_measurement"] == "CNY/kWh"
    assert _state(hass, "tariff_period").state == "flat"
    assert _state(hass, "demand_response").state == "none"
    # Its own device cannot be removed from it.
    assert not await async_remove_config_entry_device(hass, entry, device)


async def test_household_device_names_its_tariff_in_the_home_language(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry
) -> None:
    """A Chinese home sees the tariff preset's Chinese name as the device's model."""
    hass.config.language = "zh-Hans"
    await add_household(hass)
    device = device_registry.async_get_device({(DOMAIN, HOUSEHOLD_UNIQUE_ID)})
    assert device is not None
    assert device.model == "广西居民阶梯电价（北京时间）"


async def test_price_and_period_follow_the_time_of_use_table(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Commercial time of use: valley at night, flat in the morning, critical peak in July."""
    await add_household(hass, tariff="commercial_tou", commercial_flat_price=0.8)
    # pytest.approx compares equal to floats, which mypy cannot know.
    assert (  # type: ignore[comparison-overlap]
        _state(hass, "tariff_period").state,
        float(_state(hass, "electricity_price").state),
    ) == (
        "valley",
        pytest.approx(0.4),
    )
    for hour, period, price in ((7, "flat", 0.8), (18, "critical_peak", 0.8 * 1.5 * 1.2)):
        await _at(hass, freezer, VALLEY_NIGHT.replace(hour=hour))
        assert _state(hass, "tariff_period").state == period
        assert float(_state(hass, "electricity_price").state) == pytest.approx(price)
    # October has no critical peak.
    await _at(hass, freezer, datetime(2026, 10, 15, 18, 0, tzinfo=CHINA_TZ))
    assert _state(hass, "tariff_period").state == "peak"


async def test_price_feed_has_a_price_but_no_period(hass: HomeAssistant) -> None:
    """A price sensor's reading is the price at once; a feed has no tariff periods."""
    hass.states.async_set("sensor.spot_price", "0.61", {"unit_of_measurement": "CNY/kWh"})
    await add_household(hass, tariff="sensor", price_entity="sensor.spot_price")
    assert float(_state(hass, "electricity_price").state) == 0.61
    assert _state(hass, "tariff_period").state == STATE_UNKNOWN
    hass.states.async_set("sensor.spot_price", "0.92", {"unit_of_measurement": "CNY/kWh"})
    await hass.async_block_till_done()
    assert float(_state(hass, "electricity_price").state) == 0.92
    hass.states.async_set("sensor.spot_price", "unavailable")
    await hass.async_block_till_done()
    assert _state(hass, "electricity_price").state == STATE_UNKNOWN


async def test_demand_response_shows_level_source_and_end(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The action's event and the grid-event entity's, the deeper level shown."""
    hass.states.async_set(GRID, "off")
    await add_household(hass, grid_event_entity=GRID, grid_event_level="moderate")
    assert await async_setup_component(hass, "homeassistant", {})
    state = _state(hass, "demand_response")
    assert (state.state, state.attributes["source"], state.attributes["end"]) == (
        "none",
        None,
        None,
    )
    hass.states.async_set(GRID, "on")
    await hass.async_block_till_done()
    state = _state(hass, "demand_response")
    assert state.state == "moderate"
    assert state.attributes["source"] == "grid_event_entity"
    assert state.attributes["end"] is None  # until the entity turns off

    await hass.services.async_call(
        DOMAIN,
        "demand_response",
        {"action": "start", "level": "critical", "duration": {"minutes": 30}},
        blocking=True,
    )
    state = _state(hass, "demand_response")
    assert (state.state, state.attributes["source"]) == ("critical", "action")
    end = dt_util.parse_datetime(state.attributes["end"])
    assert end is not None
    assert abs((end - (dt_util.utcnow() + timedelta(minutes=30))).total_seconds()) < 5
    # The action's half hour is over: the entity's event is still on.
    await _at(hass, freezer, end + timedelta(seconds=1))
    state = _state(hass, "demand_response")
    assert (state.state, state.attributes["source"]) == ("moderate", "grid_event_entity")
    hass.states.async_set(GRID, "off")
    await hass.async_block_till_done()
    assert _state(hass, "demand_response").state == "none"


async def test_household_entities_go_with_the_entry(hass: HomeAssistant) -> None:
    """Unloading the household entry unloads its sensors; a reload brings them back."""
    entry: MockConfigEntry = await add_household(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert _state(hass, "tariff_period").state == "unavailable"
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _state(hass, "tariff_period").state == "flat"
