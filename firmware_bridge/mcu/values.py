"""Frame payloads of the MCU serial protocol, derived from the data model.

Attribute ids, value kinds, decimals, enum options, fault codes and commands
are read from ``link/model.py``; there is no second table here. Layouts are
specified in ``firmware_bridge/SERIAL.md`` section 5.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import math
import struct
from typing import Final

from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import (
    APPLIANCE_TYPES,
    ApplianceType,
    ApplianceTypeSpec,
    AttributeSpec,
    Value,
    ValueKind,
)

from .frames import MAX_PAYLOAD

REPORT_FULL: Final = 0x01
MAX_COMMAND_ARGS: Final = 8
MAX_NACK_MESSAGE: Final = 200
MAX_MODEL_LENGTH: Final = 64
MAX_FIRMWARE_LENGTH: Final = 32

_INT32: Final = struct.Struct(">i")
_UINT32: Final = struct.Struct(">I")
_TLV_HEADER: Final = struct.Struct(">HB")
_NACK_HEADER: Final = struct.Struct(">BH")

_TYPES_BY_DEVICE_TYPE: Final[Mapping[int, ApplianceType]] = {
    spec.matter_device_type: spec.type for spec in APPLIANCE_TYPES.values()
}


class PayloadError(ValueError):
    """A payload that does not follow SERIAL.md (or a value that cannot be encoded)."""

    def __init__(self, message: str, *, attribute_id: int = 0) -> None:
        super().__init__(message)
        self.attribute_id = attribute_id


def _attributes_by_id(type_spec: ApplianceTypeSpec) -> dict[int, AttributeSpec]:
    return {attr.attribute_id: attr for attr in type_spec.attributes}


# --- single values -----------------------------------------------------------


def encode_value(type_spec: ApplianceTypeSpec, spec: AttributeSpec, value: Value) -> bytes:
    """Encode one value of ``spec`` (kind, decimals, options from the data model)."""
    kind = spec.kind
    where = spec.key
    if kind is ValueKind.BOOL:
        if not isinstance(value, bool):
            raise PayloadError(f"{where}: {value!r} is not a bool", attribute_id=spec.attribute_id)
        return b"\x01" if value else b"\x00"
    if kind is ValueKind.ENUM:
        if not isinstance(value, str) or value not in spec.options:
            raise PayloadError(
                f"{where}: {value!r} is not one of {', '.join(spec.options)}",
                attribute_id=spec.attribute_id,
            )
        return bytes([spec.options.index(value)])
    if kind is ValueKind.FAULTS:
        if not isinstance(value, list):
            raise PayloadError(f"{where}: {value!r} is not a list", attribute_id=spec.attribute_id)
        indices = []
        for code in value:
            if code not in type_spec.fault_codes:
                raise PayloadError(
                    f"{where}: {code!r} is not a {type_spec.type} fault code",
                    attribute_id=spec.attribute_id,
                )
            indices.append(type_spec.fault_codes.index(code))
        return bytes([len(indices), *indices])
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        # Not math.isfinite on an int: it raises OverflowError for huge ones.
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        raise PayloadError(f"{where}: {value!r} is not a number", attribute_id=spec.attribute_id)
    if kind is ValueKind.DURATION:
        seconds = round(value)
        if not 0 <= seconds <= 0xFFFFFFFF:
            raise PayloadError(
                f"{where}: {value} s does not fit in u32", attribute_id=spec.attribute_id
            )
        return _UINT32.pack(seconds)
    scaled = round(value * 10**spec.decimals)
    if not -(2**31) <= scaled < 2**31:
        raise PayloadError(
            f"{where}: {value} does not fit in i32 at {spec.decimals} decimals",
            attribute_id=spec.attribute_id,
        )
    return _INT32.pack(scaled)


def decode_value(type_spec: ApplianceTypeSpec, spec: AttributeSpec, raw: bytes) -> Value:
    """Decode one value of ``spec``; raise PayloadError if ``raw`` is not valid for it."""
    kind = spec.kind
    attribute_id = spec.attribute_id

    def need(length: int) -> None:
        if len(raw) != length:
            raise PayloadError(
                f"{spec.key}: a {kind} value takes {length} bytes, got {len(raw)}",
                attribute_id=attribute_id,
            )

    if kind is ValueKind.BOOL:
        need(1)
        if raw[0] > 1:
            raise PayloadError(
                f"{spec.key}: bool byte {raw[0]} is not 0 or 1", attribute_id=attribute_id
            )
        return raw[0] == 1
    if kind is ValueKind.ENUM:
        need(1)
        if raw[0] >= len(spec.options):
            raise PayloadError(
                f"{spec.key}: option index {raw[0]} out of {len(spec.options)}",
                attribute_id=attribute_id,
            )
        return spec.options[raw[0]]
    if kind is ValueKind.FAULTS:
        if not raw or len(raw) != 1 + raw[0]:
            raise PayloadError(
                f"{spec.key}: fault list length does not match its count", attribute_id=attribute_id
            )
        codes: list[str] = []
        for index in raw[1:]:
            if index >= len(type_spec.fault_codes):
                raise PayloadError(
                    f"{spec.key}: fault index {index} out of {len(type_spec.fault_codes)}",
                    attribute_id=attribute_id,
                )
            if type_spec.fault_codes[index] not in codes:
                codes.append(type_spec.fault_codes[index])
        return codes
    need(4)
    if kind is ValueKind.DURATION:
        seconds: int = _UINT32.unpack(raw)[0]
        return seconds
    scaled: int = _INT32.unpack(raw)[0]
    if spec.decimals == 0:
        return scaled
    return scaled / float(10**spec.decimals)


# --- attribute TLVs ----------------------------------------------------------


def encode_attributes(type_spec: ApplianceTypeSpec, values: Mapping[str, Value]) -> bytes:
    """Encode ``values`` (keys of ``type_spec``) as attribute TLVs."""
    out = bytearray()
    for key, value in values.items():
        spec = type_spec.attribute(key)
        raw = encode_value(type_spec, spec, value)
        out += _TLV_HEADER.pack(spec.attribute_id, len(raw))
        out += raw
    if len(out) > MAX_PAYLOAD - 1:  # a REPORT spends one byte on flags
        raise PayloadError(f"{len(values)} attributes take {len(out)} bytes, too many for a frame")
    return bytes(out)


@dataclass(frozen=True, slots=True)
class DecodedAttributes:
    """Attribute TLVs decoded leniently: good entries, and what was wrong with the rest."""

    values: dict[str, Value]
    problems: list[PayloadError]


def decode_attributes(
    type_spec: ApplianceTypeSpec, payload: bytes, *, strict: bool
) -> DecodedAttributes:
    """Decode attribute TLVs of ``type_spec``.

    ``strict`` (used for WRITE) raises the first problem; otherwise invalid or
    unknown entries are collected in ``problems`` and the valid ones kept. A
    truncated entry always ends decoding, since nothing after it can be trusted.
    """
    by_id = _attributes_by_id(type_spec)
    values: dict[str, Value] = {}
    problems: list[PayloadError] = []
    offset = 0
    while offset < len(payload):
        if len(payload) - offset < _TLV_HEADER.size:
            error = PayloadError(f"truncated attribute entry at byte {offset}")
            if strict:
                raise error
            problems.append(error)
            break
        attribute_id, length = _TLV_HEADER.unpack_from(payload, offset)
        offset += _TLV_HEADER.size
        if len(payload) - offset < length:
            error = PayloadError(
                f"attribute {attribute_id} claims {length} bytes, {len(payload) - offset} left",
                attribute_id=attribute_id,
            )
            if strict:
                raise error
            problems.append(error)
            break
        raw = payload[offset : offset + length]
        offset += length
        try:
            spec = by_id.get(attribute_id)
            if spec is None:
                raise PayloadError(
                    f"{type_spec.type} has no attribute id {attribute_id}",
                    attribute_id=attribute_id,
                )
            if spec.key in values:
                raise PayloadError(f"{spec.key} appears twice", attribute_id=attribute_id)
            values[spec.key] = decode_value(type_spec, spec, raw)
        except PayloadError as error:
            if strict:
                raise
            problems.append(error)
    return DecodedAttributes(values, problems)


def encode_report(
    type_spec: ApplianceTypeSpec, values: Mapping[str, Value], *, full: bool
) -> bytes:
    """A REPORT payload: flags, then attribute TLVs."""
    return bytes([REPORT_FULL if full else 0]) + encode_attributes(type_spec, values)


def decode_report(type_spec: ApplianceTypeSpec, payload: bytes) -> tuple[bool, DecodedAttributes]:
    """Decode a REPORT leniently; return (full, attributes). Raise PayloadError if empty."""
    if not payload:
        raise PayloadError("a REPORT needs its flags byte")
    return bool(payload[0] & REPORT_FULL), decode_attributes(type_spec, payload[1:], strict=False)


# --- INFO ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class McuInfo:
    """What the MCU says about itself in INFO."""

    type: ApplianceType
    model: str
    firmware: str

    def encode(self) -> bytes:
        """The INFO payload."""
        model = self.model.encode()
        firmware = self.firmware.encode()
        if not 1 <= len(model) <= MAX_MODEL_LENGTH:
            raise PayloadError(f"model must be 1-{MAX_MODEL_LENGTH} bytes")
        if not 1 <= len(firmware) <= MAX_FIRMWARE_LENGTH:
            raise PayloadError(f"firmware must be 1-{MAX_FIRMWARE_LENGTH} bytes")
        device_type = APPLIANCE_TYPES[self.type].matter_device_type
        return (
            device_type.to_bytes(2, "big")
            + bytes([len(model)])
            + model
            + bytes([len(firmware)])
            + firmware
        )

    @classmethod
    def decode(cls, payload: bytes) -> McuInfo:
        """Parse an INFO payload or raise PayloadError."""
        if len(payload) < 3:
            raise PayloadError("INFO is too short")
        device_type = int.from_bytes(payload[:2], "big")
        appliance_type = _TYPES_BY_DEVICE_TYPE.get(device_type)
        if appliance_type is None:
            raise PayloadError(f"unknown device type 0x{device_type:04x}")
        offset = 2
        texts: list[str] = []
        for name, limit in (("model", MAX_MODEL_LENGTH), ("firmware", MAX_FIRMWARE_LENGTH)):
            if offset >= len(payload):
                raise PayloadError(f"INFO ends before {name}")
            length = payload[offset]
            offset += 1
            if not 1 <= length <= limit or offset + length > len(payload):
                raise PayloadError(f"INFO {name} length {length} is invalid")
            try:
                texts.append(payload[offset : offset + length].decode())
            except UnicodeDecodeError:
                raise PayloadError(f"INFO {name} is not UTF-8") from None
            offset += length
        if offset != len(payload):
            raise PayloadError(f"INFO has {len(payload) - offset} trailing bytes")
        return cls(appliance_type, texts[0], texts[1])


# --- COMMAND ---------------------------------------------------------------------


def encode_command(type_spec: ApplianceTypeSpec, name: str, args: Mapping[str, int]) -> bytes:
    """A COMMAND payload: command index, argument count, (argument index, u32 value)*."""
    command = type_spec.command(name)
    out = bytearray([type_spec.commands.index(command), len(args)])
    if len(args) > MAX_COMMAND_ARGS:
        raise PayloadError(f"{name} takes at most {MAX_COMMAND_ARGS} arguments")
    for arg, value in args.items():
        if arg not in command.args:
            raise PayloadError(f"{name} has no argument {arg!r}")
        if not 0 <= value <= 0xFFFFFFFF:
            raise PayloadError(f"{arg}={value} does not fit in u32")
        out.append(command.args.index(arg))
        out += _UINT32.pack(value)
    return bytes(out)


def decode_command(type_spec: ApplianceTypeSpec, payload: bytes) -> tuple[str, dict[str, int]]:
    """Parse a COMMAND payload or raise PayloadError."""
    if len(payload) < 2:
        raise PayloadError("COMMAND is too short")
    index, count = payload[0], payload[1]
    if index >= len(type_spec.commands):
        raise PayloadError(f"{type_spec.type} has no command index {index}")
    command = type_spec.commands[index]
    if count > MAX_COMMAND_ARGS or len(payload) != 2 + 5 * count:
        raise PayloadError(f"COMMAND length {len(payload)} does not match {count} arguments")
    args: dict[str, int] = {}
    for n in range(count):
        arg_index = payload[2 + 5 * n]
        if arg_index >= len(command.args):
            raise PayloadError(f"{command.name} has no argument index {arg_index}")
        arg = command.args[arg_index]
        if arg in args:
            raise PayloadError(f"{command.name} argument {arg} appears twice")
        args[arg] = _UINT32.unpack_from(payload, 3 + 5 * n)[0]
    return command.name, args


# --- NACK ------------------------------------------------------------------------


def attribute_id_of(type_spec: ApplianceTypeSpec, key: str | None) -> int:
    """The attribute id of ``key`` in ``type_spec``, 0 if none or unknown."""
    if key is None:
        return 0
    for attr in type_spec.attributes:
        if attr.key == key:
            return attr.attribute_id
    return 0


def encode_nack(code: ErrorCode, message: str = "", *, attribute_id: int = 0) -> bytes:
    """A NACK payload: error code, attribute id, message (cut to 200 bytes)."""
    text = message.encode()[:MAX_NACK_MESSAGE]
    return _NACK_HEADER.pack(int(code), attribute_id) + text


def decode_nack(type_spec: ApplianceTypeSpec, payload: bytes) -> LinkError:
    """The LinkError a NACK carries; an unparsable NACK becomes MALFORMED."""
    if len(payload) < _NACK_HEADER.size:
        return LinkError(ErrorCode.MALFORMED, "the MCU sent a truncated NACK")
    raw_code, attribute_id = _NACK_HEADER.unpack_from(payload)
    message = payload[_NACK_HEADER.size :].decode(errors="replace")
    try:
        code = ErrorCode(raw_code)
    except ValueError:
        return LinkError(
            ErrorCode.INTERNAL, f"the MCU refused with unknown error {raw_code}: {message}"
        )
    key = next(
        (attr.key for attr in type_spec.attributes if attr.attribute_id == attribute_id), None
    )
    return LinkError(code, message or f"the MCU refused ({code.name})", key=key)
