"""Provisioning a property from one roster, against real simulated appliances.

Each appliance runs the firmware bridge on 127.0.0.1 and prints its own code;
the roster pairs them through the config flow's provision step, then places
them in floors and areas labelled by building.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import json
import logging
from pathlib import Path
import time
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_ZEROCONF
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    floor_registry as fr,
    label_registry as lr,
)
from homeassistant.setup import async_setup_component
import pytest

from custom_components.liuzhou_appliances import provisioning
from custom_components.liuzhou_appliances.const import DOMAIN, HOUSEHOLD_UNIQUE_ID
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.pairing import format_pairing_code
from custom_components.liuzhou_appliances.provisioning import EVENT_PROVISION_PROGRESS
from custom_components.liuzhou_appliances.room_index import floors, rooms

from .conftest import closed_port
from .test_config_flow import discovery, wrong_code

if TYPE_CHECKING:
    from firmware_bridge.bridge import SimulatedProduct

StartSimulated = Callable[..., Awaitable["SimulatedProduct"]]
HEADER = "building,floor,room,appliance,code,name,colour\n"


def lan(appliance: SimulatedProduct) -> str:
    return f"{appliance.host}:{appliance.port}"


async def start_four(start_simulated: StartSimulated) -> list[SimulatedProduct]:
    kinds = [
        ApplianceType.ROOM_AIR_CONDITIONER,
        ApplianceType.REFRIGERATOR,
        ApplianceType.ROOM_AIR_CONDITIONER,
        ApplianceType.LAUNDRY_WASHER,
    ]
    return [await start_simulated(kind, index=i) for i, kind in enumerate(kinds)]


async def provision(hass: HomeAssistant, path: str) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "provision", {"path": path}, blocking=True, return_response=True
    )
    await hass.async_block_till_done()
    assert isinstance(response, dict)
    return response


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tries again after 0.05 s instead of seconds (the same two tries again)."""
    monkeypatch.setattr(provisioning, "RETRY_DELAYS", (0.05, 0.05))


@pytest.fixture
async def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    hass.config.config_dir = str(tmp_path)
    assert await async_setup_component(hass, DOMAIN, {})
    return tmp_path


async def _unload_all(hass: HomeAssistant) -> None:
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state.recoverable:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_roster_of_two_buildings(
    hass: HomeAssistant,
    config_dir: Path,
    start_simulated: StartSimulated,
    caplog: pytest.LogCaptureFixture,
    hass_storage: dict[str, Any],
) -> None:
    caplog.set_level(logging.DEBUG)
    ac_a, fridge_a, ac_b, washer_b = await start_four(start_simulated)
    wrong = await start_simulated(ApplianceType.REFRIGERATOR, index=4)
    # The fourth appliance is known by its id only: zeroconf has discovered it.
    found = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(washer_b)
    )
    assert found["step_id"] == "zeroconf_confirm"
    washer_id = washer_b.module.appliance_id
    codes = [a.code for a in (ac_a, fridge_a, ac_b, washer_b, wrong)]
    roster = config_dir / "rosters" / "estate.csv"
    roster.parent.mkdir()
    roster.write_text(
        HEADER
        + f"Tower A,1,101,{lan(ac_a)},{format_pairing_code(ac_a.code)},Bedroom AC,red\n"
        + f"Tower A,1,101,{lan(fridge_a)},{fridge_a.code},,\n"
        + f"Tower B,2,201,{lan(ac_b)},{ac_b.code},Suite AC,\n"
        + f"tower b,2,202,{washer_id},{washer_b.code},,\n"
        + f"Tower B,2,203,{lan(wrong)},{wrong_code(wrong.code)},,\n"
        + f"Tower B,2,204,127.0.0.1:{closed_port()},12345678,,\n"
        + f"Tower A,1,101,{lan(fridge_a)},{fridge_a.code},,\n"
        + "Tower A,1,,lz-ac-9,12345678,,\n",
        encoding="utf-8",
    )
    events: list[Event] = []

    @callback
    def _progress(event: Event) -> None:
        # A callback runs in the event loop, in firing order (a plain function would run
        # in the executor, where two events can be recorded out of order).
        events.append(event)

    hass.bus.async_listen(EVENT_PROVISION_PROGRESS, _progress)

    started = time.perf_counter()
    report = await provision(hass, "rosters/estate.csv")
    elapsed = time.perf_counter() - started

    outcomes = {row["line"]: row["outcome"] for row in report["rows"]}
    assert outcomes == {
        2: "paired",
        3: "paired",
        4: "paired",
        5: "paired",
        6: "wrong_code",
        7: "unreachable",
        8: "duplicate_row",
        9: "bad_row",
    }
    rows = {row["line"]: row for row in report["rows"]}
    assert rows[9]["reason"] == "room is empty"
    assert rows[7]["reason"] == "cannot_connect"
    # Nothing answered: tried three times. A wrong code is never tried again (a guess).
    assert (rows[7]["attempts"], rows[6]["attempts"], rows[2]["attempts"]) == (3, 1, 1)
    assert rows[2]["name"] == "Bedroom AC"
    assert rows[5]["appliance_id"] == washer_id
    assert report["failed"] == 4
    assert report["created"]["household"] is True
    assert report["created"]["floors"] == ["Tower A / 1", "Tower B / 2"]
    assert sorted(report["created"]["areas"]) == [
        "Tower A / 101",
        "Tower B / 201",
        "Tower B / 202",
    ]
    assert sorted(report["created"]["labels"]) == ["Tower A", "Tower B"]
    assert [w["kind"] for w in report["warnings"]] == ["unknown_column", "room_spelling"]
    # Progress: one event per line, counting up, never a code; and one per try again.
    finished = [e for e in events if "retry_in" not in e.data]
    assert [e.data["done"] for e in finished] == list(range(1, 9))
    assert {e.data["total"] for e in events} == {8}
    assert [(e.data["line"], e.data["attempt"]) for e in events if "retry_in" in e.data] == [
        (7, 1),
        (7, 2),
    ]

    # Home Assistant's registries: what room_index (the one reader) sees.
    entries = [
        e for e in hass.config_entries.async_entries(DOMAIN) if e.unique_id != HOUSEHOLD_UNIQUE_ID
    ]
    assert len(entries) == 4
    assert hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, HOUSEHOLD_UNIQUE_ID)
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)  # discovery done
    room_map = rooms(hass)
    by_name = {room.name: room for room in room_map.values()}
    assert sorted(by_name) == ["Tower A / 101", "Tower B / 201", "Tower B / 202"]
    assert len(by_name["Tower A / 101"].device_ids) == 2
    floor_map = {f.name: f for f in floors(hass, room_map).values()}
    assert {name: f.level for name, f in floor_map.items()} == {"Tower A / 1": 1, "Tower B / 2": 2}
    assert by_name["Tower B / 202"].floor_id == floor_map["Tower B / 2"].floor_id
    labels = {label.name: label.label_id for label in lr.async_get(hass).async_list_labels()}
    devices = dr.async_get(hass)
    for room in room_map.values():
        building = room.name.split(" / ")[0]
        area = ar.async_get(hass).async_get_area(room.area_id)
        assert area is not None
        assert labels[building] in area.labels
        for device_id in room.device_ids:
            device = devices.async_get(device_id)
            assert device is not None
            assert labels[building] in device.labels
    assert not fr.async_get(hass).async_get_floor_by_name("Tower B / 204")
    assert not ar.async_get(hass).async_get_area_by_name("Tower B / 203")
    assert all(entry.state.recoverable for entry in entries)

    # Pairing codes: nowhere in the log, events, report or storage.
    # Every store writes what it holds now (as at Home Assistant's stop), not after a delay.
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert "core.config_entries" in hass_storage
    stored = json.dumps(hass_storage)
    said = json.dumps([e.data for e in events]) + json.dumps(report) + caplog.text
    for code in codes:
        for spelling in (code, format_pairing_code(code)):
            assert spelling not in stored
            assert spelling not in said
    print(f"provisioned 4 appliances (8 lines) in {elapsed:.2f} s")
    await _unload_all(hass)


async def test_running_again_changes_nothing_right_and_fixes_a_moved_device(
    hass: HomeAssistant, config_dir: Path, start_simulated: StartSimulated
) -> None:
    appliances = await start_four(start_simulated)
    lines = [
        f"Tower A,{1 + i // 2},{101 + i},{lan(a)},{a.code},," for i, a in enumerate(appliances)
    ]
    (config_dir / "estate.csv").write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    first = await provision(hass, "estate.csv")
    assert first["summary"] == {"paired": 4}
    entry_ids = {e.entry_id for e in hass.config_entries.async_entries(DOMAIN)}
    area_ids = {a.id for a in ar.async_get(hass).async_list_areas()}
    floor_ids = {f.floor_id for f in fr.async_get(hass).async_list_floors()}
    keys = {e.entry_id: e.data.get("key") for e in hass.config_entries.async_entries(DOMAIN)}

    again = await provision(hass, "estate.csv")
    assert again["summary"] == {"already_present": 4}
    assert all(row["changes"] == [] for row in again["rows"])
    assert again["created"] == {
        "household": False,
        "entries": [],
        "floors": [],
        "areas": [],
        "labels": [],
    }
    assert {e.entry_id for e in hass.config_entries.async_entries(DOMAIN)} == entry_ids
    assert {a.id for a in ar.async_get(hass).async_list_areas()} == area_ids
    assert {f.floor_id for f in fr.async_get(hass).async_list_floors()} == floor_ids
    # Not paired again: the keys are the ones the first run got.
    assert {
        e.entry_id: e.data.get("key") for e in hass.config_entries.async_entries(DOMAIN)
    } == keys

    # A person moves a device elsewhere; the roster puts it back, and says so.
    moved = first["rows"][0]["device_id"]
    kitchen = ar.async_get(hass).async_create("Kitchen")
    dr.async_get(hass).async_update_device(moved, area_id=kitchen.id)
    third = await provision(hass, "estate.csv")
    changed = {row["line"]: row["changes"] for row in third["rows"] if row["changes"]}
    assert changed == {2: ["area"]}
    device = dr.async_get(hass).async_get(moved)
    assert device is not None
    assert device.area_id == first["rows"][0]["area_id"]
    await _unload_all(hass)


async def test_unreadable_roster_and_paths_outside_the_config_dir(
    hass: HomeAssistant, config_dir: Path
) -> None:
    (config_dir / "broken.csv").write_text("building,floor\nA,1\n", encoding="utf-8")
    with pytest.raises(ServiceValidationError) as err:
        await provision(hass, "broken.csv")
    assert err.value.translation_key == "roster_unreadable"
    assert "missing column(s): room, appliance, code" in str(err.value.translation_placeholders)
    for path in ("../outside.csv", "/etc/passwd", "absent.csv"):
        with pytest.raises(ServiceValidationError):
            await provision(hass, path)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "provision", {}, blocking=True, return_response=True)
    assert err.value.translation_key == "roster_missing"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "provision", {"file_id": "0123"}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "roster_unreadable"
    # Nothing was created for a roster that could not be read.
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_undiscovered_id_and_unheard_bluetooth_address_are_unreachable(
    hass: HomeAssistant, config_dir: Path
) -> None:
    (config_dir / "estate.yaml").write_text(
        "- {building: A, floor: 1, room: '1', appliance: lz-ac-404, code: '12345678'}\n"
        "- {building: A, floor: 1, room: '2', appliance: 'AA:BB:CC:DD:EE:01', code: '12345678'}\n",
        encoding="utf-8",
    )
    report = await provision(hass, "estate.yaml")
    assert [(row["outcome"], row["reason"]) for row in report["rows"]] == [
        ("unreachable", "not_discovered"),
        ("unreachable", "no_bluetooth_adapter"),
    ]
    assert report["failed"] == 2
    # Nothing half-made: no appliance entry, floor or area for lines that failed.
    assert [e.unique_id for e in hass.config_entries.async_entries(DOMAIN)] == [HOUSEHOLD_UNIQUE_ID]
    assert not ar.async_get(hass).async_list_areas()
    assert not fr.async_get(hass).async_list_floors()
    await _unload_all(hass)


async def test_a_pairing_that_failed_for_a_passing_reason_is_tried_again(
    hass: HomeAssistant,
    config_dir: Path,
    start_simulated: StartSimulated,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An appliance off the network at the first try, back before the next: paired."""
    monkeypatch.setattr(provisioning, "RETRY_DELAYS", (0.5, 0.5))
    ac, fridge = (
        await start_simulated(ApplianceType.ROOM_AIR_CONDITIONER, index=0),
        await start_simulated(ApplianceType.REFRIGERATOR, index=1),
    )
    await fridge.lan_down()
    (config_dir / "estate.csv").write_text(
        HEADER
        + f"Tower A,1,101,{lan(ac)},{ac.code},,\n"
        + f"Tower A,1,101,{lan(fridge)},{fridge.code},,\n",
        encoding="utf-8",
    )
    retries: list[dict[str, Any]] = []

    @callback
    def _progress(event: Event) -> None:
        if "retry_in" in event.data:
            retries.append(dict(event.data))
            hass.async_create_task(fridge.lan_up())

    hass.bus.async_listen(EVENT_PROVISION_PROGRESS, _progress)
    report = await provision(hass, "estate.csv")

    assert [(r["outcome"], r["attempts"]) for r in report["rows"]] == [("paired", 1), ("paired", 2)]
    assert [(r["line"], r["outcome"], r["reason"], r["retry_in"]) for r in retries] == [
        (3, "unreachable", "cannot_connect", 0.5)
    ]
    assert report["failed"] == 0
    await _unload_all(hass)


async def test_one_appliance_by_address_and_by_id_is_placed_once(
    hass: HomeAssistant, config_dir: Path, start_simulated: StartSimulated
) -> None:
    """The roster cannot tell an id from an address; pairing can: the second line is a duplicate."""
    ac = await start_simulated(ApplianceType.ROOM_AIR_CONDITIONER, index=0)
    await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(ac)
    )
    appliance_id = ac.module.appliance_id
    (config_dir / "estate.csv").write_text(
        HEADER
        + f"Tower A,1,101,{lan(ac)},{ac.code},,\n"
        + f"Tower A,1,102,{appliance_id},{ac.code},,\n",
        encoding="utf-8",
    )
    for run in range(2):
        report = await provision(hass, "estate.csv")
        rows = {row["line"]: row for row in report["rows"]}
        [(placed, room)] = [(line, row["room"]) for line, row in rows.items() if "device_id" in row]
        if run == 1:  # both already paired: resolved in the file's order
            assert placed == 2
        [other] = set(rows) - {placed}
        assert rows[other]["outcome"] == "duplicate_appliance"
        assert rows[other]["reason"] == (
            f"appliance {appliance_id} is already listed at line {placed}"
        )
        assert report["failed"] == 1
        [only] = rooms(hass).values()
        assert only.name == f"Tower A / {room}"
    await _unload_all(hass)
