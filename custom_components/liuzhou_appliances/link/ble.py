"""BLE GATT transport framing: the same outer frames, split to fit the ATT MTU.

One primary service with two characteristics: the hub writes fragments to
WRITE_CHARACTERISTIC_UUID (write without response), the appliance sends
fragments as notifications on NOTIFY_CHARACTERISTIC_UUID. Each fragment is
``u8 flags | data`` where flags bit 7 = first fragment of a frame, bit 6 =
last fragment, bits 0-5 = fragment index modulo 64 (0 on the first). A
fragment carries at most ``ATT_MTU - 3 - 1`` data bytes (3 for the ATT
notification/write header). See firmware_bridge/PROTOCOL.md.
"""

from __future__ import annotations

from typing import Final

from .codec import HEADER_SIZE, MAX_FRAME, CodecError, parse_header
from .errors import ErrorCode

SERVICE_UUID: Final = "aa610001-1dcf-4f48-ae81-6830ba4cd682"
WRITE_CHARACTERISTIC_UUID: Final = "aa610002-1dcf-4f48-ae81-6830ba4cd682"
NOTIFY_CHARACTERISTIC_UUID: Final = "aa610003-1dcf-4f48-ae81-6830ba4cd682"

MIN_ATT_MTU: Final = 23
MAX_ATT_MTU: Final = 517
ATT_HEADER_SIZE: Final = 3
# The longest attribute value (Core spec Vol 3 Part F 3.2.9): a longer write or
# notification is refused by the peer's stack, whatever the MTU.
MAX_ATTRIBUTE_VALUE: Final = 512
FIRST: Final = 0x80
LAST: Final = 0x40
INDEX_MASK: Final = 0x3F


class FragmentError(CodecError):
    """A fragment sequence that does not rebuild a frame."""


def fragment_size(mtu: int) -> int:
    """Frame bytes one fragment carries at this ATT MTU (511 at most: a value is 512 bytes)."""
    if not MIN_ATT_MTU <= mtu <= MAX_ATT_MTU:
        raise ValueError(f"ATT MTU must be {MIN_ATT_MTU}-{MAX_ATT_MTU}, got {mtu}")
    return min(mtu - ATT_HEADER_SIZE, MAX_ATTRIBUTE_VALUE) - 1


def fragment(frame: bytes, mtu: int) -> list[bytes]:
    """Split one encoded outer frame into GATT values for this MTU."""
    if not HEADER_SIZE <= len(frame) <= MAX_FRAME:
        raise ValueError(f"a frame is {HEADER_SIZE}-{MAX_FRAME} bytes, got {len(frame)}")
    size = fragment_size(mtu)
    chunks = [frame[start : start + size] for start in range(0, len(frame), size)]
    out: list[bytes] = []
    for index, chunk in enumerate(chunks):
        flags = index & INDEX_MASK
        if index == 0:
            flags |= FIRST
        if index == len(chunks) - 1:
            flags |= LAST
        out.append(bytes([flags]) + chunk)
    return out


class Reassembler:
    """Rebuilds frames from fragments, holding at most one frame (MAX_FRAME bytes).

    ``feed`` returns a complete frame's bytes or None; on any inconsistency it
    raises FragmentError and drops the partial frame.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._expected = 0
        self._next_index = 0

    @property
    def in_progress(self) -> bool:
        """Whether a frame is partly received."""
        return bool(self._buffer)

    def reset(self) -> None:
        """Drop any partial frame."""
        self._buffer.clear()
        self._expected = 0
        self._next_index = 0

    def _fail(self, code: ErrorCode, message: str) -> FragmentError:
        self.reset()
        return FragmentError(code, message)

    def feed(self, value: bytes) -> bytes | None:
        """Add one GATT value."""
        if len(value) < 2:
            raise self._fail(ErrorCode.MALFORMED, "empty fragment")
        flags, data = value[0], bytes(value[1:])
        index = flags & INDEX_MASK
        if flags & FIRST:
            if self._buffer:
                raise self._fail(ErrorCode.MALFORMED, "new frame before the last one ended")
            if index != 0:
                raise self._fail(ErrorCode.MALFORMED, "first fragment must have index 0")
            if len(data) < HEADER_SIZE:
                raise self._fail(ErrorCode.MALFORMED, "first fragment shorter than a frame header")
            try:
                _, length = parse_header(data[:HEADER_SIZE])
            except CodecError as err:
                raise self._fail(err.code, err.message) from None
            self._expected = HEADER_SIZE + length
        elif not self._buffer:
            raise self._fail(ErrorCode.MALFORMED, "continuation without a first fragment")
        elif index != self._next_index:
            raise self._fail(
                ErrorCode.MALFORMED, f"fragment {index} out of order, expected {self._next_index}"
            )
        if len(self._buffer) + len(data) > self._expected:
            raise self._fail(ErrorCode.MALFORMED, "fragments longer than the frame they carry")
        self._buffer += data
        self._next_index = (index + 1) & INDEX_MASK
        complete = len(self._buffer) == self._expected
        if complete != bool(flags & LAST):
            raise self._fail(ErrorCode.MALFORMED, "last-fragment flag does not match the length")
        if not complete:
            return None
        frame = bytes(self._buffer)
        self.reset()
        return frame
