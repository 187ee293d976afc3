"""One end of the serial protocol: framing, request/reply matching, retransmission.

Both the network module (``McuBackend``) and the simulated MCU
(``SimulatedSerialMcu``) run on an ``FrameEndpoint``; SERIAL.md section 3 describes
the rules implemented here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
import logging
import random
from typing import Final

from custom_components.liuzhou_appliances.link.errors import ErrorCode

from .frames import PROTOCOL_VERSION, REQUEST_TYPES, Frame, FrameDecoder, FrameType
from .links import ByteLink
from .values import encode_nack

_LOGGER = logging.getLogger(__name__)

RESPONSE_TIMEOUT: Final = 0.3
RETRIES: Final = 2
INTER_BYTE_TIMEOUT: Final = 0.1
# A repeated request is only a retransmission if it arrives this soon; later it
# is a new request that happens to reuse a sequence number.
DUPLICATE_WINDOW: Final = 2.0

_REPLY_TYPES: Final = frozenset({FrameType.INFO, FrameType.ACK, FrameType.NACK, FrameType.REPORT})


class PeerTimeout(Exception):
    """The peer did not answer a request, retransmissions included."""


class LinkClosed(Exception):
    """The byte link ended."""


type ReplyWork = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Reply:
    """A handler's answer to a request, and optional work to do once it is sent."""

    type: FrameType
    payload: bytes = b""
    then: ReplyWork | None = None


type RequestHandler = Callable[[Frame], Awaitable[Reply]]
type EventHandler = Callable[[Frame], Awaitable[None]]


@dataclass(slots=True)
class _Pending:
    seq: int
    accepts: frozenset[FrameType]
    future: asyncio.Future[Frame]


class FrameEndpoint:
    """Sends and receives frames over a ``ByteLink``.

    Requests from the peer go to ``on_request`` (its Reply is sent with the
    request's sequence number, and resent unchanged for a retransmission);
    unsolicited REPORTs go to ``on_event``.
    """

    def __init__(
        self,
        link: ByteLink,
        *,
        name: str,
        on_request: RequestHandler,
        on_event: EventHandler,
        response_timeout: float = RESPONSE_TIMEOUT,
        retries: int = RETRIES,
        inter_byte_timeout: float = INTER_BYTE_TIMEOUT,
    ) -> None:
        self._link = link
        self._name = name
        self._on_request = on_request
        self._on_event = on_event
        self.response_timeout = response_timeout
        self.retries = retries
        self._inter_byte_timeout = inter_byte_timeout
        self.decoder = FrameDecoder()
        # A random start keeps a restarted sender from repeating recent numbers.
        self._next_seq = random.randrange(256)
        self._request_lock = asyncio.Lock()
        self._pending: _Pending | None = None
        self._last_request: tuple[int, int, bytes] | None = None
        self._last_request_time = 0.0
        self._last_reply: bytes = b""
        self._reader_task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self.last_received = 0.0

    @property
    def closed(self) -> bool:
        """Whether the link has ended."""
        return self._closed.is_set()

    def start(self) -> None:
        """Start reading from the link."""
        if self._reader_task is None:
            self._reader_task = asyncio.create_task(
                self._read_loop(), name=f"{self._name} serial reader"
            )

    async def close(self) -> None:
        """Stop reading and close the link."""
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
            self._reader_task = None
        await self._link.close()
        self._mark_closed()

    def _take_seq(self) -> int:
        seq = self._next_seq
        self._next_seq = (seq + 1) % 256
        return seq

    async def send_event(self, frame_type: FrameType, payload: bytes) -> None:
        """Send an unacknowledged frame (a REPORT) with a fresh sequence number."""
        await self._send(Frame(frame_type, self._take_seq(), payload))

    async def request(
        self, frame_type: FrameType, payload: bytes, *, accepts: frozenset[FrameType]
    ) -> Frame:
        """Send a request and return the reply, retransmitting on silence.

        One request is outstanding at a time. Raises PeerTimeout if no reply of
        a type in ``accepts`` arrives, LinkClosed if the link ends.
        """
        async with self._request_lock:
            if self.closed:
                raise LinkClosed(f"{self._name}: link closed")
            frame = Frame(frame_type, self._take_seq(), payload)
            future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
            self._pending = _Pending(frame.seq, accepts, future)
            try:
                for _attempt in range(1 + self.retries):
                    await self._send(frame)
                    with contextlib.suppress(TimeoutError):
                        # Shielded: a timeout must not cancel the future a late reply resolves.
                        return await asyncio.wait_for(asyncio.shield(future), self.response_timeout)
                raise PeerTimeout(
                    f"{self._name}: no answer to {frame.describe()} after "
                    f"{1 + self.retries} attempts"
                )
            finally:
                self._pending = None
                if not future.done():
                    future.cancel()

    async def _send(self, frame: Frame) -> None:
        try:
            await self._link.send(frame.encode())
        except (ConnectionError, OSError) as error:
            self._mark_closed()
            raise LinkClosed(f"{self._name}: {error}") from error

    def _mark_closed(self) -> None:
        self._closed.set()
        if self._pending is not None and not self._pending.future.done():
            self._pending.future.set_exception(LinkClosed(f"{self._name}: link closed"))

    async def _read_loop(self) -> None:
        try:
            while True:
                if self.decoder.has_partial:
                    try:
                        data = await asyncio.wait_for(
                            self._link.receive(), self._inter_byte_timeout
                        )
                    except TimeoutError:
                        for frame in self.decoder.give_up_partial():
                            await self._dispatch(frame)
                        continue
                else:
                    data = await self._link.receive()
                if not data:
                    break
                self.last_received = asyncio.get_running_loop().time()
                for frame in self.decoder.feed(data):
                    await self._dispatch(frame)
        except LinkClosed:
            pass
        finally:
            self._mark_closed()

    async def _dispatch(self, frame: Frame) -> None:
        known = frame.frame_type
        if frame.version != PROTOCOL_VERSION:
            if known in REQUEST_TYPES or known is None:
                await self._reply(
                    frame,
                    Reply(
                        FrameType.NACK,
                        encode_nack(
                            ErrorCode.UNSUPPORTED_VERSION,
                            f"frame version {frame.version}, this end speaks {PROTOCOL_VERSION}",
                        ),
                    ),
                )
            return
        if known is None:
            await self._reply(
                frame,
                Reply(
                    FrameType.NACK,
                    encode_nack(ErrorCode.UNKNOWN_MESSAGE, f"unknown frame type {frame.type}"),
                ),
            )
            return
        if known in _REPLY_TYPES:
            pending = self._pending
            if (
                pending is not None
                and pending.seq == frame.seq
                and known in pending.accepts
                and not pending.future.done()
            ):
                pending.future.set_result(frame)
            elif known is FrameType.REPORT:
                await self._on_event(frame)
            else:
                _LOGGER.debug("%s: ignoring unexpected %s", self._name, frame.describe())
            return
        await self._handle_request(frame)

    async def _handle_request(self, frame: Frame) -> None:
        now = asyncio.get_running_loop().time()
        key = (frame.type, frame.seq, frame.payload)
        if key == self._last_request and now - self._last_request_time < DUPLICATE_WINDOW:
            # A retransmission: our reply was lost. Answer again, do not redo it.
            await self._link.send(self._last_reply)
            return
        try:
            reply = await self._on_request(frame)
        except Exception:
            _LOGGER.exception("%s: handling %s failed", self._name, frame.describe())
            reply = Reply(FrameType.NACK, encode_nack(ErrorCode.INTERNAL, "internal error"))
        self._last_request = key
        self._last_request_time = now
        await self._reply(frame, reply)

    async def _reply(self, request: Frame, reply: Reply) -> None:
        encoded = Frame(reply.type, request.seq, reply.payload).encode()
        self._last_reply = encoded
        try:
            await self._link.send(encoded)
        except (ConnectionError, OSError):
            self._mark_closed()
            return
        if reply.then is not None:
            await reply.then()
