"""Raw conversations with the device: plaintext frames before the handshake, and
what a device answers to a probe (an error, a clean close, a reply, or silence)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from custom_components.liuzhou_appliances.link.client import SecureChannel
from custom_components.liuzhou_appliances.link.codec import (
    ClientHello,
    CodecError,
    FrameType,
    HelloInfo,
    MessageType,
    decode_error,
    encode_frame,
    error_from_dict,
    read_frame,
)
from custom_components.liuzhou_appliances.link.errors import (
    ErrorCode,
    LinkError,
    TransportError,
)

from .runner import CheckFailed, describe_error


class Reaction(StrEnum):
    """How the device reacted to something the kit sent."""

    ERROR = "error"  # an ERROR frame, or an inner error message
    CLOSED = "closed"  # the device closed the connection
    REPLY = "reply"  # a frame or result that is not an error
    SILENT = "silent"  # nothing within the timeout
    UNREADABLE = "unreadable"  # bytes that do not follow the protocol


@dataclass(frozen=True, slots=True)
class Outcome:
    """A reaction with what came with it."""

    reaction: Reaction
    error: LinkError | None = None
    message: dict[str, Any] | None = None
    note: str = ""

    def describe(self) -> str:
        """Short text for reports."""
        if self.reaction is Reaction.ERROR and self.error is not None:
            return f"error {self.error.code.name} ({self.error.message})"
        if self.reaction is Reaction.REPLY and self.message is not None:
            return f"reply {self.message.get('type')!r}"
        return f"{self.reaction.value}{f' ({self.note})' if self.note else ''}"

    def expect_error_or_close(self, codes: set[ErrorCode], what: str) -> str:
        """Pass for an error with one of ``codes`` or a clean close; CheckFailed otherwise."""
        if self.reaction is Reaction.CLOSED:
            return f"{what}: closed"
        if self.reaction is Reaction.ERROR and self.error is not None:
            if self.error.code in codes:
                return f"{what}: {self.error.code.name}"
            wanted = " or ".join(sorted(code.name for code in codes))
            raise CheckFailed(f"{what}: answered {self.describe()}, expected {wanted} or a close")
        raise CheckFailed(
            f"{what}: expected an error reply or a clean close, got {self.describe()}"
        )


class PlainConnection:
    """A TCP connection in the plaintext phase, driven byte by byte."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, io_timeout: float
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = io_timeout

    @classmethod
    async def open(cls, host: str, port: int, io_timeout: float) -> PlainConnection:
        """Connect, or CheckFailed saying the device cannot be reached."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), io_timeout)
        except (OSError, TimeoutError) as err:
            raise CheckFailed(f"cannot connect to {host}:{port}: {describe_error(err)}") from None
        return cls(reader, writer, io_timeout)

    async def send(self, data: bytes, *, end: bool = False) -> None:
        """Send bytes; with ``end`` also close our sending side (the device sees EOF)."""
        with contextlib.suppress(OSError):
            self.writer.write(data)
            if end and self.writer.can_write_eof():
                self.writer.write_eof()
            await asyncio.wait_for(self.writer.drain(), self.timeout)

    async def outcome(self) -> Outcome:
        """Wait for one frame (or the end) and classify it."""
        try:
            frame = await asyncio.wait_for(read_frame(self.reader), self.timeout)
        except TimeoutError:
            return Outcome(Reaction.SILENT, note=f"nothing for {self.timeout:g} s")
        except (EOFError, OSError):
            return Outcome(Reaction.CLOSED)
        except CodecError as err:
            return Outcome(Reaction.UNREADABLE, note=err.message)
        if frame.type is FrameType.ERROR:
            try:
                return Outcome(Reaction.ERROR, error=decode_error(frame.payload))
            except CodecError as err:
                return Outcome(Reaction.UNREADABLE, note=f"ERROR frame: {err.message}")
        return Outcome(Reaction.REPLY, message={"type": frame.type.name, "payload": frame.payload})

    async def hello(self, offer: ClientHello) -> tuple[HelloInfo, bytes]:
        """Send HELLO with ``offer``; the device's HELLO and its raw payload, or its LinkError."""
        await self.send(encode_frame(FrameType.HELLO, offer.encode()))
        outcome = await self.outcome()
        if outcome.reaction is Reaction.ERROR and outcome.error is not None:
            raise outcome.error
        if outcome.reaction is not Reaction.REPLY or outcome.message is None:
            raise CheckFailed(f"HELLO: expected the device's HELLO, got {outcome.describe()}")
        if outcome.message["type"] != FrameType.HELLO.name:
            raise CheckFailed(f"HELLO: expected HELLO, got {outcome.message['type']}")
        payload: bytes = outcome.message["payload"]
        try:
            return HelloInfo.decode(payload), payload
        except CodecError as err:
            raise CheckFailed(f"HELLO: the device's HELLO is invalid: {err.message}") from None

    async def close(self) -> None:
        """Close the connection."""
        self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)


async def exchange_hello(host: str, port: int, offer: ClientHello, io_timeout: float) -> HelloInfo:
    """One connection that only exchanges HELLO."""
    connection = await PlainConnection.open(host, port, io_timeout)
    try:
        info, _ = await connection.hello(offer)
        return info
    finally:
        await connection.close()


async def session_outcome(channel: SecureChannel, wait: float) -> Outcome:
    """The next answer inside a session (pushes are skipped), classified."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        try:
            message = await asyncio.wait_for(
                channel.receive_message(), max(0.0, deadline - loop.time())
            )
        except TimeoutError:
            return Outcome(Reaction.SILENT, note=f"nothing for {wait:g} s")
        except TransportError:
            return Outcome(Reaction.CLOSED)
        except LinkError as err:
            return Outcome(Reaction.UNREADABLE, note=describe_error(err))
        if message["type"] == MessageType.CHANGED:
            continue
        if message["type"] == MessageType.ERROR:
            try:
                error = error_from_dict(message)
            except CodecError as err:
                return Outcome(Reaction.UNREADABLE, note=f"error message: {err.message}")
            return Outcome(Reaction.ERROR, error=error, message=message)
        return Outcome(Reaction.REPLY, message=message)
