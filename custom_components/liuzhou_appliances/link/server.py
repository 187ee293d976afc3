"""Appliance side of the link: ApplianceServer, the backend it bridges to, key storage.

One ``ApplianceServer`` serves one appliance. Each connection (a
``FrameTransport``: TCP now through ``handle_stream``, BLE later, both
through ``serve``) goes HELLO -> PAIR (commissioning) or
HELLO -> HANDSHAKE -> encrypted session. Every failure is answered with a
protocol error or a clean close with a logged reason; queues and in-flight
work are bounded per connection.

A connection counts as authenticated only once a frame from the hub has
decrypted (a replayed handshake cannot get that far). Until then it has a
short overall deadline and may be evicted to make room, so strangers can
never keep a hub that holds the key out.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
import contextlib
from dataclasses import dataclass
import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Final, Protocol

from .codec import (
    APPLIANCE_ID_PATTERN,
    REQUEST_TYPES,
    SUPPORTED_VERSIONS,
    ClientHello,
    CodecError,
    Frame,
    FrameType,
    HelloInfo,
    MessageType,
    changed_message,
    choose_version,
    decode_error,
    decode_message,
    encode_error,
    encode_message,
    error_message,
    result_message,
)
from .discovery import DEFAULT_PORT
from .errors import (
    AuthFailedError,
    BusyError,
    ConnectionClosed,
    InternalError,
    LinkError,
    MalformedError,
    NotPairedError,
    TimedOutError,
    UnknownMessageError,
)
from .model import ApplianceType, Declaration, Value
from .pairing import (
    KEY_SIZE,
    PairingLimiter,
    PairingResponder,
    PairingWindow,
    check_start_shape,
    normalise_pairing_code,
)
from .session import NoiseResponder, SecureSession, hello_transcript
from .storage import write_private_file
from .transport import FrameTransport, TcpTransport

_LOGGER: Final = logging.getLogger(__name__)
_MAX_READ_KEYS: Final = 256
# Handshakes remembered to refuse replays: a hub draws a fresh ephemeral key each time.
_SEEN_HANDSHAKES: Final = 1024


@dataclass(frozen=True, slots=True)
class ApplianceIdentity:
    """Who the appliance is; sent in HELLO, describe and the zeroconf TXT record."""

    appliance_id: str  # stable, lowercase [a-z0-9-], e.g. "lz-ac-3f2a9c01"
    type: ApplianceType
    model: str
    firmware: str

    def __post_init__(self) -> None:
        if not APPLIANCE_ID_PATTERN.fullmatch(self.appliance_id):
            raise ValueError(f"appliance id {self.appliance_id!r} must be 1-64 of a-z 0-9 -")
        for name in ("model", "firmware"):
            value = getattr(self, name)
            if not isinstance(value, str) or not 0 < len(value) <= 64:
                raise ValueError(f"{name} must be a string of 1-64 characters")


class ApplianceBackend(Protocol):
    """What the network module bridges to (the MCU, or a simulator playing it)."""

    @property
    def declaration(self) -> Declaration:
        """The model's capability declaration."""
        ...

    def snapshot(self) -> dict[str, Value]:
        """Current values of every declared capability."""
        ...

    async def write(self, values: Mapping[str, Value]) -> None:
        """Apply validated values, all or nothing; may raise LinkError."""
        ...

    async def command(self, name: str, args: Mapping[str, int]) -> None:
        """Run a validated command; may raise LinkError."""
        ...

    def add_listener(self, callback: Callable[[Mapping[str, Value]], None]) -> Callable[[], None]:
        """Call ``callback`` with changed values; return a function that removes it."""
        ...


class KeyStore(Protocol):
    """Where the long-term key lives; factory reset clears it."""

    def load(self) -> bytes | None:
        """The stored key, or None when unpaired."""
        ...

    def save(self, key: bytes) -> None:
        """Store (replace) the key."""
        ...

    def clear(self) -> None:
        """Forget the key."""
        ...


class MemoryKeyStore:
    """A key store in memory (simulators, tests)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key

    def load(self) -> bytes | None:
        """The stored key."""
        return self._key

    def save(self, key: bytes) -> None:
        """Store the key."""
        self._key = bytes(key)

    def clear(self) -> None:
        """Forget the key."""
        self._key = None


class FileKeyStore:
    """The key in a file readable only by its owner (0600), replaced atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> bytes | None:
        """The stored key; None if absent or not a valid key (logged)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if len(data) != KEY_SIZE:
            _LOGGER.warning(
                "ignoring key file %s: %d bytes, not %d", self.path, len(data), KEY_SIZE
            )
            return None
        return data

    def save(self, key: bytes) -> None:
        """Replace the key file so that a power cut leaves the old key or the new one."""
        if len(key) != KEY_SIZE:
            raise ValueError(f"a key is {KEY_SIZE} bytes")
        write_private_file(self.path, key)

    def clear(self) -> None:
        """Delete the key file."""
        self.path.unlink(missing_ok=True)


class _Closed(Exception):
    """Ends a connection with a logged reason."""


class ApplianceServer:
    """Serves one appliance to up to ``max_sessions`` hubs at once.

    Limits (seconds, counts): ``handshake_timeout`` for each frame before
    authentication and ``auth_timeout`` for the whole of it (HELLO to the
    first decrypted frame, or a whole pairing); ``max_sessions`` authenticated
    sessions; ``max_connections`` unauthenticated connections, plus up to
    ``max_sessions`` more that only a session attempt may use (pairing then
    gets BUSY). A connection beyond all that evicts the unauthenticated one
    that has waited longest for its peer, as does a session attempt while
    more than ``max_connections`` are unauthenticated.
    """

    def __init__(
        self,
        backend: ApplianceBackend,
        identity: ApplianceIdentity,
        *,
        pairing_code: str,
        key_store: KeyStore,
        pairing_limiter: PairingLimiter | None = None,
        pairing_window: PairingWindow | None = None,
        keepalive_timeout: float = 90.0,
        handshake_timeout: float = 10.0,
        auth_timeout: float = 15.0,
        operation_timeout: float = 10.0,
        max_sessions: int = 4,
        max_connections: int = 8,
        max_in_flight: int = 8,
        outbound_queue_size: int = 64,
        supported_versions: tuple[int, int] = SUPPORTED_VERSIONS,
    ) -> None:
        if identity.type is not backend.declaration.type:
            raise ValueError("the identity's type differs from the declaration's")
        self.backend = backend
        self.identity = identity
        self._pairing_code = normalise_pairing_code(pairing_code)
        self._key_store = key_store
        self._key = key_store.load()
        self.pairing_limiter = pairing_limiter or PairingLimiter()
        self.pairing_window = pairing_window or PairingWindow()
        self.keepalive_timeout = keepalive_timeout
        self.handshake_timeout = handshake_timeout
        self.auth_timeout = auth_timeout
        self.operation_timeout = operation_timeout
        self.max_sessions = max_sessions
        self.max_connections = max_connections
        self.max_in_flight = max_in_flight
        self.outbound_queue_size = outbound_queue_size
        self.supported_versions = supported_versions
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._pairing_active = False
        self._seen_handshakes: OrderedDict[bytes, None] = OrderedDict()
        self._remove_listener: Callable[[], None] | None = None
        self.seq = 0

    # --- public API ----------------------------------------------------------

    async def start(self, host: str = "0.0.0.0", port: int = DEFAULT_PORT) -> None:
        """Listen on TCP."""
        self._listen()
        self._server = await asyncio.start_server(self.handle_stream, host, port)

    @property
    def port(self) -> int:
        """The TCP port listened on (useful with port 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the server is not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def paired(self) -> bool:
        """Whether a long-term key is stored."""
        return self._key is not None

    @property
    def session_count(self) -> int:
        """Authenticated sessions open now."""
        return sum(1 for conn in self._connections if conn.authenticated)

    @property
    def unauthenticated_count(self) -> int:
        """Connections open now that have not proved the key (yet)."""
        return len(self._unauthenticated())

    def _unauthenticated(self, *, besides: _Connection | None = None) -> list[_Connection]:
        return [
            c
            for c in self._connections
            if not c.authenticated and c.close_reason is None and c is not besides
        ]

    def _first_use_of(self, handshake: bytes) -> bool:
        """Remember a handshake message; False if it was seen before (a replay)."""
        digest = hashlib.sha256(handshake).digest()
        if digest in self._seen_handshakes:
            return False
        self._seen_handshakes[digest] = None
        if len(self._seen_handshakes) > _SEEN_HANDSHAKES:
            self._seen_handshakes.popitem(last=False)
        return True

    def _evict_one(self, candidates: list[_Connection], reason: str) -> None:
        """Close the candidate that has waited longest for its peer (never-HELLO first)."""
        if candidates:
            min(candidates, key=lambda c: (c.hello_done, c.last_heard)).evict(reason)

    @property
    def pairing_open(self) -> bool:
        """Whether commissioning is accepted now (PairingWindow)."""
        return self.pairing_window.is_open(paired=self.paired)

    def open_pairing_window(self) -> None:
        """The pairing button: accept pairing for the window's duration.

        The person at the appliance also gets a fresh count of attempts, so
        failures a stranger caused earlier cannot lock the owner out.
        """
        self.pairing_window.open()
        self.pairing_limiter.reset()
        _LOGGER.info(
            "%s: pairing button pressed, pairing open for %.0f s",
            self.identity.appliance_id,
            self.pairing_window.duration,
        )

    def factory_reset(self) -> None:
        """Forget the key and close every connection; pairing is open again."""
        self._key_store.clear()
        self._key = None
        self.pairing_window.close()
        self.pairing_limiter.reset()  # a person at the appliance, as with the button
        _LOGGER.info("%s: factory reset, key cleared", self.identity.appliance_id)
        for conn in list(self._connections):
            conn.close("factory reset")

    async def stop(self) -> None:
        """Stop listening, close every connection and wait for them to end."""
        if self._server is not None:
            self._server.close()
        tasks = [conn.task for conn in self._connections if conn.task is not None]
        for conn in list(self._connections):
            conn.close("server stopping")
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None

    async def handle_stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve one TCP connection until it ends (``asyncio.start_server``'s callback)."""
        await self.serve(TcpTransport(reader, writer))

    async def serve(self, transport: FrameTransport) -> None:
        """Serve one connection, over any transport, until it ends; never raises for the peer."""
        self._listen()
        conn = _Connection(self, transport)
        # Never refuse the newcomer: it may be a hub holding the key.
        if self.unauthenticated_count >= self.max_connections + self.max_sessions:
            self._evict_one(self._unauthenticated(), "making room for a new connection")
        self._connections.add(conn)
        conn.task = asyncio.create_task(conn.run())
        try:
            await conn.task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                conn.task.cancel()
                raise
        finally:
            self._connections.discard(conn)
            await conn.shutdown()

    # --- internals -----------------------------------------------------------

    def _listen(self) -> None:
        if self._remove_listener is None:
            self._remove_listener = self.backend.add_listener(self._on_backend_change)

    def _on_backend_change(self, values: Mapping[str, Value]) -> None:
        if not values:
            return
        self.seq += 1
        try:
            data = encode_message(changed_message(self.seq, values))
        except CodecError as err:
            _LOGGER.error("cannot push change %s: %s", self.seq, err)
            return
        for conn in list(self._connections):
            if conn.session is not None:
                conn.session.push(data)

    def hello(self, version: int) -> HelloInfo:
        """Our HELLO answer."""
        return HelloInfo(
            self.identity.appliance_id,
            self.identity.type,
            self.identity.model,
            self.identity.firmware,
            version,
            self.paired,
        )

    def install_key(self, key: bytes) -> None:
        """Store a new key (re-pairing); sessions under the old key are closed."""
        self._key_store.save(key)
        self._key = key
        self.pairing_window.close()
        for conn in list(self._connections):
            if conn.secure is not None:
                conn.close("re-paired: the old key is revoked")

    @property
    def key(self) -> bytes | None:
        """The current long-term key."""
        return self._key

    @property
    def pairing_code(self) -> str:
        """The normalised pairing code."""
        return self._pairing_code

    def describe(self) -> dict[str, Any]:
        """The describe result: identity and declaration."""
        return {
            "appliance_id": self.identity.appliance_id,
            "type": str(self.identity.type),
            "model": self.identity.model,
            "firmware": self.identity.firmware,
            "declaration": self.backend.declaration.to_dict(),
        }


class _Connection:
    """One connection: the plaintext phase, then maybe a session."""

    def __init__(self, server: ApplianceServer, transport: FrameTransport) -> None:
        self.server = server
        self.transport = transport
        self.task: asyncio.Task[None] | None = None
        # Set once the handshake is answered: from then on nothing goes out in plaintext.
        self.secure: SecureSession | None = None
        # Set once a frame from the hub decrypted: the hub holds the key.
        self.session: _ServerSession | None = None
        self.close_reason: str | None = None
        self.hello_done = False
        self.last_heard = asyncio.get_running_loop().time()
        self._deadline: asyncio.Timeout | None = None
        self.peer = transport.peer

    @property
    def authenticated(self) -> bool:
        """Whether the hub on this connection has proved it holds the key."""
        return self.session is not None

    def evict(self, reason: str) -> None:
        """Close an unauthenticated connection to make room, telling it BUSY if still plaintext."""
        if self.secure is None and not self.transport.is_closing():
            with contextlib.suppress(Exception):
                self.transport.send_frame(FrameType.ERROR, encode_error(BusyError(reason)))
        self.close(f"evicted before authentication: {reason}")

    def close(self, reason: str) -> None:
        """End this connection (from outside its task), logging why."""
        if self.close_reason is None:
            self.close_reason = reason
            _LOGGER.info("closing connection from %s: %s", self.peer, reason)
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def shutdown(self) -> None:
        """Close the transport and wait briefly for it."""
        await self.transport.close()

    async def send_frame(self, frame_type: FrameType, payload: bytes) -> None:
        """Send a frame and wait for the transport to take it."""
        self.transport.send_frame(frame_type, payload)
        await asyncio.wait_for(self.transport.drain(), self.server.handshake_timeout)

    async def send_error(self, error: LinkError) -> None:
        """Send a plaintext ERROR frame, ignoring a peer that is already gone."""
        with contextlib.suppress(Exception):
            await self.send_frame(FrameType.ERROR, encode_error(error))

    async def _read(self, wait: float | None = None) -> Frame:
        """The next frame within ``wait`` seconds (default ``handshake_timeout``)."""
        frame = await asyncio.wait_for(
            self.transport.receive_frame(), wait or self.server.handshake_timeout
        )
        self.last_heard = asyncio.get_running_loop().time()
        if frame.type is FrameType.ERROR:
            try:
                error = decode_error(frame.payload)
                raise _Closed(f"peer reported {error}")
            except CodecError:
                raise _Closed("peer sent an unreadable ERROR frame") from None
        return frame

    async def run(self) -> None:
        try:
            await self._run()
        except _Closed as closed:
            self._log_close(str(closed))
        except ConnectionClosed as err:
            self._log_close(f"connection lost ({err})")
        except LinkError as err:
            self._log_close(f"{err}")
            if self.secure is None:  # after the handshake nothing goes out in plaintext
                await self.send_error(err)
        except TimeoutError:
            self._log_close("timed out waiting for the hub")
            if self.secure is None:
                await self.send_error(TimedOutError("timed out"))
        except Exception:
            _LOGGER.exception("unexpected error serving %s", self.peer)
            if self.secure is None:
                await self.send_error(InternalError("internal error"))

    def _log_close(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason
            _LOGGER.info("closing connection from %s: %s", self.peer, reason)

    async def _run(self) -> None:
        # The whole unauthenticated phase has one deadline, lifted on authentication.
        async with asyncio.timeout(self.server.auth_timeout) as self._deadline:
            await self._run_until_authenticated()
        if self.session is not None:  # else commissioning is done
            await self.session.run()

    async def _run_until_authenticated(self) -> None:
        server = self.server
        frame = await self._read()
        if frame.type is not FrameType.HELLO:
            raise MalformedError(f"expected HELLO, got {frame.type.name}")
        client_hello = ClientHello.decode(frame.payload)
        self.hello_done = True
        version = choose_version(client_hello, server.supported_versions)
        server_hello = server.hello(version).encode()
        await self.send_frame(FrameType.HELLO, server_hello)
        transcript = hello_transcript(frame.payload, server_hello)
        frame = await self._read()
        if frame.type is FrameType.PAIR:
            await self._pair(client_hello.hub_id, transcript, frame)
        elif frame.type is FrameType.HANDSHAKE:
            await self._session(client_hello.hub_id, transcript, frame)
        else:
            raise MalformedError(f"expected PAIR or HANDSHAKE, got {frame.type.name}")

    async def _pair(self, hub_id: str, transcript: bytes, start: Frame) -> None:
        server = self.server
        check_start_shape(start.payload)
        if len(server._unauthenticated()) > server.max_connections:
            raise BusyError("too many connections")
        # Outside the window nothing is tried and nothing counts (PROTOCOL.md 5.5).
        server.pairing_window.check(paired=server.paired)
        if server._pairing_active:
            raise BusyError("another pairing is in progress")
        server.pairing_limiter.check()
        server._pairing_active = True
        charged = False
        try:
            responder = PairingResponder(
                server.pairing_code,
                hub_id=hub_id,
                appliance_id=server.identity.appliance_id,
                hello_transcript=transcript,
            )
            reply = responder.handle_start(start.payload)
            # REPLY lets the hub check its guess at the code, even if it never
            # answers, so the guess is counted (and saved) before REPLY leaves:
            # neither walking away nor a power cut gives it back.
            server.pairing_limiter.record_failure()
            charged = True
            await self.send_frame(FrameType.PAIR, reply)
            frame = await self._expect(FrameType.PAIR)
            key_payload = responder.handle_confirm(frame.payload)
            # The code is proven: no guess was wasted, the count starts again.
            server.pairing_limiter.record_success()
            charged = False
            await self.send_frame(FrameType.PAIR, key_payload)
            frame = await self._expect(FrameType.PAIR)
            key, done = responder.handle_ack(frame.payload)
            server.install_key(key)
            _LOGGER.info("%s: paired with hub %s", server.identity.appliance_id, hub_id)
            await self.send_frame(FrameType.PAIR, done)
        finally:
            if charged:
                _LOGGER.warning(
                    "%s: failed pairing attempt from %s (%d in a row)",
                    server.identity.appliance_id,
                    self.peer,
                    server.pairing_limiter.failures,
                )
            server._pairing_active = False

    async def _expect(self, frame_type: FrameType) -> Frame:
        frame = await self._read()
        if frame.type is not frame_type:
            raise MalformedError(f"expected {frame_type.name}, got {frame.type.name}")
        return frame

    async def _session(self, hub_id: str, transcript: bytes, frame: Frame) -> None:
        server = self.server
        key = server.key
        if key is None:
            raise NotPairedError("this appliance is not paired")
        if server.session_count >= server.max_sessions:
            raise BusyError(f"at most {server.max_sessions} sessions")
        if not server._first_use_of(frame.payload):
            # Only a recording can repeat a handshake; answering it would cost a slot.
            raise AuthFailedError("replayed handshake")
        others = server._unauthenticated(besides=self)
        if len(others) >= server.max_connections:
            server._evict_one(others, "making room for a session")
        try:
            reply, secure = NoiseResponder(key, transcript).respond(frame.payload)
        except LinkError as err:
            _LOGGER.warning("session from %s (hub %s) rejected: %s", self.peer, hub_id, err)
            raise
        await self.send_frame(FrameType.HANDSHAKE, reply)
        self.secure = secure
        # A handshake can be replayed; only a frame that decrypts proves the key.
        try:
            frame = await self._read(min(server.handshake_timeout, server.keepalive_timeout))
        except CodecError as err:  # as inside a session: say why, encrypted, then close
            await self._send_encrypted(secure, error_message(None, err))
            raise _Closed(f"bad frame: {err}") from None
        if frame.type is not FrameType.ENCRYPTED:
            raise _Closed(f"plaintext {frame.type.name} frame after the handshake")
        try:
            plaintext = secure.decrypt(frame.payload)
        except LinkError as err:
            raise _Closed(f"decryption failed before authentication: {err.message}") from None
        session = _ServerSession(self, secure, hub_id)
        if server.session_count >= server.max_sessions:
            busy = BusyError(f"at most {server.max_sessions} sessions")
            await self._send_encrypted(secure, error_message(None, busy))
            raise _Closed(f"session limit reached: {busy.message}")
        self.session = session
        if self._deadline is not None:
            self._deadline.reschedule(None)
        _LOGGER.info("session with hub %s from %s", hub_id, self.peer)
        session.first = plaintext

    async def _send_encrypted(self, secure: SecureSession, message: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            await self.send_frame(FrameType.ENCRYPTED, secure.encrypt(encode_message(message)))


class _ServerSession:
    """The encrypted request/response/push loop of one connection."""

    def __init__(self, conn: _Connection, secure: SecureSession, hub_id: str) -> None:
        self.conn = conn
        self.server = conn.server
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
            self.conn.close("hub is not reading; outbound queue full")

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
        transport = self.conn.transport
        while True:
            data = await self._outbound.get()
            transport.send_frame(FrameType.ENCRYPTED, self.secure.encrypt(data))
            try:
                await asyncio.wait_for(transport.drain(), self.server.keepalive_timeout)
            except TimeoutError as err:
                self.conn.close(f"cannot write to hub ({err!r})")
                return
            except ConnectionClosed as err:
                self.conn.close(f"cannot write to hub ({err})")
                return

    async def _send(self, message: dict[str, Any]) -> None:
        try:
            data = encode_message(message)
        except CodecError as err:
            if message.get("type") == MessageType.ERROR:
                # An error echoing a huge key: keep the code, drop the echo.
                reply = {k: v for k, v in message.items() if k not in ("key", "message")}
                data = encode_message(reply | {"message": "(detail too large)"})
            else:
                _LOGGER.error("response to %s does not fit a frame: %s", self.hub_id, err)
                data = encode_message(
                    error_message(message.get("id"), InternalError("response too large"))
                )
        await self._outbound.put(data)

    async def _read_loop(self) -> None:
        timeout = self.server.keepalive_timeout
        if self.first is not None:
            first, self.first = self.first, None
            await self._handle_plaintext(first)
        while True:
            try:
                frame = await asyncio.wait_for(self.conn.transport.receive_frame(), timeout)
            except TimeoutError:
                raise _Closed(
                    f"keepalive timeout: nothing from the hub for {timeout:g} s"
                ) from None
            except CodecError as err:
                await self._send(error_message(None, err))
                await self._flush()
                raise _Closed(f"bad frame: {err}") from None
            if frame.type is not FrameType.ENCRYPTED:
                raise _Closed(f"plaintext {frame.type.name} frame after the handshake")
            try:
                plaintext = self.secure.decrypt(frame.payload)
            except LinkError as err:
                _LOGGER.warning("hub %s: %s (tampered or replayed frame)", self.hub_id, err)
                raise _Closed(f"decryption failed: {err.message}") from None
            await self._handle_plaintext(plaintext)

    async def _handle_plaintext(self, plaintext: bytes) -> None:
        try:
            message = decode_message(plaintext)
        except CodecError as err:
            await self._send(error_message(None, err))
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
        if message_type not in REQUEST_TYPES:
            await self._send(
                error_message(
                    message_id,
                    UnknownMessageError(f"unknown message type {message_type!r}"),
                )
            )
            return
        if message_id is None:
            await self._send(error_message(None, MalformedError("a request needs an id")))
            return
        try:
            if message_type in (MessageType.WRITE, MessageType.COMMAND):
                operation = self._prepare_operation(message)
                if len(self._in_flight) >= self.server.max_in_flight:
                    raise BusyError(f"at most {self.server.max_in_flight} operations in flight")
                task = asyncio.create_task(self._run_operation(message_id, operation))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
                return
            result = self._answer(message_type, message)
        except LinkError as err:
            await self._send(error_message(message_id, err))
            return
        except Exception:
            # A request that decrypted and parsed always gets an answer and the
            # session goes on (PROTOCOL.md 7.2); a bug here is ours, not the hub's.
            _LOGGER.exception("failed to handle %s request %s", message_type, message_id)
            await self._send(
                error_message(
                    message_id,
                    InternalError(f"internal error handling {message_type}"),
                )
            )
            return
        await self._send(result_message(message_id, result))

    def _answer(self, message_type: str, message: Mapping[str, Any]) -> dict[str, Any]:
        if message_type == MessageType.PING:
            return {}
        if message_type == MessageType.DESCRIBE:
            return self.server.describe()
        if message_type == MessageType.SUBSCRIBE:
            self.subscribed = True
            return {"seq": self.server.seq}
        # READ
        declaration = self.server.backend.declaration
        keys = message.get("keys")
        if keys is None:
            wanted = list(declaration.capabilities)
        else:
            if (
                not isinstance(keys, list)
                or len(keys) > _MAX_READ_KEYS
                or not all(isinstance(key, str) for key in keys)
            ):
                raise MalformedError("keys must be a list of capability keys")
            for key in keys:
                declaration.capability(key)
            wanted = keys
        snapshot = self.server.backend.snapshot()
        return {"values": {key: snapshot[key] for key in wanted if key in snapshot}}

    def _prepare_operation(self, message: Mapping[str, Any]) -> Callable[[], Any]:
        """Validate a write or command completely before anything is touched."""
        backend = self.server.backend
        declaration = backend.declaration
        if message["type"] == MessageType.WRITE:
            values = message.get("values")
            if not isinstance(values, dict) or not values:
                raise MalformedError("values must be a non-empty object")
            validated = {
                key: declaration.validate_write(key, value) for key, value in values.items()
            }
            return lambda: backend.write(validated)
        name = message.get("name")
        if not isinstance(name, str):
            raise MalformedError("command needs a name")
        args = message.get("args", {})
        if not isinstance(args, dict):
            raise MalformedError("args must be an object")
        checked = declaration.validate_command(name, args)
        return lambda: backend.command(name, checked)

    async def _run_operation(self, message_id: int, operation: Callable[[], Any]) -> None:
        try:
            await asyncio.wait_for(operation(), self.server.operation_timeout)
        except LinkError as err:
            await self._send(error_message(message_id, err))
        except TimeoutError:
            await self._send(
                error_message(message_id, TimedOutError("the appliance did not answer"))
            )
        except Exception:
            _LOGGER.exception("backend failed on request %s", message_id)
            await self._send(error_message(message_id, InternalError("internal error")))
        else:
            await self._send(result_message(message_id, {}))
