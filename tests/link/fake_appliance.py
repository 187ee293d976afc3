"""A misbehaving appliance on 127.0.0.1 for the hub's failure paths.

It speaks the real framing (link.codec) and the real Noise handshake
(link.session) and then follows a script, so a test can make it answer
wrongly at exactly one step. It is the test double of a broken appliance,
not of our protocol: the client under test runs unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import json
from typing import Any, Self

from custom_components.liuzhou_appliances.link.codec import (
    Frame,
    FrameType,
    HelloInfo,
    MessageType,
    encode_frame,
    encode_message,
    read_frame,
    result_message,
)
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.session import (
    NoiseResponder,
    SecureSession,
    hello_transcript,
)

from .backend import AC_DECLARATION, AC_STATE
from .conftest import KEY

HELLO = HelloInfo(
    "lz-ac-0badf00d", ApplianceType.ROOM_AIR_CONDITIONER, "LZ-AC35", "0.0.1", 1, True
).encode()


class Peer:
    """The appliance's end of one connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.session: SecureSession | None = None
        self.hub_closed = asyncio.Event()
        self.hello_payload = b""

    async def frame(self) -> Frame:
        """The hub's next outer frame."""
        return await asyncio.wait_for(read_frame(self.reader), 2)

    def send_frame(self, frame_type: FrameType, payload: bytes) -> None:
        self.writer.write(encode_frame(frame_type, payload))

    async def hello(self, payload: bytes = HELLO) -> None:
        """Read the hub's HELLO and answer with ``payload``."""
        frame = await self.frame()
        assert frame.type is FrameType.HELLO
        self.hello_payload = frame.payload
        self.send_frame(FrameType.HELLO, payload)

    async def handshake(self, hello: bytes = HELLO) -> None:
        """HELLO, then a genuine Noise handshake under the test key."""
        await self.hello(hello)
        frame = await self.frame()
        assert frame.type is FrameType.HANDSHAKE
        reply, self.session = NoiseResponder(
            KEY, hello_transcript(self.hello_payload, hello)
        ).respond(frame.payload)
        self.send_frame(FrameType.HANDSHAKE, reply)

    async def request(self) -> dict[str, Any]:
        """The hub's next inner request."""
        assert self.session is not None
        frame = await self.frame()
        assert frame.type is FrameType.ENCRYPTED
        message: dict[str, Any] = json.loads(self.session.decrypt(frame.payload))
        return message

    def send(self, message: dict[str, Any]) -> None:
        """Encrypt and send one inner message."""
        assert self.session is not None
        self.send_encrypted(encode_message(message))

    def send_encrypted(self, plaintext: bytes) -> None:
        assert self.session is not None
        self.send_frame(FrameType.ENCRYPTED, self.session.encrypt(plaintext))

    async def answer(self, result: dict[str, Any] | None = None) -> dict[str, Any]:
        """Read one request and answer it correctly (or with ``result``)."""
        request = await self.request()
        if result is None:
            result = correct_result(request)
        self.send(result_message(request["id"], result))
        return request

    async def setup(self) -> None:
        """Handshake and answer describe, subscribe and read like a good appliance."""
        await self.handshake()
        for expected in (MessageType.DESCRIBE, MessageType.SUBSCRIBE, MessageType.READ):
            request = await self.answer()
            assert request["type"] == expected

    async def wait_for_hub_to_close(self) -> None:
        """Discard whatever the hub sends until it closes the connection."""
        with contextlib.suppress(ConnectionError):
            while await self.reader.read(65536):
                pass
        self.hub_closed.set()


def correct_result(request: dict[str, Any]) -> dict[str, Any]:
    match request["type"]:
        case MessageType.DESCRIBE:
            return {"declaration": AC_DECLARATION}
        case MessageType.SUBSCRIBE:
            return {"seq": 0}
        case MessageType.READ:
            return {"values": dict(AC_STATE)}
        case _:
            return {}


type Script = Callable[[Peer], Awaitable[None]]


class FakeAppliance:
    """``async with FakeAppliance(script) as fake:`` serves ``script`` per connection.

    After the script the appliance keeps the connection open and waits for
    the hub to close it (``peer.hub_closed``), unless the script closed it.
    """

    def __init__(self, script: Script) -> None:
        self._script = script
        self.peers: list[Peer] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer = Peer(reader, writer)
        self.peers.append(peer)
        try:
            await self._script(peer)
            if not writer.is_closing():
                await writer.drain()
                await peer.wait_for_hub_to_close()
        except (EOFError, ConnectionError):
            peer.hub_closed.set()  # the hub hung up while the script was reading
        finally:
            writer.close()
            self._tasks.discard(task)

    async def hub_closed(self, index: int = 0) -> bool:
        """Whether the hub closed connection ``index`` within 2 s."""
        await asyncio.wait_for(self.peers[index].hub_closed.wait(), 2)
        return True
