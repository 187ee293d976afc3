"""Head office's report against a real broker: TLS, credentials, the ACL, bad payloads."""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
import time

import paho.mqtt.client as mqtt
import pytest

from custom_components.liuzhou_appliances.estate_topics import (
    ApplianceState,
    BuildingSummary,
    FloorSummary,
    encode,
    state_topic,
    status_topic,
    summary_topic,
)
from fleet import estate_report
from fleet.estate_mqtt import BrokerError, BrokerSettings, connect
from scripts.broker_tls import write_certificates

from .broker import ESTATE, USERS, MosquittoBroker

WHEN = "2026-11-30T10:00:00+00:00"


def _state(appliance_id: str, floor: str, energy: float, faults: tuple[str, ...] = ()) -> bytes:
    return encode(
        ApplianceState(
            appliance_id=appliance_id,
            type="room_air_conditioner",
            name=f"AC {appliance_id}",
            floor=floor,
            room=f"{floor}0",
            online=True,
            state="cool",
            power_w=500.0,
            energy_kwh=energy,
            cost=energy * 0.6,
            faults=faults,
            updated=WHEN,
        )
    )


def _publish(client: mqtt.Client, topic: str, payload: bytes, retain: bool = True) -> None:
    client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)


def test_report_reads_both_buildings(
    broker: MosquittoBroker,
    client_for: Callable[..., mqtt.Client],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    hub_a, hub_b = client_for("hub-tower-a"), client_for("hub-tower-b", tls=False)
    _publish(hub_a, status_topic(ESTATE, "tower-a"), b"online")
    _publish(hub_a, state_topic(ESTATE, "tower-a", "ac-1"), _state("ac-1", "A1", 2.0))
    _publish(hub_a, state_topic(ESTATE, "tower-a", "ac-2"), _state("ac-2", "A2", 3.0, ("filter",)))
    summary = BuildingSummary((FloorSummary("B1", 1, 4.0, 2.4),), 4.0, 2.4, WHEN)
    _publish(hub_b, summary_topic(ESTATE, "tower-b"), encode(summary))
    _publish(hub_b, state_topic(ESTATE, "tower-b", "ac-9"), _state("ac-9", "B1", 4.0))
    # Garbage under a hub's own topics is skipped, not fatal.
    _publish(hub_b, state_topic(ESTATE, "tower-b", "ac-x"), b"{not json")

    password = tmp_path / "office.secret"
    password.write_text(USERS["office"][0] + "\n")
    argv = [
        "--broker", f"mqtts://127.0.0.1:{broker.tls_port}", "--ca", str(broker.ca),
        "--username", "office", "--password-file", str(password),
        "--estate", ESTATE, "--wait", "1", "--json",
    ]  # fmt: skip
    assert estate_report.main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    a, b = data["buildings"]["tower-a"], data["buildings"]["tower-b"]
    assert a["hub"] == "online"
    assert a["energy_kwh"] == 5.0
    assert a["floors"] == {
        "A1": {"appliances": 1, "energy_kwh": 2.0, "cost": 1.2},
        "A2": {"appliances": 1, "energy_kwh": 3.0, "cost": 1.8},
    }
    assert a["faults"] == [
        {"appliance_id": "ac-2", "name": "AC ac-2", "room": "A20", "faults": ["filter"]}
    ]
    assert a["by_state"] == {"cool": 2}
    assert b["summary"]["floors"][0]["energy_kwh"] == 4.0
    assert [s["appliance_id"] for s in b["appliances"]] == ["ac-9"]
    assert [s["topic"] for s in data["skipped"]] == [state_topic(ESTATE, "tower-b", "ac-x")]

    assert estate_report.main([*argv[:-1]]) == 0
    text = capsys.readouterr().out
    assert "tower-a: hub online, 2 appliances, 5.000 kWh, 3.00 CNY" in text
    assert "fault: AC ac-2 (A20): filter" in text

    # The same report for a Chinese-speaking head office (the data is the same).
    chinese = estate_report.render(data, "zh-Hans").splitlines()
    assert chinese[0] == "园区 riverside：共 2 栋楼"
    assert "tower-a：中枢在线，2 台电器，5.000 kWh，3.00 元" in chinese
    assert "  按状态：制冷 2" in chinese
    assert "  楼层 A1：1 台电器，2.000 kWh，1.20 元" in chinese
    assert "  故障：AC ac-2（A20）：filter" in chinese
    assert chinese[-1] == "跳过 1 条消息（不符合文档规定的格式）"


def test_hub_cannot_publish_into_another_building(
    broker: MosquittoBroker, client_for: Callable[..., mqtt.Client]
) -> None:
    intruder = client_for("hub-tower-b")
    _publish(intruder, state_topic(ESTATE, "tower-a", "ac-1"), _state("ac-1", "A1", 99.0))
    _publish(
        intruder, f"liuzhou/{ESTATE}/command/c-1", b'{"v":1,"command":"house_defaults"}', False
    )
    office = client_for("office")
    received: list[str] = []
    office.on_message = lambda _c, _u, m: received.append(m.topic)
    office.subscribe(f"liuzhou/{ESTATE}/#", qos=1)
    _publish(intruder, state_topic(ESTATE, "tower-b", "ac-9"), _state("ac-9", "B1", 1.0))
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    # Only its own building's message arrived; the broker dropped the others.
    assert received == [state_topic(ESTATE, "tower-b", "ac-9")]
    denied = [line for line in broker.log().splitlines() if "Denied PUBLISH" in line]
    assert len(denied) == 2
    assert state_topic(ESTATE, "tower-a", "ac-1") in denied[0]


@pytest.mark.parametrize(
    ("user", "password"), [("office", "wrong"), ("nobody", "x"), ("hub-tower-a", "secret-b")]
)
def test_wrong_credentials_refused(
    broker: MosquittoBroker, user: str, password: str, settings_for: Callable[..., BrokerSettings]
) -> None:
    settings = BrokerSettings(
        "127.0.0.1", broker.tls_port, True, broker.ca, username=user, password=password
    )
    with pytest.raises(BrokerError, match="refused"):
        connect(settings, timeout=5)


def test_untrusted_certificate_refused(broker: MosquittoBroker, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    write_certificates(other)
    settings = BrokerSettings(
        "127.0.0.1", broker.tls_port, True, other / "ca.pem", "office", USERS["office"][0]
    )
    with pytest.raises(BrokerError):
        connect(settings, timeout=5)
