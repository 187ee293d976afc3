"""The building's hub on a real Mosquitto broker through Home Assistant's MQTT integration.

Home Assistant here is hub A (tower-a, its own credential); head office is a
paho client with the office credential, reading what the broker delivers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import contextlib
import json
from pathlib import Path
import threading
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr, floor_registry as fr
import paho.mqtt.client as mqtt
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.liuzhou_appliances.const import (
    CONF_BUILDING_ID,
    CONF_ESTATE_ID,
    DOMAIN,
    HOUSEHOLD_UNIQUE_ID,
)
from custom_components.liuzhou_appliances.estate_hub import EstateHub
from custom_components.liuzhou_appliances.estate_topics import (
    ApplianceState,
    Command,
    command_topic,
    encode,
    now_iso,
    state_topic,
)
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.room_occupancy import OPT_AC_TARGET
from fleet.estate_mqtt import BrokerSettings, connect
from fleet.estate_report import collect
from tests.estate.broker import ESTATE, USERS, MosquittoBroker

from .conftest import PairedAppliance, StartAppliance
from .energy_helpers import set_energy_optimisation

BUILDING = "tower-a"


class Office:
    """Head office: every message under the estate, as the broker delivers it."""

    def __init__(self, client: mqtt.Client) -> None:
        self.client = client
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        client.on_message = self._on_message
        client.subscribe(f"liuzhou/{ESTATE}/#", qos=1)

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))

    def payloads(self, suffix: str) -> list[dict[str, Any]]:
        """Every JSON payload received on topics ending with ``suffix``, oldest first."""
        with self._lock:
            return [json.loads(p) for t, p, _ in self.messages if t.endswith(suffix) and p]

    def latest(self, topic: str) -> dict[str, Any] | None:
        """The last payload received on ``topic``."""
        found = [json.loads(p) for t, p, _ in self.messages if t == topic and p]
        return found[-1] if found else None

    def close(self) -> None:
        """Disconnect."""
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A real Mosquitto with the estate's users, ACL and TLS."""
    running = MosquittoBroker(tmp_path / "broker")
    running.configure()
    running.start()
    yield running
    running.stop()


def _office_settings(broker: MosquittoBroker) -> BrokerSettings:
    return BrokerSettings(
        "127.0.0.1", broker.tls_port, True, broker.ca, "office", USERS["office"][0]
    )


@pytest.fixture
def office(broker: MosquittoBroker) -> Iterator[Callable[[], Office]]:
    """Head office's clients (a new one after a broker restart); closed after the test."""
    opened: list[Office] = []

    def _open() -> Office:
        opened.append(Office(connect(_office_settings(broker))))
        return opened[-1]

    yield _open
    for each in opened:
        each.close()


class Line:
    """The hub's network path to the broker, which a test can cut like a power cut.

    A TCP relay on 127.0.0.1: ``cut()`` aborts every connection through it (the
    broker sees the hub vanish without a DISCONNECT, as when the hub's machine
    dies) and turns new ones away.
    """

    def __init__(self, broker_port: int) -> None:
        self.broker_port = broker_port
        self.port = 0
        self.open = True
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        """Listen on a free port."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.broker_port)
        self._writers += [writer, up_writer]

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    def cut(self) -> None:
        """Abort every connection, refuse new ones."""
        self.open = False
        for writer in self._writers:
            writer.transport.abort()
        self._writers = []

    async def stop(self) -> None:
        """Cut and stop listening."""
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def line(broker: MosquittoBroker) -> AsyncIterator[Line]:
    """Hub A's path to the broker (the MQTT integration connects through it)."""
    relay = Line(broker.port)
    await relay.start()
    yield relay
    await relay.stop()


@pytest.fixture
async def mqtt_entry(hass: HomeAssistant, line: Line) -> AsyncIterator[MockConfigEntry]:
    """Home Assistant's MQTT integration on the broker with hub A's credential."""
    entry = MockConfigEntry(
        domain="mqtt",
        data={
            "broker": "127.0.0.1",
            "port": line.port,
            "username": "hub-tower-a",
            "password": USERS["hub-tower-a"][0],
            "discovery": False,
        },
        # As docs/estate.md advises: the will is the building's status; no birth message
        # of Home Assistant's own (the hub says online itself, and the ACL would refuse it).
        options={
            "birth_message": {},
            "will_message": {
                "topic": f"liuzhou/{ESTATE}/{BUILDING}/status",
                "payload": "offline",
                "qos": 1,
                "retain": True,
            },
        },
        version=1,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    # The MQTT integration reads configuration.yaml, which the test configuration lacks.
    with patch("homeassistant.config.load_yaml_config_file", return_value={}):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


async def _until(hass: HomeAssistant, condition: Callable[[], object], seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def _household(hass: HomeAssistant, **options: Any) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Household energy",
        unique_id=HOUSEHOLD_UNIQUE_ID,
        data={},
        options={
            "tariff": "commercial_flat",
            "commercial_flat_price": 0.6,
            CONF_ESTATE_ID: ESTATE,
            CONF_BUILDING_ID: BUILDING,
            **options,
        },
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def encode_state_b() -> bytes:
    """A refrigerator in tower-b as hub B publishes it."""
    return encode(
        ApplianceState(
            appliance_id="lz-fr-b1",
            type="refrigerator",
            name="Fridge B1",
            floor="Tower B / 1",
            room="Tower B / 101",
            online=True,
            state="running",
            power_w=80.0,
            energy_kwh=1.5,
            cost=0.9,
            faults=(),
            updated=now_iso(),
        )
    )


def _hub(entry: MockConfigEntry) -> EstateHub:
    hub = entry.runtime_data.estate
    assert isinstance(hub, EstateHub)
    return hub


def _place(hass: HomeAssistant, machine: PairedAppliance, floor: str, room: str) -> None:
    floor_entry = fr.async_get(hass).async_create(f"Tower A / {floor}", level=int(floor))
    area = ar.async_get(hass).async_create(f"Tower A / {room}", floor_id=floor_entry.floor_id)
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, machine.appliance.id)})
    assert device is not None
    dr.async_get(hass).async_update_device(device.id, area_id=area.id)


async def _two_acs_one_placed(
    hass: HomeAssistant, office: Callable[[], Office], start_appliance: StartAppliance
) -> tuple[Office, PairedAppliance, PairedAppliance, MockConfigEntry]:
    """Head office listening, two ACs (the first in Tower A / 1 / 101), the household."""
    first = office()
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    other = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER, index=1)
    _place(hass, ac, "1", "101")
    return first, ac, other, await _household(hass)


async def test_hub_publishes_acks_and_catches_up(
    hass: HomeAssistant,
    broker: MosquittoBroker,
    mqtt_entry: MockConfigEntry,
    office: Callable[[], Office],
    start_appliance: StartAppliance,
) -> None:
    first, ac, away, household = await _two_acs_one_placed(hass, office, start_appliance)
    hub = _hub(household)
    ac_topic = state_topic(ESTATE, BUILDING, ac.appliance.id)

    # Retained state with room and floor from Home Assistant's registries.
    await _until(hass, lambda: (first.latest(ac_topic) or {}).get("room") == "Tower A / 101")
    state = first.latest(ac_topic)
    assert state is not None
    assert (state["floor"], state["online"], state["type"]) == (
        "Tower A / 1",
        True,
        "room_air_conditioner",
    )
    assert (f"liuzhou/{ESTATE}/{BUILDING}/status", b"online", False) in first.messages
    await _until(hass, lambda: first.payloads("/summary"))
    # Nothing changed: a refresh sends no state again.
    sent = len(first.payloads(f"{ac.appliance.id}/state"))
    await hub.async_refresh()
    await hub.async_refresh()
    await asyncio.sleep(0.3)
    assert len(first.payloads(f"{ac.appliance.id}/state")) == sent

    # A fault raised: an event (QoS 1, not retained) and the state's fault list.
    ac.simulator.inject_fault("indoor_sensor")
    await ac.push()
    await _until(hass, lambda: first.payloads(f"{ac.appliance.id}/event"))
    event = first.payloads(f"{ac.appliance.id}/event")[0]
    assert (event["kind"], event["fault"]) == ("fault_raised", "indoor_sensor")
    await _until(hass, lambda: (first.latest(ac_topic) or {}).get("faults") == ["indoor_sensor"])
    await _until(hass, lambda: not hub.store.outbox)  # the broker delivered it back

    # Demand response: applied on the online AC, pending on the offline one, then applied.
    await set_energy_optimisation(hass, ac, True)
    await set_energy_optimisation(hass, away, True)
    await away.appliance.lan_down()
    await _until(hass, lambda: not away.coordinator.connected)
    command = Command("demand_response", action="start", level="moderate", duration_s=600)
    first.client.publish(command_topic(ESTATE, "dr-1"), encode(command), qos=1).wait_for_publish(5)
    await _until(hass, lambda: first.payloads("/ack/dr-1"))
    ack = first.payloads("/ack/dr-1")[0]
    assert ack["seq"] == 0
    assert {r["appliance_id"]: (r["result"], r["reason"]) for r in ack["results"]} == {
        ac.appliance.id: ("applied", None),
        away.appliance.id: ("pending", "offline"),
    }
    assert hub.store.pending["dr-1"].appliance_ids == [away.appliance.id]
    # Diagnostics show the estate link and what waits, as counts (once the broker has
    # acknowledged the QoS 1 events of the AC going offline: until then they are kept).
    await _until(hass, lambda: not hub.store.outbox)
    assert hub.as_diagnostics() == {
        "estate": ESTATE,
        "building": BUILDING,
        "connected": True,
        "appliances": 2,
        "outbox": 0,
        "pending_commands": 1,
    }
    await away.appliance.lan_up()
    away.coordinator.async_wake_reconnect()
    await _until(hass, lambda: away.coordinator.connected)
    await hub.async_refresh()
    await _until(hass, lambda: len(first.payloads("/ack/dr-1")) == 2)
    later = first.payloads("/ack/dr-1")[1]
    assert (later["seq"], later["results"]) == (
        1,
        [{"appliance_id": away.appliance.id, "result": "applied", "reason": None}],
    )
    assert not hub.store.pending

    # House defaults to this building only; an id it does not have fails by name.
    defaults = Command("house_defaults", appliance_ids=(ac.appliance.id, "lz-ac-elsewhere"))
    first.client.publish(
        command_topic(ESTATE, "hd-1", BUILDING), encode(defaults), qos=1
    ).wait_for_publish(5)
    await _until(hass, lambda: first.payloads("/ack/hd-1"))
    assert first.payloads("/ack/hd-1")[0]["results"] == [
        {"appliance_id": "lz-ac-elsewhere", "result": "failed", "reason": "not_in_building"},
        {"appliance_id": ac.appliance.id, "result": "applied", "reason": None},
    ]
    # The household's house defaults, as a check-out sends them: the AC off at 26 °C.
    assert (ac.simulator.values()["on"], ac.simulator.values()["target_temperature"]) == (
        False,
        26.0,
    )

    # A malformed command is answered with its error, not dropped.
    first.client.publish(command_topic(ESTATE, "bad-1", BUILDING), b"{", qos=1)
    await _until(hass, lambda: first.payloads("/ack/bad-1"))
    assert "not UTF-8 JSON" in first.payloads("/ack/bad-1")[0]["error"]

    # The broker goes away: the hub works on locally and keeps what must be delivered.
    first.close()
    broker.stop()
    await _until(hass, lambda: not hub.connected)
    ac.simulator.clear_fault("indoor_sensor")
    await ac.push()
    await _until(hass, lambda: hub.store.outbox)
    assert [json.loads(p)["kind"] for _, p in hub.store.outbox.values()] == ["fault_cleared"]
    assert (hub.as_diagnostics()["connected"], hub.as_diagnostics()["outbox"]) == (False, 1)
    # ... and across a restart of the hub's storage (the outbox is on disk).
    stored = await hub.store._store.async_load()  # type: ignore[union-attr]
    assert stored is not None
    assert len(stored["outbox"]) == 1

    broker.start()
    second = office()  # connects before the MQTT integration's 10 s reconnect
    await _until(hass, lambda: hub.connected, seconds=30)
    await _until(hass, lambda: second.payloads(f"{ac.appliance.id}/event"), seconds=15)
    assert second.payloads(f"{ac.appliance.id}/event")[0]["kind"] == "fault_cleared"
    await _until(hass, lambda: (second.latest(ac_topic) or {}).get("faults") == [])
    await _until(hass, lambda: not hub.store.outbox)

    # Hub B (a second publisher, its own credential) and head office's report of both.
    hub_b = connect(
        BrokerSettings(
            "127.0.0.1", broker.port, False, None, "hub-tower-b", USERS["hub-tower-b"][0]
        )
    )
    try:
        hub_b.publish(
            state_topic(ESTATE, "tower-b", "lz-fr-b1"), encode_state_b(), qos=1, retain=True
        ).wait_for_publish(5)
    finally:
        hub_b.loop_stop()
        hub_b.disconnect()
    view = await hass.async_add_executor_job(collect, _office_settings(broker), ESTATE, 1.0)
    report = view.as_dict()["buildings"]
    assert sorted(report) == [BUILDING, "tower-b"]
    assert report[BUILDING]["hub"] == "online"
    assert {a["appliance_id"] for a in report[BUILDING]["appliances"]} == {
        ac.appliance.id,
        away.appliance.id,
    }
    assert report[BUILDING]["summary"]["floors"][0]["appliances"] >= 1
    assert report["tower-b"]["by_state"] == {"running": 1}

    # Unloading says offline (retained).
    await hass.config_entries.async_unload(household.entry_id)
    await _until(
        hass, lambda: (f"liuzhou/{ESTATE}/{BUILDING}/status", b"offline", False) in second.messages
    )


async def test_a_push_costs_its_own_appliance(
    hass: HomeAssistant,
    broker: MosquittoBroker,
    mqtt_entry: MockConfigEntry,
    office: Callable[[], Office],
    start_appliance: StartAppliance,
) -> None:
    """A push looks at its own appliance only; a room change is seen; no summary resent."""
    first, ac, other, household = await _two_acs_one_placed(hass, office, start_appliance)
    hub = _hub(household)
    ac_topic = state_topic(ESTATE, BUILDING, ac.appliance.id)
    await _until(hass, lambda: (first.latest(ac_topic) or {}).get("room") == "Tower A / 101")
    await _until(hass, lambda: first.payloads("/summary"))
    await asyncio.sleep(0.5)  # the set-up's own pushes settle

    looked_at: list[str] = []
    state_of = hub._async_state

    async def _counting(energy: Any, place: Any) -> ApplianceState:
        looked_at.append(energy.appliance_id)
        return await state_of(energy, place)

    summaries = len(first.payloads("/summary"))
    with patch.object(hub, "_async_state", _counting):
        other.simulator.inject_fault("indoor_sensor")
        await other.push()
        other_topic = state_topic(ESTATE, BUILDING, other.appliance.id)
        await _until(
            hass, lambda: (first.latest(other_topic) or {}).get("faults") == ["indoor_sensor"]
        )
        assert set(looked_at) == {other.appliance.id}
        # The summary's content (energy, cost per floor) did not change: not sent again.
        await asyncio.sleep(0.5)
        assert len(first.payloads("/summary")) == summaries

    # The AC moved to another room: its state names the new room and floor.
    area = ar.async_get(hass).async_create(
        "Tower A / 201", floor_id=fr.async_get(hass).async_create("Tower A / 2", level=2).floor_id
    )
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, ac.appliance.id)})
    assert device is not None
    dr.async_get(hass).async_update_device(device.id, area_id=area.id)
    await _until(hass, lambda: (first.latest(ac_topic) or {}).get("room") == "Tower A / 201")
    assert (first.latest(ac_topic) or {}).get("floor") == "Tower A / 2"
    # ... and the summary counts it on its new floor.
    summary_topic = f"liuzhou/{ESTATE}/{BUILDING}/summary"

    def _floors() -> list[tuple[str | None, int]]:
        summary = first.latest(summary_topic) or {}
        return [(f["floor"], f["appliances"]) for f in summary.get("floors", [])]

    await _until(hass, lambda: _floors() == [(None, 1), ("Tower A / 2", 1)])

    # An appliance set up since: a refresh for another one's push looks at it too.
    third = await start_appliance(ApplianceType.REFRIGERATOR, index=2)
    await hub.async_refresh({ac.appliance.id})
    third_topic = state_topic(ESTATE, BUILDING, third.appliance.id)
    await _until(hass, lambda: first.latest(third_topic) is not None)


async def test_house_defaults_that_do_not_read_stop_the_household(
    hass: HomeAssistant,
    broker: MosquittoBroker,
    mqtt_entry: MockConfigEntry,
    office: Callable[[], Office],
    start_appliance: StartAppliance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Options out of range (storage edited by hand): the entry says which, nothing is sent.

    So an estate command never meets unreadable defaults on a running hub; the
    ``invalid_house_defaults`` result stays as the guard if it ever did.
    """
    first = office()
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    before = dict(ac.simulator.values())
    household = await _household(hass, **{OPT_AC_TARGET: 99})

    assert household.state is ConfigEntryState.SETUP_ERROR
    assert "house_ac_target=99.0 is outside 16.0..30.0" in caplog.text
    first.client.publish(
        command_topic(ESTATE, "hd-bad", BUILDING), encode(Command("house_defaults")), qos=1
    ).wait_for_publish(5)
    await asyncio.sleep(1)
    assert not first.payloads("/ack/hd-bad")
    assert not first.payloads("/summary")
    assert dict(ac.simulator.values())["target_temperature"] == before["target_temperature"]


async def test_a_hub_that_vanishes_is_offline_through_its_last_will(
    hass: HomeAssistant,
    broker: MosquittoBroker,
    mqtt_entry: MockConfigEntry,
    line: Line,
    office: Callable[[], Office],
    start_appliance: StartAppliance,
) -> None:
    """The hub's machine dies (no goodbye): the broker says ``offline`` for it (retained)."""
    first = office()
    await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    hub = _hub(await _household(hass))
    status = f"liuzhou/{ESTATE}/{BUILDING}/status"
    await _until(hass, lambda: (status, b"online", False) in first.messages)

    line.cut()

    await _until(hass, lambda: (status, b"offline", False) in first.messages)
    # Retained: head office starting later reads the building as offline.
    view = await hass.async_add_executor_job(collect, _office_settings(broker), ESTATE, 1.0)
    assert view.as_dict()["buildings"][BUILDING]["hub"] == "offline"
    await _until(hass, lambda: not hub.connected)
