"""An authenticated session with a real ApplianceServer over in-memory streams.

For property tests that send many encrypted inner messages quickly: no sockets,
one fresh event loop per example (``run_in_new_loop``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from custom_components.liuzhou_appliances.link.codec import (
    ClientHello,
    Frame,
    FrameDecoder,
    FrameType,
    decode_message,
    encode_frame,
)
from custom_components.liuzhou_appliances.link.server import ApplianceServer, MemoryKeyStore
from custom_components.liuzhou_appliances.link.session import NoiseInitiator, hello_transcript

from .backend import AC_DECLARATION, AC_IDENTITY, MemoryBackend
from .conftest import KEY


class MemoryPipe:
    """The transport half the server writes to: collects bytes for the peer."""

    def __init__(self, peer: asyncio.StreamReader) -> None:
        self.peer = peer
        self.closed = False

    def write(self, data: bytes) -> None:
        if not self.closed:
            self.peer.feed_data(data)

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.peer.feed_eof()

    async def wait_closed(self) -> None:
        return None

    def get_extra_info(self, name: str) -> Any:
        return ("memory", 0) if name == "peername" else None


def run_in_new_loop(coro_factory: Callable[[], Any]) -> Any:
    """Run the coroutine ``coro_factory()`` makes in a fresh event loop (10 s at most)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(asyncio.wait_for(coro_factory(), 10))
    finally:
        loop.close()


@dataclass(frozen=True)
class SessionRun:
    """What one session run saw: every decrypted reply, the backend, frames after the end."""

    replies: list[dict[str, Any]]
    backend: MemoryBackend
    after_end: list[Frame]


class _SilentPanel:
    """A voice panel that takes whatever it is asked to say."""

    def say(self, speech: object) -> None:
        """Nothing to hear in a property test."""

    def unanswered(self, utterance: int) -> None:
        """Nobody waits."""


async def exchange(
    inputs: list[bytes], *, keepalive_timeout: float, panel: bool = False
) -> SessionRun:
    """Open a session, send each input encrypted, read until each is answered, end it.

    With ``panel`` the appliance declares a voice panel (zh-CN, en) and has one.
    """
    declaration = AC_DECLARATION
    if panel:
        declaration = AC_DECLARATION | {"voice_panel": {"languages": ["zh-CN", "en"]}}
    backend = MemoryBackend(declaration)
    server = ApplianceServer(
        backend,
        AC_IDENTITY,
        pairing_code="12345678",
        key_store=MemoryKeyStore(KEY),
        handshake_timeout=1,
        keepalive_timeout=keepalive_timeout,
        panel=_SilentPanel() if panel else None,
    )
    inbound, outbound = asyncio.StreamReader(), asyncio.StreamReader()
    serving = asyncio.create_task(server.handle_stream(inbound, MemoryPipe(outbound)))  # type: ignore[arg-type]
    client_hello = ClientHello("hub").encode()
    inbound.feed_data(encode_frame(FrameType.HELLO, client_hello))
    decoder = FrameDecoder()

    async def next_frame() -> Frame:
        while True:
            frames = decoder.feed(await outbound.read(1))
            if frames:
                return frames[0]

    server_hello = (await next_frame()).payload
    initiator = NoiseInitiator(KEY, hello_transcript(client_hello, server_hello))
    inbound.feed_data(encode_frame(FrameType.HANDSHAKE, initiator.first_message()))
    session = initiator.finish((await next_frame()).payload)
    for data in inputs:
        inbound.feed_data(encode_frame(FrameType.ENCRYPTED, session.encrypt(data)))
    replies: list[dict[str, Any]] = []
    answered = 0
    while answered < len(inputs):
        reply = decode_message(session.decrypt((await next_frame()).payload))
        replies.append(reply)
        answered += reply["type"] in ("result", "error")
    inbound.feed_eof()
    await serving
    after_end = decoder.feed(await outbound.read())
    await server.stop()
    return SessionRun(replies, backend, after_end)
