"""Byte links between the network module and the MCU.

Both links carry the very bytes of SERIAL.md: a UART through pyserial-asyncio
on real hardware, and an in-process pair of byte streams for the simulators,
so the serial codec is exercised either way.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final, Protocol

READ_CHUNK: Final = 4096
DEFAULT_BAUDRATE: Final = 115200


class ByteLink(Protocol):
    """A bidirectional byte stream."""

    async def receive(self) -> bytes:
        """Some received bytes; b"" once the link is closed."""
        ...

    async def send(self, data: bytes) -> None:
        """Send ``data``; bytes of one call stay together and in order."""
        ...

    async def close(self) -> None:
        """Close the link; ``receive`` on the peer then returns b""."""
        ...


class StreamLink:
    """A link over an asyncio stream pair (what pyserial-asyncio gives)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def receive(self) -> bytes:
        """Some received bytes; b"" at end of stream."""
        try:
            return await self._reader.read(READ_CHUNK)
        except (ConnectionError, OSError):
            return b""

    async def send(self, data: bytes) -> None:
        """Queue ``data`` (synchronously, so concurrent frames never interleave) and drain."""
        self._writer.write(data)
        await self._writer.drain()

    async def close(self) -> None:
        """Close the underlying transport."""
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


async def open_serial_link(port: str, baudrate: int = DEFAULT_BAUDRATE) -> StreamLink:
    """Open a UART (8-N-1, no flow control) with pyserial-asyncio."""
    import serial_asyncio  # only the hardware bridge needs pyserial

    reader, writer = await serial_asyncio.open_serial_connection(
        url=port, baudrate=baudrate, bytesize=8, parity="N", stopbits=1
    )
    return StreamLink(reader, writer)


class MemoryLink:
    """One end of an in-process link; build pairs with ``memory_link_pair``."""

    def __init__(self) -> None:
        self._incoming = asyncio.StreamReader()
        self._peer: MemoryLink | None = None
        self._closed = False
        self.bytes_sent = 0

    async def receive(self) -> bytes:
        """Bytes the peer sent; b"" once either end closed."""
        return await self._incoming.read(READ_CHUNK)

    async def send(self, data: bytes) -> None:
        """Deliver ``data`` to the peer at once (like a UART with no loss)."""
        if self._closed or self._peer is None or self._peer._closed:
            raise ConnectionResetError("the in-process link is closed")
        self.bytes_sent += len(data)
        self._peer._incoming.feed_data(data)

    async def close(self) -> None:
        """Close both directions."""
        if self._closed:
            return
        self._closed = True
        self._incoming.feed_eof()
        if self._peer is not None and not self._peer._incoming.at_eof():
            self._peer._incoming.feed_eof()


def memory_link_pair() -> tuple[MemoryLink, MemoryLink]:
    """A connected pair: what one end sends, the other receives."""
    module_end, mcu_end = MemoryLink(), MemoryLink()
    module_end._peer = mcu_end
    mcu_end._peer = module_end
    return module_end, mcu_end
