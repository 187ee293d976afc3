"""The appliance's side of the shared test vectors (tests/vectors/*.json).

The same files tests/link/test_vectors.py replays from the hub's side, here
replayed through the appliance's code: PairingResponder, NoiseResponder and a
real ApplianceServer over TCP on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
import warnings

import pytest

from custom_components.liuzhou_appliances.link.client import SecureChannel
from custom_components.liuzhou_appliances.link.codec import FrameType, decode_error, read_frame
from custom_components.liuzhou_appliances.link.errors import LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.pairing import PairingResponder
from custom_components.liuzhou_appliances.link.server import (
    ApplianceIdentity,
    ApplianceServer,
    MemoryKeyStore,
)
from custom_components.liuzhou_appliances.link.session import NoiseResponder
from tests.vectors import (
    VectorBackend,
    VectorPanel,
    comparable,
    load,
    replay_exchange,
    seeded_entropy,
    speech_dict,
)

PAIRING = load("pairing")
SESSION = load("session")
MESSAGES = load("messages")
FRAMES = load("frames")
VOICE = load("voice")


@pytest.mark.parametrize("run", ["right_code", "wrong_code"])
def test_pairing_appliance_side(run: str) -> None:
    case = PAIRING[run]
    appliance = PairingResponder(
        PAIRING["code"],
        hub_id=PAIRING["hub_id"],
        appliance_id=PAIRING["appliance_id"],
        hello_transcript=bytes.fromhex(PAIRING["hello_transcript"]),
        entropy=seeded_entropy(PAIRING["appliance_entropy_seed"]),
    )
    assert appliance.handle_start(bytes.fromhex(case["start"])).hex() == case["reply"]
    if "hub_error" in case:
        return  # the hub stops here; the appliance counts a failed attempt
    assert appliance.handle_confirm(bytes.fromhex(case["confirm"])).hex() == case["key"]
    key, done = appliance.handle_ack(bytes.fromhex(case["ack"]))
    assert key.hex() == case["long_term_key"]
    assert done.hex() == case["done"]


def test_session_appliance_side() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # noiseprotocol warns about fixed ephemeral keys
        responder = NoiseResponder(
            bytes.fromhex(SESSION["psk"]),
            bytes.fromhex(SESSION["prologue"]),
            ephemeral=bytes.fromhex(SESSION["appliance_ephemeral_private"]),
        )
    reply, session = responder.respond(bytes.fromhex(SESSION["handshake_1"]))
    assert reply.hex() == SESSION["handshake_2"]
    assert session.handshake_hash.hex() == SESSION["handshake_hash"]
    for message in SESSION["transport"]:
        if message["from"] == "appliance":
            assert session.encrypt(message["plaintext"].encode()).hex() == message["ciphertext"]
        else:
            plaintext = session.decrypt(bytes.fromhex(message["ciphertext"]))
            assert plaintext.decode() == message["plaintext"]
    wrong = NoiseResponder(bytes.fromhex(SESSION["psk"]), bytes.fromhex(SESSION["prologue"]))
    with pytest.raises(LinkError) as caught:
        wrong.respond(bytes.fromhex(SESSION["wrong_psk_handshake_1"]))
    assert caught.value.code.name == "AUTH_FAILED"


@pytest.fixture
async def server(socket_enabled: None) -> AsyncIterator[ApplianceServer]:
    appliance = MESSAGES["appliance"]
    identity = appliance["identity"]
    srv = ApplianceServer(
        VectorBackend(appliance),
        ApplianceIdentity(
            identity["appliance_id"],
            ApplianceType(identity["type"]),
            identity["model"],
            identity["firmware"],
        ),
        pairing_code=appliance["pairing_code"],
        key_store=MemoryKeyStore(bytes.fromhex(MESSAGES["key"])),
        handshake_timeout=2.0,
    )
    await srv.start("127.0.0.1", 0)
    yield srv
    await srv.stop()


async def test_messages_appliance_side(server: ApplianceServer) -> None:
    channel = await SecureChannel.open(
        "127.0.0.1", server.port, bytes.fromhex(MESSAGES["key"]), hub_id=MESSAGES["hub_id"]
    )
    try:
        await replay_exchange(channel, MESSAGES["steps"])
    finally:
        await channel.close()


@pytest.mark.parametrize("case", FRAMES["appliance_rejections"], ids=lambda c: c["name"])
async def test_rejections_appliance_side(server: ApplianceServer, case: dict[str, Any]) -> None:
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        for frame in case["send"]:
            writer.write(bytes.fromhex(frame))
        await writer.drain()
        received = []
        while True:
            try:
                received.append(await asyncio.wait_for(read_frame(reader), 2))
            except EOFError:
                break
        assert received, "the appliance closed without an ERROR frame"
        assert received[-1].type is FrameType.ERROR
        assert decode_error(received[-1].payload).code.name == case["error"]
        assert all(f.type is FrameType.HELLO for f in received[:-1])
    finally:
        writer.close()


async def test_voice_appliance_side(socket_enabled: None) -> None:
    """voice.json through a real server: the utterances it pushes, its answers, what it says."""
    appliance = VOICE["appliance"]
    identity = appliance["identity"]
    panel = VectorPanel()
    server = ApplianceServer(
        VectorBackend(appliance),
        ApplianceIdentity(
            identity["appliance_id"],
            ApplianceType(identity["type"]),
            identity["model"],
            identity["firmware"],
        ),
        pairing_code=appliance["pairing_code"],
        key_store=MemoryKeyStore(bytes.fromhex(VOICE["key"])),
        panel=panel,
    )
    await server.start("127.0.0.1", 0)
    channel = await SecureChannel.open(
        "127.0.0.1", server.port, bytes.fromhex(VOICE["key"]), hub_id=VOICE["hub_id"]
    )
    try:
        assert server.voice_panel is not None
        for step in VOICE["steps"]:
            said = len(panel.said)
            if "hear" in step:
                server.voice_panel.hear(step["hear"]["text"], step["hear"]["language"])
            else:
                channel.send_plaintext(step["request"].encode())
            received = comparable(await channel.receive_message(5))
            assert [received] == [comparable(m) for m in step["expect"]], step["name"]
            assert [speech_dict(s) for s in panel.said[said:]] == step["panel_says"], step["name"]
    finally:
        await channel.close()
        await server.stop()
