"""The appliance side of an authenticated session: requests, answers and pushes.

``ApplianceSession`` runs once a frame from the hub has decrypted (see
``connection.py``): it reads encrypted requests, answers describe, read,
subscribe, ping and the voice panel's requests at once, runs writes and
commands as bounded background operations, and pushes changes and what the
voice panel heard.

What waits to be sent is an ``_Outbox``: answers (at most
``outbound_queue_size``) and, between them, pushes. A push is a mapping that
takes every further change while it is the last message waiting (the latest
value of a key wins, the push carries the ``seq`` of the last change merged
into it); once an answer is queued behind it, later changes gather in a new
push behind that answer. So a slow hub gets fewer, fresher pushes and keeps
its session, no message ever overtakes one produced before it, and a session
holds at most ``outbound_queue_size`` answers plus one push more than that,
each push at most one value per key. Utterances (what the voice panel
heard) queue as they are, never merged: like an answer, each closes the push
before it (so pushes are at most one more than answers and utterances
together). They are outside the answers' count, bounded by the panel: at most
8 wait for a reply at a time and each is forgotten after 30 s, so a few dozen
at most reach a hub that stops reading before it is closed. Requests are read only as fast as their
answers can be queued, so a flooding hub is slowed by TCP. A hub that stops
reading altogether is closed when a write has not drained for
``keepalive_timeout``, a silent hub when no frame has come for as long.

Both deadlines are watched by one timer per session (``_watch``) that fires
about once per ``keepalive_timeout`` and moves itself on, rather than a
timeout per frame read or written: at thousands of sessions and pushes per
second, per-frame timer handles are a cost of their own.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
import logging
from typing import Any, Final, Protocol

from .backend import ApplianceBackend
from .codec import (
    VOICE_REQUEST_TYPES,
    CodecError,
    Frame,
    FrameType,
    decode_message,
    encode_message,
)
from .errors import (
    BusyError,
    ConnectionClosed,
    InternalError,
    LinkError,
    TimedOutError,
    UnknownMessageError,
)
from .messages import (
    Announce,
    Changed,
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
    Utterance,
    VoiceReply,
    Write,
    request_from_dict,
)
from .model import Value
from .session import SecureSession
from .transport import FrameTransport
from .voice import PanelRelay

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
    voice_panel: PanelRelay | None

    @property
    def seq(self) -> int:
        """The number of the last pushed change."""
        ...

    def describe(self) -> DescribeResult:
        """The answer to describe."""
        ...


@dataclass(slots=True)
class _Push:
    """A push waiting to be sent: every key changed since the previous push, newest values."""

    seq: int
    values: dict[str, Value]


class _Outbox:
    """The messages one session has yet to send, in the order they were produced.

    Answers are encoded bytes, at most ``size``: ``reserve()`` waits for room
    and the writer frees it by taking the answer. Pushes are ``_Push`` entries
    outside that count yet bounded too: only the last entry grows, and every
    other push has an answer behind it, so there are at most ``size + 1``.
    """

    def __init__(self, size: int) -> None:
        self._items: deque[bytes | _Push | Utterance] = deque()
        self._room = asyncio.Semaphore(size)
        self._nonempty = asyncio.Event()
        # The push that later changes merge into: the last item, or None.
        self._open: _Push | None = None

    def empty(self) -> bool:
        """Whether nothing waits to be sent."""
        return not self._items

    async def reserve(self) -> None:
        """Wait for room for one answer; ``answer()`` or ``release()`` must follow."""
        await self._room.acquire()

    def release(self) -> None:
        """Give back a reservation that no answer used."""
        self._room.release()

    def answer(self, data: bytes) -> None:
        """Queue an encoded answer (room reserved first); later changes go behind it."""
        self._items.append(data)
        self._open = None
        self._nonempty.set()

    def push(self, seq: int, values: Mapping[str, Value]) -> None:
        """Merge a change into the last push waiting, or queue a new push; never waits."""
        if self._open is None:
            self._open = _Push(seq, dict(values))
            self._items.append(self._open)
            self._nonempty.set()
        else:
            self._open.seq = seq
            self._open.values.update(values)

    def utterance(self, utterance: Utterance) -> None:
        """Queue an utterance as it is; later changes go behind it. Never waits."""
        self._items.append(utterance)
        self._open = None
        self._nonempty.set()

    async def get(self) -> bytes | _Push | Utterance:
        """The next message to send: an encoded answer, a push or an utterance."""
        while not self._items:
            self._nonempty.clear()
            await self._nonempty.wait()
        item = self._items.popleft()
        if item is self._open:
            self._open = None  # it is being sent: the next change starts a new push
        if isinstance(item, bytes):
            self._room.release()
        return item


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
        self._outbox = _Outbox(self.server.outbound_queue_size)
        self._in_flight: set[asyncio.Task[None]] = set()
        # The frame that authenticated the hub, handled first.
        self.first: bytes | None = None
        # Since when the read loop has waited for a frame and the writer for the
        # transport to take a frame (loop time), or None: what _watch checks.
        self._reading_since: float | None = None
        self._draining_since: float | None = None
        self._watchdog: asyncio.TimerHandle | None = None

    def push(self, seq: int, values: Mapping[str, Value]) -> None:
        """Push change number ``seq`` (``values``: the changed keys) if the hub subscribed.

        Never waits and never closes the session: the change merges into the
        push still waiting to be sent, if nothing is queued behind that push.
        The caller checks that ``Changed(seq, values)`` alone fits a message.
        """
        if self.subscribed:
            self._outbox.push(seq, values)

    def push_utterance(self, utterance: Utterance) -> bool:
        """Queue what the voice panel heard if the hub subscribed; whether it did."""
        if self.subscribed:
            self._outbox.utterance(utterance)
        return self.subscribed

    async def run(self) -> None:
        """Serve the session until it ends.

        Never returns normally: ConnectionClosed when the hub goes away,
        ConnectionEnded (its text the reason) after a bad frame, a plaintext
        frame or a failed decryption. The keepalive timeout and write failures
        end it through ``close`` instead (which cancels the task and logs the
        reason), as does a close from outside.
        """
        loop = asyncio.get_running_loop()
        self._watchdog = loop.call_at(loop.time() + self.server.keepalive_timeout, self._watch)
        writer_task = asyncio.create_task(self._write_loop())
        try:
            await self._read_loop()
        finally:
            if self._watchdog is not None:
                self._watchdog.cancel()
                self._watchdog = None
            writer_task.cancel()
            for task in self._in_flight:
                task.cancel()
            await asyncio.gather(writer_task, *self._in_flight, return_exceptions=True)

    def _watch(self) -> None:
        """Close the session if a read or a write has waited ``keepalive_timeout``.

        Otherwise the timer is set again for the earliest moment either could
        (a frame arriving in between only moves that moment later, so the
        timer is never late, and needs moving only when it fires).
        """
        loop = asyncio.get_running_loop()
        timeout = self.server.keepalive_timeout
        now = loop.time()
        self._watchdog = None
        reading, draining = self._reading_since, self._draining_since
        if reading is not None and now >= reading + timeout:
            self._close(f"keepalive timeout: nothing from the hub for {timeout:g} s")
            return
        if draining is not None and now >= draining + timeout:
            self._close(f"cannot write to hub ({TimeoutError()!r})")
            return
        waits = [since + timeout for since in (reading, draining) if since is not None]
        self._watchdog = loop.call_at(min(waits, default=now + timeout), self._watch)

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        transport = self.transport
        while True:
            item = await self._outbox.get()
            if isinstance(item, _Push):
                try:
                    data = encode_message(Changed(item.seq, item.values).to_dict())
                except CodecError as err:
                    # Each change fit alone (the server checks), so only values
                    # that a read of the same keys could not carry either get here.
                    _LOGGER.error(
                        "cannot push changes up to %s to %s: %s", item.seq, self.hub_id, err
                    )
                    continue
            elif isinstance(item, Utterance):
                data = encode_message(item.to_dict())  # at most 500 characters: always fits
            else:
                data = item
            transport.send_frame(FrameType.ENCRYPTED, self.secure.encrypt(data))
            self._draining_since = loop.time()
            try:
                await transport.drain()
            except ConnectionClosed as err:
                self._close(f"cannot write to hub ({err})")
                return
            finally:
                self._draining_since = None

    async def _send(self, message: Result | ErrorReply) -> None:
        await self._outbox.reserve()
        try:
            self._queue_answer(message)
        except BaseException:
            self._outbox.release()
            raise

    def _queue_answer(self, message: Result | ErrorReply) -> None:
        """Encode and queue an answer whose room is reserved."""
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
        self._outbox.answer(data)

    async def _receive_frame(self) -> Frame:
        self._reading_since = asyncio.get_running_loop().time()
        try:
            return await self.transport.receive_frame()
        finally:
            self._reading_since = None

    async def _read_loop(self) -> None:
        if self.first is not None:
            first, self.first = self.first, None
            await self._handle_plaintext(first)
        while True:
            try:
                frame = await self._receive_frame()
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
            if self._outbox.empty():
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        # The answer's place is taken before it is computed and nothing awaits
        # in between, so no change made after a read's snapshot (or after
        # subscribe's seq) can be merged into a push that goes out before it.
        await self._outbox.reserve()
        answered = False
        try:
            answer = self._reply(message)
            if answer is not None:
                self._queue_answer(answer)
                answered = True
        finally:
            if not answered:
                self._outbox.release()

    def _reply(self, message: dict[str, Any]) -> Result | ErrorReply | None:
        """The answer to a request, or None once a write or command runs (it answers later)."""
        message_id = message.get("id")
        message_type = message["type"]
        try:
            if message_type in VOICE_REQUEST_TYPES and self.server.voice_panel is None:
                # As an appliance from before the voice panel answers, whatever the fields.
                raise UnknownMessageError(f"unknown message type {message_type!r}")
            request = request_from_dict(message)
            if isinstance(request, Write | Command):
                operation = self._prepare_operation(request)
                if len(self._in_flight) >= self.server.max_in_flight:
                    raise BusyError(f"at most {self.server.max_in_flight} operations in flight")
                task = asyncio.create_task(self._run_operation(request.id, operation))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
                return None
            return Result.answering(request.id, self._answer(request))
        except LinkError as err:
            return ErrorReply(message_id, err)
        except Exception:
            # A request that decrypted and parsed always gets an answer and the
            # session goes on (PROTOCOL.md 7.2); a bug here is ours, not the hub's.
            _LOGGER.exception("failed to handle %s request %s", message_type, message_id)
            return ErrorReply(message_id, InternalError(f"internal error handling {message_type}"))

    def _answer(
        self, request: Ping | Describe | Subscribe | Read | VoiceReply | Announce
    ) -> ResultBody:
        if isinstance(request, Ping):
            return EmptyResult()
        if isinstance(request, VoiceReply | Announce):
            panel = self.server.voice_panel
            assert panel is not None  # _reply answered UNKNOWN_MESSAGE
            if isinstance(request, VoiceReply):
                panel.reply(request)
            else:
                panel.announce(request)
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
