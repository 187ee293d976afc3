"""The session timer: one ``loop.call_at`` handle watching every deadline of a session.

The deadlines (``loop.time()`` seconds): the appliance's silence
(``keepalive_timeout`` after ``last_heard``), the next keepalive ping and the
answer it waits for, and the answers of requests in flight (requests.py).
Nothing re-arms the timer per frame: a frame only stamps ``last_heard`` or
``last_sent``, and the timer, when it fires, compares those stamps with its
deadlines and arms itself again for the earliest one still ahead. It is moved
earlier only when a request's deadline comes before the time it is set for.

Keepalive pings come from the timer itself (no task, no sleep), and only when
needed (PROTOCOL.md 7.4): after ``keepalive_interval`` without hearing
anything from the appliance, or after ``max_send_gap`` without sending it
anything (so the appliance's own idle limit is never reached while it is the
only one talking). Silence or a ping unanswered in ``request_timeout`` ends
the session through ``drop`` with ApplianceUnreachable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

from .codec import MessageType
from .errors import ApplianceUnreachable, LinkError, TimedOutError
from .messages import ErrorReply, Ping, Result

if TYPE_CHECKING:
    from .channel import SecureChannel
    from .requests import PendingRequests

# The session timer treats a deadline this close as reached, so it never wakes up a
# hair early and re-arms for a moment later.
_TIMER_SLACK: Final = 0.001


class TimedSession(Protocol):
    """What the timer reads of its session (``ApplianceClient``): its state and timing."""

    connected: bool
    keepalive_interval: float
    keepalive_timeout: float
    max_send_gap: float
    request_timeout: float


class SessionTimer:
    """The deadlines of one session, its stamps and its keepalive ping."""

    __slots__ = (
        "_channel",
        "_drop",
        "_handle",
        "_requests",
        "_session",
        "keepalive_deadline",
        "keepalive_id",
        "last_heard",
        "last_sent",
    )

    def __init__(
        self,
        session: TimedSession,
        requests: PendingRequests,
        drop: Callable[[Exception], None],
    ) -> None:
        self._session = session
        self._requests = requests
        self._drop = drop
        self._channel: SecureChannel | None = None
        self._handle: asyncio.TimerHandle | None = None
        # The stamps the deadlines count from (loop.time()).
        self.last_heard = 0.0
        self.last_sent = 0.0
        # The keepalive ping in flight, if any, and when its answer is due.
        self.keepalive_id: int | None = None
        self.keepalive_deadline = 0.0

    @property
    def armed(self) -> bool:
        """Whether the timer is set to fire."""
        return self._handle is not None

    def start(self, channel: SecureChannel, now: float) -> None:
        """A new session on ``channel``, everything heard and sent ``now``; then ``rearm()``."""
        self._channel = channel
        self.last_heard = self.last_sent = now
        self.keepalive_id = None

    def stop(self) -> None:
        """The session ended: no more firing, no ping awaited."""
        self._channel = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.keepalive_id = None

    def rearm(self) -> None:
        """Have the timer fire by the session's next deadline."""
        self.arm(self.next_deadline())

    def next_deadline(self) -> float:
        """The earliest moment the session timer has something to check."""
        session = self._session
        deadline = self.last_heard + session.keepalive_timeout
        if self.keepalive_id is not None:
            deadline = min(deadline, self.keepalive_deadline)
        elif session.connected:
            deadline = min(
                deadline,
                self.last_heard + session.keepalive_interval,
                self.last_sent + session.max_send_gap,
            )
        return self._requests.earliest(deadline)

    def arm(self, when: float) -> None:
        """Have the timer fire by ``when``: a timer due earlier stays, it looks again then."""
        handle = self._handle
        if handle is not None:
            if handle.when() <= when:
                return
            handle.cancel()
        self._handle = asyncio.get_running_loop().call_at(when, self._fire)

    def _fire(self) -> None:
        """Check every deadline against the stamps, act on those reached, re-arm."""
        self._handle = None
        channel = self._channel
        if channel is None:  # pragma: no cover - the shutdown cancels the timer first
            return
        session = self._session
        now = asyncio.get_running_loop().time() + _TIMER_SLACK
        if now - self.last_heard >= session.keepalive_timeout:
            self._drop(
                ApplianceUnreachable(f"appliance silent for {session.keepalive_timeout:g} s")
            )
            return
        if self.keepalive_id is not None and now >= self.keepalive_deadline:
            missed = TimedOutError(f"no answer to ping in {session.request_timeout:g} s")
            self._drop(ApplianceUnreachable(f"keepalive failed: {missed}"))
            return
        self._requests.time_out(now, session.request_timeout)
        if (
            session.connected
            and self.keepalive_id is None
            and (
                now - self.last_heard >= session.keepalive_interval
                or now - self.last_sent >= session.max_send_gap
            )
            and not self._send_keepalive(channel)
        ):
            return
        self.rearm()

    def _send_keepalive(self, channel: SecureChannel) -> bool:
        """Send a ping whose answer the timer awaits; False if the session ended instead.

        Not drained: a ping is a few dozen bytes, and an appliance that stops
        reading does not answer it in time, which ends the session anyway.
        """
        message_id = self._requests.next_id()
        try:
            channel.send_plaintext(Ping(message_id).encode())
        except LinkError as err:  # pragma: no cover - a ping always encodes; a broken session
            self._drop(ApplianceUnreachable(f"keepalive failed: {err}"))
            return False
        now = asyncio.get_running_loop().time()
        self.keepalive_id = message_id
        self.keepalive_deadline = now + self._session.request_timeout
        self.last_sent = now
        return True

    def keepalive_answered(self, message: Mapping[str, Any]) -> None:
        """The keepalive ping's answer: any result will do, an error ends the session."""
        self.keepalive_id = None
        try:
            if message["type"] == MessageType.ERROR:
                raise ErrorReply.from_dict(message).error
            Result.from_dict(message)
        except LinkError as err:
            self._drop(ApplianceUnreachable(f"keepalive failed: {err}"))
            return
        # The timer waits for the ping's deadline; the next ping may be due before that
        # (never with the defaults: request_timeout is below keepalive_interval).
        self.rearm()
