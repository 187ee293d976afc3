"""The appliance side under faults: a hub that stalls or steps wrong, a failing key store,
backend data that does not fit a frame, cancellation, bad construction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import logging
from pathlib import Path

import pytest

from custom_components.liuzhou_appliances.link.client import (
    ApplianceClient,
    PlaintextConnection,
    SecureChannel,
    pair,
)
from custom_components.liuzhou_appliances.link.codec import ClientHello, FrameType
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType, Value
from custom_components.liuzhou_appliances.link.pairing import PairingInitiator
from custom_components.liuzhou_appliances.link.server import (
    ApplianceIdentity,
    ApplianceServer,
    FileKeyStore,
    MemoryKeyStore,
)

from .backend import AC_IDENTITY, AC_STATE, MemoryBackend
from .conftest import CODE, HUB_ID, KEY
from .tcp import tcp
from .util import eventually

LOGGER = "custom_components.liuzhou_appliances.link.server"


# --- construction ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"appliance_id": "LZ-AC-1"}, "appliance id"),
        ({"model": ""}, "model must be"),
        ({"firmware": "1" * 65}, "firmware must be"),
    ],
)
def test_identity_is_validated(fields: dict[str, str], detail: str) -> None:
    values = {"appliance_id": "lz-ac-1", "model": "LZ-AC35", "firmware": "1.0"} | fields
    with pytest.raises(ValueError, match=detail):
        ApplianceIdentity(
            values["appliance_id"],
            ApplianceType.ROOM_AIR_CONDITIONER,
            values["model"],
            values["firmware"],
        )


def test_identity_and_declaration_must_agree_and_port_needs_start() -> None:
    washer = ApplianceIdentity("lz-wm-1", ApplianceType.LAUNDRY_WASHER, "LZ-W8", "1.0")
    with pytest.raises(ValueError, match="type differs"):
        ApplianceServer(MemoryBackend(), washer, pairing_code=CODE, key_store=MemoryKeyStore())
    server = ApplianceServer(
        MemoryBackend(), AC_IDENTITY, pairing_code=CODE, key_store=MemoryKeyStore()
    )
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port


def test_file_key_store_failed_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "appliance.key")
    store.path.mkdir()  # os.replace cannot put a file over a folder
    with pytest.raises(IsADirectoryError):
        store.save(KEY)
    assert [p.name for p in tmp_path.iterdir()] == ["appliance.key"]
    assert store.path.is_dir()


class FullDiskKeyStore(MemoryKeyStore):
    """Flash that refuses writes until ``full`` is cleared."""

    full = True

    def save(self, key: bytes) -> None:
        if self.full:
            raise OSError(28, "No space left on device")
        super().save(key)


# --- the plaintext phase ------------------------------------------------------


async def _hello(server: ApplianceServer) -> PlaintextConnection:
    stream = await PlaintextConnection.open("127.0.0.1", server.port, 2.0)
    await stream.hello(HUB_ID)
    return stream


async def test_silent_hub_times_out_with_an_error_frame(
    server: ApplianceServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.handshake_timeout = 0.1
    stream = await PlaintextConnection.open("127.0.0.1", server.port, 2.0)
    try:
        with caplog.at_level(logging.INFO, LOGGER):
            with pytest.raises(LinkError) as caught:
                await stream.receive(FrameType.HELLO)
            await eventually(lambda: "timed out waiting for the hub" in caplog.text)
        assert caught.value.code is ErrorCode.TIMEOUT
    finally:
        await stream.close()


async def test_handshake_to_an_unpaired_appliance_is_not_paired(
    backend: MemoryBackend,
) -> None:
    server = ApplianceServer(
        backend, AC_IDENTITY, pairing_code=CODE, key_store=MemoryKeyStore(), handshake_timeout=2
    )
    await server.start("127.0.0.1", 0)
    try:
        stream = await _hello(server)
        await stream.send(FrameType.HANDSHAKE, bytes(48))
        with pytest.raises(LinkError) as caught:
            await stream.receive(FrameType.HANDSHAKE)
        assert caught.value.code is ErrorCode.NOT_PAIRED
        await stream.close()
        assert server.session_count == 0
    finally:
        await server.stop()


async def test_wrong_frame_during_pairing_is_malformed_and_counts(
    server: ApplianceServer,
) -> None:
    server.open_pairing_window()  # paired already: someone presses its pairing button
    stream = await PlaintextConnection.open("127.0.0.1", server.port, 2.0)
    try:
        info, transcript = await stream.hello(HUB_ID)
        hub = PairingInitiator(
            CODE, hub_id=HUB_ID, appliance_id=info.appliance_id, hello_transcript=transcript
        )
        await stream.send(FrameType.PAIR, hub.start())
        await stream.receive(FrameType.PAIR)
        await stream.send(FrameType.HANDSHAKE, bytes(48))  # instead of CONFIRM
        with pytest.raises(LinkError, match="expected PAIR, got HANDSHAKE") as caught:
            await stream.receive(FrameType.PAIR)
        assert caught.value.code is ErrorCode.MALFORMED
    finally:
        await stream.close()
    await eventually(lambda: server.pairing_limiter.failures == 1)
    assert server.key == KEY  # the old key stays


async def test_key_store_failure_while_pairing_is_internal(
    backend: MemoryBackend, caplog: pytest.LogCaptureFixture
) -> None:
    store = FullDiskKeyStore()
    server = ApplianceServer(backend, AC_IDENTITY, pairing_code=CODE, key_store=store)
    await server.start("127.0.0.1", 0)
    try:
        with caplog.at_level(logging.ERROR, LOGGER), pytest.raises(LinkError) as caught:
            await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID, timeout=2)
        assert caught.value.code is ErrorCode.INTERNAL
        assert "unexpected error serving" in caplog.text
        assert not server.paired
        assert server.pairing_limiter.failures == 0  # the code was right: no lockout
        store.full = False
        result = await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID, timeout=2)
        assert server.key == result.key == store.load()
    finally:
        await server.stop()


async def test_cancelling_the_stream_handler_ends_the_connection(
    server: ApplianceServer,
) -> None:
    handlers: list[asyncio.Task[None]] = []

    def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.create_task(server.handle_stream(reader, writer)))

    transport = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = transport.sockets[0].getsockname()[1]
    stream = await PlaintextConnection.open("127.0.0.1", port, 2.0)
    try:
        await stream.send(FrameType.HELLO, ClientHello(HUB_ID).encode())
        await stream.receive(FrameType.HELLO)
        handlers[0].cancel()
        with pytest.raises(asyncio.CancelledError):
            await handlers[0]
        with pytest.raises(Exception, match="connection lost"):
            await stream.receive(FrameType.HANDSHAKE)
    finally:
        await stream.close()
        transport.close()
        await transport.wait_closed()
    assert server._connections == set()


# --- inside a session ----------------------------------------------------------


async def test_empty_and_oversized_changes_are_not_pushed(
    client: ApplianceClient,
    backend: MemoryBackend,
    server: ApplianceServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    changes: list[Mapping[str, Value]] = []
    client.add_state_listener(changes.append)
    backend.change({})
    assert server.seq == 0
    with caplog.at_level(logging.ERROR, LOGGER):
        backend.change({"swing": "x" * 20000})
    assert "cannot push change 1" in caplog.text
    backend.change({"temperature": 26.0})
    await eventually(lambda: bool(changes))
    # The skipped number tells the hub it missed a change and should read.
    assert changes == [{"temperature": 26.0}]
    assert client.last_seq == 2
    assert client.connected


async def test_response_too_large_is_internal_and_the_session_continues(
    make_client: Callable[..., ApplianceClient],
    backend: MemoryBackend,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client()
    await client.connect()
    backend.values["swing"] = "x" * 20000  # an MCU reporting nonsense
    with caplog.at_level(logging.ERROR, LOGGER), pytest.raises(LinkError) as caught:
        await client.read()
    assert caught.value.code is ErrorCode.INTERNAL
    assert "does not fit a frame" in caplog.text
    assert await client.read(["mode"]) == {"mode": AC_STATE["mode"]}


async def test_operation_in_flight_is_cancelled_when_the_hub_leaves(
    client: ApplianceClient, backend: MemoryBackend, server: ApplianceServer
) -> None:
    backend.write_delay = 5.0
    write = asyncio.create_task(client.write({"on": True}))
    await asyncio.sleep(0.1)  # the write is running in the backend now
    await client.disconnect()
    with pytest.raises(Exception, match="disconnected"):
        await write
    await eventually(lambda: server.session_count == 0)
    await asyncio.sleep(0.05)
    assert backend.writes == []
    assert backend.values["on"] is False


async def test_hub_that_sends_but_never_reads_is_dropped_when_writes_stall(
    server: ApplianceServer, backend: MemoryBackend, caplog: pytest.LogCaptureFixture
) -> None:
    # One timeout serves reads and writes. The hub pings every 50 ms so that only the
    # stalled writes can run it out; 1 s leaves room for a loaded machine (the flood
    # below is encrypted on this event loop too).
    server.keepalive_timeout = 1.0
    channel = await SecureChannel.open("127.0.0.1", server.port, KEY, hub_id=HUB_ID)
    try:
        channel.send_message({"id": 1, "type": "subscribe"})
        await channel.drain()
        await asyncio.sleep(0.05)
        ping = 2
        with caplog.at_level(logging.INFO, LOGGER):
            for n in range(2000):  # far more than the socket buffers hold
                backend.change({"swing": f"{n:05d}" + "x" * 8000})
                # The writer sends a push at each turn it gets (changes made while it
                # waits merge): yielding after every change keeps it writing.
                await asyncio.sleep(0)
                if n % 100 == 99:  # let the session read the hub's pings meanwhile
                    channel.send_message({"id": (ping := ping + 1), "type": "ping"})
            for _ in range(200):  # keep the session's read side alive, up to 10 s
                channel.send_message({"id": (ping := ping + 1), "type": "ping"})
                await asyncio.sleep(0.05)
                if server.session_count == 0:
                    break
        assert server.session_count == 0
        assert "cannot write to hub (TimeoutError())" in caplog.text
    finally:
        tcp(channel.transport).writer.transport.abort()
        await channel.close()
