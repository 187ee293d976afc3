"""Shared pieces of the firmware_bridge tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import os

import pytest

from firmware_bridge.mcu.links import ByteLink


@pytest.fixture(autouse=True)
def _real_sockets(socket_enabled: None) -> None:
    """Serve and connect over 127.0.0.1 (Home Assistant's test plugin blocks sockets)."""


async def wait_for(condition: Callable[[], object], seconds: float = 3.0) -> None:
    """Let the loop run until ``condition()`` is true; AssertionError after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


class FaultyLink:
    """Wraps one end of a link to lose what it sends: ``mute`` drops everything,
    ``drop_next`` drops that many sends (whole frames), then passes again."""

    def __init__(self, inner: ByteLink) -> None:
        self.inner = inner
        self.mute = False
        self.drop_next = 0
        self.dropped = 0

    async def receive(self) -> bytes:
        return await self.inner.receive()

    async def send(self, data: bytes) -> None:
        if self.mute or self.drop_next:
            self.drop_next = max(0, self.drop_next - 1)
            self.dropped += 1
            return
        await self.inner.send(data)

    async def close(self) -> None:
        await self.inner.close()


class PtyMasterLink:
    """The far end of a pseudo-terminal, where a UART's peer would sit."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._received: asyncio.Queue[bytes] = asyncio.Queue()
        os.set_blocking(fd, False)
        self._loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._loop.remove_reader(self._fd)
        self._received.put_nowait(data)

    async def receive(self) -> bytes:
        return await self._received.get()

    async def send(self, data: bytes) -> None:
        os.write(self._fd, data)  # frames are far smaller than the tty buffer

    async def close(self) -> None:
        if self._fd >= 0:
            self._loop.remove_reader(self._fd)
            os.close(self._fd)
            self._fd = -1
            self._received.put_nowait(b"")
