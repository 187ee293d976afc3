"""One connection to the appliance, from its first byte until it ends.

``ServerConnection`` runs the plaintext phase under the server's pre-auth
limits: HELLO and the version choice, then commissioning (PAIR frames) or
the Noise handshake, up to the first frame that decrypts. Then the hub has
proved it holds the key and an ``ApplianceSession`` takes over. Every failure
before that is answered with a plaintext ERROR frame; after the handshake
nothing goes out in plaintext.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final, Protocol

from .appliance_session import ApplianceSession, ConnectionEnded, SessionHost
from .backend import ApplianceIdentity
from .codec import (
    ClientHello,
    CodecError,
    Frame,
    FrameType,
    HelloInfo,
    choose_version,
    decode_error,
    encode_error,
    encode_message,
)
from .errors import (
    AuthFailedError,
    BusyError,
    ConnectionClosed,
    InternalError,
    LinkError,
    MalformedError,
    NotPairedError,
    TimedOutError,
)
from .messages import ErrorReply
from .pairing import PairingLimiter, PairingResponder, PairingWindow, check_start_shape
from .session import NoiseResponder, SecureSession, hello_transcript
from .transport import FrameTransport

# The appliance side logs under one name, whichever of its modules speaks.
_LOGGER: Final = logging.getLogger(__name__.rpartition(".")[0] + ".server")


class ConnectionHost(SessionHost, Protocol):
    """What a connection asks of the server it belongs to (``ApplianceServer``)."""

    identity: ApplianceIdentity
    supported_versions: tuple[int, int]
    handshake_timeout: float
    auth_timeout: float
    max_sessions: int
    max_connections: int
    pairing_limiter: PairingLimiter
    pairing_window: PairingWindow
    pairing_active: bool

    @property
    def paired(self) -> bool:
        """Whether a long-term key is stored."""
        ...

    @property
    def key(self) -> bytes | None:
        """The current long-term key."""
        ...

    @property
    def pairing_code(self) -> str:
        """The normalised pairing code."""
        ...

    @property
    def session_count(self) -> int:
        """Authenticated sessions open now."""
        ...

    def hello(self, version: int) -> HelloInfo:
        """The HELLO answer."""
        ...

    def install_key(self, key: bytes) -> None:
        """Store a new key; sessions under the old key are closed."""
        ...

    def unauthenticated(self, *, besides: ServerConnection | None = None) -> list[ServerConnection]:
        """Open connections that have not proved the key, ``besides`` aside."""
        ...

    def first_use_of(self, handshake: bytes) -> bool:
        """Remember a handshake message; False if it was seen before."""
        ...

    def evict_longest_waiting(self, candidates: list[ServerConnection], reason: str) -> None:
        """Close the candidate that has waited longest for its peer."""
        ...


class ServerConnection:
    """One connection: the plaintext phase, then maybe a session."""

    def __init__(self, server: ConnectionHost, transport: FrameTransport) -> None:
        self.server = server
        self.transport = transport
        self.task: asyncio.Task[None] | None = None
        # Set once the handshake is answered: from then on nothing goes out in plaintext.
        self.secure: SecureSession | None = None
        # Set once a frame from the hub decrypted: the hub holds the key.
        self.session: ApplianceSession | None = None
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
                raise ConnectionEnded(f"peer reported {error}")
            except CodecError:
                raise ConnectionEnded("peer sent an unreadable ERROR frame") from None
        return frame

    async def run(self) -> None:
        try:
            await self._run()
        except ConnectionEnded as closed:
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
        if len(server.unauthenticated()) > server.max_connections:
            raise BusyError("too many connections")
        # Outside the window nothing is tried and nothing counts (PROTOCOL.md 5.5).
        server.pairing_window.check(paired=server.paired)
        if server.pairing_active:
            raise BusyError("another pairing is in progress")
        server.pairing_limiter.check()
        server.pairing_active = True
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
            server.pairing_active = False

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
        if not server.first_use_of(frame.payload):
            # Only a recording can repeat a handshake; answering it would cost a slot.
            raise AuthFailedError("replayed handshake")
        others = server.unauthenticated(besides=self)
        if len(others) >= server.max_connections:
            server.evict_longest_waiting(others, "making room for a session")
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
            await self._send_encrypted(secure, ErrorReply(None, err))
            raise ConnectionEnded(f"bad frame: {err}") from None
        if frame.type is not FrameType.ENCRYPTED:
            raise ConnectionEnded(f"plaintext {frame.type.name} frame after the handshake")
        try:
            plaintext = secure.decrypt(frame.payload)
        except LinkError as err:
            raise ConnectionEnded(
                f"decryption failed before authentication: {err.message}"
            ) from None
        session = ApplianceSession(server, self.transport, secure, hub_id, close=self.close)
        if server.session_count >= server.max_sessions:
            busy = BusyError(f"at most {server.max_sessions} sessions")
            await self._send_encrypted(secure, ErrorReply(None, busy))
            raise ConnectionEnded(f"session limit reached: {busy.message}")
        self.session = session
        if self._deadline is not None:
            self._deadline.reschedule(None)
        _LOGGER.info("session with hub %s from %s", hub_id, self.peer)
        session.first = plaintext

    async def _send_encrypted(self, secure: SecureSession, message: ErrorReply) -> None:
        with contextlib.suppress(Exception):
            data = encode_message(message.to_dict())
            await self.send_frame(FrameType.ENCRYPTED, secure.encrypt(data))
