"""Home Assistant's Energy dashboard accepts the room, floor and property sensors."""

from __future__ import annotations

from typing import Any

from homeassistant.components.energy import data as energy_data
from homeassistant.components.energy.validate import async_validate
from homeassistant.components.recorder.core import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from .conftest import StartAppliance
from .energy_helpers import add_household
from .room_energy_helpers import count_to, group_entity, place, start_property


@pytest.fixture(autouse=True)
def _custom_integration_and_loopback(
    recorder_mock: Recorder, _custom_integration_and_loopback: None
) -> None:
    """The conftest fixture of this name, after the test recorder (which must come first)."""


async def test_energy_dashboard_accepts_rooms_floors_and_the_property(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Rooms and floors as devices' consumption, the property as the grid with its cost."""
    hass.config.currency = "CNY"
    assert await async_setup_component(hass, "energy", {})
    rooms = await start_property(hass, start_appliance)
    await add_household(hass)
    await place(hass, rooms.ac, rooms.room_101)
    await place(hass, rooms.fridge, rooms.room_201)
    await count_to(hass, rooms.ac, 1.5)

    def sensor(prefix: str, key: str) -> str:
        found = group_entity(hass, prefix, key)
        assert found is not None
        return found

    consumers = [
        sensor(f"room_{rooms.room_101}", "energy"),
        sensor(f"room_{rooms.room_201}", "energy"),
        sensor(f"floor_{rooms.floor_1}", "energy"),
        sensor(f"floor_{rooms.floor_2}", "energy"),
    ]
    manager = await energy_data.async_get_manager(hass)
    # The preferences as the frontend sends them (the TypedDicts want keys it leaves out).
    preferences: dict[str, Any] = {
        "device_consumption": [{"stat_consumption": c} for c in consumers],
        "energy_sources": [
            {
                "type": "grid",
                "flow_from": [
                    {
                        "stat_energy_from": sensor("property", "energy"),
                        "stat_cost": sensor("property", "energy_cost"),
                        "entity_energy_price": None,
                        "number_energy_price": None,
                    },
                    {
                        "stat_energy_from": sensor(f"room_{rooms.room_101}", "energy"),
                        "stat_cost": sensor(f"room_{rooms.room_101}", "energy_cost"),
                        "entity_energy_price": None,
                        "number_energy_price": None,
                    },
                ],
                "flow_to": [],
                "cost_adjustment_day": 0,
            }
        ],
    }
    await manager.async_update(preferences)  # type: ignore[arg-type]
    await async_wait_recording_done(hass)
    # Compile the statistics the dashboard reads (the recorder does this every 5 minutes).
    now = dt_util.utcnow()
    period = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    do_adhoc_statistics(hass, start=period)
    await async_wait_recording_done(hass)

    result = await async_validate(hass)
    assert len(result.device_consumption) == len(consumers)
    assert [device.issues for device in result.device_consumption] == [{}] * len(consumers)
    assert len(result.energy_sources) == 1
    assert result.energy_sources[0].issues == {}
