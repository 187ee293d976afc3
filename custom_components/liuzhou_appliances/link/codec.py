"""The wire codec: outer framing, plaintext HELLO/ERROR payloads, inner JSON messages.

Every byte string the link reads from a peer passes through this module, and
every way it can be wrong raises ``CodecError`` (a ``LinkError`` carrying the
protocol error code) and nothing else. See firmware_bridge/PROTOCOL.md.

Outer frame: ``u8 type | u16 big-endian payload length | payload``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
import json
import math
import re
import struct
from typing import Any, Final, TypeIs

# CodecError lives with the rest of the family in errors.py; callers may import it from here.
from .errors import (
    CodecError as CodecError,  # noqa: PLC0414 - an explicit re-export
    ErrorCode,
    LinkError,
    error_for,
)
from .model import ApplianceType

PROTOCOL_VERSION: Final = 1
# Versions this implementation speaks, lowest and highest.
SUPPORTED_VERSIONS: Final = (1, 1)

HEADER_SIZE: Final = 3
MAX_PAYLOAD: Final = 16 * 1024
MAX_FRAME: Final = HEADER_SIZE + MAX_PAYLOAD
# Noise adds a 16-byte authentication tag to every transport message.
MAX_MESSAGE: Final = MAX_PAYLOAD - 16

_HEADER: Final = struct.Struct(">BH")
_MAX_ID: Final = 2**53 - 1  # largest integer every JSON parser keeps exact
_HUB_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")
APPLIANCE_ID_PATTERN: Final = re.compile(r"[a-z0-9-]{1,64}")
_MAX_TEXT: Final = 64
_APPLIANCE_TYPES: Final = frozenset(ApplianceType)


class FrameType(IntEnum):
    """Outer frame types (wire-stable)."""

    HELLO = 0x01
    PAIR = 0x02
    HANDSHAKE = 0x03
    ENCRYPTED = 0x04
    ERROR = 0x05


# Every frame's header is looked up here: a dictionary is cheaper than FrameType(n).
_FRAME_TYPES: Final = {int(frame_type): frame_type for frame_type in FrameType}


class MessageType(StrEnum):
    """The ``type`` of an inner (encrypted) message."""

    DESCRIBE = "describe"
    READ = "read"
    WRITE = "write"
    COMMAND = "command"
    SUBSCRIBE = "subscribe"
    PING = "ping"
    RESULT = "result"
    ERROR = "error"
    CHANGED = "changed"
    # The voice panel (PROTOCOL.md 7.5): requests to speak, the push of what it heard.
    VOICE_REPLY = "voice_reply"
    ANNOUNCE = "announce"
    UTTERANCE = "utterance"


REQUEST_TYPES: Final = frozenset(
    {
        MessageType.DESCRIBE,
        MessageType.READ,
        MessageType.WRITE,
        MessageType.COMMAND,
        MessageType.SUBSCRIBE,
        MessageType.PING,
        MessageType.VOICE_REPLY,
        MessageType.ANNOUNCE,
    }
)
# Requests only an appliance with a voice panel knows; one without answers UNKNOWN_MESSAGE.
VOICE_REQUEST_TYPES: Final = frozenset({MessageType.VOICE_REPLY, MessageType.ANNOUNCE})


@dataclass(frozen=True, slots=True)
class Frame:
    """One outer frame."""

    type: FrameType
    payload: bytes


# --- outer framing -----------------------------------------------------------


def encode_frame(frame_type: FrameType, payload: bytes) -> bytes:
    """Return the frame's bytes; TOO_LARGE if the payload exceeds MAX_PAYLOAD."""
    if len(payload) > MAX_PAYLOAD:
        raise CodecError(
            ErrorCode.TOO_LARGE, f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}"
        )
    return _HEADER.pack(int(frame_type), len(payload)) + payload


def parse_header(header: bytes) -> tuple[FrameType, int]:
    """Check a 3-byte frame header; return its type and payload length."""
    if len(header) != HEADER_SIZE:
        raise CodecError(ErrorCode.MALFORMED, "truncated frame header")
    raw_type, length = _HEADER.unpack(header)
    frame_type = _FRAME_TYPES.get(raw_type)
    if frame_type is None:
        raise CodecError(ErrorCode.UNKNOWN_MESSAGE, f"unknown frame type 0x{raw_type:02x}")
    if length > MAX_PAYLOAD:
        raise CodecError(
            ErrorCode.TOO_LARGE, f"frame announces {length} bytes, the limit is {MAX_PAYLOAD}"
        )
    return frame_type, length


def decode_frame(data: bytes) -> Frame:
    """Decode exactly one complete frame."""
    frame_type, length = parse_header(bytes(data[:HEADER_SIZE]))
    if len(data) != HEADER_SIZE + length:
        raise CodecError(
            ErrorCode.MALFORMED,
            f"frame announces {length} payload bytes but carries {len(data) - HEADER_SIZE}",
        )
    return Frame(frame_type, bytes(data[HEADER_SIZE:]))


class FrameDecoder:
    """Incremental decoder for a byte stream; buffers at most one frame.

    After an error the stream cannot be resynchronised, so the decoder keeps
    raising; the connection must be closed.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._failed: CodecError | None = None

    @property
    def buffered(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes; return the frames they complete.

        An error is raised at once, or, if this call completed frames before
        reaching it, on the next call (so no good frame is lost).
        """
        if self._failed is not None:
            raise self._failed
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= HEADER_SIZE:
            try:
                frame_type, length = parse_header(bytes(self._buffer[:HEADER_SIZE]))
            except CodecError as err:
                self._failed = err
                self._buffer.clear()
                if frames:
                    return frames
                raise
            end = HEADER_SIZE + length
            if len(self._buffer) < end:
                break
            frames.append(Frame(frame_type, bytes(self._buffer[HEADER_SIZE:end])))
            del self._buffer[:end]
        return frames


async def read_frame(reader: asyncio.StreamReader) -> Frame:
    """Read one frame; EOFError when the stream ends between or inside frames."""
    try:
        header = await reader.readexactly(HEADER_SIZE)
    except asyncio.IncompleteReadError as err:
        raise EOFError("connection closed") from err
    frame_type, length = parse_header(header)
    try:
        payload = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError as err:
        raise EOFError("connection closed inside a frame") from err
    return Frame(frame_type, payload)


# --- compact JSON ------------------------------------------------------------


def dump_json(data: Mapping[str, Any]) -> bytes:
    """Compact, key-sorted UTF-8 JSON, the only JSON form on the wire.

    MALFORMED for what JSON cannot carry: NaN, infinities, lone surrogates,
    non-string keys, other Python objects.
    """
    try:
        return _ENCODER.encode(data).encode()
    except (TypeError, ValueError, RecursionError) as err:  # UnicodeEncodeError is a ValueError
        raise CodecError(ErrorCode.MALFORMED, f"cannot encode as JSON: {err}") from err


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    # 1e400 is valid JSON but parses to infinity, which nothing downstream expects.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Peers could read a repeated key differently (first or last wins); refuse it.
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"key {key[:20]!r} repeats")
            seen.add(key)
    return data


_ENCODER: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_DECODER: Final = json.JSONDecoder(
    parse_constant=_reject_constant,
    parse_float=_finite_float,
    object_pairs_hook=_unique_keys,
)
MAX_JSON_DEPTH: Final = 16
# An escaped surrogate (\ud800-\udfff); only such escapes can yield a lone one.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _check_json_value(value: object) -> None:
    """Depth at most MAX_JSON_DEPTH and no lone surrogate in any string; ValueError."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise ValueError("a string holds a lone surrogate")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
        children = [*item, *item.values()] if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)


def load_json_object(data: bytes) -> dict[str, Any]:
    """Parse strict UTF-8 JSON that must be an object; MALFORMED otherwise.

    Besides invalid JSON and UTF-8 this refuses, as MALFORMED: NaN and
    infinities (also numbers too large for a double, like 1e400), a key
    repeated within one object, nesting deeper than MAX_JSON_DEPTH and
    escaped lone surrogates. Integers of any size within Python's parsing
    limit are kept; each field's check bounds them.
    """
    try:
        text = str(data, "utf-8")
        value = _DECODER.decode(text)
        # Fast paths: most messages hold neither surrogate escapes nor deep nesting.
        escaped = "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None
        if escaped or text.count("[") + text.count("{") > MAX_JSON_DEPTH:
            _check_json_value(value)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise CodecError(ErrorCode.MALFORMED, f"not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise CodecError(ErrorCode.MALFORMED, "expected a JSON object")
    return value


def _is_int(value: object) -> TypeIs[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(data: Mapping[str, Any], key: str, *, limit: int = _MAX_TEXT) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise CodecError(ErrorCode.MALFORMED, f"{key} must be a string of 1-{limit} characters")
    return value


def _version(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if not _is_int(value) or not 1 <= value <= 255:
        raise CodecError(ErrorCode.MALFORMED, f"{key} must be a whole number from 1 to 255")
    return value


# --- HELLO -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientHello:
    """What the hub offers: a protocol version range and who it is."""

    hub_id: str
    min_version: int = SUPPORTED_VERSIONS[0]
    max_version: int = SUPPORTED_VERSIONS[1]

    def encode(self) -> bytes:
        """The HELLO payload."""
        return dump_json(
            {
                "hub_id": self.hub_id,
                "min_version": self.min_version,
                "max_version": self.max_version,
            }
        )

    @classmethod
    def decode(cls, payload: bytes) -> ClientHello:
        """Parse a hub's HELLO payload."""
        data = load_json_object(payload)
        hub_id = _text(data, "hub_id")
        if not _HUB_ID_PATTERN.fullmatch(hub_id):
            raise CodecError(ErrorCode.MALFORMED, "hub_id may hold only A-Z a-z 0-9 . _ : -")
        low, high = _version(data, "min_version"), _version(data, "max_version")
        if low > high:
            raise CodecError(ErrorCode.MALFORMED, "min_version is above max_version")
        return cls(hub_id, low, high)


@dataclass(frozen=True, slots=True)
class HelloInfo:
    """The appliance's HELLO answer: chosen version, identity and pairing state."""

    appliance_id: str
    type: ApplianceType
    model: str
    firmware: str
    protocol: int
    paired: bool

    def encode(self) -> bytes:
        """The HELLO payload."""
        return dump_json(
            {
                "appliance_id": self.appliance_id,
                "type": str(self.type),
                "model": self.model,
                "firmware": self.firmware,
                "version": self.protocol,
                "paired": self.paired,
            }
        )

    @classmethod
    def decode(cls, payload: bytes) -> HelloInfo:
        """Parse an appliance's HELLO payload."""
        data = load_json_object(payload)
        appliance_id = _text(data, "appliance_id")
        if not APPLIANCE_ID_PATTERN.fullmatch(appliance_id):
            raise CodecError(ErrorCode.MALFORMED, "appliance_id may hold only a-z 0-9 -")
        raw_type = data.get("type")
        if not isinstance(raw_type, str) or raw_type not in _APPLIANCE_TYPES:
            raise CodecError(ErrorCode.MALFORMED, f"unknown appliance type {raw_type!r:.40}")
        appliance_type = ApplianceType(raw_type)
        paired = data.get("paired")
        if not isinstance(paired, bool):
            raise CodecError(ErrorCode.MALFORMED, "paired must be true or false")
        return cls(
            appliance_id,
            appliance_type,
            _text(data, "model"),
            _text(data, "firmware"),
            _version(data, "version"),
            paired,
        )


def choose_version(hello: ClientHello, supported: tuple[int, int] = SUPPORTED_VERSIONS) -> int:
    """The highest version both sides speak, or UNSUPPORTED_VERSION."""
    high = min(hello.max_version, supported[1])
    if high < max(hello.min_version, supported[0]):
        raise CodecError(
            ErrorCode.UNSUPPORTED_VERSION,
            f"hub speaks {hello.min_version}-{hello.max_version}, "
            f"appliance speaks {supported[0]}-{supported[1]}",
        )
    return high


# --- ERROR frames ------------------------------------------------------------


def encode_error(error: LinkError) -> bytes:
    """The payload of a plaintext ERROR frame."""
    data: dict[str, Any] = {"code": int(error.code), "message": error.message[:200]}
    if error.retry_after is not None:
        data["retry_after"] = max(1, math.ceil(error.retry_after))
    return dump_json(data)


def decode_error(payload: bytes) -> LinkError:
    """Turn an ERROR frame payload (or an inner error message) into a LinkError."""
    return error_from_dict(load_json_object(payload))


def error_from_dict(data: Mapping[str, Any]) -> LinkError:
    """Build the LinkError an error object describes; MALFORMED if it is not one."""
    raw_code = data.get("code")
    if not _is_int(raw_code):
        raise CodecError(ErrorCode.MALFORMED, "error code must be a whole number")
    message = data.get("message", "")
    if not isinstance(message, str):
        raise CodecError(ErrorCode.MALFORMED, "error message must be a string")
    key = data.get("key")
    if key is not None and not isinstance(key, str):
        raise CodecError(ErrorCode.MALFORMED, "error key must be a string")
    retry_after = data.get("retry_after")
    if retry_after is not None and (not _is_int(retry_after) or not 0 <= retry_after <= _MAX_ID):
        raise CodecError(ErrorCode.MALFORMED, "retry_after must be whole seconds up to 2^53-1")
    seconds = None if retry_after is None else float(retry_after)
    try:
        code = ErrorCode(raw_code)
    except ValueError:
        # A newer peer's code: keep the text, treat it as an internal error.
        return LinkError(
            ErrorCode.INTERNAL, f"error {raw_code}: {message}", key=key, retry_after=seconds
        )
    return error_for(code, message, key=key, retry_after=seconds)


# --- inner messages ----------------------------------------------------------


def encode_message(message: Mapping[str, Any]) -> bytes:
    """Encode an inner message; TOO_LARGE if it cannot fit one encrypted frame."""
    data = dump_json(message)
    if len(data) > MAX_MESSAGE:
        raise CodecError(ErrorCode.TOO_LARGE, f"message of {len(data)} bytes exceeds {MAX_MESSAGE}")
    return data


def decode_message(data: bytes) -> dict[str, Any]:
    """Decode an inner message and check its envelope (``type``, and ``id`` if present)."""
    message = load_json_object(data)
    message_type = message.get("type")
    if not isinstance(message_type, str):
        raise CodecError(ErrorCode.MALFORMED, "message has no type")
    if "id" in message:
        message_id = message["id"]
        if message_id is not None and (not _is_int(message_id) or not 0 <= message_id <= _MAX_ID):
            raise CodecError(ErrorCode.MALFORMED, "id must be a whole number from 0 to 2^53-1")
    return message


def request_message(message_id: int, message_type: MessageType, **fields: Any) -> dict[str, Any]:
    """A request envelope."""
    return {"id": message_id, "type": str(message_type), **fields}


_TYPE_BYTES: Final = {message_type: message_type.encode() for message_type in MessageType}


def encode_bare_request(message_id: int, message_type: MessageType) -> bytes:
    """``encode_message(request_message(message_id, message_type))`` byte for byte.

    Without the JSON encoder: a request with no fields (ping, describe,
    subscribe, read of everything) is the hub's most frequent message, and
    its compact, key-sorted form is fixed.
    """
    return b'{"id":%d,"type":"%b"}' % (message_id, _TYPE_BYTES[message_type])


def result_message(message_id: int, result: Mapping[str, Any]) -> dict[str, Any]:
    """A successful response."""
    return {"id": message_id, "type": str(MessageType.RESULT), "result": dict(result)}


def error_message(message_id: int | None, error: LinkError) -> dict[str, Any]:
    """An error response (``id`` null when the request could not be read)."""
    out: dict[str, Any] = {
        "id": message_id,
        "type": str(MessageType.ERROR),
        "code": int(error.code),
        "message": error.message[:200],
    }
    if error.key is not None:
        out["key"] = error.key
    if error.retry_after is not None:
        out["retry_after"] = max(1, math.ceil(error.retry_after))
    return out


def changed_message(seq: int, values: Mapping[str, Any]) -> dict[str, Any]:
    """A pushed state change."""
    return {"type": str(MessageType.CHANGED), "seq": seq, "values": dict(values)}
