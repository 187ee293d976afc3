"""The property demo, run as a property manager runs it: ``./scripts/estate-demo``.

From an empty state directory, on free ports, with 4 rooms, in English and in
Simplified Chinese (``--language zh-Hans``): its ready line, the broker
listening with TLS only, each hub's MQTT entry on that port verifying the
broker against the demo's CA (a plain MQTT client is turned away), then each
hub's HTTP API says its building's floors and rooms exist with the roster's
appliances in them, every roster line was paired by the hub of its building
(and left alone by the other; fleet.provision's report in the demo's
language), head office's report (in the demo's language) shows both
buildings with all their appliances, the air conditioners are named in the
hubs' language, each hub's Energy dashboard lists every
room's and floor's energy sensor (rooms included in their floors) and the
property as the grid, with no issue from Home Assistant's validation but the
statistics its recorder compiles at the next 5-minute mark, each building's
first room was checked in and out (the hub's audit line printed, its AC on
in the guest's hands and off again), and Ctrl-C ends it with exit 0 and
nothing left listening.
"""

from __future__ import annotations

import asyncio
from collections import Counter
import csv
import json
import os
from pathlib import Path
import re
import signal
import socket
import subprocess
import time
from typing import Any
import urllib.parse
import urllib.request

import aiohttp
import pytest

from fleet.languages import LANGUAGES
from fleet.provision_texts import OUTCOMES, outcome_name
from scripts.ports import free_port_block, listening

ROOT = Path(__file__).resolve().parents[2]
READY_WITHIN = 420.0  # two Home Assistants start on 2 cores
STOP_WITHIN = 60.0
# Per language: the buildings (name -> id), head office's report lines and the
# name Home Assistant gives an air conditioner in the server's language.
BUILDINGS = {
    "en": {"Tower A": "tower-a", "Tower B": "tower-b"},
    "zh-Hans": {"A栋": "tower-a", "B栋": "tower-b"},
}
REPORT_BUILDING = {
    "en": "{building_id}: hub online, {count} appliances",
    "zh-Hans": "{building_id}：中枢在线，{count} 台电器",
}
REPORT_FLOOR = {
    "en": "  floor {floor}: {count} appliances",
    "zh-Hans": "  楼层 {floor}：{count} 台电器",
}
AC_NAME = {"en": "Air conditioner", "zh-Hans": "空调"}
# fleet.provision's report lines in provision.log: line number and outcome.
REPORT_ROW = {"en": r"^  line\s+(\d+)\s+(\S+)", "zh-Hans": r"^  第\s+(\d+) 行  (\S+)"}
OUTCOME_KEYS = {
    language: {outcome_name(outcome, language): outcome for outcome in OUTCOMES}
    for language in LANGUAGES
}
# An MQTT 3.1.1 CONNECT of client "x", sent without TLS.
PLAIN_CONNECT = bytes([0x10, 13, 0, 4, *b"MQTT", 4, 2, 0, 30, 0, 1, *b"x"])

# Every (floor, room, devices in it) of the hub, as Home Assistant's templates see them.
PLACES_TEMPLATE = (
    "{% set ns = namespace(out=[]) %}{% for f in floors() %}{% for a in floor_areas(f) %}"
    "{% set ns.out = ns.out + [[floor_name(f), area_name(a), area_devices(a) | length]] %}"
    "{% endfor %}{% endfor %}{{ ns.out | tojson }}"
)

# The climate entities of a room (an area name), as JSON text.
ACS_TEMPLATE = "{{ area_entities(%s) | select('match', 'climate\\\\.') | list | tojson }}"

pytestmark = pytest.mark.timeout(900)


def _template(base: str, token: str) -> Any:
    return _template_of(base, token, PLACES_TEMPLATE)


def _template_of(base: str, token: str, template: str) -> Any:
    request = urllib.request.Request(
        f"{base}/api/template",
        data=json.dumps({"template": template}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _get(base: str, token: str, path: str) -> Any:
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


async def _websocket(base: str, token: str, *commands: str) -> list[Any]:
    """The results of websocket commands (without arguments), one after the other."""
    results = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{base}/api/websocket") as ws,
    ):
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        for number, command in enumerate(commands, start=1):
            await ws.send_json({"id": number, "type": command})
            while (answer := await ws.receive_json()).get("id") != number:
                pass
            assert answer["success"], answer
            results.append(answer["result"])
    return results


def _energy_sensors(
    base: str, token: str, rooms: set[str]
) -> tuple[dict[str, str], dict[str, str], Any, Any]:
    """Room energy sensor to its floor's, every floor's, the prefs and the validation.

    ``rooms``: the hub's rooms (area names). The sensors are found by their
    unique ids in the registries (docs/fleet.md), not as the demo finds them.
    """
    registry, areas, prefs, validation = asyncio.run(
        _websocket(
            base,
            token,
            "config/entity_registry/list",
            "config/area_registry/list",
            "energy/get_prefs",
            "energy/validate",
        )
    )
    sensor = {
        entity["unique_id"]: entity["entity_id"]
        for entity in registry
        if entity["platform"] == "liuzhou_appliances"
    }
    room_areas = [area for area in areas if area["name"] in rooms]
    assert len(room_areas) == len(rooms)
    floors = {area["floor_id"]: sensor[f"floor_{area['floor_id']}_energy"] for area in room_areas}
    in_floor = {
        sensor[f"room_{area['area_id']}_energy"]: floors[area["floor_id"]] for area in room_areas
    }
    return in_floor, floors, prefs, validation


def _issues(validation: Any, entity_ids: set[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for group in validation.values():
        for issues in group:
            for issue in issues:
                for entity_id, _detail in issue["affected_entities"]:
                    if entity_id in entity_ids:
                        found.setdefault(entity_id, set()).add(issue["type"])
    return found


def _mqtt_entry(config: Path) -> dict[str, Any]:
    """The data of the hub's MQTT config entry, as Home Assistant stored it."""
    stored = json.loads((config / ".storage" / "core.config_entries").read_text())
    [entry] = [e for e in stored["data"]["entries"] if e["domain"] == "mqtt"]
    data: dict[str, Any] = entry["data"]
    return data


def _plain_mqtt_refused(port: int) -> bool:
    """Whether the broker closes a connection that speaks MQTT without TLS (no CONNACK)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as plain:
        plain.sendall(PLAIN_CONNECT)
        try:
            answer = plain.recv(4)
        except ConnectionResetError:
            return True
    return answer == b""


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
def test_estate_demo_provisions_two_hubs_and_head_office_sees_both(
    tmp_path: Path, language: str
) -> None:
    buildings = BUILDINGS[language]
    state = tmp_path / "estate"
    started = time.time()
    port, broker_port, base_port = free_port_block(2), free_port_block(1), free_port_block(10)
    process = subprocess.Popen(
        [
            "./scripts/estate-demo",
            "--rooms",
            "4",
            "--state-dir",
            str(state),
            "--port",
            str(port),
            "--broker-port",
            str(broker_port),
            "--base-port",
            str(base_port),
            "--language",
            language,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + READY_WITHIN
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            # The ready block ends with how to stop (head office's command is in it).
            if "Press Ctrl-C to stop everything." in line or time.monotonic() > deadline:
                break
        text = "\n".join(output)
        assert "The property is ready: 10 appliances" in text, text

        # TLS only: one listener, the demo's port, with the demo's CA and
        # certificate; MQTT in the clear is turned away; head office is told to
        # connect with mqtts:// and the CA.
        broker = state / "broker"
        conf = (broker / "mosquitto.conf").read_text().splitlines()
        assert [line for line in conf if line.startswith("listener")] == [
            f"listener {broker_port} 127.0.0.1"
        ]
        assert f"cafile {broker / 'ca.pem'}" in conf
        assert f"certfile {broker / 'server.pem'}" in conf
        assert _plain_mqtt_refused(broker_port)
        assert f"--broker mqtts://127.0.0.1:{broker_port} --ca {broker / 'ca.pem'}" in text
        ca = (broker / "ca.pem").read_text()

        # The roster the demo wrote from the simulators: 4 rooms, an AC each, a
        # fridge per floor, a washer per building.
        with (state / "roster.csv").open(encoding="utf-8") as file:
            rows = list(csv.DictReader(line for line in file if not line.startswith("#")))
        assert len(rows) == 10
        for building, building_id in buildings.items():
            # The hub's MQTT entry: the broker's TLS port, verified against the CA.
            mqtt = _mqtt_entry(state / building_id / "config")
            assert mqtt["port"] == broker_port
            assert mqtt["certificate"].strip() == ca.strip()
            assert not mqtt.get("tls_insecure")
            assert mqtt["username"] == f"hub-{building_id}"

            mine = [row for row in rows if row["building"] == building]
            expected = Counter(
                (f"{building} / {r['floor']}", f"{building} / {r['room']}") for r in mine
            )
            token = (state / building_id / "token").read_text().strip()
            base = f"http://127.0.0.1:{port + list(buildings).index(building)}"
            places = _template(base, token)
            # Each room holds its appliances and the room's own energy device
            # (power, energy and cost of the room, docs/fleet.md).
            assert {(floor, area): devices - 1 for floor, area, devices in places} == dict(expected)

            # Every roster line is paired by its building's hub, skipped by the other.
            log = (state / building_id / "provision.log").read_text()
            # In the demo's language: the outcome's key in English, its name in Chinese.
            found = re.findall(REPORT_ROW[language], log, re.MULTILINE)
            outcomes = {line: OUTCOME_KEYS[language].get(said, said) for line, said in found}
            assert len(outcomes) == len(rows), log
            assert Counter(outcomes.values()) == {
                "paired": len(mine),
                "other_building": 10 - len(mine),
            }

            # Head office's report, in the demo's language: the building's hub
            # online with all its appliances, floor by floor.
            said = REPORT_BUILDING[language].format(building_id=building_id, count=len(mine))
            assert re.search(rf"^{re.escape(said)}", text, re.MULTILINE), text
            floors = {f"{building} / {r['floor']}" for r in mine}
            for floor in floors:
                count = sum(1 for r in mine if f"{building} / {r['floor']}" == floor)
                assert REPORT_FLOOR[language].format(floor=floor, count=count) in text

            # The Energy dashboard: every floor a device, every room a device
            # included in its floor's, the property's energy and cost as the grid.
            in_floor, floor_sensors, prefs, validation = _energy_sensors(
                base, token, {f"{building} / {r['room']}" for r in mine}
            )
            devices = {
                d["stat_consumption"]: d.get("included_in_stat")
                for d in prefs["device_consumption"]
            }
            assert devices == {**dict.fromkeys(floor_sensors.values()), **in_floor}
            [grid] = [s for s in prefs["energy_sources"] if s["type"] == "grid"]
            [flow] = grid["flow_from"]
            assert flow["stat_energy_from"].startswith("sensor.")
            assert flow["stat_cost"].startswith("sensor.")
            shown = {*devices, flow["stat_energy_from"], flow["stat_cost"]}
            # Statistics exist only after the recorder's first 5-minute compile;
            # anything else Home Assistant says about the sensors is a fault.
            for entity_id, kinds in _issues(validation, shown).items():
                assert kinds <= {"statistics_not_defined"}, (entity_id, kinds)
            shown_line = f"Energy dashboard: {len(in_floor)} rooms, {len(floor_sensors)} floors"
            assert f"  {building}: {shown_line}" in text

            # The check-out of the building's first room: the hub's audit line
            # (counts only: the guest's two choices among them) and its AC,
            # on in the guest's hands, off again (read through the HTTP API).
            room = f"{building} / {mine[0]['room']}"
            assert re.search(
                rf"^\[estate-demo\]   {building}: {room}: logbook: guest data erased at check-out: "
                r"\d+ voice log entries, [1-9]\d* preferences, ",
                text,
                re.MULTILINE,
            ), text
            acs = _template_of(
                base,
                token,
                ACS_TEMPLATE % json.dumps(room),
            )
            assert acs
            for entity_id in acs:
                now = _get(base, token, f"/api/states/{entity_id}")
                assert now["state"] == "off"
                # Named by Home Assistant in the server's language.
                assert now["attributes"]["friendly_name"].startswith(AC_NAME[language]), now
                since = urllib.parse.quote(
                    time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(started))
                )
                [history] = _get(
                    base,
                    token,
                    f"/api/history/period/{since}?filter_entity_id={entity_id}&minimal_response",
                )
                changes = [entry["state"] for entry in history]
                assert "cool" in changes, changes
                assert changes[-1] == "off", changes
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        try:
            code = process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert code == 0, "\n".join(output)
    for listened in (port, port + 1, broker_port, base_port):
        assert not listening(listened)
