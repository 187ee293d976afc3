"""Connections that have not authenticated never crowd out a hub holding the key (issue 9, item 3).

Real sockets on 127.0.0.1: a crowd of strangers holds connections open and
re-opens each one as soon as the appliance sheds it, either idle or replaying
a captured HELLO + HANDSHAKE and then staying silent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib

import pytest

from custom_components.liuzhou_appliances.link.client import ApplianceClient, PlaintextConnection
from custom_components.liuzhou_appliances.link.codec import (
    ClientHello,
    FrameType,
    encode_frame,
    read_frame,
)
from custom_components.liuzhou_appliances.link.server import ApplianceServer
from custom_components.liuzhou_appliances.link.session import NoiseInitiator, hello_transcript

from .conftest import HUB_ID, KEY
from .util import eventually


class Crowd:
    """``size`` connections to ``port``, each re-opened as soon as it is closed."""

    def __init__(self, port: int, size: int, opening: bytes = b"") -> None:
        self.port = port
        self.opening = opening
        self.opened = 0
        self.shed = 0
        self._tasks = [asyncio.create_task(self._hold()) for _ in range(size)]

    async def _hold(self) -> None:
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.01)
                continue
            self.opened += 1
            try:
                writer.write(self.opening)
                while await reader.read(4096):
                    pass  # say nothing more, ever
            except ConnectionError:
                pass
            finally:
                writer.close()
            self.shed += 1

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def crowd(port: int, size: int, opening: bytes = b"") -> AsyncIterator[Crowd]:
    strangers = Crowd(port, size, opening)
    try:
        await eventually(lambda: strangers.opened >= size, 5)
        yield strangers
    finally:
        await strangers.stop()


async def captured_hello_and_handshake(server: ApplianceServer) -> bytes:
    """What a listener on the LAN records from a hub opening a session: HELLO + HANDSHAKE."""
    client_hello = ClientHello(HUB_ID).encode()
    stream = await PlaintextConnection.open("127.0.0.1", server.port, 2)
    try:
        await stream.send(FrameType.HELLO, client_hello)
        server_hello = (await stream.receive(FrameType.HELLO)).payload
    finally:
        await stream.close()
    handshake = NoiseInitiator(KEY, hello_transcript(client_hello, server_hello)).first_message()
    return encode_frame(FrameType.HELLO, client_hello) + encode_frame(
        FrameType.HANDSHAKE, handshake
    )


@pytest.mark.parametrize("size", [8, 12, 20])
async def test_paired_hub_gets_in_past_idle_strangers(
    server: ApplianceServer, make_client: Callable[..., ApplianceClient], size: int
) -> None:
    async with crowd(server.port, size) as strangers:
        for _ in range(3):  # a hub reconnecting after blips
            client = make_client()
            await client.connect()
            assert client.connected
            assert server.session_count >= 1
            await client.disconnect()
        assert strangers.opened >= size
    assert server.unauthenticated_count <= server.max_connections + server.max_sessions


@pytest.mark.parametrize("size", [4, 8])
async def test_paired_hubs_get_in_past_replayed_handshakes(
    server: ApplianceServer, make_client: Callable[..., ApplianceClient], size: int
) -> None:
    replay = await captured_hello_and_handshake(server)
    async with crowd(server.port, size, replay) as strangers:
        await eventually(lambda: strangers.shed >= size, 5)
        assert server.session_count == 0  # replays hold no session slot
        clients = [make_client() for _ in range(server.max_sessions)]
        for client in clients:
            await client.connect()
        assert all(client.connected for client in clients)
        assert server.session_count == server.max_sessions


async def test_a_repeated_handshake_is_refused_before_it_is_answered(
    server: ApplianceServer,
) -> None:
    replay = await captured_hello_and_handshake(server)
    answers = []
    for _ in range(2):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(replay)
        await asyncio.wait_for(read_frame(reader), 3)  # HELLO
        answers.append((await asyncio.wait_for(read_frame(reader), 3)).type)
        writer.close()
    assert answers == [FrameType.HANDSHAKE, FrameType.ERROR]


async def test_a_replayed_handshake_is_dropped_at_the_authentication_deadline(
    server: ApplianceServer,
) -> None:
    replay = await captured_hello_and_handshake(server)
    server.handshake_timeout = 0.2  # the server fixture's keepalive is 5 s
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(replay)
    frames = []
    with contextlib.suppress(EOFError):
        while True:
            frames.append((await asyncio.wait_for(read_frame(reader), 3)).type)
    writer.close()
    assert frames == [FrameType.HELLO, FrameType.HANDSHAKE]
    assert server.session_count == 0


async def test_a_trickling_stranger_is_dropped_at_the_overall_deadline(
    server: ApplianceServer,
) -> None:
    server.auth_timeout = 0.3  # each frame alone would have 2 s
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    hello = encode_frame(FrameType.HELLO, ClientHello(HUB_ID).encode())
    writer.write(hello)
    await asyncio.wait_for(read_frame(reader), 3)
    frames = []
    with contextlib.suppress(EOFError, ConnectionError):
        for _ in range(200):
            writer.write(bytes([FrameType.HANDSHAKE]))  # a header, one byte at a time
            await writer.drain()
            await asyncio.sleep(0.05)
            # peek for the TIMEOUT frame (_buffer is private, so not in the stubs)
            if reader.at_eof() or reader._buffer:  # type: ignore[attr-defined]
                frames.append((await asyncio.wait_for(read_frame(reader), 3)).type)
                break
    writer.close()
    assert frames == [FrameType.ERROR]
