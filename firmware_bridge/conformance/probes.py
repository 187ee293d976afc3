"""Raw conversations with the device: plaintext frames before the handshake, and
what a device answers to a probe (an error, a clean close, a reply, or silence)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from custom_components.liuzhou_appliances.link.ble import FIRST, INDEX_MASK, LAST, fragment_size
from custom_components.liuzhou_appliances.link.client import OpenTransport, SecureChannel
from custom_components.liuzhou_appliances.link.codec import (
    ClientHello,
    CodecError,
    Frame,
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
from custom_components.liuzhou_appliances.link.fragmented import FragmentedTransport, clamp_mtu
from custom_components.liuzhou_appliances.link.transport import FrameTransport

from .runner import CheckFailed, Context, describe_error


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


def raw_fragments(data: bytes, mtu: int) -> list[bytes]:
    """``data`` cut as ``ble.fragment`` cuts a frame, whatever ``data`` is (1+ bytes).

    For probes: garbage, a truncated frame (its LAST comes too early) or an
    oversized header reach the appliance's reassembler exactly as sent.
    """
    size = fragment_size(clamp_mtu(mtu))
    chunks = [data[start : start + size] for start in range(0, len(data), size)] or [b""]
    out = []
    for index, chunk in enumerate(chunks):
        flags = (index & INDEX_MASK) | (FIRST if index == 0 else 0)
        flags |= LAST if index == len(chunks) - 1 else 0
        out.append(bytes([flags]) + chunk)
    return out


class PlainConnection:
    """A connection in the plaintext phase, driven byte by byte.

    Over TCP the bytes go into the stream as they are; over BLE (``over``)
    they are cut into fragments at the connection's MTU, each sent as one
    GATT write, so malformed bytes reach the appliance unrepaired.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader | None,
        writer: asyncio.StreamWriter | None,
        io_timeout: float,
        transport: FragmentedTransport | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = io_timeout
        self.transport = transport

    @classmethod
    async def over(cls, open_transport: OpenTransport, io_timeout: float) -> PlainConnection:
        """A connection that ``open_transport`` opens (BLE), or CheckFailed."""
        try:
            transport: FrameTransport = await asyncio.wait_for(open_transport(), io_timeout + 5)
        except (LinkError, OSError, TimeoutError) as err:
            raise CheckFailed(f"cannot connect: {describe_error(err)}") from None
        if not isinstance(transport, FragmentedTransport):
            await transport.close()
            raise CheckFailed(f"not a fragmented transport: {type(transport).__name__}")
        return cls(None, None, io_timeout, transport)

    @classmethod
    async def open(cls, host: str, port: int, io_timeout: float) -> PlainConnection:
        """Connect, or CheckFailed saying the device cannot be reached."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), io_timeout)
        except (OSError, TimeoutError) as err:
            raise CheckFailed(f"cannot connect to {host}:{port}: {describe_error(err)}") from None
        return cls(reader, writer, io_timeout)

    async def send(self, data: bytes, *, end: bool = False) -> None:
        """Send bytes; with ``end`` also close our sending side (the device sees EOF).

        Over BLE there is no half-close: the fragments end where ``data`` ends.
        """
        if self.transport is not None:
            await self.send_values(raw_fragments(data, self.transport.current_mtu()))
            return
        assert self.writer is not None
        with contextlib.suppress(OSError):
            self.writer.write(data)
            if end and self.writer.can_write_eof():
                self.writer.write_eof()
            await asyncio.wait_for(self.writer.drain(), self.timeout)

    async def send_values(self, values: list[bytes]) -> None:
        """BLE only: send these GATT values as they are, one write each."""
        assert self.transport is not None
        with contextlib.suppress(LinkError, OSError, TimeoutError):
            for value in values:
                await asyncio.wait_for(self.transport.send_value(value), self.timeout)

    async def _read_frame(self) -> Frame:
        if self.transport is not None:
            try:
                return await self.transport.receive_frame()
            except TransportError as err:
                raise EOFError(str(err)) from None
        assert self.reader is not None
        return await read_frame(self.reader)

    async def outcome(self) -> Outcome:
        """Wait for one frame (or the end) and classify it."""
        try:
            frame = await asyncio.wait_for(self._read_frame(), self.timeout)
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
        if self.transport is not None:
            await self.transport.close()
            return
        assert self.writer is not None
        self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)


async def exchange_hello(context: Context, offer: ClientHello) -> HelloInfo:
    """One connection that only exchanges HELLO."""
    connection = await context.open_plain()
    try:
        info, _ = await connection.hello(offer)
        return info
    finally:
        await connection.close()


async def session_outcome(channel: SecureChannel, wait: float) -> Outcome:
    """The next answer inside a session (pushes, utterances too, are skipped), classified."""
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
        if message["type"] in (MessageType.CHANGED, MessageType.UTTERANCE):
            continue
        if message["type"] == MessageType.ERROR:
            try:
                error = error_from_dict(message)
            except CodecError as err:
                return Outcome(Reaction.UNREADABLE, note=f"error message: {err.message}")
            return Outcome(Reaction.ERROR, error=error, message=message)
        return Outcome(Reaction.REPLY, message=message)
