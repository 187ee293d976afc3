"""Requests in flight on one session: their ids, futures and answer deadlines.

A request waits on its future alone, with no timer or task of its own: the
answer (``Pending.answered``), the session timer's TimedOutError
(``PendingRequests.time_out``) or the session's end (``fail_all``) resolves
it. At most ``MAX_PENDING_REQUESTS`` wait at once; one more is BusyError.
Message ids count from 1 per session and also number the keepalive pings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import itertools
import math
from typing import Any, Final

from .codec import MessageType
from .errors import ApplianceUnreachable, BusyError, MalformedError, TimedOutError
from .messages import ErrorReply, Request, Result

MAX_PENDING_REQUESTS: Final = 32


class Pending:
    """A request in flight: what the caller awaits and when it stops waiting."""

    __slots__ = ("deadline", "future", "kind", "pushes_before")

    def __init__(self, future: asyncio.Future[Mapping[str, Any]], kind: str) -> None:
        self.future = future
        self.kind = kind
        self.deadline = math.inf  # set once the request has left (loop.time())
        self.pushes_before = 0  # pushes handled before the answer (wire order)

    def answered(self, message: Mapping[str, Any], pushes_before: int) -> None:
        """Resolve with a RESULT's body or an ERROR's LinkError (MalformedError if unreadable)."""
        future = self.future
        if message["type"] == MessageType.ERROR:
            future.set_exception(ErrorReply.from_dict(message).error)
            return
        self.pushes_before = pushes_before
        try:
            future.set_result(Result.from_dict(message).result)
        except MalformedError as err:
            future.set_exception(err)


class PendingRequests:
    """The session's requests in flight, by message id (``waiting``)."""

    __slots__ = ("_ids", "waiting")

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.waiting: dict[int, Pending] = {}

    def next_id(self) -> int:
        """A message id not used before in this session."""
        return next(self._ids)

    def start(
        self, request_with_id: Callable[[int], Request], loop: asyncio.AbstractEventLoop
    ) -> tuple[int, Request, Pending]:
        """Number a new request and wait for its answer; BusyError when too many wait."""
        if len(self.waiting) >= MAX_PENDING_REQUESTS:
            raise BusyError("too many requests in flight")
        message_id = next(self._ids)
        request = request_with_id(message_id)
        pending = Pending(loop.create_future(), request.KIND)
        self.waiting[message_id] = pending
        return message_id, request, pending

    def finish(self, message_id: int) -> None:
        """Forget request ``message_id`` (answered, timed out or given up)."""
        self.waiting.pop(message_id, None)

    def earliest(self, deadline: float) -> float:
        """The earlier of ``deadline`` and every unanswered request's deadline."""
        for pending in self.waiting.values():
            if pending.deadline < deadline and not pending.future.done():
                deadline = pending.deadline
        return deadline

    def time_out(self, now: float, request_timeout: float) -> None:
        """Fail each unanswered request whose deadline is ``now`` or before with TimedOutError."""
        for pending in self.waiting.values():
            if pending.deadline <= now and not pending.future.done():
                pending.future.set_exception(
                    TimedOutError(f"no answer to {pending.kind} in {request_timeout:g} s")
                )

    def fail_all(self, reason: Exception) -> None:
        """The session ended: every unanswered request fails with ApplianceUnreachable."""
        for pending in self.waiting.values():
            future = pending.future
            if not future.done():
                future.set_exception(
                    reason
                    if isinstance(reason, ApplianceUnreachable)
                    else ApplianceUnreachable(f"session ended: {reason}")
                )
                future.exception()  # mark retrieved: nobody may be waiting any more
        self.waiting.clear()
