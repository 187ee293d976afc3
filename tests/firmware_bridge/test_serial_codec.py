"""The MCU serial frame codec and payloads (SERIAL.md)."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.liuzhou_appliances.link.errors import ErrorCode
from custom_components.liuzhou_appliances.link.model import (
    APPLIANCE_TYPES,
    ApplianceType,
    AttributeSpec,
    Value,
    ValueKind,
)
from firmware_bridge.mcu.frames import (
    MAX_PAYLOAD,
    REQUEST_TYPES,
    START_BYTE,
    Frame,
    FrameDecoder,
    FrameError,
    FrameType,
    crc16_ccitt_false,
)
from firmware_bridge.mcu.values import (
    McuInfo,
    PayloadError,
    decode_attributes,
    decode_command,
    decode_nack,
    decode_report,
    encode_attributes,
    encode_command,
    encode_nack,
    encode_report,
)

AC = APPLIANCE_TYPES[ApplianceType.ROOM_AIR_CONDITIONER]
FRIDGE = APPLIANCE_TYPES[ApplianceType.REFRIGERATOR]
WASHER = APPLIANCE_TYPES[ApplianceType.LAUNDRY_WASHER]


def test_crc_check_value() -> None:
    # The catalogue check value of CRC-16/CCITT-FALSE.
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc16_ccitt_false(b"") == 0xFFFF


def test_serial_md_examples() -> None:
    report = Frame(
        FrameType.REPORT, 7, encode_report(AC, {"on": True, "temperature": 21.5}, full=False)
    )
    assert report.encode() == bytes.fromhex(
        "A5 01 04 07 00 0C 00 00 20 01 01 00 23 04 00 00 00 D7 7D 35"
    )
    write = Frame(FrameType.WRITE, 42, encode_attributes(FRIDGE, {"fridge_target_temperature": 4}))
    assert write.encode() == bytes.fromhex("A5 01 05 2A 00 07 00 12 04 00 00 00 28 D9 FE")
    assert Frame(FrameType.ACK, 42).encode() == bytes.fromhex("A5 01 07 2A 00 00 AB 77")
    # The page shows the same bytes (keeps the document honest).
    from pathlib import Path

    text = (Path(__file__).parents[2] / "firmware_bridge" / "SERIAL.md").read_text()
    assert "A5 01 05 2A 00 07 00 12 04 00 00 00 28 D9 FE" in text
    assert "7D 35" in text


def test_pairing_button_frame_as_serial_md_shows_it() -> None:
    # The MCU's pairing button (type 0B, a request the module ACKs), MCU sequence 0x13.
    press = Frame(FrameType.PAIRING_BUTTON, 0x13).encode()
    ack = Frame(FrameType.ACK, 0x13).encode()
    assert press == bytes.fromhex("A5 01 0B 13 00 00 BF 71")
    assert ack == bytes.fromhex("A5 01 07 13 00 00 F0 43")
    assert FrameType.PAIRING_BUTTON in REQUEST_TYPES
    from pathlib import Path

    text = (Path(__file__).parents[2] / "firmware_bridge" / "SERIAL.md").read_text()
    assert "A5 01 0B 13 00 00 BF 71" in text
    assert "A5 01 07 13 00 00 F0 43" in text


def test_frame_field_limits() -> None:
    with pytest.raises(FrameError):
        Frame(FrameType.REPORT, 0, bytes(MAX_PAYLOAD + 1)).encode()
    with pytest.raises(FrameError):
        Frame(FrameType.REPORT, 256).encode()
    assert len(Frame(FrameType.REPORT, 0, bytes(MAX_PAYLOAD)).encode()) == MAX_PAYLOAD + 8


frames_strategy = st.builds(
    Frame,
    type=st.integers(0, 255),
    seq=st.integers(0, 255),
    payload=st.binary(max_size=MAX_PAYLOAD),
)


@given(st.lists(frames_strategy, max_size=5), st.integers(1, 40))
def test_round_trip_in_any_chunking(frames: list[Frame], chunk: int) -> None:
    data = b"".join(frame.encode() for frame in frames)
    decoder = FrameDecoder()
    out: list[Frame] = []
    for i in range(0, len(data), chunk):
        out += decoder.feed(data[i : i + chunk])
    assert out == frames
    assert not decoder.has_partial
    assert decoder.bytes_discarded == 0


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), frames_strategy, st.binary(max_size=50))
def test_garbage_never_crashes_and_resync_finds_the_next_frame(
    garbage: bytes, frame: Frame, trailer: bytes
) -> None:
    decoder = FrameDecoder()
    decoded = decoder.feed(garbage)
    decoded += decoder.feed(frame.encode())
    # A stale partial start within the garbage may hold the frame back until
    # the inter-byte timeout gives it up.
    while frame not in decoded and decoder.has_partial:
        decoded += decoder.give_up_partial()
    assert frame in decoded
    decoder.feed(trailer)  # never raises


@given(frames_strategy, st.data())
def test_corrupted_frames_are_rejected(frame: Frame, data: st.DataObject) -> None:
    encoded = bytearray(frame.encode())
    position = data.draw(st.integers(1, len(encoded) - 1))
    flip = data.draw(st.integers(1, 255))
    encoded[position] ^= flip
    decoder = FrameDecoder()
    decoded = decoder.feed(bytes(encoded))
    while decoder.has_partial:
        decoded += decoder.give_up_partial()
    # CRC-16 detects every error confined to one byte.
    assert frame not in decoded
    assert all(f.encode() != bytes(encoded) for f in decoded)


def test_crc_error_is_counted_and_next_frame_survives() -> None:
    good = Frame(FrameType.ACK, 1).encode()
    bad = bytearray(Frame(FrameType.ACK, 2).encode())
    bad[-1] ^= 0xFF
    decoder = FrameDecoder()
    assert decoder.feed(bytes(bad) + good) == [Frame(FrameType.ACK, 1)]
    assert decoder.crc_errors == 1


def test_implausible_length_is_skipped_without_waiting() -> None:
    good = Frame(FrameType.HEARTBEAT, 9).encode()
    decoder = FrameDecoder()
    # A spurious start byte announcing 0xFFFF bytes must not swallow the next frame.
    assert decoder.feed(bytes([START_BYTE, 1, 4, 0, 0xFF, 0xFF]) + good) == [
        Frame(FrameType.HEARTBEAT, 9)
    ]
    assert decoder.length_errors == 1


def test_decoder_buffer_stays_bounded() -> None:
    decoder = FrameDecoder()
    # A plausible header followed by endless noise without start bytes.
    decoder.feed(bytes([START_BYTE, 1, 4, 0, 1, 0]))
    for _ in range(100):
        decoder.feed(bytes(range(0, 0xA5)) * 4)
    assert len(decoder._buffer) < 2 * 300


# --- payloads ------------------------------------------------------------------


def _value_for(spec: AttributeSpec, fault_codes: tuple[str, ...]) -> st.SearchStrategy[Value]:
    if spec.kind is ValueKind.BOOL:
        return st.booleans()
    if spec.kind is ValueKind.ENUM:
        return st.sampled_from(spec.options)
    if spec.kind is ValueKind.FAULTS:
        return st.lists(st.sampled_from(fault_codes), unique=True).map(list)
    if spec.kind is ValueKind.DURATION:
        return st.integers(0, 2**32 - 1)
    scale = 10**spec.decimals
    return st.integers(-(2**31), 2**31 - 1).map(lambda n: n if spec.decimals == 0 else n / scale)


@st.composite
def attribute_values(draw: st.DrawFn) -> tuple[ApplianceType, dict[str, Value]]:
    appliance_type = draw(st.sampled_from(list(ApplianceType)))
    assert isinstance(appliance_type, ApplianceType)
    type_spec = APPLIANCE_TYPES[appliance_type]
    chosen = draw(st.lists(st.sampled_from(type_spec.attributes), unique=True))
    return appliance_type, {
        spec.key: draw(_value_for(spec, type_spec.fault_codes)) for spec in chosen
    }


@given(attribute_values(), st.booleans())
def test_report_round_trip(sample: tuple[ApplianceType, dict[str, Value]], full: bool) -> None:
    appliance_type, values = sample
    type_spec = APPLIANCE_TYPES[appliance_type]
    got_full, decoded = decode_report(type_spec, encode_report(type_spec, values, full=full))
    assert got_full == full
    assert decoded.problems == []
    assert decoded.values == values


@given(st.binary(max_size=300))
def test_arbitrary_payloads_never_crash_the_decoders(payload: bytes) -> None:
    for type_spec in APPLIANCE_TYPES.values():
        decode_attributes(type_spec, payload, strict=False)
        with contextlib.suppress(PayloadError):
            decode_attributes(type_spec, payload, strict=True)
        with contextlib.suppress(PayloadError):
            decode_command(type_spec, payload)
        with contextlib.suppress(PayloadError):
            decode_report(type_spec, payload)
        assert decode_nack(type_spec, payload).code in ErrorCode
    with contextlib.suppress(PayloadError):
        McuInfo.decode(payload)


@pytest.mark.parametrize("value", [10**400, -(10**400), 2**31, float("inf"), float("nan"), 1e300])
def test_numbers_that_do_not_fit_are_payload_errors(value: float) -> None:
    for spec in AC.attributes:
        if spec.kind in (ValueKind.NUMBER, ValueKind.DURATION):
            with pytest.raises(PayloadError):
                encode_attributes(AC, {spec.key: value})


def test_numbers_use_decimals_of_the_data_model() -> None:
    raw = encode_attributes(AC, {"target_temperature": 22.5, "humidity": 40})
    # target_temperature: decimals 1 -> 225; humidity: decimals 0 -> 40
    assert raw == bytes.fromhex("0022 04 000000E1 0024 04 00000028")
    assert decode_attributes(AC, raw, strict=True).values == {
        "target_temperature": 22.5,
        "humidity": 40,
    }
    assert encode_attributes(AC, {"outdoor_temperature": -3.5}).endswith(
        (-35).to_bytes(4, "big", signed=True)
    )


def test_enum_uses_type_options_and_faults_use_fault_codes() -> None:
    raw = encode_attributes(AC, {"mode": "heat", "faults": ["refrigerant_low", "indoor_sensor"]})
    assert raw == bytes.fromhex("0021 01 01 0003 03 02 02 00")


def test_lenient_report_keeps_good_entries() -> None:
    bad_enum = bytes.fromhex("0021 01 09")  # mode index 9 of 5
    unknown = bytes.fromhex("0999 02 0000")  # attribute the AC does not have
    bad_bool = bytes.fromhex("0020 01 02")
    good = bytes.fromhex("0023 04 000000D7")
    decoded = decode_attributes(AC, bad_enum + unknown + bad_bool + good, strict=False)
    assert decoded.values == {"temperature": 21.5}
    assert len(decoded.problems) == 3
    with pytest.raises(PayloadError, match="mode"):
        decode_attributes(AC, bad_enum + good, strict=True)
    truncated = good + bytes.fromhex("0020 04 00")
    decoded = decode_attributes(AC, truncated, strict=False)
    assert decoded.values == {"temperature": 21.5}
    assert "claims 4 bytes" in str(decoded.problems[0])


def test_duplicate_attribute_rejected() -> None:
    entry = bytes.fromhex("0020 01 01")
    with pytest.raises(PayloadError, match="twice"):
        decode_attributes(AC, entry + entry, strict=True)


def test_unencodable_values_are_refused() -> None:
    with pytest.raises(PayloadError):
        encode_attributes(AC, {"mode": "turbo"})
    with pytest.raises(PayloadError):
        encode_attributes(AC, {"target_temperature": 1e12})
    with pytest.raises(PayloadError):
        encode_attributes(AC, {"faults": ["no_such_fault"]})
    with pytest.raises(PayloadError):
        encode_attributes(AC, {"on": 1})


def test_command_round_trip_and_errors() -> None:
    raw = encode_command(WASHER, "start", {"finish_in_s": 7200})
    assert raw == bytes.fromhex("00 01 01 00001C20")
    assert decode_command(WASHER, raw) == ("start", {"finish_in_s": 7200})
    assert decode_command(WASHER, encode_command(WASHER, "stop", {})) == ("stop", {})
    with pytest.raises(PayloadError):
        decode_command(WASHER, bytes.fromhex("09 00"))
    with pytest.raises(PayloadError):
        decode_command(WASHER, bytes.fromhex("00 01 05 00000001"))
    with pytest.raises(PayloadError):
        decode_command(WASHER, bytes.fromhex("00 02 00 00000001 00 00000002"))


def test_info_round_trip() -> None:
    info = McuInfo(ApplianceType.DISHWASHER, "LZ-DW60 洗碗机", "2.0.1")
    raw = info.encode()
    assert raw[:2] == bytes.fromhex("0075")
    assert McuInfo.decode(raw) == info
    with pytest.raises(PayloadError, match="device type"):
        McuInfo.decode(bytes.fromhex("1234 01 41 01 41"))
    with pytest.raises(PayloadError, match="trailing"):
        McuInfo.decode(raw + b"x")


def test_nack_carries_code_key_and_message() -> None:
    error = decode_nack(AC, encode_nack(ErrorCode.INVALID_STATE, "not now", attribute_id=33))
    assert error.code is ErrorCode.INVALID_STATE
    assert error.key == "mode"
    assert error.message == "not now"
    assert decode_nack(AC, b"\x01").code is ErrorCode.MALFORMED
    assert decode_nack(AC, bytes([250, 0, 0])).code is ErrorCode.INTERNAL
