"""Request/response, pushes and bad requests over a real session on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest

from custom_components.liuzhou_appliances.link.client import ApplianceClient, SecureChannel
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import Value
from custom_components.liuzhou_appliances.link.server import ApplianceServer

from .backend import AC_STATE, MemoryBackend
from .conftest import HUB_ID, KEY
from .util import eventually


async def open_channel(server: ApplianceServer) -> SecureChannel:
    return await SecureChannel.open("127.0.0.1", server.port, KEY, hub_id=HUB_ID, io_timeout=2.0)


async def test_connect_describes_reads_and_subscribes(
    client: ApplianceClient, backend: MemoryBackend
) -> None:
    assert client.connected
    assert client.hello is not None
    assert client.hello.appliance_id == "lz-ac-3f2a9c01"
    assert client.hello.paired
    assert client.declaration == backend.declaration
    assert client.state == AC_STATE


async def test_read_subset(client: ApplianceClient) -> None:
    assert await client.read(["mode", "on"]) == {"mode": "cool", "on": False}


async def test_write_applies_and_pushes(client: ApplianceClient, backend: MemoryBackend) -> None:
    changes: list[Mapping[str, Value]] = []
    client.add_state_listener(changes.append)
    await client.write({"on": True, "target_temperature": 21.5})
    assert backend.values["target_temperature"] == 21.5
    await eventually(lambda: bool(changes), 2)
    assert changes == [{"on": True, "target_temperature": 21.5}]
    assert client.state["target_temperature"] == 21.5


async def test_values_against_the_declaration_never_reach_the_state(
    make_client: Callable[..., ApplianceClient], backend: MemoryBackend
) -> None:
    """Read or pushed, an invalid value keeps the last valid one and goes to the callback."""
    invalid: list[tuple[str, object, ErrorCode]] = []
    backend.values["humidity"] = "wet"
    client = make_client(on_invalid_value=lambda k, v, e: invalid.append((k, v, e.code)))
    await client.connect()
    assert "humidity" not in client.state
    changes: list[Mapping[str, Value]] = []
    client.add_state_listener(changes.append)
    backend.change({"target_temperature": 99, "mode": "turbo", "temperature": 26.0, "nope": 1})
    await eventually(lambda: bool(changes), 2)
    assert changes == [{"temperature": 26.0}]
    assert (client.state["target_temperature"], client.state["mode"]) == (24.0, "cool")
    assert "nope" not in client.state
    assert invalid[0] == ("humidity", "wet", ErrorCode.INVALID_TYPE)
    assert sorted(invalid[1:]) == [
        ("mode", "turbo", ErrorCode.OUT_OF_RANGE),
        ("nope", 1, ErrorCode.UNKNOWN_CAPABILITY),
        ("target_temperature", 99, ErrorCode.OUT_OF_RANGE),
    ]
    # A refresh keeps the last valid values too.
    backend.values["mode"] = "turbo"
    state = await client.refresh()
    assert state["mode"] == "cool"
    assert ("mode", "turbo", ErrorCode.OUT_OF_RANGE) in invalid[4:]


async def test_pushes_reach_every_session(
    make_client: Callable[..., ApplianceClient], backend: MemoryBackend, server: ApplianceServer
) -> None:
    clients = [make_client() for _ in range(3)]
    for c in clients:
        await c.connect()
    assert server.session_count == 3
    backend.change({"temperature": 26.0})
    await eventually(lambda: all(c.state["temperature"] == 26.0 for c in clients), 2)
    assert len({c.last_seq for c in clients}) == 1


@pytest.mark.parametrize(
    ("values", "code", "key"),
    [
        ({"target_temperature": 31}, ErrorCode.OUT_OF_RANGE, "target_temperature"),
        ({"target_temperature": 22.3}, ErrorCode.OUT_OF_RANGE, "target_temperature"),
        ({"target_temperature": "22"}, ErrorCode.INVALID_TYPE, "target_temperature"),
        ({"temperature": 20}, ErrorCode.READ_ONLY, "temperature"),
        ({"turbo": True}, ErrorCode.UNKNOWN_CAPABILITY, "turbo"),
        ({"swing": "both"}, ErrorCode.OUT_OF_RANGE, "swing"),
        # One bad value rejects the whole write: the good one is not applied either.
        ({"on": True, "mode": "sauna"}, ErrorCode.OUT_OF_RANGE, "mode"),
    ],
)
async def test_invalid_write_changes_nothing(
    client: ApplianceClient,
    backend: MemoryBackend,
    values: dict[str, Value],
    code: ErrorCode,
    key: str,
) -> None:
    before = dict(backend.values)
    with pytest.raises(LinkError) as caught:
        await client.write(values)
    assert caught.value.code is code
    assert caught.value.key == key
    assert backend.values == before
    assert backend.writes == []
    assert client.connected


async def test_backend_rejection_is_reported(
    client: ApplianceClient, backend: MemoryBackend
) -> None:
    with pytest.raises(LinkError) as caught:
        await client.write({"mode": "heat"})
    assert caught.value.code is ErrorCode.INVALID_STATE
    backend.fail_with = RuntimeError("MCU exploded")
    with pytest.raises(LinkError) as caught:
        await client.write({"mode": "cool"})
    assert caught.value.code is ErrorCode.INTERNAL
    assert await client.ping() > 0


async def test_commands(
    make_client: Callable[..., ApplianceClient], server: ApplianceServer
) -> None:
    client = make_client()
    await client.connect()
    # An air conditioner has no commands.
    with pytest.raises(LinkError) as caught:
        await client.command("start")
    assert caught.value.code is ErrorCode.UNSUPPORTED_COMMAND


async def test_washer_commands_are_validated(socket_enabled: None) -> None:
    from custom_components.liuzhou_appliances.link.model import ApplianceType
    from custom_components.liuzhou_appliances.link.server import (
        ApplianceIdentity,
        MemoryKeyStore,
    )

    from .backend import WASHER_DECLARATION

    backend = MemoryBackend(WASHER_DECLARATION, state={})
    identity = ApplianceIdentity("lz-w-01", ApplianceType.LAUNDRY_WASHER, "LZ-W8", "2.0")
    server = ApplianceServer(
        backend, identity, pairing_code="11112222", key_store=MemoryKeyStore(KEY)
    )
    await server.start("127.0.0.1", 0)
    client = ApplianceClient("127.0.0.1", server.port, KEY, hub_id=HUB_ID, request_timeout=2)
    try:
        await client.connect()
        await client.command("start", {"delay_s": 3600})
        assert backend.commands == [("start", {"delay_s": 3600})]
        for args, code in [
            ({"delay_s": -1}, ErrorCode.OUT_OF_RANGE),
            ({"delay_s": 10**9}, ErrorCode.OUT_OF_RANGE),
            ({"delay_s": 1, "finish_in_s": 7200}, ErrorCode.MALFORMED),
            ({"speed": 3}, ErrorCode.MALFORMED),
        ]:
            with pytest.raises(LinkError) as caught:
                await client.command("start", args)
            assert caught.value.code is code
        assert len(backend.commands) == 1
    finally:
        await client.disconnect()
        await server.stop()


async def test_unknown_and_malformed_messages_keep_the_session(server: ApplianceServer) -> None:
    channel = await open_channel(server)
    try:
        channel.send_message({"id": 1, "type": "self_destruct"})
        reply = await channel.receive_message(2)
        assert reply["id"] == 1
        assert reply["code"] == ErrorCode.UNKNOWN_MESSAGE
        for junk in (b"{not json", b"[1,2]", b"\xff\xfe", b'{"id":2}', b'{"id":-1,"type":"ping"}'):
            channel.send_plaintext(junk)
            reply = await channel.receive_message(2)
            assert reply == {
                "id": None,
                "type": "error",
                "code": ErrorCode.MALFORMED,
                "message": reply["message"],
            }
        channel.send_message({"type": "ping"})
        reply = await channel.receive_message(2)
        assert reply["code"] == ErrorCode.MALFORMED
        for bad in (
            {"id": 3, "type": "read", "keys": "mode"},
            {"id": 3, "type": "write", "values": {}},
            {"id": 3, "type": "write", "values": [1]},
            {"id": 3, "type": "command"},
            {"id": 3, "type": "command", "name": "start", "args": [1]},
        ):
            channel.send_message(bad)
            reply = await channel.receive_message(2)
            assert reply["id"] == 3
            assert reply["code"] == ErrorCode.MALFORMED
        channel.send_message({"id": 4, "type": "ping"})
        assert await channel.receive_message(2) == {"id": 4, "type": "result", "result": {}}
    finally:
        await channel.close()


async def test_too_many_operations_in_flight_are_busy(
    server: ApplianceServer, backend: MemoryBackend
) -> None:
    backend.write_delay = 0.3
    channel = await open_channel(server)
    try:
        total = server.max_in_flight + 3
        for n in range(total):
            channel.send_message({"id": n, "type": "write", "values": {"on": True}})
        replies = [await channel.receive_message(2) for _ in range(total)]
        busy = [r for r in replies if r["type"] == "error"]
        assert len(busy) == 3
        assert all(r["code"] == ErrorCode.BUSY for r in busy)
        assert sum(r["type"] == "result" for r in replies) == server.max_in_flight
    finally:
        await channel.close()


async def test_slow_backend_times_out(server: ApplianceServer, backend: MemoryBackend) -> None:
    server.operation_timeout = 0.1
    backend.write_delay = 1.0
    channel = await open_channel(server)
    try:
        channel.send_message({"id": 9, "type": "write", "values": {"on": True}})
        reply = await channel.receive_message(2)
        assert reply["code"] == ErrorCode.TIMEOUT
        assert backend.writes == []
    finally:
        await channel.close()


async def test_session_limit(
    make_client: Callable[..., ApplianceClient], server: ApplianceServer
) -> None:
    for _ in range(server.max_sessions):
        await make_client().connect()
    with pytest.raises(LinkError) as caught:
        await make_client().connect()
    assert caught.value.code is ErrorCode.BUSY


async def test_disconnect_stops_everything(
    client: ApplianceClient, server: ApplianceServer
) -> None:
    reasons: list[Exception | None] = []
    client.add_disconnect_listener(reasons.append)
    await client.disconnect()
    assert reasons == [None]
    assert not client.connected
    assert client._tasks == []
    await eventually(lambda: server.session_count == 0, 2)
    await client.disconnect()  # idempotent
    assert reasons == [None]


async def test_appliance_going_away_is_reported(
    client: ApplianceClient, server: ApplianceServer
) -> None:
    reasons: list[Exception | None] = []
    client.add_disconnect_listener(reasons.append)
    await server.stop()
    await eventually(lambda: bool(reasons), 2)
    assert reasons[0] is not None
    assert not client.connected


async def test_disconnect_when_idle_lets_a_request_in_flight_finish(
    client: ApplianceClient, backend: MemoryBackend
) -> None:
    """A hub moving to another link closes the old session without losing a write."""
    backend.write_delay = 0.3
    endings: list[Exception | None] = []
    client.add_disconnect_listener(endings.append)
    write = asyncio.create_task(client.write({"on": True}))
    await eventually(lambda: bool(client._requests.waiting), 2)
    await client.disconnect_when_idle()
    assert write.done()
    await write  # acknowledged, not failed by the close
    assert backend.writes == [{"on": True}]
    assert not client.connected
    assert endings == [None]


async def test_disconnect_when_idle_closes_at_once_without_requests(
    client: ApplianceClient,
) -> None:
    await client.disconnect_when_idle()
    assert not client.connected
