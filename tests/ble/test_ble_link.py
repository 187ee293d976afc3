"""Pairing and sessions over BLE: the hub's BleTransport and the appliance's GATT service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

import pytest

from custom_components.liuzhou_appliances.link.ble import FIRST
from custom_components.liuzhou_appliances.link.client import ApplianceClient, pair
from custom_components.liuzhou_appliances.link.errors import (
    ApplianceUnreachable,
    ErrorCode,
    LinkError,
    UnsupportedCommandError,
    WrongCodeError,
)
from custom_components.liuzhou_appliances.link.model import ApplianceType, Value
from custom_components.liuzhou_appliances.link.server import ApplianceIdentity
from firmware_bridge.ble.central import Mangle
from tests.link.backend import WASHER_DECLARATION, MemoryBackend

from .conftest import CODE, HUB_ID, KEY, BleAppliance, Hub, MakeAppliance


def _client(hub: Hub, appliance: BleAppliance, key: bytes = KEY, mtu: int = 517) -> ApplianceClient:
    return ApplianceClient(
        appliance.address,
        0,
        key,
        hub_id=HUB_ID,
        request_timeout=3.0,
        open_transport=hub.opener(appliance.address, mtu),
    )


async def _until(condition: Callable[[], bool]) -> None:
    """Poll: the conditions are other objects' state, with no event to wait on."""
    async with asyncio.timeout(3.0):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_pair_with_the_printed_code_then_connect(
    hub: Hub, make_appliance: MakeAppliance
) -> None:
    appliance = await make_appliance(key=None)
    result = await pair(
        appliance.address, 0, CODE, hub_id=HUB_ID, open_transport=hub.opener(appliance.address)
    )
    assert result.hello.appliance_id == appliance.server.identity.appliance_id
    assert appliance.key_store.load() == result.key
    await _until(lambda: appliance.peripheral.link_count == 0)
    client = _client(hub, appliance, key=result.key)
    await client.connect()
    try:
        assert client.state["mode"] == "cool"
    finally:
        await client.disconnect()


async def test_wrong_code(hub: Hub, make_appliance: MakeAppliance) -> None:
    appliance = await make_appliance(key=None)
    with pytest.raises(WrongCodeError):
        await pair(
            appliance.address,
            0,
            "8765-4321",
            hub_id=HUB_ID,
            open_transport=hub.opener(appliance.address),
        )
    assert not appliance.server.paired
    await _until(lambda: appliance.peripheral.link_count == 0)


@pytest.mark.parametrize("mtu", [23, 517])
async def test_session(hub: Hub, make_appliance: MakeAppliance, mtu: int) -> None:
    appliance = await make_appliance()
    client = _client(hub, appliance, mtu=mtu)
    pushed: list[Mapping[str, Value]] = []
    client.add_state_listener(pushed.append)
    await client.connect()  # HELLO, Noise, describe, subscribe, read
    try:
        assert hub.transports[-1].current_mtu() == mtu
        assert client.declaration is not None
        assert client.declaration.model == "LZ-AC35"
        assert (await client.read(["target_temperature"])) == {"target_temperature": 24.0}
        await client.write({"target_temperature": 21.5, "swing": "vertical"})
        assert appliance.backend.values["target_temperature"] == 21.5
        with pytest.raises(UnsupportedCommandError):
            await client.command("start")  # an air conditioner has none
        appliance.backend.change({"temperature": 25.0, "humidity": 55})
        await _until(lambda: client.state["temperature"] == 25.0)
        # Pushed (the write's own push may arrive after it on a loaded machine).
        assert any({"temperature": 25.0, "humidity": 55}.items() <= p.items() for p in pushed)
        assert await client.ping() < 1.0
    finally:
        await client.disconnect()


@pytest.mark.parametrize("mtu", [23, 185, 515, 516, 517])
async def test_a_request_of_several_fragments_arrives_at_any_mtu(
    hub: Hub, make_appliance: MakeAppliance, mtu: int
) -> None:
    """A 3 kB request reaches the appliance whole: no fragment is over 512 bytes (PROTOCOL 11.4)."""
    appliance = await make_appliance()
    client = _client(hub, appliance, mtu=mtu)
    await client.connect()
    try:
        keys = [f"no_such_key_{n:04d}" for n in range(150)]  # about 3 kB of JSON
        with pytest.raises(LinkError) as caught:
            await client.read(keys)
        assert caught.value.code is ErrorCode.UNKNOWN_CAPABILITY  # read whole, answered
        assert await client.ping() < 1.0
    finally:
        await client.disconnect()


@pytest.mark.parametrize("mtu", [23, 517])
async def test_command(hub: Hub, make_appliance: MakeAppliance, mtu: int) -> None:
    identity = ApplianceIdentity("lz-w-01", ApplianceType.LAUNDRY_WASHER, "LZ-W8", "2.0")
    backend = MemoryBackend(WASHER_DECLARATION, state={})
    appliance = await make_appliance(backend=backend, identity=identity)
    client = _client(hub, appliance, mtu=mtu)
    await client.connect()
    try:
        await client.command("start", {"delay_s": 3600})
        assert backend.commands == [("start", {"delay_s": 3600})]
    finally:
        await client.disconnect()


def _dropping() -> Mangle:
    done = [False]

    def mangle(value: bytes) -> Sequence[bytes]:
        if not done[0] and not value[0] & FIRST:
            done[0] = True
            return []
        return [value]

    return mangle


def _reordering() -> Mangle:
    held: list[bytes] = []
    done = [False]

    def mangle(value: bytes) -> Sequence[bytes]:
        if done[0] or value[0] & FIRST:
            return [value]
        if not held:
            held.append(value)  # the first continuation waits for the next one
            return []
        done[0] = True
        return [value, held.pop()]

    return mangle


async def _assert_new_session_works(hub: Hub, appliance: BleAppliance) -> None:
    await _until(lambda: appliance.peripheral.link_count == 0)
    await _until(lambda: appliance.server.session_count == 0)
    client = _client(hub, appliance, mtu=23)
    await client.connect()
    try:
        assert "target_temperature" in await client.read()
    finally:
        await client.disconnect()


async def test_dropped_write_fragment_ends_the_session(
    hub: Hub, make_appliance: MakeAppliance
) -> None:
    appliance = await make_appliance()
    client = _client(hub, appliance, mtu=23)
    ended: list[Exception | None] = []
    client.add_disconnect_listener(ended.append)
    await client.connect()
    hub.client.mangle_writes = _dropping()
    with pytest.raises(ApplianceUnreachable):
        # A write request spans several fragments at MTU 23; one goes missing.
        await client.write({"target_temperature": 22.0, "swing": "vertical"})
    await _until(lambda: bool(ended))
    assert isinstance(ended[0], LinkError)
    assert appliance.backend.writes == []
    await _assert_new_session_works(hub, appliance)


async def test_reordered_notification_fragment_ends_the_session(
    hub: Hub, make_appliance: MakeAppliance
) -> None:
    appliance = await make_appliance()
    client = _client(hub, appliance, mtu=23)
    ended: list[Exception | None] = []
    client.add_disconnect_listener(ended.append)
    await client.connect()
    hub.client.mangle_notifications = _reordering()
    with pytest.raises(ApplianceUnreachable):
        await client.read()  # the answer spans many fragments
    await _until(lambda: bool(ended))
    assert isinstance(ended[0], LinkError)
    assert not client.connected
    await _assert_new_session_works(hub, appliance)


async def test_hub_disconnects(hub: Hub, make_appliance: MakeAppliance) -> None:
    appliance = await make_appliance()
    client = _client(hub, appliance)
    await client.connect()
    await _until(lambda: appliance.server.session_count == 1)
    await client.disconnect()
    await _until(lambda: appliance.peripheral.link_count == 0)
    await _until(lambda: appliance.server.session_count == 0)


async def test_appliance_drops_the_link(hub: Hub, make_appliance: MakeAppliance) -> None:
    appliance = await make_appliance()
    client = _client(hub, appliance)
    ended: list[Exception | None] = []
    client.add_disconnect_listener(ended.append)
    await client.connect()
    await appliance.peripheral.stop()
    await _until(lambda: bool(ended))
    assert isinstance(ended[0], ApplianceUnreachable)
    assert not client.connected


async def test_unreachable_address(hub: Hub) -> None:
    with pytest.raises(ApplianceUnreachable):
        await pair(
            "C1:02:03:04:05:06",
            0,
            CODE,
            hub_id=HUB_ID,
            open_transport=hub.opener("C1:02:03:04:05:06"),
        )
