"""The property demo, run as a property manager runs it: ``./scripts/estate-demo``.

From an empty state directory, on free ports, with 4 rooms: its ready line,
then each hub's HTTP API says its building's floors and rooms exist with the
roster's appliances in them, every roster line was paired by the hub of its
building (and left alone by the other), head office's report shows both
buildings with all their appliances, and Ctrl-C ends it with exit 0 and
nothing left listening.
"""

from __future__ import annotations

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
import urllib.request

import pytest

ROOT = Path(__file__).resolve().parents[2]
READY_WITHIN = 420.0  # two Home Assistants start on 2 cores
STOP_WITHIN = 60.0
BUILDINGS = {"Tower A": "tower-a", "Tower B": "tower-b"}

# Every (floor, room, devices in it) of the hub, as Home Assistant's templates see them.
PLACES_TEMPLATE = (
    "{% set ns = namespace(out=[]) %}{% for f in floors() %}{% for a in floor_areas(f) %}"
    "{% set ns.out = ns.out + [[floor_name(f), area_name(a), area_devices(a) | length]] %}"
    "{% endfor %}{% endfor %}{{ ns.out | tojson }}"
)

pytestmark = pytest.mark.timeout(900)


def _free_ports(count: int) -> int:
    """The first of ``count`` consecutive ports nobody listens on."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + count <= 65535 and not any(_listening(p) for p in range(first, first + count)):
            return first
    raise RuntimeError("no block of free ports")


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _template(base: str, token: str) -> Any:
    request = urllib.request.Request(
        f"{base}/api/template",
        data=json.dumps({"template": PLACES_TEMPLATE}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_estate_demo_provisions_two_hubs_and_head_office_sees_both(tmp_path: Path) -> None:
    state = tmp_path / "estate"
    port, broker_port, base_port = _free_ports(2), _free_ports(1), _free_ports(10)
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
            if "The property is ready:" in line or time.monotonic() > deadline:
                break
        text = "\n".join(output)
        assert "The property is ready: 10 appliances" in text, text

        # The roster the demo wrote from the simulators: 4 rooms, an AC each, a
        # fridge per floor, a washer per building.
        with (state / "roster.csv").open(encoding="utf-8") as file:
            rows = list(csv.DictReader(line for line in file if not line.startswith("#")))
        assert len(rows) == 10
        for building, building_id in BUILDINGS.items():
            mine = [row for row in rows if row["building"] == building]
            expected = Counter(
                (f"{building} / {r['floor']}", f"{building} / {r['room']}") for r in mine
            )
            token = (state / building_id / "token").read_text().strip()
            places = _template(f"http://127.0.0.1:{port + list(BUILDINGS).index(building)}", token)
            # Each room holds its appliances and the room's own energy device
            # (power, energy and cost of the room, docs/fleet.md).
            assert {(floor, area): devices - 1 for floor, area, devices in places} == dict(expected)

            # Every roster line is paired by its building's hub, skipped by the other.
            log = (state / building_id / "provision.log").read_text()
            outcomes = dict(re.findall(r"^  line\s+(\d+)\s+(\S+)", log, re.MULTILINE))
            assert len(outcomes) == len(rows)
            assert Counter(outcomes.values()) == {
                "paired": len(mine),
                "other_building": 10 - len(mine),
            }

            # Head office's report: the building's hub online with all its appliances.
            assert re.search(
                rf"^{building_id}: hub online, {len(mine)} appliances", text, re.MULTILINE
            )
            floors = {f"{building} / {r['floor']}" for r in mine}
            for floor in floors:
                count = sum(1 for r in mine if f"{building} / {r['floor']}" == floor)
                assert f"  floor {floor}: {count} appliances" in text
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
        assert not _listening(listened)
