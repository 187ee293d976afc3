"""Property-based tests: the codec and the server's session state machine."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.liuzhou_appliances.link import ble
from custom_components.liuzhou_appliances.link.codec import (
    ClientHello,
    CodecError,
    Frame,
    FrameDecoder,
    FrameType,
    HelloInfo,
    decode_error,
    decode_frame,
    decode_message,
    encode_frame,
    encode_message,
)
from custom_components.liuzhou_appliances.link.discovery import DiscoveryError, parse_txt
from custom_components.liuzhou_appliances.link.errors import LinkError
from custom_components.liuzhou_appliances.link.pairing import PairingResponder
from custom_components.liuzhou_appliances.link.server import ApplianceServer, MemoryKeyStore

from .backend import AC_IDENTITY, AC_STATE, MemoryBackend
from .conftest import KEY
from .memory_session import MemoryPipe, SessionRun, exchange, run_in_new_loop

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
frame_types = st.sampled_from(list(FrameType))
payloads = st.binary(max_size=300)


@PROPERTY
@given(st.lists(st.tuples(frame_types, payloads), max_size=8), st.data())
def test_frames_round_trip_in_any_chunking(
    frames: list[tuple[FrameType, bytes]], data: st.DataObject
) -> None:
    stream = b"".join(encode_frame(t, p) for t, p in frames)
    decoder = FrameDecoder()
    decoded: list[Frame] = []
    position = 0
    while position < len(stream):
        size = data.draw(st.integers(1, max(1, len(stream) - position)))
        decoded += decoder.feed(stream[position : position + size])
        position += size
    assert [(f.type, f.payload) for f in decoded] == frames
    assert decoder.buffered == 0
    for frame_type, payload in frames:
        assert decode_frame(encode_frame(frame_type, payload)) == Frame(frame_type, payload)


@PROPERTY
@given(st.binary(max_size=2000), st.integers(1, 64))
def test_arbitrary_bytes_only_raise_codec_errors(data: bytes, chunk: int) -> None:
    for parse in (
        decode_frame,
        decode_message,
        ClientHello.decode,
        HelloInfo.decode,
        decode_error,
    ):
        with contextlib.suppress(CodecError):
            parse(data)
    whole: list[Frame] = []
    try:
        whole = FrameDecoder().feed(data)
    except CodecError:
        whole = []
    decoder = FrameDecoder()
    pieces: list[Frame] = []
    try:
        for start in range(0, len(data), chunk):
            pieces += decoder.feed(data[start : start + chunk])
    except CodecError:
        pass
    # Feeding in pieces never yields a frame that feeding at once would not.
    assert pieces[: len(whole)] == whole[: len(pieces)]
    reassembler = ble.Reassembler()
    for start in range(0, len(data), chunk):
        with contextlib.suppress(CodecError):
            reassembler.feed(data[start : start + chunk])
    responder = PairingResponder("12345678", hub_id="h", appliance_id="a", hello_transcript=b"")
    with contextlib.suppress(LinkError):
        responder.handle_start(data)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@PROPERTY
@given(
    st.dictionaries(st.text(max_size=10), json_values, max_size=6), st.text(min_size=1, max_size=12)
)
def test_messages_round_trip(body: dict[str, Any], message_type: str) -> None:
    message = body | {"type": message_type}
    message.pop("id", None)
    data = encode_message(message)
    assert decode_message(data) == json.loads(data)
    assert encode_message(decode_message(data)) == data


@PROPERTY
@given(st.dictionaries(st.binary(max_size=8), st.none() | st.binary(max_size=70), max_size=8))
def test_txt_records_only_raise_discovery_errors(txt: dict[bytes, bytes | None]) -> None:
    with contextlib.suppress(DiscoveryError):
        parse_txt(txt)


@PROPERTY
@given(frame_types, st.binary(max_size=3000), st.integers(ble.MIN_ATT_MTU, ble.MAX_ATT_MTU))
def test_ble_fragment_round_trip(frame_type: FrameType, payload: bytes, mtu: int) -> None:
    frame = encode_frame(frame_type, payload)
    fragments = ble.fragment(frame, mtu)
    reassembler = ble.Reassembler()
    out = [reassembler.feed(f) for f in fragments]
    assert out[-1] == frame
    assert all(o is None for o in out[:-1])
    assert all(len(f) <= mtu - ble.ATT_HEADER_SIZE for f in fragments)
    # No attribute value is longer than 512 bytes, whatever the MTU (PROTOCOL.md 11.4).
    assert all(len(f) <= ble.MAX_ATTRIBUTE_VALUE for f in fragments)


# --- the server as a state machine -------------------------------------------


def _valid_hello() -> bytes:
    return encode_frame(FrameType.HELLO, ClientHello("hub").encode())


chunks = st.one_of(
    st.tuples(frame_types, payloads).map(lambda f: encode_frame(*f)),
    st.just(_valid_hello()),
    st.just(encode_frame(FrameType.PAIR, b"\x01" + bytes(33))),
    st.binary(min_size=1, max_size=64).map(lambda b: encode_frame(FrameType.PAIR, b"\x01" + b)),
    st.binary(max_size=80).map(lambda b: encode_frame(FrameType.HANDSHAKE, b)),
    st.binary(max_size=40),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(chunks, max_size=8))
def test_server_survives_any_unauthenticated_input(inputs: list[bytes]) -> None:
    async def scenario() -> tuple[list[Frame], ApplianceServer, MemoryBackend]:
        backend = MemoryBackend()
        server = ApplianceServer(
            backend,
            AC_IDENTITY,
            pairing_code="12345678",
            key_store=MemoryKeyStore(KEY),
            handshake_timeout=0.2,
            keepalive_timeout=0.2,
        )
        inbound = asyncio.StreamReader()
        outbound = asyncio.StreamReader()
        for data in inputs:
            inbound.feed_data(data)
        inbound.feed_eof()
        await server.handle_stream(inbound, MemoryPipe(outbound))  # type: ignore[arg-type]
        replies = FrameDecoder().feed(await outbound.read())
        await server.stop()
        return replies, server, backend

    replies, server, backend = run_in_new_loop(scenario)
    # Without the key nobody gets a session, a key, or a change of state.
    assert all(frame.type is not FrameType.HANDSHAKE for frame in replies)
    assert all(frame.type is not FrameType.ENCRYPTED for frame in replies)
    assert server.key == KEY
    assert backend.values == AC_STATE
    assert server.session_count == 0


requests = st.one_of(
    st.fixed_dictionaries(
        # Annotated: the fields differ in value type, and mypy cannot infer one otherwise.
        dict[str, st.SearchStrategy[Any]](
            {
                "id": st.integers(0, 50),
                "type": st.sampled_from(
                    [
                        "read",
                        "write",
                        "command",
                        "ping",
                        "describe",
                        "subscribe",
                        "voice_reply",
                        "announce",
                        "bogus",
                    ]
                ),
            }
        ),
        optional={
            "keys": st.lists(st.sampled_from(["mode", "on", "turbo", "temperature"]), max_size=3)
            | json_values,
            "values": st.dictionaries(
                st.sampled_from(["mode", "on", "target_temperature", "temperature", "swing", "x"]),
                json_values
                | st.sampled_from(["heat", "cool", "vertical", "both"])
                | st.floats(10, 35),
                max_size=3,
            )
            | json_values,
            "name": st.sampled_from(["start", "stop"]) | json_values,
            "args": json_values,
            "utterance": st.integers(0, 3) | json_values,
            "text": st.text(max_size=8) | json_values,
            "language": st.sampled_from(["zh-CN", "en", "EN", "de"]) | json_values,
            "continue": st.booleans() | json_values,
            "conversation": st.none() | st.text(max_size=4) | json_values,
        },
    ).map(lambda m: json.dumps(m).encode()),
    st.binary(max_size=60),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(requests, min_size=1, max_size=10), st.booleans())
def test_session_survives_any_request_and_keeps_state_valid(
    inputs: list[bytes], panel: bool
) -> None:
    run: SessionRun = run_in_new_loop(lambda: exchange(inputs, keepalive_timeout=0.3, panel=panel))
    replies, backend = run.replies, run.backend
    assert run.after_end == []  # nothing unasked for
    answers = [r for r in replies if r["type"] in ("result", "error")]
    assert len(answers) == len(inputs)  # every request answered, once
    for key, value in backend.values.items():
        capability = backend.declaration.capabilities[key]
        assert capability.validate(value) == value
