"""The appliance side of an authenticated session: requests, answers and pushes.

``ApplianceSession`` runs once a frame from the hub has decrypted (see
``connection.py``): it reads encrypted requests, answers describe, read,
subscribe and ping at once, runs writes and commands as bounded background
operations, and queues pushed changes, closing the connection when the hub
stops reading.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
import logging
from typing import Any, Final, Protocol

from .backend import ApplianceBackend
from .codec import CodecError, FrameType, decode_message, encode_message
from .errors import BusyError, ConnectionClosed, InternalError, LinkError, TimedOutError
from .messages import (
    Command,
    Describe,
    DescribeResult,
    EmptyResult,
    ErrorReply,
    Ping,
    Read,
    ReadResult,
    Result,
    ResultBody,
    Subscribe,
    SubscribeResult,
    Write,
    request_from_dict,
)
from .session import SecureSession
from .transport import FrameTransport

# The appliance side logs under one name, whichever of its modules speaks.
_LOGGER: Final = logging.getLogger(__name__.rpartition(".")[0] + ".server")


class ConnectionEnded(Exception):
    """Ends a connection with a logged reason."""


class SessionHost(Protocol):
    """What a session asks of the server it belongs to (``ApplianceServer``)."""

    backend: ApplianceBackend
    keepalive_timeout: float
    operation_timeout: float
    max_in_flight: int
    outbound_queue_size: int

    @property
    def seq(self) -> int:
        """The number of the last pushed change."""
        ...

    def describe(self) -> DescribeResult:
        """The answer to describe."""
        ...


class ApplianceSession:
    """The encrypted request/response/push loop of one connection."""

    def __init__(
        self,
        server: SessionHost,
        transport: FrameTransport,
        secure: SecureSession,
        hub_id: str,
        *,
        close: Callable[[str], None],
    ) -> None:
        self.server = server
        self.transport = transport
        # Ends the connection from outside its task, logging why.
        self._close = close
        self.secure = secure
        self.hub_id = hub_id
        self.subscribed = False
        self._outbound: asyncio.Queue[bytes] = asyncio.Queue(self.server.outbound_queue_size)
        self._in_flight: set[asyncio.Task[None]] = set()
        # The frame that authenticated the hub, handled first.
        self.first: bytes | None = None

    def push(self, data: bytes) -> None:
        """Queue a pushed change; a hub too slow to take it is disconnected."""
        if not self.subscribed:
            return
        try:
            self._outbound.put_nowait(data)
        except asyncio.QueueFull:
            self._close("hub is not reading; outbound queue full")

    async def run(self) -> None:
        writer_task = asyncio.create_task(self._write_loop())
        try:
            await self._read_loop()
        finally:
            writer_task.cancel()
            for task in self._in_flight:
                task.cancel()
            await asyncio.gather(writer_task, *self._in_flight, return_exceptions=True)

    async def _write_loop(self) -> None:
        transport = self.transport
        while True:
            data = await self._outbound.get()
            transport.send_frame(FrameType.ENCRYPTED, self.secure.encrypt(data))
            try:
                await asyncio.wait_for(transport.drain(), self.server.keepalive_timeout)
            except TimeoutError as err:
                self._close(f"cannot write to hub ({err!r})")
                return
            except ConnectionClosed as err:
                self._close(f"cannot write to hub ({err})")
                return

    async def _send(self, message: Result | ErrorReply) -> None:
        try:
            data = encode_message(message.to_dict())
        except CodecError as err:
            if isinstance(message, ErrorReply):
                # An error echoing a huge key: keep the code, drop the echo.
                error = message.error
                too_large = LinkError(
                    error.code, "(detail too large)", retry_after=error.retry_after
                )
                data = encode_message(ErrorReply(message.id, too_large).to_dict())
            else:
                _LOGGER.error("response to %s does not fit a frame: %s", self.hub_id, err)
                reply = ErrorReply(message.id, InternalError("response too large"))
                data = encode_message(reply.to_dict())
        await self._outbound.put(data)

    async def _read_loop(self) -> None:
        timeout = self.server.keepalive_timeout
        if self.first is not None:
            first, self.first = self.first, None
            await self._handle_plaintext(first)
        while True:
            try:
                frame = await asyncio.wait_for(self.transport.receive_frame(), timeout)
            except TimeoutError:
                raise ConnectionEnded(
                    f"keepalive timeout: nothing from the hub for {timeout:g} s"
                ) from None
            except CodecError as err:
                await self._send(ErrorReply(None, err))
                await self._flush()
                raise ConnectionEnded(f"bad frame: {err}") from None
            if frame.type is not FrameType.ENCRYPTED:
                raise ConnectionEnded(f"plaintext {frame.type.name} frame after the handshake")
            try:
                plaintext = self.secure.decrypt(frame.payload)
            except LinkError as err:
                _LOGGER.warning("hub %s: %s (tampered or replayed frame)", self.hub_id, err)
                raise ConnectionEnded(f"decryption failed: {err.message}") from None
            await self._handle_plaintext(plaintext)

    async def _handle_plaintext(self, plaintext: bytes) -> None:
        try:
            message = decode_message(plaintext)
        except CodecError as err:
            await self._send(ErrorReply(None, err))
            return
        await self._dispatch(message)

    async def _flush(self) -> None:
        # Give the writer a moment to send a final error before closing.
        for _ in range(10):
            if self._outbound.empty():
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        message_id = message.get("id")
        message_type = message["type"]
        try:
            request = request_from_dict(message)
            if isinstance(request, Write | Command):
                operation = self._prepare_operation(request)
                if len(self._in_flight) >= self.server.max_in_flight:
                    raise BusyError(f"at most {self.server.max_in_flight} operations in flight")
                task = asyncio.create_task(self._run_operation(request.id, operation))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
                return
            answer = Result.answering(request.id, self._answer(request))
        except LinkError as err:
            await self._send(ErrorReply(message_id, err))
            return
        except Exception:
            # A request that decrypted and parsed always gets an answer and the
            # session goes on (PROTOCOL.md 7.2); a bug here is ours, not the hub's.
            _LOGGER.exception("failed to handle %s request %s", message_type, message_id)
            internal = InternalError(f"internal error handling {message_type}")
            await self._send(ErrorReply(message_id, internal))
            return
        await self._send(answer)

    def _answer(self, request: Ping | Describe | Subscribe | Read) -> ResultBody:
        if isinstance(request, Ping):
            return EmptyResult()
        if isinstance(request, Describe):
            return self.server.describe()
        if isinstance(request, Subscribe):
            self.subscribed = True
            return SubscribeResult(self.server.seq)
        declaration = self.server.backend.declaration
        if request.keys is None:
            wanted: Sequence[str] = list(declaration.capabilities)
        else:
            for key in request.keys:
                declaration.capability(key)
            wanted = request.keys
        snapshot = self.server.backend.snapshot()
        return ReadResult({key: snapshot[key] for key in wanted if key in snapshot})

    def _prepare_operation(self, request: Write | Command) -> Callable[[], Any]:
        """Validate a write or command completely before anything is touched."""
        backend = self.server.backend
        declaration = backend.declaration
        if isinstance(request, Write):
            validated = {
                key: declaration.validate_write(key, value) for key, value in request.values.items()
            }
            return lambda: backend.write(validated)
        name = request.name
        checked = declaration.validate_command(name, request.args)
        return lambda: backend.command(name, checked)

    async def _run_operation(self, message_id: int, operation: Callable[[], Any]) -> None:
        try:
            await asyncio.wait_for(operation(), self.server.operation_timeout)
        except LinkError as err:
            await self._send(ErrorReply(message_id, err))
        except TimeoutError:
            await self._send(ErrorReply(message_id, TimedOutError("the appliance did not answer")))
        except Exception:
            _LOGGER.exception("backend failed on request %s", message_id)
            await self._send(ErrorReply(message_id, InternalError("internal error")))
        else:
            await self._send(Result.answering(message_id, EmptyResult()))
