"""The seam between the sessions and the bytes: a connection that carries outer frames.

The hub's client, the appliance's server, pairing and the Noise session only
ever talk to a ``FrameTransport``. ``TcpTransport`` (asyncio streams) is one
implementation; the BLE GATT transport (``ble.py`` specifies its
fragmentation) is to be another, with no change above this module.

Errors: the end of the stream, a reset or any OS error is ``ConnectionClosed``;
bytes that are not frames are ``CodecError`` (from the codec, unchanged).
Waiting is the caller's business: wrap calls in ``asyncio.timeout``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
import contextlib
from typing import Final

from .codec import Frame, FrameType, encode_frame, read_frame
from .errors import ApplianceUnreachable, ConnectionClosed

_CLOSE_WAIT_S: Final = 1.0


class FrameTransport(ABC):
    """One connection carrying outer frames, in order, both ways."""

    @property
    @abstractmethod
    def peer(self) -> str:
        """Who is at the other end, for logs ("192.0.2.7:51234", a BLE address ...)."""

    @abstractmethod
    def send_frame(self, frame_type: FrameType, payload: bytes) -> None:
        """Queue one frame; never waits (so frames leave in the order they were queued).

        TooLarge (a ``CodecError``) if the payload exceeds a frame.
        """

    @abstractmethod
    async def drain(self) -> None:
        """Wait until the connection has taken what was queued; ConnectionClosed if gone."""

    def drain_needed(self) -> bool:
        """Whether ``drain()`` may wait or fail now; False means it would return at once.

        Lets a caller skip the cost of a bounded wait on the common path, where
        the connection took the frames as they were queued. This default
        always says True.
        """
        return True

    @abstractmethod
    async def receive_frame(self) -> Frame:
        """The next frame; ConnectionClosed at the end, CodecError for bytes that are no frame."""

    @abstractmethod
    def is_closing(self) -> bool:
        """Whether ``close()`` was called or the peer went away."""

    @abstractmethod
    async def close(self) -> None:
        """Close, waiting briefly for the connection to go; never raises."""


class TcpTransport(FrameTransport):
    """Frames over a TCP connection (asyncio streams)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self._peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "peer")

    @classmethod
    async def connect(cls, host: str, port: int, timeout: float) -> TcpTransport:  # noqa: ASYNC109
        """Open a connection; ApplianceUnreachable if that fails within ``timeout`` seconds."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, TimeoutError) as err:
            raise ApplianceUnreachable(f"cannot connect to {host}:{port}: {err!r}") from err
        return cls(reader, writer)

    @property
    def peer(self) -> str:
        """The peer's address and port."""
        return self._peer

    def send_frame(self, frame_type: FrameType, payload: bytes) -> None:
        """Write one frame into the stream's buffer."""
        self.writer.write(encode_frame(frame_type, payload))

    async def drain(self) -> None:
        """Wait for the stream's buffer to empty below its limit."""
        try:
            await self.writer.drain()
        except OSError as err:  # ConnectionResetError, BrokenPipeError ...
            raise ConnectionClosed(repr(err)) from err

    def drain_needed(self) -> bool:
        """Closing, or more buffered than the low-water mark (the stream may be paused)."""
        transport = self.writer.transport
        if transport.is_closing():
            return True
        return transport.get_write_buffer_size() > transport.get_write_buffer_limits()[0]

    async def receive_frame(self) -> Frame:
        """Read one frame."""
        try:
            return await read_frame(self.reader)
        except (EOFError, OSError) as err:
            raise ConnectionClosed(str(err)) from err

    def is_closing(self) -> bool:
        """Whether the stream is closing or closed."""
        return self.writer.is_closing()

    async def close(self) -> None:
        """Close the stream and wait up to a second for it."""
        self.writer.close()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(self.writer.wait_closed(), _CLOSE_WAIT_S)
