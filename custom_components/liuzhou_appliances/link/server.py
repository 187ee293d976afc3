"""Appliance side of the link: ApplianceServer and the backend it bridges to.

One ``ApplianceServer`` serves one appliance. Each connection (a
``FrameTransport``: TCP now through ``handle_stream``, BLE later, both
through ``serve``) goes HELLO -> PAIR (commissioning) or
HELLO -> HANDSHAKE -> encrypted session. Every failure is answered with a
protocol error or a clean close with a logged reason; queues and in-flight
work are bounded per connection, and pushed changes merge per session
rather than queue up (``appliance_session.py``).

A connection counts as authenticated only once a frame from the hub has
decrypted (a replayed handshake cannot get that far). Until then it has a
short overall deadline and may be evicted to make room, so strangers can
never keep a hub that holds the key out.

This module holds the server: its state, limits and bookkeeping shared by
its connections. One connection's plaintext phase is ``connection.py``, its
authenticated session ``appliance_session.py``, key storage ``keystore.py``,
the identity and backend contract ``backend.py``.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
import hashlib
import logging
from typing import Final

from .backend import ApplianceBackend, ApplianceIdentity, VoicePanelBackend
from .codec import SUPPORTED_VERSIONS, CodecError, HelloInfo, encode_message
from .connection import ServerConnection
from .discovery import DEFAULT_PORT
from .keystore import FileKeyStore, KeyStore, MemoryKeyStore
from .messages import Changed, DescribeResult, Utterance
from .model import Value
from .pairing import PairingLimiter, PairingWindow, normalise_pairing_code
from .transport import FrameTransport, TcpTransport
from .voice import UTTERANCE_TIMEOUT_S, PanelRelay

__all__ = [
    "ApplianceBackend",
    "ApplianceIdentity",
    "ApplianceServer",
    "FileKeyStore",
    "KeyStore",
    "MemoryKeyStore",
]

_LOGGER: Final = logging.getLogger(__name__)
# Handshakes remembered to refuse replays: a hub draws a fresh ephemeral key each time.
_SEEN_HANDSHAKES: Final = 1024


class ApplianceServer:
    """Serves one appliance to up to ``max_sessions`` hubs at once.

    Limits (seconds, counts): ``handshake_timeout`` for each frame before
    authentication and ``auth_timeout`` for the whole of it (HELLO to the
    first decrypted frame, or a whole pairing); ``max_sessions`` authenticated
    sessions; ``max_connections`` unauthenticated connections, plus up to
    ``max_sessions`` more that only a session attempt may use (pairing then
    gets BUSY). A connection beyond all that evicts the unauthenticated one
    that has waited longest for its peer, as does a session attempt while
    more than ``max_connections`` are unauthenticated. Per session:
    ``max_in_flight`` writes and commands running, ``outbound_queue_size``
    answers waiting to be sent (pushed changes merge rather than queue), and
    ``keepalive_timeout`` without a frame from the hub, or without a write
    draining, closes it.

    A model that declares a voice panel gets ``voice_panel`` (a
    ``PanelRelay``: ``voice_panel.hear(text, language)`` pushes what the panel
    heard); ``panel`` is the panel that speaks the hub's replies and
    announcements (declared but None: they get MCU_UNAVAILABLE, with one
    warning here). ``utterance_timeout``: seconds an utterance waits for its
    reply.
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
        panel: VoicePanelBackend | None = None,
        utterance_timeout: float = UTTERANCE_TIMEOUT_S,
    ) -> None:
        if identity.type is not backend.declaration.type:
            raise ValueError("the identity's type differs from the declaration's")
        declared_panel = backend.declaration.voice_panel
        if panel is not None and declared_panel is None:
            raise ValueError("a voice panel needs voice_panel in the declaration")
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
        self._connections: set[ServerConnection] = set()
        # One commissioning at a time (set and cleared by the connection pairing).
        self.pairing_active = False
        self._seen_handshakes: OrderedDict[bytes, None] = OrderedDict()
        self._remove_listener: Callable[[], None] | None = None
        self.seq = 0
        self.voice_panel: PanelRelay | None = None
        if declared_panel is not None:
            if panel is None:
                _LOGGER.warning(
                    "%s declares a voice panel but none is connected", identity.appliance_id
                )
            self.voice_panel = PanelRelay(
                declared_panel, panel, self._send_utterance, timeout=utterance_timeout
            )

    # --- public API ----------------------------------------------------------

    async def start(self, host: str = "0.0.0.0", port: int = DEFAULT_PORT) -> None:
        """Listen on TCP."""
        self._listen()
        self._server = await asyncio.start_server(self.handle_stream, host, port)

    async def stop_tcp(self) -> None:
        """Stop serving TCP (the network module lost Wi-Fi); other transports (BLE) go on.

        Closes the listener and every TCP connection. ``start`` serves TCP again.
        """
        if self._server is not None:
            self._server.close()
        tcp = [conn for conn in self._connections if isinstance(conn.transport, TcpTransport)]
        tasks = [conn.task for conn in tcp if conn.task is not None]
        for conn in tcp:
            conn.close("network lost")
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

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
        return len(self.unauthenticated())

    def unauthenticated(self, *, besides: ServerConnection | None = None) -> list[ServerConnection]:
        """Open connections that have not proved the key, ``besides`` aside."""
        return [
            c
            for c in self._connections
            if not c.authenticated and c.close_reason is None and c is not besides
        ]

    def first_use_of(self, handshake: bytes) -> bool:
        """Remember a handshake message; False if it was seen before (a replay)."""
        digest = hashlib.sha256(handshake).digest()
        if digest in self._seen_handshakes:
            return False
        self._seen_handshakes[digest] = None
        if len(self._seen_handshakes) > _SEEN_HANDSHAKES:
            self._seen_handshakes.popitem(last=False)
        return True

    def evict_longest_waiting(self, candidates: list[ServerConnection], reason: str) -> None:
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
        if self.voice_panel is not None:
            self.voice_panel.close()

    async def handle_stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve one TCP connection until it ends (``asyncio.start_server``'s callback)."""
        await self.serve(TcpTransport(reader, writer))

    async def serve(self, transport: FrameTransport) -> None:
        """Serve one connection, over any transport, until it ends; never raises for the peer."""
        self._listen()
        conn = ServerConnection(self, transport)
        # Never refuse the newcomer: it may be a hub holding the key.
        if self.unauthenticated_count >= self.max_connections + self.max_sessions:
            self.evict_longest_waiting(self.unauthenticated(), "making room for a new connection")
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
            # Sessions merge changes into pushes of their own; one that cannot
            # travel alone must not spoil the pushes it would be merged into.
            encode_message(Changed(self.seq, values).to_dict())
        except CodecError as err:
            _LOGGER.error("cannot push change %s: %s", self.seq, err)
            return
        for conn in list(self._connections):
            if conn.session is not None:
                conn.session.push(self.seq, values)

    def _send_utterance(self, utterance: Utterance) -> int:
        """Queue an utterance on every subscribed session; how many it reached."""
        reached = 0
        for conn in list(self._connections):
            if conn.session is not None and conn.session.push_utterance(utterance):
                reached += 1
        return reached

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

    def describe(self) -> DescribeResult:
        """The answer to describe: identity and declaration."""
        return DescribeResult(
            self.backend.declaration,
            {
                "appliance_id": self.identity.appliance_id,
                "type": str(self.identity.type),
                "model": self.identity.model,
                "firmware": self.identity.firmware,
            },
        )
