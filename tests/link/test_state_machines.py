"""Sans-IO edges: handshake, pairing and BLE state machines used out of order; codec rejects."""

from __future__ import annotations

import asyncio

from noise.connection import NoiseConnection
import pytest

from custom_components.liuzhou_appliances.link import ble
from custom_components.liuzhou_appliances.link.codec import (
    HEADER_SIZE,
    MAX_PAYLOAD,
    CodecError,
    FrameDecoder,
    FrameType,
    decode_error,
    encode_frame,
    error_message,
    load_json_object,
    read_frame,
)
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.pairing import (
    PairingInitiator,
    PairingResponder,
    PairStep,
)
from custom_components.liuzhou_appliances.link.session import (
    NOISE_PROTOCOL_NAME,
    NoiseInitiator,
    NoiseResponder,
)

from .conftest import CODE, KEY

# --- Noise handshake ---------------------------------------------------------


def test_handshake_steps_out_of_order_are_malformed() -> None:
    hub = NoiseInitiator(KEY, b"p")
    with pytest.raises(LinkError, match="handshake not started") as caught:
        hub.finish(b"")
    assert caught.value.code is ErrorCode.MALFORMED
    first = hub.first_message()
    with pytest.raises(LinkError, match="handshake already started"):
        hub.first_message()
    appliance = NoiseResponder(KEY, b"p")
    appliance.respond(first)
    with pytest.raises(LinkError, match="handshake already answered") as caught:
        appliance.respond(first)
    assert caught.value.code is ErrorCode.MALFORMED


def test_first_handshake_message_with_payload_is_malformed() -> None:
    noise = NoiseConnection.from_name(NOISE_PROTOCOL_NAME)
    noise.set_psks(psk=KEY)
    noise.set_prologue(b"p")
    noise.set_as_initiator()
    noise.start_handshake()
    with pytest.raises(LinkError, match="unexpected handshake payload") as caught:
        NoiseResponder(KEY, b"p").respond(noise.write_message(b"early data"))
    assert caught.value.code is ErrorCode.MALFORMED


def test_session_refuses_to_encrypt_after_a_failed_decryption() -> None:
    hub = NoiseInitiator(KEY, b"p")
    reply, appliance = NoiseResponder(KEY, b"p").respond(hub.first_message())
    hub.finish(reply)
    with pytest.raises(LinkError):
        appliance.decrypt(bytes(20))
    with pytest.raises(LinkError, match="closed after a failure") as caught:
        appliance.encrypt(b"anything")
    assert caught.value.code is ErrorCode.AUTH_FAILED


# --- pairing -----------------------------------------------------------------


def _ends() -> tuple[PairingInitiator, PairingResponder]:
    return (
        PairingInitiator(CODE, hub_id="hub", appliance_id="lz-ac-1", hello_transcript=b"t"),
        PairingResponder(CODE, hub_id="hub", appliance_id="lz-ac-1", hello_transcript=b"t"),
    )


def test_hub_pairing_steps_out_of_order_are_malformed() -> None:
    hub, appliance = _ends()
    with pytest.raises(LinkError, match="unexpected PAIR REPLY"):
        hub.handle_reply(bytes([PairStep.REPLY]) + bytes(65))
    with pytest.raises(LinkError, match="unexpected PAIR KEY"):
        hub.handle_key(bytes([PairStep.KEY]) + bytes(60))
    reply = appliance.handle_start(hub.start())
    with pytest.raises(LinkError, match="unexpected PAIR DONE") as caught:
        hub.handle_done(bytes([PairStep.DONE]))
    assert caught.value.code is ErrorCode.MALFORMED
    hub.handle_reply(reply)
    assert hub.key is None  # nothing learnt before the key arrives


def test_reply_with_an_invalid_group_element_is_malformed() -> None:
    hub, _ = _ends()
    hub.start()
    with pytest.raises(LinkError, match="bad SPAKE2 message") as caught:
        hub.handle_reply(bytes([PairStep.REPLY]) + b"\xff" * 65)
    assert caught.value.code is ErrorCode.MALFORMED


def test_appliance_pairing_steps_out_of_order_are_malformed() -> None:
    hub, appliance = _ends()
    with pytest.raises(LinkError, match="unexpected PAIR CONFIRM"):
        appliance.handle_confirm(bytes([PairStep.CONFIRM]) + bytes(32))
    with pytest.raises(LinkError, match="unexpected PAIR ACK"):
        appliance.handle_ack(bytes([PairStep.ACK]) + bytes(32))
    start = hub.start()
    appliance.handle_start(start)
    with pytest.raises(LinkError, match="unexpected PAIR START"):
        appliance.handle_start(start)


def test_ack_without_the_key_is_auth_failed_and_stores_nothing() -> None:
    hub, appliance = _ends()
    key_payload = appliance.handle_confirm(hub.handle_reply(appliance.handle_start(hub.start())))
    genuine = hub.handle_key(key_payload)
    forged = genuine[:-1] + bytes([genuine[-1] ^ 1])
    with pytest.raises(LinkError, match="did not prove") as caught:
        appliance.handle_ack(forged)
    assert caught.value.code is ErrorCode.AUTH_FAILED
    key, done = appliance.handle_ack(genuine)
    assert hub.handle_done(done) == key


# --- codec -------------------------------------------------------------------


def test_oversized_payload_is_not_encoded() -> None:
    with pytest.raises(CodecError) as caught:
        encode_frame(FrameType.ENCRYPTED, bytes(MAX_PAYLOAD + 1))
    assert caught.value.code is ErrorCode.TOO_LARGE


def test_decoder_returns_good_frames_before_reporting_the_bad_one() -> None:
    decoder = FrameDecoder()
    good = encode_frame(FrameType.HELLO, b"{}")
    assert decoder.feed(good + b"\x7f\x00\x00") == [FrameDecoder().feed(good)[0]]
    with pytest.raises(CodecError) as caught:
        decoder.feed(good)
    assert caught.value.code is ErrorCode.UNKNOWN_MESSAGE
    with pytest.raises(CodecError):  # no resynchronisation: it keeps failing
        decoder.feed(b"")
    assert decoder.buffered == 0


async def test_stream_ending_inside_a_frame_is_eof() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(encode_frame(FrameType.HELLO, b"{}")[: HEADER_SIZE + 1])
    reader.feed_eof()
    with pytest.raises(EOFError, match="inside a frame"):
        await read_frame(reader)


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (b'{"a":NaN}', "NaN is not valid JSON"),
        (b'{"code":1,"message":2}', "error message must be a string"),
        (b'{"code":1,"key":3}', "error key must be a string"),
        (b'{"code":11,"retry_after":-1}', "retry_after must be whole seconds"),
        (b'{"code":11,"retry_after":1.5}', "retry_after must be whole seconds"),
    ],
)
def test_invalid_error_payloads_are_malformed(payload: bytes, detail: str) -> None:
    with pytest.raises(CodecError, match=detail) as caught:
        decode_error(payload) if b"code" in payload else load_json_object(payload)
    assert caught.value.code is ErrorCode.MALFORMED


def test_error_message_rounds_retry_after_up() -> None:
    error = LinkError(ErrorCode.RATE_LIMITED, "wait", retry_after=0.2)
    assert error_message(7, error)["retry_after"] == 1
    assert (
        error_message(7, LinkError(ErrorCode.RATE_LIMITED, "wait", retry_after=29.1))["retry_after"]
        == 30
    )


# --- BLE ---------------------------------------------------------------------


def test_ble_rejects_bad_mtu_and_frame_sizes() -> None:
    with pytest.raises(ValueError, match="ATT MTU"):
        ble.fragment_size(ble.MIN_ATT_MTU - 1)
    with pytest.raises(ValueError, match="a frame is"):
        ble.fragment(b"\x01\x00", 23)


def test_ble_rejects_short_first_fragment_and_overlong_frames() -> None:
    reassembler = ble.Reassembler()
    with pytest.raises(ble.FragmentError, match="shorter than a frame header"):
        reassembler.feed(bytes([ble.FIRST | ble.LAST]) + b"\x01\x00")
    frame = encode_frame(FrameType.HELLO, b"{}")
    with pytest.raises(ble.FragmentError, match="longer than the frame") as caught:
        reassembler.feed(bytes([ble.FIRST | ble.LAST]) + frame + b"extra")
    assert caught.value.code is ErrorCode.MALFORMED
    assert not reassembler.in_progress
    assert reassembler.feed(bytes([ble.FIRST | ble.LAST]) + frame) == frame
