"""Pushes the hub reads together reach its state listeners once, merged."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from custom_components.liuzhou_appliances.link.client import ApplianceClient
from custom_components.liuzhou_appliances.link.codec import changed_message, result_message
from custom_components.liuzhou_appliances.link.model import Value

from .backend import AC_STATE
from .conftest import KEY
from .fake_appliance import FakeAppliance, Peer
from .util import eventually


async def test_pushes_read_together_are_heard_once_with_the_latest_values() -> None:
    sent = asyncio.Event()

    async def burst(peer: Peer) -> None:
        await peer.setup()
        # Fifty pushes in one write: the hub finds them all waiting, as when it is behind.
        for seq in range(1, 51):
            peer.send(changed_message(seq, {"temperature": 20.0 + seq / 10, "power": 600.0 + seq}))
        peer.send(changed_message(51, {"humidity": 61}))
        await peer.writer.drain()
        sent.set()

    async with FakeAppliance(burst) as fake:
        client = ApplianceClient("127.0.0.1", fake.port, KEY, hub_id="hub")
        heard: list[Mapping[str, Value]] = []
        client.add_state_listener(lambda changed: heard.append(dict(changed)))
        await client.connect()
        await asyncio.wait_for(sent.wait(), 2)
        await eventually(lambda: client.last_seq == 51 and bool(heard) and "humidity" in heard[-1])
        await client.disconnect()

    assert client.state["temperature"] == 25.0
    assert client.state["power"] == 650.0
    merged: dict[str, Value] = {}
    for changed in heard:
        merged.update(changed)
    assert merged == {"temperature": 25.0, "power": 650.0, "humidity": 61}
    assert len(heard) < 10, f"{len(heard)} updates for 51 pushes read together"


async def test_a_lone_push_is_heard_by_itself() -> None:
    async def one_push(peer: Peer) -> None:
        await peer.setup()
        await asyncio.sleep(0.05)
        peer.send(changed_message(1, {"power": 700.0}))

    async with FakeAppliance(one_push) as fake:
        client = ApplianceClient("127.0.0.1", fake.port, KEY, hub_id="hub")
        heard: list[Mapping[str, Value]] = []
        client.add_state_listener(lambda changed: heard.append(dict(changed)))
        await client.connect()
        await eventually(lambda: bool(heard))
        await client.disconnect()

    assert heard == [{"power": 700.0}]


async def test_a_push_after_the_read_answer_is_not_undone_by_it() -> None:
    """The appliance answers the hub's first read and pushes a change in the same write:
    the pushed value is newer than the answer's, and stays (it did not under load)."""

    async def answer_then_push(peer: Peer) -> None:
        await peer.handshake()
        for _ in range(2):  # describe, subscribe
            await peer.answer()
        read = await peer.request()
        peer.send(result_message(read["id"], {"values": dict(AC_STATE)}))
        peer.send(changed_message(1, {"temperature": 23.0}))
        await peer.writer.drain()
        await peer.wait_for_hub_to_close()

    async with FakeAppliance(answer_then_push) as fake:
        client = ApplianceClient("127.0.0.1", fake.port, KEY, hub_id="hub")
        await client.connect()
        await eventually(lambda: client.last_seq == 1)
        assert client.state["temperature"] == 23.0
        assert client.state["target_temperature"] == AC_STATE["target_temperature"]
        await client.disconnect()
