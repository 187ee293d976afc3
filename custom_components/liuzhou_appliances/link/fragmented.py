"""A FrameTransport over a link that carries short values whole: GATT writes and notifications.

Both ends of the BLE transport share this class: the hub's ``BleTransport``
(``ble_client.py``, over a bleak-compatible client) and the appliance's GATT
server (``firmware_bridge/ble``). A subclass supplies three things: the ATT
MTU now, how to send one value, how to drop the link. It calls
``fragment_received`` for each value that arrives and ``link_lost`` when the
link goes.

Frames leave in the order they were queued: ``send_frame`` splits one frame
with ``ble.fragment`` at the MTU of that moment and queues the fragments; one
task sends them one at a time. Arriving values go through one
``ble.Reassembler``; the first value that does not fit the fragmentation
rules (PROTOCOL.md 11) makes ``receive_frame`` raise that ``FragmentError``
(a ``CodecError``), once, and every later value is ignored: the session above
answers the error and closes, which drops the link.
"""

from __future__ import annotations

from abc import abstractmethod
import asyncio
from collections import deque
import contextlib
from typing import Final

from .ble import MAX_ATT_MTU, MIN_ATT_MTU, Reassembler, fragment
from .codec import Frame, FrameType, decode_frame, encode_frame
from .errors import CodecError, ConnectionClosed, ErrorCode
from .transport import FrameTransport

# drain() returns once at most this many fragment bytes wait to be sent.
LOW_WATER_BYTES: Final = 2048
# Frames received and not yet read. A peer that follows the protocol never gets near
# this (the hub has at most 32 requests in flight, the appliance merges its pushes);
# more is a peer that floods, and the link cannot slow it down.
MAX_WAITING_FRAMES: Final = 64
_CLOSE_WAIT_S: Final = 1.0


def clamp_mtu(mtu: int) -> int:
    """The ATT MTU to fragment for: ``mtu`` bounded to 23-517."""
    return max(MIN_ATT_MTU, min(MAX_ATT_MTU, int(mtu)))


class FragmentedTransport(FrameTransport):
    """Frames as ``ble.fragment`` values over a link that carries values whole, in order."""

    def __init__(self, peer: str) -> None:
        self._peer = peer
        self._outbox: deque[bytes] = deque()
        self._outbox_bytes = 0
        self._wake_sender = asyncio.Event()
        # Set whenever a value has left or the link went: what drain() and close() wait for.
        self._progress = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._reassembler = Reassembler()
        self._frames: deque[Frame] = deque()
        self._frame_arrived = asyncio.Event()
        self._error: CodecError | None = None
        self._error_raised = False
        self._lost: str | None = None
        self._closing = False
        self._gone = asyncio.Event()

    # --- what a subclass supplies -------------------------------------------------

    @abstractmethod
    def current_mtu(self) -> int:
        """The ATT MTU of the link now (23-517)."""

    @abstractmethod
    async def send_value(self, value: bytes) -> None:
        """Send one value (a fragment); returns when the link has taken it."""

    @abstractmethod
    async def drop_link(self) -> None:
        """Disconnect the link."""

    # --- what a subclass calls ----------------------------------------------------

    def start(self) -> None:
        """Start sending queued fragments (call once, from the event loop)."""
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_loop(), name=f"ble send {self._peer}")

    def fragment_received(self, value: bytes) -> None:
        """One value from the peer, in arrival order."""
        if self._error is not None or self._lost is not None:
            return  # the session is ending already
        try:
            data = self._reassembler.feed(bytes(value))
            if data is None:
                return
            if len(self._frames) >= MAX_WAITING_FRAMES:
                raise CodecError(ErrorCode.TOO_LARGE, "the peer sends faster than it is read")
            self._frames.append(decode_frame(data))
        except CodecError as err:
            self._error = err
        self._frame_arrived.set()

    def link_lost(self, reason: str) -> None:
        """The link went (the peer disconnected, or the radio did)."""
        if self._lost is None:
            self._lost = reason
        self._gone.set()
        self._frame_arrived.set()
        self._wake_sender.set()
        self._progress.set()

    # --- FrameTransport -------------------------------------------------------------

    @property
    def peer(self) -> str:
        """The peer's BLE address."""
        return self._peer

    def send_frame(self, frame_type: FrameType, payload: bytes) -> None:
        """Queue one frame's fragments, split at the MTU of now."""
        data = encode_frame(frame_type, payload)
        if self._lost is not None:
            return  # drain() reports the loss
        for value in fragment(data, clamp_mtu(self.current_mtu())):
            self._outbox.append(value)
            self._outbox_bytes += len(value)
        self._wake_sender.set()

    async def drain(self) -> None:
        """Wait until at most LOW_WATER_BYTES wait to be sent; ConnectionClosed if the link went."""
        while True:
            if self._lost is not None:
                raise ConnectionClosed(f"BLE link lost: {self._lost}")
            if self._outbox_bytes <= LOW_WATER_BYTES:
                return
            self._progress.clear()
            await self._progress.wait()

    def drain_needed(self) -> bool:
        """The link went, or more than LOW_WATER_BYTES wait to be sent."""
        return self._lost is not None or self._outbox_bytes > LOW_WATER_BYTES

    async def receive_frame(self) -> Frame:
        """The next frame; FragmentError (a CodecError) once, then ConnectionClosed."""
        while True:
            if self._frames:
                return self._frames.popleft()
            if self._error is not None and not self._error_raised:
                self._error_raised = True
                raise self._error
            if self._lost is not None or self._error is not None:
                raise ConnectionClosed(f"BLE link lost: {self._lost or self._error}")
            self._frame_arrived.clear()
            await self._frame_arrived.wait()

    def is_closing(self) -> bool:
        """Whether close() was called or the link went."""
        return self._closing or self._lost is not None

    async def close(self) -> None:
        """Send what is queued (up to a second), then drop the link; never raises."""
        if self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._gone.wait(), _CLOSE_WAIT_S)
            return
        self._closing = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_CLOSE_WAIT_S):
                while self._outbox and self._lost is None:
                    self._progress.clear()
                    await self._progress.wait()
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._sender
        if self._lost is None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self.drop_link(), _CLOSE_WAIT_S)
        self.link_lost("closed")

    # --- internals ------------------------------------------------------------------

    async def _send_loop(self) -> None:
        try:
            while self._lost is None:
                if not self._outbox:
                    self._wake_sender.clear()
                    await self._wake_sender.wait()
                    continue
                value = self._outbox[0]
                await self.send_value(value)
                self._outbox.popleft()
                self._outbox_bytes -= len(value)
                self._progress.set()
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the link's own errors: it is gone for us
            self.link_lost(f"sending failed: {err!r}")
