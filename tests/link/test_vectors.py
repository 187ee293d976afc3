"""The hub's side of the shared test vectors (tests/vectors/*.json)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import json
from typing import Any
import warnings

import pytest

from custom_components.liuzhou_appliances.link import ble, ble_advertisement, discovery
from custom_components.liuzhou_appliances.link.client import ApplianceClient
from custom_components.liuzhou_appliances.link.codec import (
    ClientHello,
    CodecError,
    FrameDecoder,
    FrameType,
    HelloInfo,
    choose_version,
    decode_error,
    decode_frame,
    encode_frame,
    encode_message,
    read_frame,
)
from custom_components.liuzhou_appliances.link.declaration import Declaration, DeclarationError
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.messages import Utterance
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.pairing import PairingInitiator
from custom_components.liuzhou_appliances.link.session import (
    NoiseInitiator,
    NoiseResponder,
    SecureSession,
    hello_transcript,
)
from tests.vectors import load, seeded_entropy

FRAMES = load("frames")
PAIRING = load("pairing")
SESSION = load("session")
MESSAGES = load("messages")
VOICE = load("voice")


@pytest.mark.parametrize("case", FRAMES["valid"])
def test_valid_frames(case: dict[str, Any]) -> None:
    payload = bytes.fromhex(case["payload"])
    encoded = bytes.fromhex(case["encoded"])
    assert encode_frame(FrameType(case["type"]), payload) == encoded
    assert decode_frame(encoded).payload == payload
    decoder = FrameDecoder()
    frames = [frame for byte in encoded for frame in decoder.feed(bytes([byte]))]
    assert [(f.type, f.payload) for f in frames] == [(case["type"], payload)]


@pytest.mark.parametrize("case", FRAMES["invalid"], ids=lambda c: c["name"])
def test_invalid_frames(case: dict[str, Any]) -> None:
    with pytest.raises(CodecError) as caught:
        decode_frame(bytes.fromhex(case["bytes"]))
    assert caught.value.code.name == case["error"]


def test_hellos() -> None:
    fields = FRAMES["client_hello"]["fields"]
    assert ClientHello(**fields).encode().decode() == FRAMES["client_hello"]["payload"]
    info = HelloInfo.decode(FRAMES["server_hello"]["payload"].encode())
    assert info.encode().decode() == FRAMES["server_hello"]["payload"]
    for case in FRAMES["invalid_client_hello"]:
        with pytest.raises(CodecError) as caught:
            ClientHello.decode(case["payload"].encode())
        assert caught.value.code.name == case["error"]
    for case in FRAMES["version_negotiation"]:
        hello = ClientHello("hub", *case["offer"])
        if "chosen" in case:
            assert choose_version(hello, tuple(case["supported"])) == case["chosen"]
        else:
            with pytest.raises(CodecError) as caught:
                choose_version(hello, tuple(case["supported"]))
            assert caught.value.code.name == case["error"]
    for case in FRAMES["error_frames"]:
        error = decode_error(case["payload"].encode())
        assert error.code.name == case["code"]
        assert error.retry_after == case["retry_after"]


@pytest.mark.parametrize("run", ["right_code", "wrong_code"])
def test_pairing_hub_side(run: str) -> None:
    case = PAIRING[run]
    hub = PairingInitiator(
        case["hub_code"],
        hub_id=PAIRING["hub_id"],
        appliance_id=PAIRING["appliance_id"],
        hello_transcript=bytes.fromhex(PAIRING["hello_transcript"]),
        entropy=seeded_entropy(PAIRING["hub_entropy_seed"]),
    )
    assert hub.start().hex() == case["start"]
    if "hub_error" in case:
        with pytest.raises(LinkError) as caught:
            hub.handle_reply(bytes.fromhex(case["reply"]))
        assert caught.value.code.name == case["hub_error"]
        return
    assert hub.handle_reply(bytes.fromhex(case["reply"])).hex() == case["confirm"]
    assert hub.handle_key(bytes.fromhex(case["key"])).hex() == case["ack"]
    assert hub.handle_done(bytes.fromhex(case["done"])).hex() == case["long_term_key"]


def test_hello_transcript() -> None:
    transcript = hello_transcript(
        PAIRING["client_hello"].encode(), PAIRING["server_hello"].encode()
    )
    assert transcript.hex() == PAIRING["hello_transcript"]


def test_session_hub_side() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # noiseprotocol warns about fixed ephemeral keys
        hub = NoiseInitiator(
            bytes.fromhex(SESSION["psk"]),
            bytes.fromhex(SESSION["prologue"]),
            ephemeral=bytes.fromhex(SESSION["hub_ephemeral_private"]),
        )
    assert hub.first_message().hex() == SESSION["handshake_1"]
    session = hub.finish(bytes.fromhex(SESSION["handshake_2"]))
    assert session.handshake_hash.hex() == SESSION["handshake_hash"]
    for message in SESSION["transport"]:
        if message["from"] == "hub":
            assert session.encrypt(message["plaintext"].encode()).hex() == message["ciphertext"]
        else:
            plaintext = session.decrypt(bytes.fromhex(message["ciphertext"]))
            assert plaintext.decode() == message["plaintext"]


@pytest.mark.parametrize("case", load("ble")["valid"], ids=lambda c: f"mtu{c['mtu']}")
def test_ble_fragments(case: dict[str, Any]) -> None:
    frame = bytes.fromhex(case["frame"])
    fragments = ble.fragment(frame, case["mtu"])
    assert [f.hex() for f in fragments] == case["fragments"]
    reassembler = ble.Reassembler()
    out = [reassembler.feed(f) for f in fragments]
    assert out[-1] == frame
    assert all(o is None for o in out[:-1])


@pytest.mark.parametrize("case", load("ble")["invalid"], ids=lambda c: c["name"])
def test_ble_invalid(case: dict[str, Any]) -> None:
    reassembler = ble.Reassembler()
    *leading, failing = [bytes.fromhex(fragment) for fragment in case["fragments"]]
    for fragment in leading:
        assert reassembler.feed(fragment) is None
    with pytest.raises(ble.FragmentError) as caught:
        reassembler.feed(failing)
    assert caught.value.code.name == case["error"]
    assert not reassembler.in_progress


@pytest.mark.parametrize(
    "case", load("ble")["advertisements"], ids=lambda c: c["appliance_id"][:14]
)
def test_ble_advertisement_hub_side(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["service_data"])
    advert = ble_advertisement.parse_service_data(data)
    assert advert.type == case["type"]
    assert advert.paired is case["paired"]
    assert advert.changes == case["changes"]
    assert advert.is_for(case["appliance_id"])
    assert not advert.is_for(case["appliance_id"] + "x")
    packet = bytes.fromhex(case["advertising_data"])
    assert len(packet) <= 31
    assert packet.endswith(data)
    assert len(bytes.fromhex(case["scan_response_data"])) <= 31
    with pytest.raises(ble_advertisement.AdvertisementError):
        ble_advertisement.parse_service_data(data[:9])


def test_discovery_vectors() -> None:
    data = load("discovery")
    assert data["service_type"] == discovery.SERVICE_TYPE
    assert data["default_port"] == discovery.DEFAULT_PORT
    for case in data["valid"]:
        record = discovery.parse_txt(case["txt"])
        assert {name: getattr(record, name) for name in case["record"]} == case["record"] | {
            "type": ApplianceType(case["record"]["type"])
        }
        as_bytes = {k.encode(): v.encode() for k, v in case["txt"].items()}
        assert discovery.parse_txt(as_bytes) == record
    for case in data["invalid"]:
        with pytest.raises(discovery.DiscoveryError):
            discovery.parse_txt(case["txt"])


# --- the message exchange, played by a scripted appliance --------------------


async def _accept_session(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, vectors: dict[str, Any]
) -> SecureSession:
    """Play the vectors' appliance through HELLO and the Noise handshake; return its session."""
    identity = vectors["appliance"]["identity"]
    frame = await read_frame(reader)
    server_hello = HelloInfo(
        identity["appliance_id"],
        ApplianceType(identity["type"]),
        identity["model"],
        identity["firmware"],
        1,
        True,
    ).encode()
    writer.write(encode_frame(FrameType.HELLO, server_hello))
    handshake = await read_frame(reader)
    reply, session = NoiseResponder(
        bytes.fromhex(vectors["key"]), hello_transcript(frame.payload, server_hello)
    ).respond(handshake.payload)
    writer.write(encode_frame(FrameType.HANDSHAKE, reply))
    return session


async def _scripted_appliance(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: list[str]
) -> None:
    """Answers exactly as the vectors say, checking each request's bytes."""
    session = await _accept_session(reader, writer, MESSAGES)
    for step in (s for s in MESSAGES["steps"] if s["client_api"]):
        request = session.decrypt((await read_frame(reader)).payload).decode()
        if request != step["request"]:
            log.append(f"{step['name']}: got {request}")
        for message in step["expect"]:
            writer.write(
                encode_frame(FrameType.ENCRYPTED, session.encrypt(encode_message(message)))
            )
        await writer.drain()
    log.append("done")
    await reader.read()  # until the hub disconnects
    writer.close()


async def test_messages_hub_side(socket_enabled: None) -> None:
    log: list[str] = []
    server = await asyncio.start_server(lambda r, w: _scripted_appliance(r, w, log), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = ApplianceClient(
        "127.0.0.1",
        port,
        bytes.fromhex(MESSAGES["key"]),
        hub_id=MESSAGES["hub_id"],
        request_timeout=2,
    )
    try:
        await client.connect()  # describe, subscribe, read all
        assert client.state == MESSAGES["appliance"]["state"]
        steps = [s for s in MESSAGES["steps"] if s["client_api"]][3:]
        for step in steps:
            request = json.loads(step["request"])
            response = step["expect"][-1]
            call: Callable[[dict[str, Any]], Awaitable[object]] = {
                "read": lambda r: client.read(r.get("keys")),
                "write": lambda r: client.write(r["values"]),
                "command": lambda r: client.command(r["name"], r["args"]),
                "ping": lambda r: client.ping(),
            }[request["type"]]
            if response["type"] == "error":
                with pytest.raises(LinkError) as caught:
                    await call(request)
                assert caught.value.code == ErrorCode(response["code"]), step["name"]
                assert caught.value.key == response.get("key")
            else:
                result = await call(request)
                if request["type"] == "read":
                    assert result == response["result"]["values"]
        assert client.state["target_temperature"] == 21.5
        assert client.state["on"] is True
        assert log == ["done"]
    finally:
        await client.disconnect()
        server.close()
        await server.wait_closed()


# --- the voice panel's exchange ----------------------------------------------------


async def _scripted_panel(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: list[str]
) -> None:
    """Plays voice.json's appliance: checks each request's bytes, pushes each utterance."""
    session = await _accept_session(reader, writer, VOICE)
    for step in VOICE["steps"]:
        if "request" in step:
            if not step["client_api"]:
                continue
            request = session.decrypt((await read_frame(reader)).payload).decode()
            if request != step["request"]:
                log.append(f"{step['name']}: got {request}")
        for message in step["expect"]:
            writer.write(
                encode_frame(FrameType.ENCRYPTED, session.encrypt(encode_message(message)))
            )
        await writer.drain()
    log.append("done")
    await reader.read()
    writer.close()


async def test_voice_hub_side(socket_enabled: None) -> None:
    """The hub's API sends voice.json's bytes and reads its utterances and answers."""
    log: list[str] = []
    server = await asyncio.start_server(lambda r, w: _scripted_panel(r, w, log), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = ApplianceClient(
        "127.0.0.1", port, bytes.fromhex(VOICE["key"]), hub_id=VOICE["hub_id"], request_timeout=2
    )
    heard: asyncio.Queue[Utterance] = asyncio.Queue()
    client.add_utterance_listener(heard.put_nowait)
    try:
        await client.connect()  # describe, subscribe, read all
        assert client.declaration is not None
        assert client.declaration.voice_panel is not None
        for step in [s for s in VOICE["steps"] if s.get("client_api", True)][3:]:
            expected = step["expect"][0]
            if "hear" in step:
                utterance = await asyncio.wait_for(heard.get(), 2)
                assert utterance == Utterance.from_dict(expected), step["name"]
                continue
            request = json.loads(step["request"])
            call: Awaitable[None] = (
                client.voice_reply(
                    request["utterance"],
                    request["text"],
                    continue_listening=request["continue"],
                    conversation=request["conversation"],
                )
                if request["type"] == "voice_reply"
                else client.announce(request["text"], request["language"])
            )
            if expected["type"] == "error":
                with pytest.raises(LinkError) as caught:
                    await call
                assert caught.value.code == ErrorCode(expected["code"]), step["name"]
            else:
                await call
        assert log == ["done"]
    finally:
        await client.disconnect()
        server.close()
        await server.wait_closed()


# --- declarations: the neural models an appliance runs (PROTOCOL.md 7.6) -------------


@pytest.mark.parametrize("case", load("declarations")["valid"], ids=lambda c: c["name"])
def test_declared_models_vectors(case: dict[str, Any]) -> None:
    declaration = Declaration.from_dict(case["declaration"])
    assert [model.to_dict() for model in declaration.models] == case["models"]
    # What describe sends carries them unchanged (absent when there are none).
    sent = declaration.to_dict()
    assert sent.get("models", []) == case["models"]
    assert Declaration.from_dict(sent) == declaration


@pytest.mark.parametrize("case", load("declarations")["invalid"], ids=lambda c: c["name"])
def test_declared_models_invalid_vectors(case: dict[str, Any]) -> None:
    with pytest.raises(DeclarationError) as error:
        Declaration.from_dict(case["declaration"])
    assert case["error"] in str(error.value)
