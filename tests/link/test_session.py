"""Session crypto and its failure cases: wrong key, tampering, replay, plaintext, keepalive."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging

import pytest

from custom_components.liuzhou_appliances.link.client import (
    ApplianceClient,
    SecureChannel,
)
from custom_components.liuzhou_appliances.link.codec import (
    MAX_PAYLOAD,
    ClientHello,
    FrameType,
    encode_frame,
    read_frame,
)
from custom_components.liuzhou_appliances.link.errors import (
    ApplianceUnreachable,
    ErrorCode,
    LinkError,
)
from custom_components.liuzhou_appliances.link.server import ApplianceServer
from custom_components.liuzhou_appliances.link.session import (
    NoiseInitiator,
    NoiseResponder,
    hello_transcript,
)

from .conftest import HUB_ID, KEY
from .tcp import tcp
from .util import eventually


def _pair_sessions(prologue: bytes = b"p"):  # type: ignore[no-untyped-def]
    hub = NoiseInitiator(KEY, prologue)
    reply, appliance = NoiseResponder(KEY, prologue).respond(hub.first_message())
    return hub.finish(reply), appliance


def test_noise_round_trip_and_replay() -> None:
    hub, appliance = _pair_sessions()
    first = hub.encrypt(b"one")
    assert appliance.decrypt(first) == b"one"
    assert hub.decrypt(appliance.encrypt(b"two")) == b"two"
    with pytest.raises(LinkError) as caught:
        appliance.decrypt(first)  # replay
    assert caught.value.code is ErrorCode.AUTH_FAILED
    with pytest.raises(LinkError):
        appliance.decrypt(hub.encrypt(b"fine now?"))  # broken for good


def test_noise_tamper_and_wrong_key() -> None:
    hub, appliance = _pair_sessions()
    frame = bytearray(hub.encrypt(b"hello"))
    frame[0] ^= 0x01
    with pytest.raises(LinkError):
        appliance.decrypt(bytes(frame))
    with pytest.raises(LinkError) as caught:
        NoiseResponder(bytes(32), b"p").respond(NoiseInitiator(KEY, b"p").first_message())
    assert caught.value.code is ErrorCode.AUTH_FAILED


def test_prologue_binds_hello() -> None:
    honest = hello_transcript(ClientHello("hub", 1, 2).encode(), b"server")
    downgraded = hello_transcript(ClientHello("hub", 1, 1).encode(), b"server")
    with pytest.raises(LinkError) as caught:
        NoiseResponder(KEY, downgraded).respond(NoiseInitiator(KEY, honest).first_message())
    assert caught.value.code is ErrorCode.AUTH_FAILED


async def test_wrong_key_is_auth_failed(
    make_client: Callable[..., ApplianceClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(bytes(32))
    with caplog.at_level(logging.WARNING), pytest.raises(LinkError) as caught:
        await client.connect()
    assert caught.value.code is ErrorCode.AUTH_FAILED
    assert client.hello is not None  # known even though the key was refused
    assert not client.connected
    assert "rejected" in caplog.text


async def _raw_session(server: ApplianceServer) -> tuple[SecureChannel, SecureChannel]:
    channel = await SecureChannel.open("127.0.0.1", server.port, KEY, hub_id=HUB_ID)
    return channel, channel


async def _closed_by_server(stream: SecureChannel) -> bool:
    try:
        while True:
            await asyncio.wait_for(read_frame(tcp(stream.transport).reader), 2)
    except EOFError:
        return True


async def test_tampered_frame_closes_session(
    server: ApplianceServer, caplog: pytest.LogCaptureFixture
) -> None:
    stream, channel = await _raw_session(server)
    ciphertext = bytearray(channel.session.encrypt(b'{"id":1,"type":"ping"}'))
    ciphertext[-1] ^= 0x80
    tcp(stream.transport).writer.write(encode_frame(FrameType.ENCRYPTED, bytes(ciphertext)))
    with caplog.at_level(logging.INFO):
        assert await _closed_by_server(stream)
        await asyncio.sleep(0.05)
    assert "decryption failed" in caplog.text
    await channel.close()


async def test_replayed_frame_closes_session(server: ApplianceServer) -> None:
    stream, channel = await _raw_session(server)
    frame = encode_frame(FrameType.ENCRYPTED, channel.session.encrypt(b'{"id":1,"type":"ping"}'))
    tcp(stream.transport).writer.write(frame)
    assert (await channel.receive_message(2))["id"] == 1
    tcp(stream.transport).writer.write(frame)
    assert await _closed_by_server(stream)
    await channel.close()


async def test_plaintext_after_handshake_closes_session(server: ApplianceServer) -> None:
    stream, channel = await _raw_session(server)
    tcp(stream.transport).writer.write(encode_frame(FrameType.HELLO, ClientHello(HUB_ID).encode()))
    assert await _closed_by_server(stream)
    await channel.close()


async def test_oversized_frame_in_session_is_too_large(server: ApplianceServer) -> None:
    stream, channel = await _raw_session(server)
    tcp(stream.transport).writer.write(
        bytes([FrameType.ENCRYPTED]) + (MAX_PAYLOAD + 1).to_bytes(2, "big")
    )
    reply = await channel.receive_message(2)
    assert reply["code"] == ErrorCode.TOO_LARGE
    assert await _closed_by_server(stream)
    await channel.close()


async def test_server_drops_silent_hub(server: ApplianceServer) -> None:
    server.keepalive_timeout = 0.2
    _, channel = await _raw_session(server)
    with pytest.raises(ApplianceUnreachable):
        await channel.receive_message(2)
    assert server.session_count == 0
    await channel.close()


async def test_client_keepalive_keeps_session_alive(
    server: ApplianceServer, make_client: Callable[..., ApplianceClient]
) -> None:
    server.keepalive_timeout = 0.3
    client = make_client(keepalive_interval=0.05)
    await client.connect()
    await asyncio.sleep(0.8)
    assert client.connected
    assert server.session_count == 1


async def test_client_drops_silent_appliance(
    server: ApplianceServer, make_client: Callable[..., ApplianceClient]
) -> None:
    client = make_client(keepalive_interval=100.0, keepalive_timeout=0.2)
    reasons: list[Exception | None] = []
    client.add_disconnect_listener(reasons.append)
    await client.connect()
    await eventually(lambda: bool(reasons), 2)
    assert isinstance(reasons[0], ApplianceUnreachable)
    assert not client.connected


async def test_unreachable(socket_enabled: None) -> None:
    client = ApplianceClient("127.0.0.1", 1, KEY, hub_id=HUB_ID, request_timeout=1)
    with pytest.raises(ApplianceUnreachable):
        await client.connect()
