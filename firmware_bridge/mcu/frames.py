"""Serial frames between the network module and the appliance's MCU.

The byte layout is specified in ``firmware_bridge/SERIAL.md``; this module is
its reference implementation: frame encoding, CRC-16/CCITT-FALSE and an
incremental decoder that resynchronises after garbage.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
import struct
from typing import Final

START_BYTE: Final = 0xA5
PROTOCOL_VERSION: Final = 1
MAX_PAYLOAD: Final = 256
HEADER_SIZE: Final = 6  # start, version, type, seq, length (u16)
CRC_SIZE: Final = 2
MAX_FRAME: Final = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE

_HEADER: Final = struct.Struct(">BBBBH")


class FrameType(IntEnum):
    """Frame types; the numbers are on the wire."""

    INFO_REQUEST = 0x01
    INFO = 0x02
    SNAPSHOT_REQUEST = 0x03
    REPORT = 0x04
    WRITE = 0x05
    COMMAND = 0x06
    ACK = 0x07
    NACK = 0x08
    FACTORY_RESET = 0x09
    HEARTBEAT = 0x0A
    PAIRING_BUTTON = 0x0B


# Requests expect a reply carrying their sequence number.
REQUEST_TYPES: Final = frozenset(
    {
        FrameType.INFO_REQUEST,
        FrameType.SNAPSHOT_REQUEST,
        FrameType.WRITE,
        FrameType.COMMAND,
        FrameType.FACTORY_RESET,
        FrameType.HEARTBEAT,
        FrameType.PAIRING_BUTTON,
    }
)


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE: Final = _crc_table()


def crc16_ccitt_false(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[(crc >> 8) ^ byte]
    return crc


class FrameError(ValueError):
    """A frame that cannot be built (bad field values)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded or to-be-encoded frame.

    ``type`` is an int, not only a ``FrameType``, so frames of types this
    version does not know can still be decoded and answered with a NACK.
    """

    type: int
    seq: int
    payload: bytes = b""
    version: int = PROTOCOL_VERSION

    def encode(self) -> bytes:
        """The frame's bytes on the line."""
        if not 0 <= self.type <= 0xFF or not 0 <= self.seq <= 0xFF:
            raise FrameError(f"type {self.type} and seq {self.seq} must fit in a byte")
        if not 0 <= self.version <= 0xFF:
            raise FrameError(f"version {self.version} must fit in a byte")
        if len(self.payload) > MAX_PAYLOAD:
            raise FrameError(f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")
        body = _HEADER.pack(START_BYTE, self.version, self.type, self.seq, len(self.payload))
        body += self.payload
        return body + crc16_ccitt_false(body[1:]).to_bytes(2, "big")

    @property
    def frame_type(self) -> FrameType | None:
        """The known frame type, or None for a type this version does not define."""
        try:
            return FrameType(self.type)
        except ValueError:
            return None

    def describe(self) -> str:
        """A short text for logs."""
        known = self.frame_type
        name = known.name if known is not None else f"type 0x{self.type:02x}"
        return f"{name} seq={self.seq} len={len(self.payload)}"


class FrameDecoder:
    """Incremental frame decoder with resynchronisation (SERIAL.md section 2.1).

    Feed it whatever bytes arrive; it returns the complete, CRC-checked frames
    and keeps the rest. Garbage is skipped, a bad start is given up one byte at
    a time so that a real frame hidden behind it is still found, and the buffer
    never holds more than one maximal frame plus the bytes of the current feed.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.frames_decoded = 0
        self.bytes_discarded = 0
        self.crc_errors = 0
        self.length_errors = 0

    @property
    def has_partial(self) -> bool:
        """Whether a frame has started but is not complete yet."""
        return bool(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Add received bytes; return the frames now complete, in order."""
        self._buffer += data
        frames: list[Frame] = []
        buffer = self._buffer
        while True:
            start = buffer.find(START_BYTE)
            if start < 0:
                self.bytes_discarded += len(buffer)
                buffer.clear()
                break
            if start:
                self.bytes_discarded += start
                del buffer[:start]
            if len(buffer) < HEADER_SIZE:
                break
            _, version, frame_type, seq, length = _HEADER.unpack_from(buffer)
            if length > MAX_PAYLOAD:
                self.length_errors += 1
                self._drop_one()
                continue
            end = HEADER_SIZE + length + CRC_SIZE
            if len(buffer) < end:
                break
            received_crc = int.from_bytes(buffer[end - CRC_SIZE : end], "big")
            if crc16_ccitt_false(memoryview(buffer)[1 : end - CRC_SIZE]) != received_crc:
                self.crc_errors += 1
                self._drop_one()
                continue
            frames.append(
                Frame(frame_type, seq, bytes(buffer[HEADER_SIZE : end - CRC_SIZE]), version)
            )
            self.frames_decoded += 1
            del buffer[:end]
        return frames

    def give_up_partial(self) -> list[Frame]:
        """The inter-byte timeout fired: drop the stale start byte and rescan."""
        if not self._buffer:
            return []
        self._drop_one()
        return self.feed(b"")

    def _drop_one(self) -> None:
        self.bytes_discarded += 1
        del self._buffer[:1]
