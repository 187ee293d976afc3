"""Hub side of the link: ``ApplianceClient``, a session with one paired appliance.

Commissioning (``pair()``) is commissioning.py, the connection below a
session (``SecureChannel``) channel.py; both are also importable from here.

A hub holds thousands of sessions, so each ``ApplianceClient`` session costs
one asyncio task (the read loop) and one timer handle (``loop.call_at``),
whatever it does. The timer watches every deadline of the session: the
appliance's silence (``keepalive_timeout``), the next keepalive ping and the
answer it waits for, and the answers of requests in flight. Nothing re-arms it
per frame: a frame only stamps the time it was heard or sent, and the timer,
when it fires, compares those stamps with its deadlines and arms itself again
for the earliest one still ahead. It is moved earlier only when a request's
deadline comes before the time it is set for. Keepalive pings come from the
timer itself (no task, no sleep), and only when needed (PROTOCOL.md 7.4):
after ``keepalive_interval`` without hearing anything from the appliance, or
after ``max_send_gap`` without sending it anything (so the appliance's own
idle limit is never reached while it is the only one talking).

Pushes read together are heard together: ``state`` takes each at once, and
the state listeners hear the merged changes (the latest value of each key)
once the frames already received are read (``loop.call_soon``). A hub that
falls behind thus finds several pushes of one appliance waiting and hands
them on as one update, so its work per appliance shrinks as its backlog grows.

The voice panel (PROTOCOL.md 7.5): utterance pushes go to the utterance
listeners (``voice_client.py`` reads and checks them), one call each, in
order; ``voice_reply`` and ``announce`` are requests like the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
import contextlib
import itertools
import logging
import math
import time
from typing import Any, Final

from .channel import OpenTransport, PlaintextConnection, SecureChannel
from .codec import HelloInfo, MessageType
from .commissioning import PairingResult, pair
from .declaration import Declaration
from .errors import (
    ApplianceUnreachable,
    BusyError,
    LinkError,
    MalformedError,
    TimedOutError,
    TransportError,
)
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
    Result,
    Subscribe,
    SubscribeResult,
    Utterance,
    VoiceReply,
    Write,
)
from .model import Value
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
MAX_PENDING_REQUESTS: Final = 32
# The appliance ends a session after this long without a frame from the hub (PROTOCOL.md 7.4).
APPLIANCE_IDLE_TIMEOUT: Final = 90.0
# The longest the hub stays quiet towards an appliance that keeps talking: half the
# appliance's idle limit, so a keepalive sent then has the other half to arrive and be
# answered (request_timeout, 10 s by default, is far less) before the appliance gives up.
MAX_SEND_GAP: Final = APPLIANCE_IDLE_TIMEOUT / 2
# The session timer treats a deadline this close as reached, so it never wakes up a
# hair early and re-arms for a moment later.
_TIMER_SLACK: Final = 0.001


type InvalidValueCallback = Callable[[str, object, LinkError], None]


class _Pending:
    """A request in flight: what the caller awaits and when it stops waiting."""

    __slots__ = ("deadline", "future", "kind", "pushes_before")

    def __init__(self, future: asyncio.Future[Mapping[str, Any]], kind: str) -> None:
        self.future = future
        self.kind = kind
        self.deadline = math.inf  # set once the request has left
        self.pushes_before = 0  # pushes handled before the answer (wire order)


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
        # Pushes handled so far, and by which of them each key was last pushed: a read's
        # answer must not undo a push that came after it on the wire.
        self._push_count = 0
        self._pushed_at: dict[str, int] = {}
        self.connected = False
        self.last_seq = 0
        self._channel: SecureChannel | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._tasks: list[asyncio.Task[None]] = []
        # The session timer and the stamps it compares with its deadlines (loop.time()).
        self._timer: asyncio.TimerHandle | None = None
        self._last_heard = 0.0
        self._last_sent = 0.0
        # The keepalive ping in flight, if any, and when its answer is due.
        self._keepalive_id: int | None = None
        self._keepalive_deadline = 0.0
        self._closing: asyncio.Task[None] | None = None
        self._state_listeners: list[Callable[[Mapping[str, Value]], None]] = []
        # Pushed changes not yet handed to the state listeners (see the module's docstring).
        self._unheard: dict[str, Value] | None = None
        self._disconnect_listeners: list[Callable[[Exception | None], None]] = []
        self._on_invalid_value = on_invalid_value
        self._utterances = UtteranceListeners(host)

    # --- listeners -----------------------------------------------------------

    def add_state_listener(self, cb: Callable[[Mapping[str, Value]], None]) -> Callable[[], None]:
        """Call ``cb`` with the changed values after pushes; returns the remover.

        Pushes received together reach ``cb`` once, merged (the latest value of
        each key), from a ``loop.call_soon`` callback.
        """
        self._state_listeners.append(cb)
        return lambda: _remove(self._state_listeners, cb)

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
        self._last_heard = self._last_sent = asyncio.get_running_loop().time()
        self._keepalive_id = None
        self._tasks = [asyncio.create_task(self._read_loop(channel))]
        self._arm(self._next_deadline())
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
        self._arm(self._next_deadline())  # keepalive deadlines count from now on

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
        waiting = [pending.future for pending in self._pending.values()]
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
        values = self._accept(result.values)
        for key, at in self._pushed_at.items():
            if at > marks[0] and key in self.state:
                values[key] = self.state[key]
        return values

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
        if len(self._pending) >= MAX_PENDING_REQUESTS:
            raise BusyError("too many requests in flight")
        message_id = next(self._ids)
        request = request_with_id(message_id)
        loop = asyncio.get_running_loop()
        pending = _Pending(loop.create_future(), request.KIND)
        self._pending[message_id] = pending
        try:
            channel.send_plaintext(request.encode())
            self._last_sent = loop.time()
            await channel.drain()
            if not pending.future.done():
                # Counted from when the transport took the request, as the answer's wait.
                pending.deadline = loop.time() + self.request_timeout
                self._arm(pending.deadline)
            result = await pending.future
            if marks is not None:
                marks.append(pending.pushes_before)
            return result
        finally:
            self._pending.pop(message_id, None)

    # --- background ----------------------------------------------------------

    async def _read_loop(self, channel: SecureChannel) -> None:
        error: Exception
        loop = asyncio.get_running_loop()
        try:
            while True:
                # No timeout per frame: the session timer watches for silence.
                message = await channel.receive_message()
                self._last_heard = loop.time()
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
            accepted = self._accept(changed.values)
            if not accepted:
                return
            self._push_count += 1
            for key in accepted:
                self._pushed_at[key] = self._push_count
            self.state.update(accepted)
            if self._unheard is None:
                self._unheard = accepted
                asyncio.get_running_loop().call_soon(self._tell_state_listeners)
            else:
                self._unheard.update(accepted)
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
        if message_id == self._keepalive_id:
            self._keepalive_answered(message)
            return
        pending = self._pending.get(message_id)
        if pending is None or pending.future.done():
            _LOGGER.debug("answer to unknown request %s", message_id)
            return
        future = pending.future
        if message_type == MessageType.ERROR:
            future.set_exception(ErrorReply.from_dict(message).error)
            return
        pending.pushes_before = self._push_count
        try:
            future.set_result(Result.from_dict(message).result)
        except MalformedError as err:
            future.set_exception(err)

    def _tell_state_listeners(self) -> None:
        """Hand the pushes read since the last call to the state listeners, merged."""
        changed, self._unheard = self._unheard, None
        if not changed or not self.connected:
            return
        for listener in list(self._state_listeners):
            try:
                listener(changed)
            except Exception:
                _LOGGER.exception("state listener failed")

    def _accept(self, values: Mapping[str, object]) -> dict[str, Value]:
        """The values that fit the declaration; each other one goes to ``on_invalid_value``."""
        declaration = self.declaration
        accepted: dict[str, Value] = {}
        for key, value in values.items():
            try:
                if declaration is None:  # pragma: no cover - values come after DESCRIBE
                    raise MalformedError("values before the declaration")
                accepted[key] = declaration.validate_reported(key, value)
            except LinkError as err:
                if self._on_invalid_value is not None:
                    try:
                        self._on_invalid_value(key, value, err)
                    except Exception:
                        _LOGGER.exception("invalid value callback failed")
        return accepted

    def _keepalive_answered(self, message: Mapping[str, Any]) -> None:
        """The keepalive ping's answer: any result will do, an error ends the session."""
        self._keepalive_id = None
        try:
            if message["type"] == MessageType.ERROR:
                raise ErrorReply.from_dict(message).error
            Result.from_dict(message)
        except LinkError as err:
            self._drop(ApplianceUnreachable(f"keepalive failed: {err}"))
            return
        # The timer waits for the ping's deadline; the next ping may be due before that
        # (never with the defaults: request_timeout is below keepalive_interval).
        self._arm(self._next_deadline())

    # --- the session timer ---------------------------------------------------

    def _next_deadline(self) -> float:
        """The earliest moment the session timer has something to check."""
        deadline = self._last_heard + self.keepalive_timeout
        if self._keepalive_id is not None:
            deadline = min(deadline, self._keepalive_deadline)
        elif self.connected:
            deadline = min(
                deadline,
                self._last_heard + self.keepalive_interval,
                self._last_sent + self.max_send_gap,
            )
        for pending in self._pending.values():
            if pending.deadline < deadline and not pending.future.done():
                deadline = pending.deadline
        return deadline

    def _arm(self, when: float) -> None:
        """Have the timer fire by ``when``: a timer due earlier stays, it looks again then."""
        timer = self._timer
        if timer is not None:
            if timer.when() <= when:
                return
            timer.cancel()
        self._timer = asyncio.get_running_loop().call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        """Check every deadline against the stamps, act on those reached, re-arm."""
        self._timer = None
        channel = self._channel
        if channel is None:  # pragma: no cover - the shutdown cancels the timer first
            return
        now = asyncio.get_running_loop().time() + _TIMER_SLACK
        if now - self._last_heard >= self.keepalive_timeout:
            self._drop(ApplianceUnreachable(f"appliance silent for {self.keepalive_timeout:g} s"))
            return
        if self._keepalive_id is not None and now >= self._keepalive_deadline:
            missed = TimedOutError(f"no answer to ping in {self.request_timeout:g} s")
            self._drop(ApplianceUnreachable(f"keepalive failed: {missed}"))
            return
        for pending in self._pending.values():
            if pending.deadline <= now and not pending.future.done():
                pending.future.set_exception(
                    TimedOutError(f"no answer to {pending.kind} in {self.request_timeout:g} s")
                )
        if (
            self.connected
            and self._keepalive_id is None
            and (
                now - self._last_heard >= self.keepalive_interval
                or now - self._last_sent >= self.max_send_gap
            )
            and not self._send_keepalive(channel)
        ):
            return
        self._arm(self._next_deadline())

    def _send_keepalive(self, channel: SecureChannel) -> bool:
        """Send a ping whose answer the timer awaits; False if the session ended instead.

        Not drained: a ping is a few dozen bytes, and an appliance that stops
        reading does not answer it in time, which ends the session anyway.
        """
        message_id = next(self._ids)
        try:
            channel.send_plaintext(Ping(message_id).encode())
        except LinkError as err:  # pragma: no cover - a ping always encodes; a broken session
            self._drop(ApplianceUnreachable(f"keepalive failed: {err}"))
            return False
        now = asyncio.get_running_loop().time()
        self._keepalive_id = message_id
        self._keepalive_deadline = now + self.request_timeout
        self._last_sent = now
        return True

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
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._keepalive_id = None
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        self._tasks = []
        for task in tasks:
            task.cancel()
        reason = error if error is not None else ApplianceUnreachable("disconnected")
        for pending in self._pending.values():
            future = pending.future
            if not future.done():
                future.set_exception(
                    reason
                    if isinstance(reason, ApplianceUnreachable)
                    else ApplianceUnreachable(f"session ended: {reason}")
                )
                future.exception()  # mark retrieved: nobody may be waiting any more
        self._pending.clear()
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
