"""Energy per room, per floor and for the property (room_energy.py, room_energy_sensors.py).

Real simulated appliances are placed in Home Assistant areas on floors; their
counters move, they move between rooms, go offline, and Home Assistant
restarts. Rooms' and floors' energy must be what their members used while
members, never going down and never jumping.
"""

from __future__ import annotations

from datetime import timedelta
import json

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    mock_restore_cache_with_extra_data,
)

from custom_components.liuzhou_appliances import room_energy_sensors
from custom_components.liuzhou_appliances.const import DOMAIN, HOUSEHOLD_UNIQUE_ID
from custom_components.liuzhou_appliances.room_index import (
    floor_device_identifier,
    room_device_identifier,
)
from firmware_bridge.bridge import simulator_state_path

from .conftest import StartAppliance, current_state
from .energy_helpers import add_household, entity_id
from .platform_helpers import wait_for_state
from .room_energy_helpers import (
    Property,
    appliance_energy,
    approx,
    count_to,
    device_of,
    group_entity,
    group_value,
    place,
    price,
    start_property,
)


async def _placed_property(hass: HomeAssistant, start_appliance: StartAppliance) -> Property:
    """AC and washer in room 101 (floor 1), fridge in room 201 (floor 2), with counters."""
    rooms = await start_property(hass, start_appliance)
    await count_to(hass, rooms.ac, 100.0)
    await count_to(hass, rooms.washer, 40.0)
    await count_to(hass, rooms.fridge, 7.0)
    await add_household(hass)
    await place(hass, rooms.ac, rooms.room_101)
    await place(hass, rooms.washer, rooms.room_101)
    await place(hass, rooms.fridge, rooms.room_201)
    return rooms


async def test_rooms_floors_and_property_sum_what_their_appliances_use(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    rooms = await _placed_property(hass, start_appliance)
    room_101, floor_1 = f"room_{rooms.room_101}", f"floor_{rooms.floor_1}"
    room_201, floor_2 = f"room_{rooms.room_201}", f"floor_{rooms.floor_2}"
    # The counters' totals from before the household and its rooms existed count for none.
    for prefix in (room_101, room_201, floor_1, floor_2, "property"):
        assert group_value(hass, prefix, "energy") == 0.0
        assert group_value(hass, prefix, "energy_cost") == 0.0
    # Room 102 holds no appliance: it is no room, and has no sensors.
    assert group_entity(hass, f"room_{rooms.room_102}", "energy") is None

    await count_to(hass, rooms.ac, 101.25)
    await count_to(hass, rooms.washer, 40.5)
    await count_to(hass, rooms.fridge, 7.125)
    assert group_value(hass, room_101, "energy") == approx(1.75)
    assert group_value(hass, floor_1, "energy") == approx(1.75)
    assert group_value(hass, room_201, "energy") == approx(0.125)
    assert group_value(hass, floor_2, "energy") == approx(0.125)
    assert group_value(hass, "property", "energy") == approx(1.875)
    # Each kWh costs the price of the moment it was counted (one price over this test).
    assert group_value(hass, room_101, "energy_cost") == approx(1.75 * price(hass))
    assert group_value(hass, "property", "energy_cost") == approx(1.875 * price(hass))
    # Power: the members' power sensors added up.
    members_power = sum(
        float(current_state(hass, entity_id(hass, "sensor", m.appliance.id, "power")).state)
        for m in (rooms.ac, rooms.washer)
    )
    assert group_value(hass, room_101, "power") == pytest.approx(members_power)

    # The room's device is the household's, in its area, via the household's device.
    devices = dr.async_get(hass)
    device = devices.async_get_device({room_device_identifier(rooms.room_101)})
    household = devices.async_get_device({(DOMAIN, HOUSEHOLD_UNIQUE_ID)})
    assert device is not None
    assert household is not None
    assert device.area_id == rooms.room_101
    assert device.via_device_id == household.id
    assert device.name == "Tower A / 101"
    assert devices.async_get_device({floor_device_identifier(rooms.floor_1)}) is not None
    room_energy = group_entity(hass, room_101, "energy")
    assert room_energy == "sensor.tower_a_101_energy"
    attributes = current_state(hass, room_energy).attributes
    assert attributes["state_class"] == "total_increasing"
    assert attributes["device_class"] == "energy"
    assert attributes["unit_of_measurement"] == "kWh"
    cost = current_state(hass, str(group_entity(hass, room_101, "energy_cost"))).attributes
    assert (cost["state_class"], cost["device_class"], cost["unit_of_measurement"]) == (
        "total",
        "monetary",
        "CNY",
    )


async def test_floor_and_property_sensors_are_written_at_most_once_an_interval(
    hass: HomeAssistant, start_appliance: StartAppliance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rooms show each change; a floor and the property the last one, an interval later."""
    for kind in ("floor", "property"):
        monkeypatch.setitem(room_energy_sensors.WRITE_INTERVAL, kind, 60.0)
    rooms = await _placed_property(hass, start_appliance)
    room_101, floor_1 = f"room_{rooms.room_101}", f"floor_{rooms.floor_1}"
    await count_to(hass, rooms.ac, 101.25)
    await count_to(hass, rooms.washer, 40.5)
    await count_to(hass, rooms.fridge, 7.125)
    assert group_value(hass, room_101, "energy") == approx(1.75)
    # Written at the first change, not since: an earlier total is shown.
    assert group_value(hass, floor_1, "energy") != approx(1.75)
    assert group_value(hass, "property", "energy") != approx(1.875)

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await hass.async_block_till_done()
    assert group_value(hass, floor_1, "energy") == approx(1.75)
    assert group_value(hass, "property", "energy") == approx(1.875)


async def test_an_appliance_moving_rooms_neither_lowers_nor_raises_a_room(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    rooms = await _placed_property(hass, start_appliance)
    room_101, floor_1 = f"room_{rooms.room_101}", f"floor_{rooms.floor_1}"
    room_201, floor_2 = f"room_{rooms.room_201}", f"floor_{rooms.floor_2}"
    await count_to(hass, rooms.ac, 101.0)
    await count_to(hass, rooms.fridge, 7.5)

    await place(hass, rooms.ac, rooms.room_201)
    # Room 101 keeps what the AC used there; room 201 gets none of the AC's 101 kWh.
    assert group_value(hass, room_101, "energy") == approx(1.0)
    assert group_value(hass, room_201, "energy") == approx(0.5)
    await count_to(hass, rooms.ac, 102.5)
    assert group_value(hass, room_101, "energy") == approx(1.0)
    assert group_value(hass, floor_1, "energy") == approx(1.0)
    assert group_value(hass, room_201, "energy") == approx(2.0)
    assert group_value(hass, floor_2, "energy") == approx(2.0)
    assert group_value(hass, "property", "energy") == approx(3.0)

    # Within a floor, a move changes nothing for the floor.
    await place(hass, rooms.washer, rooms.room_102)
    await count_to(hass, rooms.washer, 41.0)
    assert group_value(hass, floor_1, "energy") == approx(2.0)
    assert group_value(hass, f"room_{rooms.room_102}", "energy") == approx(1.0)
    # Room 101 holds nothing now: it is no room any more.
    assert group_entity(hass, room_101, "energy") is None


async def test_an_offline_appliance_is_listed_and_adds_what_it_used_meanwhile(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    rooms = await _placed_property(hass, start_appliance)
    room_201 = f"room_{rooms.room_201}"
    offline = str(group_entity(hass, "property", "appliances_offline"))
    assert current_state(hass, offline).state == "0"
    fridge_energy = entity_id(hass, "sensor", rooms.fridge.appliance.id, "energy")

    appliance = rooms.fridge.appliance
    await appliance.power_cut()
    await wait_for_state(hass, fridge_energy, lambda s: s.state == STATE_UNAVAILABLE)
    state = await wait_for_state(hass, offline, lambda s: s.state == "1")
    fridge_name = device_of(hass, rooms.fridge).name
    assert state.attributes["rooms"] == {"Tower A / 201": [fridge_name]}
    assert state.attributes["without_room"] == []
    assert group_value(hass, room_201, "energy") == 0.0  # nothing lost, nothing invented

    # It used 0.75 kWh while the hub could not reach it; its counter says so once back.
    path = simulator_state_path(appliance.state_dir, appliance.id)
    saved = json.loads(path.read_text(encoding="utf-8"))
    saved["energy_kwh"] = 7.75
    path.write_text(json.dumps(saved), encoding="utf-8")
    await appliance.restart(power_cut=True)
    rooms.fridge.coordinator.async_wake_reconnect()
    await wait_for_state(hass, fridge_energy, lambda s: s.state == "7.75")
    await wait_for_state(hass, offline, lambda s: s.state == "0")
    assert group_value(hass, room_201, "energy") == approx(0.75)

    # An appliance in no room is listed apart.
    await place(hass, rooms.fridge, None)
    rooms.fridge.simulator.inject_fault(rooms.fridge.simulator.declaration.type_spec.fault_codes[0])
    await rooms.fridge.push()
    faults = await wait_for_state(
        hass,
        str(group_entity(hass, "property", "appliances_with_faults")),
        lambda s: s.state == "1",
    )
    assert faults.attributes["without_room"] == [fridge_name]


async def test_totals_survive_a_reload_and_a_restart(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    rooms = await _placed_property(hass, start_appliance)
    room_101 = f"room_{rooms.room_101}"
    await count_to(hass, rooms.ac, 102.0)
    household = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, HOUSEHOLD_UNIQUE_ID)
    assert household is not None
    cost = group_value(hass, room_101, "energy_cost")

    # The household entry reloads while the AC goes on counting.
    assert await hass.config_entries.async_unload(household.entry_id)
    await hass.async_block_till_done()
    await count_to(hass, rooms.ac, 103.0)
    assert await hass.config_entries.async_setup(household.entry_id)
    await hass.async_block_till_done()
    assert group_value(hass, room_101, "energy") == approx(3.0)
    assert group_value(hass, room_101, "energy_cost") == approx(cost + 1.0 * price(hass))


async def test_a_restart_continues_from_the_stored_totals(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """What a restart stores is read back; the kWh used while stopped are counted."""
    readings: dict[str, float] = {}
    stored = {
        "energy_kwh": 5.0,
        "cost": 2.5,
        "savings": 0.0,
        "energy_readings": readings,
        "savings_readings": {},
    }
    # The store is read when Home Assistant starts, before any entity is added.
    mock_restore_cache_with_extra_data(hass, [(State("sensor.tower_a_101_energy", "5.0"), stored)])
    rooms = await start_property(hass, start_appliance)
    await count_to(hass, rooms.ac, 110.0)
    await place(hass, rooms.ac, rooms.room_101)
    # The AC's counter read 108.5 when Home Assistant stopped (device ids are made at set-up).
    readings[device_of(hass, rooms.ac).id] = 108.5
    await add_household(hass)
    assert group_entity(hass, f"room_{rooms.room_101}", "energy") == "sensor.tower_a_101_energy"
    assert group_value(hass, f"room_{rooms.room_101}", "energy") == approx(6.5)
    assert group_value(hass, f"room_{rooms.room_101}", "energy_cost") == approx(
        2.5 + 1.5 * price(hass)
    )


async def test_damaged_stored_totals_start_from_zero(
    hass: HomeAssistant, start_appliance: StartAppliance, caplog: pytest.LogCaptureFixture
) -> None:
    mock_restore_cache_with_extra_data(
        hass, [(State("sensor.tower_a_101_energy", "5.0"), {"energy_kwh": "lots"})]
    )
    rooms = await start_property(hass, start_appliance)
    await place(hass, rooms.ac, rooms.room_101)
    await add_household(hass)
    assert group_value(hass, f"room_{rooms.room_101}", "energy") == 0.0
    assert "stored totals not usable" in caplog.text


async def test_a_room_that_no_longer_holds_appliances_goes_with_its_entities(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    rooms = await _placed_property(hass, start_appliance)
    room_201, floor_2 = f"room_{rooms.room_201}", f"floor_{rooms.floor_2}"
    energy = group_entity(hass, room_201, "energy")
    assert energy is not None
    await place(hass, rooms.fridge, rooms.room_101)
    await hass.async_block_till_done()
    devices = dr.async_get(hass)
    assert devices.async_get_device({room_device_identifier(rooms.room_201)}) is None
    assert devices.async_get_device({floor_device_identifier(rooms.floor_2)}) is None
    assert group_entity(hass, room_201, "energy") is None
    assert group_entity(hass, floor_2, "power") is None
    assert hass.states.get(energy) is None
    # The property's sensors stay; no household entity of the room is left.
    entities = er.async_entries_for_config_entry(
        er.async_get(hass),
        hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, HOUSEHOLD_UNIQUE_ID).entry_id,  # type: ignore[union-attr]
    )
    assert not [e for e in entities if e.unique_id.startswith(room_201)]
    assert group_value(hass, "property", "energy") == 0.0
    assert current_state(hass, str(group_entity(hass, "property", "energy"))).state not in (
        STATE_UNKNOWN,
        STATE_UNAVAILABLE,
    )
    # The fridge's energy now counts for room 101.
    await count_to(hass, rooms.fridge, 8.0)
    assert group_value(hass, f"room_{rooms.room_101}", "energy") == approx(1.0)
    assert appliance_energy(hass, rooms.fridge) == 8.0
