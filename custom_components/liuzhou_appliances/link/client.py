"""Hub side of the link: ``ApplianceClient``, a session with one paired appliance.

A hub holds thousands of sessions, so each ``ApplianceClient`` session costs
one asyncio task (the read loop, here) and one timer handle (``loop.call_at``,
session_timer.py), whatever it does. This file holds the public API, the
session's lifecycle and the read loop, which hands each message on: pushes to
``PushedState`` (pushed_state.py: checked, merged for the state listeners,
kept past a read's answer), answers to the requests in flight (requests.py),
the keepalive ping's answer to the timer.

The voice panel (PROTOCOL.md 7.5): utterance pushes go to the utterance
listeners (``voice_client.py`` reads and checks them), one call each, in
order; ``voice_reply`` and ``announce`` are requests like the others.

Commissioning (``pair()``) is commissioning.py, the connection below a
session (``SecureChannel``) channel.py; both are also importable from here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
import contextlib
import logging
import time
from typing import Any, Final

from .channel import OpenTransport, PlaintextConnection, SecureChannel
from .codec import HelloInfo, MessageType
from .commissioning import PairingResult, pair
from .declaration import Declaration
from .errors import ApplianceUnreachable, LinkError, TransportError
from .messages import (
    Announce,
    Changed,
    Command,
    Describe,
    DescribeResult,
    ErrorReply,
    Ping,
    Read,
    ReadResult,
    Request,
    Subscribe,
    SubscribeResult,
    Utterance,
    VoiceReply,
    Write,
)
from .model import Value
from .pushed_state import InvalidValueCallback, PushedState
from .requests import MAX_PENDING_REQUESTS, PendingRequests
from .session_timer import SessionTimer
from .voice_client import UtteranceListeners

__all__ = [
    "APPLIANCE_IDLE_TIMEOUT",
    "MAX_PENDING_REQUESTS",
    "MAX_SEND_GAP",
    "ApplianceClient",
    "InvalidValueCallback",
    "OpenTransport",
    "PairingResult",
    "PlaintextConnection",
    "SecureChannel",
    "pair",
]

_LOGGER: Final = logging.getLogger(__name__)
# The appliance ends a session after this long without a frame from the hub (PROTOCOL.md 7.4).
APPLIANCE_IDLE_TIMEOUT: Final = 90.0
# The longest the hub stays quiet towards an appliance that keeps talking: half the
# appliance's idle limit, so a keepalive sent then has the other half to arrive and be
# answered (request_timeout, 10 s by default, is far less) before the appliance gives up.
MAX_SEND_GAP: Final = APPLIANCE_IDLE_TIMEOUT / 2


class ApplianceClient:
    """A session with one paired appliance, kept current by pushed changes.

    ``state`` only ever holds values that fit the appliance's own declaration
    (``Declaration.validate_reported``): a pushed or read value that does not
    (undeclared key, wrong type, out of range, not an option) leaves the last
    valid value in place and is handed to ``on_invalid_value`` instead, with
    the reason; state listeners hear only the valid values.

    Timing (seconds): a request not answered within ``request_timeout`` is
    TimedOutError; an appliance heard from not at all for ``keepalive_timeout``
    ends the session. The hub pings after ``keepalive_interval`` without
    hearing from the appliance, or ``max_send_gap`` without sending it
    anything; a ping not answered within ``request_timeout`` ends the session
    ("keepalive failed"). A dead appliance is thus noticed about
    ``keepalive_interval + request_timeout`` after its last frame.
    """

    def __init__(
        self,
        host: str,
        port: int,
        key: bytes,
        *,
        hub_id: str,
        keepalive_interval: float = 20.0,
        request_timeout: float = 10.0,
        keepalive_timeout: float = 90.0,
        on_invalid_value: InvalidValueCallback | None = None,
        max_send_gap: float = MAX_SEND_GAP,
        open_transport: OpenTransport | None = None,
    ) -> None:
        self.host = host
        # Each connect() opens its connection with this (BLE) instead of TCP to host:port.
        self._open_transport = open_transport
        self.port = port
        self._key = key
        self.hub_id = hub_id
        self.keepalive_interval = keepalive_interval
        self.request_timeout = request_timeout
        self.keepalive_timeout = keepalive_timeout
        self.max_send_gap = max_send_gap
        self.hello: HelloInfo | None = None
        self.declaration: Declaration | None = None
        self.state: dict[str, Value] = {}
        self.connected = False
        self.last_seq = 0
        self._channel: SecureChannel | None = None
        self._requests = PendingRequests()
        self._pushes = PushedState(self, on_invalid_value)
        self._timer = SessionTimer(self, self._requests, self._drop)
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: asyncio.Task[None] | None = None
        self._disconnect_listeners: list[Callable[[Exception | None], None]] = []
        self._utterances = UtteranceListeners(host)

    # --- listeners -----------------------------------------------------------

    def add_state_listener(self, cb: Callable[[Mapping[str, Value]], None]) -> Callable[[], None]:
        """Call ``cb`` with the changed values after pushes; returns the remover.

        Pushes received together reach ``cb`` once, merged (the latest value of
        each key), from a ``loop.call_soon`` callback.
        """
        listeners = self._pushes.listeners
        listeners.append(cb)
        return lambda: _remove(listeners, cb)

    def add_disconnect_listener(self, cb: Callable[[Exception | None], None]) -> Callable[[], None]:
        """Call ``cb`` once when the session ends (None after ``disconnect()``)."""
        self._disconnect_listeners.append(cb)
        return lambda: _remove(self._disconnect_listeners, cb)

    def add_utterance_listener(self, cb: Callable[[Utterance], None]) -> Callable[[], None]:
        """Call ``cb`` with each utterance the appliance's voice panel pushes; returns the remover.

        One call per utterance, in the order the panel heard them, from the
        read loop (so ``state`` already holds every change pushed before it).
        Only utterances that fit the declaration arrive (its panel, a declared
        language, 1-500 characters); answer each with ``voice_reply``.
        """
        return self._utterances.add(cb)

    # --- lifecycle -----------------------------------------------------------

    async def connect(self) -> None:
        """HELLO, Noise handshake, describe, subscribe, read all; then keepalive."""
        if self._channel is not None:
            raise RuntimeError("already connected")
        channel = await SecureChannel.open(
            self.host,
            self.port,
            self._key,
            hub_id=self.hub_id,
            io_timeout=self.request_timeout,
            on_hello=self._set_hello,
            open_transport=self._open_transport,
        )
        self._channel = channel
        self.hello = channel.hello
        self._timer.start(channel, asyncio.get_running_loop().time())
        self._tasks = [asyncio.create_task(self._read_loop(channel))]
        self._timer.rearm()
        try:
            described = DescribeResult.from_dict(await self._request(Describe))
            self.declaration = described.declaration
            subscribed = SubscribeResult.from_dict(await self._request(Subscribe))
            self.last_seq = subscribed.seq
            self.state = await self._read_all()
            if self._channel is not channel:
                # The read loop dropped the session right behind the last answer.
                raise ApplianceUnreachable("the session ended while connecting")
        except BaseException as err:
            await self._shutdown(err if isinstance(err, Exception) else None, notify=False)
            raise
        self.connected = True
        self._timer.rearm()  # keepalive deadlines count from now on

    def _set_hello(self, hello: HelloInfo) -> None:
        self.hello = hello

    async def disconnect(self) -> None:
        """Close the session; listeners hear ``None``."""
        await self._shutdown(None)

    async def disconnect_when_idle(self) -> None:
        """Close the session once the requests in flight are answered or timed out.

        For a hub moving an appliance to another link: what was sent over this
        session still gets its answer (or its TimedOutError after
        ``request_timeout``), so nothing in flight is lost. Listeners hear ``None``.
        """
        waiting = [pending.future for pending in self._requests.waiting.values()]
        if waiting:
            await asyncio.wait(waiting, timeout=self.request_timeout)
        await self._shutdown(None)

    # --- requests ------------------------------------------------------------

    async def read(self, keys: Sequence[str] | None = None) -> dict[str, Value]:
        """Current values (all, or ``keys``)."""
        wanted = None if keys is None else tuple(keys)
        result = ReadResult.from_dict(await self._request(lambda i: Read(i, wanted)))
        return dict(result.values)

    async def refresh(self) -> dict[str, Value]:
        """Read every value again; the valid ones update ``state``, which is returned."""
        self.state.update(await self._read_all())
        return dict(self.state)

    async def _read_all(self) -> dict[str, Value]:
        """Every valid value, in wire order with the pushes.

        The answer is handled by the read loop, which may handle pushes sent after
        it before this coroutine resumes; a key pushed since keeps its pushed value.
        """
        marks: list[int] = []
        result = ReadResult.from_dict(await self._request(lambda i: Read(i, None), marks))
        return self._pushes.after_read(result.values, marks[0])

    async def write(self, values: Mapping[str, Value]) -> None:
        """Write values, all or nothing; LinkError on rejection."""
        await self._request(lambda i: Write(i, dict(values)))

    async def command(self, name: str, args: Mapping[str, int] | None = None) -> None:
        """Run a command; LinkError on rejection."""
        await self._request(lambda i: Command(i, name, dict(args or {})))

    async def voice_reply(
        self,
        utterance: int,
        text: str,
        *,
        continue_listening: bool,
        conversation: str | None,
    ) -> None:
        """Answer utterance number ``utterance``: the panel says ``text`` (0-1000 characters).

        With ``continue_listening`` the panel listens again and its next
        utterance carries ``conversation`` (1-128 characters, or None).
        Raises InvalidStateError (an utterance never sent, answered already or
        forgotten after 30 s unanswered), OutOfRangeError (a text or id too
        long), UnknownMessageError (no panel), McuUnavailableError (panel not
        connected), TimedOutError, ApplianceUnreachable.
        """
        await self._request(
            lambda i: VoiceReply(i, utterance, text, continue_listening, conversation)
        )

    async def announce(self, text: str, language: str) -> None:
        """Have the panel say ``text`` (1-1000 characters) in ``language`` (a declared tag).

        Raises OutOfRangeError (empty or too long text, an undeclared
        language), UnknownMessageError (no panel), McuUnavailableError (panel
        not connected), TimedOutError, ApplianceUnreachable.
        """
        await self._request(lambda i: Announce(i, text, language))

    async def ping(self) -> float:
        """Round trip in seconds."""
        started = time.perf_counter()
        await self._request(Ping)
        return time.perf_counter() - started

    async def _request(
        self, request_with_id: Callable[[int], Request], marks: list[int] | None = None
    ) -> Mapping[str, Any]:
        """Send the request (given its id), wait for the answer; return the result body.

        The answer (or the session timer's TimedOutError, or the session's
        end) resolves the future; no timer or task of its own. ``marks`` gets
        the number of pushes handled before the answer.
        """
        channel = self._channel
        if channel is None:
            raise ApplianceUnreachable("not connected")
        loop = asyncio.get_running_loop()
        message_id, request, pending = self._requests.start(request_with_id, loop)
        try:
            channel.send_plaintext(request.encode())
            self._timer.last_sent = loop.time()
            await channel.drain()
            if not pending.future.done():
                # Counted from when the transport took the request, as the answer's wait.
                pending.deadline = loop.time() + self.request_timeout
                self._timer.arm(pending.deadline)
            result = await pending.future
            if marks is not None:
                marks.append(pending.pushes_before)
            return result
        finally:
            self._requests.finish(message_id)

    # --- background ----------------------------------------------------------

    async def _read_loop(self, channel: SecureChannel) -> None:
        error: Exception
        loop = asyncio.get_running_loop()
        timer = self._timer
        try:
            while True:
                # No timeout per frame: the session timer watches for silence.
                message = await channel.receive_message()
                timer.last_heard = loop.time()
                self._handle(message)
        except asyncio.CancelledError:
            raise
        except TransportError as err:
            error = err
        except LinkError as err:
            _LOGGER.warning("closing session with %s: %s", self.host, err)
            error = err
        except Exception as err:  # pragma: no cover - defensive: a bug must still end the session
            _LOGGER.exception("unexpected error reading from %s", self.host)
            error = err
        self._drop(error)

    def _handle(self, message: dict[str, Any]) -> None:
        """Act on one decoded message from the appliance: a push or an answer."""
        message_type = message["type"]
        if message_type == MessageType.CHANGED:
            changed = Changed.from_dict(message)
            self.last_seq = changed.seq
            self._pushes.pushed(changed.values)
            return
        if message_type == MessageType.UTTERANCE:
            self._utterances.heard(message, self.declaration)
            return
        message_id = message.get("id")
        if message_type not in (MessageType.RESULT, MessageType.ERROR):
            _LOGGER.debug("ignoring %s message from %s", message_type, self.host)
            return
        if message_id is None:
            error = ErrorReply.from_dict(message).error
            _LOGGER.warning("appliance %s reports: %s", self.host, error)
            return
        if message_id == self._timer.keepalive_id:
            self._timer.keepalive_answered(message)
            return
        pending = self._requests.waiting.get(message_id)
        if pending is None or pending.future.done():
            _LOGGER.debug("answer to unknown request %s", message_id)
            return
        pending.answered(message, self._pushes.count)

    def _drop(self, error: Exception) -> None:
        """End the session from a background task or the timer (no await)."""
        if self._channel is None:  # pragma: no cover - tasks are cancelled before they can get here
            return
        if self._closing is not None and not self._closing.done():
            return  # already ending, for the first reason
        self._closing = asyncio.create_task(self._shutdown(error))

    async def _shutdown(self, error: Exception | None, *, notify: bool = True) -> None:
        channel, self._channel = self._channel, None
        if channel is None:
            return
        was_connected = self.connected
        self.connected = False
        self._timer.stop()
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        self._tasks = []
        for task in tasks:
            task.cancel()
        reason = error if error is not None else ApplianceUnreachable("disconnected")
        self._requests.fail_all(reason)
        await asyncio.gather(*tasks, return_exceptions=True)
        await channel.close()
        if notify and was_connected:
            for listener in list(self._disconnect_listeners):
                try:
                    listener(error)
                except Exception:
                    _LOGGER.exception("disconnect listener failed")


def _remove[T](items: list[T], item: T) -> None:
    with contextlib.suppress(ValueError):
        items.remove(item)
