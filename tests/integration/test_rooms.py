"""Rooms that follow occupancy, and a guest's data at check-out, against simulated appliances."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import json
import logging
import socket
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import area_registry as ar, device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.liuzhou_appliances.const import CONF_VOICE_LOG, DOMAIN, HOUSEHOLD_UNIQUE_ID
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.room_webhook import (
    CONF_ROOM_WEBHOOK_ID,
    CONF_ROOM_WEBHOOK_TOKEN,
)
from custom_components.liuzhou_appliances.runtime_data import household_rooms

from .conftest import PairedAppliance, StartAppliance, wait_until
from .energy_helpers import add_household, entity_id

SECRET_WORDS = "我的房间号是三零一"


async def _room(
    hass: HomeAssistant, *machines: PairedAppliance, name: str = "Tower A / 301"
) -> str:
    """An area holding ``machines``; its id once its occupancy select exists."""
    area = ar.async_get(hass).async_create("Tower A / 301")
    devices = dr.async_get(hass)
    for machine in machines:
        device = devices.async_get_device({(DOMAIN, machine.appliance.id)})
        assert device is not None
        devices.async_update_device(device.id, area_id=area.id)
    await wait_until(hass, lambda: _select(hass, area.id) is not None)
    return area.id


def _select(hass: HomeAssistant, area_id: str) -> str | None:
    return er.async_get(hass).async_get_entity_id("select", DOMAIN, f"room_{area_id}_occupancy")


def _room_state(hass: HomeAssistant, area_id: str) -> str:
    entity = _select(hass, area_id)
    assert entity is not None
    state = hass.states.get(entity)
    assert state is not None
    return state.state


async def _call(hass: HomeAssistant, service: str, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


async def _set(hass: HomeAssistant, area_id: str, state: str, **data: Any) -> dict[str, Any]:
    response = await _call(hass, "set_room_state", area_id=area_id, state=state, **data)
    [room] = response["rooms"]
    assert isinstance(room, dict)
    return room


def _results(room: dict[str, Any]) -> dict[str, str]:
    return {item["device_id"]: item["result"] for item in room["appliances"]}


def _device_id(hass: HomeAssistant, machine: PairedAppliance) -> str:
    device = dr.async_get(hass).async_get_device({(DOMAIN, machine.appliance.id)})
    assert device is not None
    return device.id


@pytest.fixture
async def assist(hass: HomeAssistant) -> None:
    """Home Assistant's own conversation agent, as default_config sets it up."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})


def _cheap_in_three_hours() -> str:
    """A custom table: dear for the next three full hours, cheap after (a plan waits)."""
    now = dt_util.now()
    end = (now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)).hour
    return f"{now.hour:02d}:00-{end:02d}:00 1.0\n{end:02d}:00-{now.hour:02d}:00 0.2"


@pytest.mark.usefixtures("assist")
async def test_a_stay_from_arrival_to_check_out(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, start_appliance: StartAppliance
) -> None:
    """Arriving pre-conditions the AC, the guest's choices are kept, exported, then erased."""
    household = await add_household(hass, tariff="custom_tou", custom_table=_cheap_in_three_hours())
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    washer = await start_appliance(
        ApplianceType.LAUNDRY_WASHER, index=1, options={CONF_VOICE_LOG: True}
    )
    area_id = await _room(hass, ac, washer)
    assert _room_state(hass, area_id) == "vacant"
    room_device = dr.async_get(hass).async_get_device({(DOMAIN, f"room_{area_id}")})
    assert room_device is not None
    assert room_device.area_id == area_id

    # Arriving without a time: the AC starts at the house defaults now.
    arriving = await _set(hass, area_id, "arriving")
    assert _results(arriving)[_device_id(hass, ac)] == "applied"
    values = ac.simulator.values()
    assert (values["on"], values["mode"], values["target_temperature"], values["fan_speed"]) == (
        True,
        "cool",
        26.0,
        "auto",
    )
    assert _room_state(hass, area_id) == "arriving"

    # The guest is in: their own setpoint, a planned wash and words to the panel.
    await _set(hass, area_id, "occupied")
    await hass.services.async_call(
        "climate",
        "set_temperature",
        {"entity_id": entity_id(hass, "climate", ac.appliance.id, "climate"), "temperature": 21.5},
        blocking=True,
    )
    await ac.push()
    occupancy = household_rooms(hass)
    assert occupancy is not None
    await wait_until(
        hass,
        lambda: occupancy.record(area_id)
        .preferences.get(ac.appliance.id, {})
        .get("target_temperature")
        == 21.5,
    )
    await _call(
        hass,
        "plan_run",
        device_id=_device_id(hass, washer),
        finish_by=(dt_util.utcnow() + timedelta(hours=9)).isoformat(),
    )
    assert washer.simulator.values()["delay_remaining"] > 0
    panel = washer.appliance.panel
    assert panel is not None
    async with asyncio.timeout(10):
        await panel.hear(SECRET_WORDS, "zh-CN")

    # Access: what the hub holds about the stay.
    exported = await _call(hass, "export_stay", area_id=area_id)
    [stay] = exported["rooms"]
    by_device = {item["device_id"]: item for item in stay["appliances"]}
    assert by_device[_device_id(hass, ac)]["preferences"]["target_temperature"] == 21.5
    assert [e["heard"] for e in by_device[_device_id(hass, washer)]["voice_log"]] == [SECRET_WORDS]
    assert by_device[_device_id(hass, washer)]["planned_run"] is not None
    assert stay["state"] == "occupied"

    logbook: list[Event] = []
    hass.bus.async_listen("logbook_entry", logbook.append)
    checked_out = await _set(hass, area_id, "check_out")

    # Every appliance back at the house defaults, then vacant (the AC off).
    assert checked_out["state"] == "vacant"
    assert _room_state(hass, area_id) == "vacant"
    values = ac.simulator.values()
    assert (values["on"], values["target_temperature"], values["swing"]) == (False, 26.0, "off")
    assert not washer.simulator.values()["delay_remaining"]
    erased = checked_out["erased"]
    assert erased["voice_log_entries"] == 1
    assert erased["preferences"] >= 1
    assert erased["planned_runs"] == 1
    # Nothing left to export.
    [after] = (await _call(hass, "export_stay", area_id=area_id))["rooms"]
    for item in after["appliances"]:
        assert item["preferences"] == {}
        assert item["voice_log"] == []
        assert item["planned_run"] is None
    # The audit line counts what went, never the guest's data.
    [line] = occupancy.audit
    assert line["area_id"] == area_id
    assert line["erased"] == erased
    await hass.async_block_till_done()
    [entry] = [e for e in logbook if "erased" in e.data.get("message", "")]
    assert "1 voice log entries" in entry.data["message"]
    for text in (json.dumps(line, ensure_ascii=False), entry.data["message"]):
        assert SECRET_WORDS not in text
        assert "21.5" not in text
    await occupancy.async_stop()  # saved now
    stored = json.dumps(hass_storage_text(hass), ensure_ascii=False)
    assert SECRET_WORDS not in stored

    # Diagnostics never hold the stay (nor the webhook token).
    await _set(hass, area_id, "occupied")
    async with asyncio.timeout(10):
        await panel.hear(SECRET_WORDS, "zh-CN")
    for config_entry in (household, ac.entry, washer.entry):
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, config_entry)
        text = json.dumps(diagnostics, ensure_ascii=False)
        assert SECRET_WORDS not in text
        assert household.data[CONF_ROOM_WEBHOOK_TOKEN] not in text
    # The household's shows each room's occupancy and counts, not the stay.
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, household)
    room_name = ar.async_get(hass).async_get_area(area_id).name  # type: ignore[union-attr]
    assert diagnostics["rooms"] == {
        "rooms": [
            {
                "room": room_name,
                "floor": None,
                "state": "occupied",
                "appliances": 2,
                "owed": 0,
                "preconditioning": 0,
            }
        ],
        "audit_lines": 1,
    }


def hass_storage_text(hass: HomeAssistant) -> object:
    """What the rooms' Store saved (the test harness keeps stores in memory)."""
    occupancy = household_rooms(hass)
    assert occupancy is not None
    return occupancy.store._data


async def test_bad_input_changes_nothing(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Unknown area, unknown state, a change not allowed: translated errors, state kept."""
    await add_household(hass)
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    area_id = await _room(hass, ac)
    lobby = ar.async_get(hass).async_create("Lobby")
    with pytest.raises(ServiceValidationError) as raised:
        await _set(hass, lobby.id, "occupied")
    assert raised.value.translation_key == "unknown_room"
    with pytest.raises(ServiceValidationError) as raised:
        await _set(hass, area_id, "sleeping")
    assert raised.value.translation_key == "invalid_room_state"
    with pytest.raises(ServiceValidationError) as raised:
        await _set(hass, area_id, "check_out")
    assert raised.value.translation_key == "invalid_room_transition"
    # Through the select too.
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": _select(hass, area_id), "option": "check_out"},
            blocking=True,
        )
    assert _room_state(hass, area_id) == "vacant"
    on_before = ac.simulator.values()["on"]
    # The select's own change works.
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": _select(hass, area_id), "option": "occupied"},
        blocking=True,
    )
    assert _room_state(hass, area_id) == "occupied"
    assert ac.simulator.values()["on"] == on_before  # occupied leaves the AC to the guest


async def test_the_state_survives_a_reload_and_pre_conditioning_starts_on_time(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """An arrival two hours away: the AC waits, across a reload, until the lead before it."""
    household = await add_household(hass)
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    area_id = await _room(hass, ac)
    await hass.services.async_call(
        "climate",
        "turn_off",
        {"entity_id": entity_id(hass, "climate", ac.appliance.id, "climate")},
        blocking=True,
    )
    arrival = dt_util.utcnow() + timedelta(hours=2)
    room = await _set(hass, area_id, "arriving", arrival=arrival.isoformat())
    [(_, result)] = _results(room).items()
    assert result == "scheduled"
    assert ac.simulator.values()["on"] is False

    assert await hass.config_entries.async_reload(household.entry_id)
    await hass.async_block_till_done()
    await wait_until(hass, lambda: hass.states.get(_select(hass, area_id) or "") is not None)
    assert _room_state(hass, area_id) == "arriving"
    state = hass.states.get(_select(hass, area_id) or "")
    assert state is not None
    kept = dt_util.parse_datetime(state.attributes["arrival"])
    assert kept is not None
    assert abs(kept - arrival) < timedelta(seconds=1)

    # An hour later: still waiting. 15 minutes (balanced preset's lead) before: on.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1))
    await hass.async_block_till_done()
    assert ac.simulator.values()["on"] is False
    async_fire_time_changed(hass, arrival - timedelta(minutes=14))
    await wait_until(hass, lambda: ac.simulator.values()["on"] is True)
    assert ac.simulator.values()["target_temperature"] == 26.0


async def _guest_at_20(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> tuple[PairedAppliance, str]:
    """An AC in an occupied room, set to 20 °C by its guest: (the AC, the room's area id)."""
    await add_household(hass)
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    area_id = await _room(hass, ac)
    await _set(hass, area_id, "occupied")
    await hass.services.async_call(
        "climate",
        "set_temperature",
        {"entity_id": entity_id(hass, "climate", ac.appliance.id, "climate"), "temperature": 20},
        blocking=True,
    )
    return ac, area_id


async def test_an_appliance_away_gets_its_settings_when_back(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Check-out while the AC's entry is not loaded: pending in the answer, sent on its return."""
    ac, area_id = await _guest_at_20(hass, start_appliance)
    assert await hass.config_entries.async_unload(ac.entry.entry_id)
    checked_out = await _set(hass, area_id, "check_out")
    assert _results(checked_out) == {_device_id(hass, ac): "pending"}
    assert ac.simulator.values()["target_temperature"] == 20
    occupancy = household_rooms(hass)
    assert occupancy is not None
    [room] = occupancy.as_diagnostics()["rooms"]
    assert (room["state"], room["owed"]) == ("vacant", 1)  # diagnostics show what is owed

    assert await hass.config_entries.async_setup(ac.entry.entry_id)
    await hass.async_block_till_done()
    assert ac.entry.state is ConfigEntryState.LOADED
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await wait_until(hass, lambda: ac.simulator.values()["target_temperature"] == 26.0)
    assert ac.simulator.values()["on"] is False
    assert occupancy.record(area_id).pending == {}
    assert occupancy.as_diagnostics()["rooms"][0]["owed"] == 0


async def test_an_appliance_offline_gets_its_settings_as_soon_as_it_is_back(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Check-out while the AC is off the network: sent when it reconnects, not a timer later."""
    ac, area_id = await _guest_at_20(hass, start_appliance)
    await ac.appliance.lan_down()
    await wait_until(hass, lambda: not ac.coordinator.connected)
    checked_out = await _set(hass, area_id, "check_out")
    assert _results(checked_out) == {_device_id(hass, ac): "pending"}
    assert ac.simulator.values()["target_temperature"] == 20

    await ac.appliance.lan_up()
    ac.coordinator.async_wake_reconnect()  # as zeroconf seeing it again does
    # No time is fired: the return itself sends what is owed.
    await wait_until(hass, lambda: ac.simulator.values()["target_temperature"] == 26.0)
    assert ac.simulator.values()["on"] is False
    occupancy = household_rooms(hass)
    assert occupancy is not None
    await wait_until(hass, lambda: occupancy.record(area_id).pending == {})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_the_webhook_needs_the_token(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    start_appliance: StartAppliance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Right token: the room changes. Wrong or none: 401, logged without the token."""
    assert await async_setup_component(
        hass, "http", {"http": {"server_host": "127.0.0.1", "server_port": _free_port()}}
    )
    assert await async_setup_component(hass, "webhook", {})
    household: MockConfigEntry = await add_household(hass)
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    area_id = await _room(hass, ac)
    webhook_id = household.data[CONF_ROOM_WEBHOOK_ID]
    token = household.data[CONF_ROOM_WEBHOOK_TOKEN]
    client = await hass_client_no_auth()
    url = f"/api/webhook/{webhook_id}"
    right = {"Authorization": f"Bearer {token}"}

    caplog.set_level(logging.WARNING)
    for headers in ({"Authorization": f"Bearer {token}x"}, {}):
        response = await client.post(
            url, json={"room": area_id, "state": "occupied"}, headers=headers
        )
        assert response.status == 401
    assert "refused" in caplog.text
    assert token not in caplog.text
    assert _room_state(hass, area_id) == "vacant"

    response = await client.post(
        url, json={"room": "Tower A / 301", "state": "arriving"}, headers=right
    )
    assert response.status == 200
    body = await response.json()
    assert body["state"] == "arriving"
    assert _room_state(hass, area_id) == "arriving"
    assert ac.simulator.values()["on"] is True

    for payload, status, error in (
        ({"room": "Tower B / 999", "state": "occupied"}, 404, "unknown_room"),
        ({"room": area_id, "state": "sleeping"}, 400, "invalid_room_state"),
        ({"room": area_id, "state": "check_out"}, 400, "invalid_room_transition"),
        ({"room": area_id}, 400, "invalid_request"),
        ({"room": area_id, "state": "arriving", "arrival": "tomorrow"}, 400, "invalid_arrival"),
    ):
        response = await client.post(url, json=payload, headers=right)
        assert response.status == status, payload
        assert (await response.json())["error"] == error
    response = await client.post(url, data=b"not json", headers=right)
    assert response.status == 400
    assert _room_state(hass, area_id) == "arriving"


async def test_house_defaults_are_set_in_the_options_and_used_at_check_out(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """The household options' second step: at check-out the AC returns to 24 °C, fan low."""
    household = await add_household(hass)
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await _room(hass, ac)
    result = await hass.config_entries.options.async_init(household.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(household.options)
    )
    assert result["step_id"] == "house_defaults"
    # The webhook's address and token are shown to the administrator.
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["token"] == household.data[CONF_ROOM_WEBHOOK_TOKEN]
    assert household.data[CONF_ROOM_WEBHOOK_ID] in placeholders["webhook_url"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"house_ac_target": 24, "house_ac_fan": "low"},
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert household.options["tariff"] == "residential_tiered"  # the first step's kept
    area_id = await _room_id(hass)
    await _set(hass, area_id, "occupied")
    await hass.services.async_call(
        "climate",
        "set_temperature",
        {"entity_id": entity_id(hass, "climate", ac.appliance.id, "climate"), "temperature": 20},
        blocking=True,
    )
    await _set(hass, area_id, "check_out")
    values = ac.simulator.values()
    assert (values["on"], values["target_temperature"], values["fan_speed"]) == (False, 24, "low")


async def _room_id(hass: HomeAssistant) -> str:
    area = ar.async_get(hass).async_get_area_by_name("Tower A / 301")
    assert area is not None
    await wait_until(hass, lambda: _select(hass, area.id) is not None)
    return area.id


async def test_a_room_that_goes_takes_its_select_and_device(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """The last appliance leaves the area: no room, no occupancy select, no room device."""
    await add_household(hass)
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    area_id = await _room(hass, ac)
    devices = dr.async_get(hass)
    assert devices.async_get_device({(DOMAIN, f"room_{area_id}")}) is not None
    devices.async_update_device(_device_id(hass, ac), area_id=None)
    await wait_until(hass, lambda: _select(hass, area_id) is None)
    assert devices.async_get_device({(DOMAIN, f"room_{area_id}")}) is None
    # Back in the area: the room and its select return.
    devices.async_update_device(_device_id(hass, ac), area_id=area_id)
    await wait_until(hass, lambda: _select(hass, area_id) is not None)
    assert _room_state(hass, area_id) == "vacant"


async def test_an_appliance_moved_into_an_occupied_room_records_the_guests_choices(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Choices are recorded on an appliance placed in a room after the guest arrived, and a
    removed area's stay is erased with an audit line (nobody can check it out any more)."""
    await add_household(hass)
    fridge = await start_appliance(ApplianceType.REFRIGERATOR)
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER, index=1)
    area_id = await _room(hass, fridge)
    await _set(hass, area_id, "occupied")
    occupancy = household_rooms(hass)
    assert occupancy is not None

    dr.async_get(hass).async_update_device(_device_id(hass, ac), area_id=area_id)
    await hass.async_block_till_done()
    climate = entity_id(hass, "climate", ac.appliance.id, "climate")
    await hass.services.async_call(
        "climate", "set_temperature", {"entity_id": climate, "temperature": 21.5}, blocking=True
    )
    await wait_until(
        hass,
        lambda: occupancy.record(area_id).preferences.get(ac.appliance.id)
        == {"target_temperature": 21.5},
    )

    ar.async_get(hass).async_delete(area_id)
    await wait_until(hass, lambda: area_id not in occupancy.records)
    [line] = occupancy.audit
    assert (line["area_id"], line["erased"]["preferences"]) == (area_id, 1)
    assert "21.5" not in json.dumps(occupancy.audit)


async def test_rooms_there_before_the_household_hang_from_its_device(
    hass: HomeAssistant, start_appliance: StartAppliance, caplog: pytest.LogCaptureFixture
) -> None:
    """An appliance already in an area when the household entry is added: the room's device
    is made under the household's, which exists first (no warning from Home Assistant)."""
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    area = ar.async_get(hass).async_create("Tower A / 301")
    devices = dr.async_get(hass)
    devices.async_update_device(_device_id(hass, ac), area_id=area.id)
    await add_household(hass)
    await wait_until(hass, lambda: _select(hass, area.id) is not None)
    household = devices.async_get_device({(DOMAIN, HOUSEHOLD_UNIQUE_ID)})
    room = devices.async_get_device({(DOMAIN, f"room_{area.id}")})
    assert household is not None
    assert room is not None
    assert room.via_device_id == household.id
    assert "non existing `via_device`" not in caplog.text
