"""Getting a lost connection back: backoff, wake-up on discovery, two log lines.

As aioesphomeapi's ``reconnect_logic.py``: the owner says when the
connection was lost (``connection_lost``) and how to connect; this retries
after min(1.8**n, 60) s, at once when discovery sees the appliance again
(``wake``), until a connect succeeds, the appliance rejects our key (only
pairing again helps then) or ``stop()``.

A sighting is news only after some failures: a BLE appliance advertises
every second or so, and after a failure such as "the proxy has no free
connection" each advertisement would start another attempt at once. The
owner's ``discovery_helps(error)`` says whether seeing the appliance can end
a failure; after one it cannot, ``wake()`` leaves the backoff running.

Logging: one info line when the connection is lost and one when it is back;
failed attempts at debug level. Nothing an appliance (or anything else on
its address) sends can end the loop: an unexpected exception is logged once
per outage, with its traceback, and the loop keeps trying.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
import logging
from typing import Any, Final

from .errors import KeyRejectedError, LinkError

_LOGGER: Final = logging.getLogger(__name__)

RECONNECT_BACKOFF_BASE: Final = 1.8
RECONNECT_BACKOFF_MAX: Final = 60.0

type TaskFactory = Callable[[Coroutine[Any, Any, None], str], asyncio.Task[None]]


def reconnect_delay(attempt: int) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (0-based), as ESPHome does."""
    return float(min(RECONNECT_BACKOFF_BASE**attempt, RECONNECT_BACKOFF_MAX))


def _create_task(coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    return asyncio.create_task(coro, name=name)


class ReconnectLogic:
    """Reconnects one appliance after its connection was lost.

    ``connect`` opens the connection or raises (LinkError, or anything else
    for a bug); ``on_connected`` runs after it succeeded; ``on_key_rejected``
    when the appliance refused our key (the loop then ends); ``on_failure``
    hears every failed attempt; ``discovery_helps`` tells after each one
    whether ``wake()`` may cut the backoff short (by default always).
    ``logger`` is the owner's, so the two lines read as the owner's;
    ``create_task`` lets a host (Home Assistant) own the task.
    """

    def __init__(
        self,
        *,
        name: str,
        address: str,
        connect: Callable[[], Awaitable[None]],
        on_connected: Callable[[], None],
        on_key_rejected: Callable[[LinkError], None],
        on_failure: Callable[[Exception], None] | None = None,
        discovery_helps: Callable[[Exception], bool] | None = None,
        logger: logging.Logger = _LOGGER,
        create_task: TaskFactory = _create_task,
        task_name: str = "reconnect",
    ) -> None:
        self.name = name
        self.address = address
        self._connect = connect
        self._on_connected = on_connected
        self._on_key_rejected = on_key_rejected
        self._on_failure = on_failure
        self._discovery_helps = discovery_helps
        self._logger = logger
        self._create_task = create_task
        self._task_name = task_name
        self._wake = asyncio.Event()
        # False after a failure that seeing the appliance cannot end (discovery_helps).
        self._wake_helps = True
        self._attempt_waiters: list[asyncio.Future[None]] = []
        self._stopped = False
        self.task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the loop is waiting or trying now."""
        return self.task is not None and not self.task.done()

    def connection_lost(self, error: Exception | None) -> None:
        """The connection ended: say so once and start reconnecting."""
        self._logger.info(
            "Lost the connection to %s (%s): %s; reconnecting",
            self.name,
            self.address,
            error or "closed by the appliance",
        )
        self.start()

    def start(self) -> None:
        """Start the loop unless it runs already (or ``stop()`` was called)."""
        if not self._stopped and not self.running:
            self._wake.clear()
            self._wake_helps = True
            self.task = self._create_task(self._loop(), self._task_name)

    def wake(self) -> None:
        """Discovery saw the appliance: try now instead of waiting out the backoff.

        Ignored after a failure that ``discovery_helps`` says seeing the
        appliance cannot end: the backoff then runs on.
        """
        if self.running and self._wake_helps:
            self._wake.set()

    async def attempt_now(self) -> bool:
        """Try at once, whatever the last failure, and wait for that attempt.

        False if the loop is not running.
        """
        if not self.running:
            return False
        attempt_done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._attempt_waiters.append(attempt_done)
        self._wake.set()
        await attempt_done
        return True

    async def stop(self) -> None:
        """End the loop for good and wait for it."""
        self._stopped = True
        task, self.task = self.task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise

    def _attempt_finished(self) -> None:
        waiters, self._attempt_waiters = self._attempt_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _loop(self) -> None:
        reported = False
        try:
            attempt = 0
            while not self._stopped:
                try:
                    async with asyncio.timeout(reconnect_delay(attempt)):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                self._wake.clear()
                attempt += 1
                try:
                    outcome = await self._attempt()
                except Exception as err:  # the loop must outlive any bug
                    self._failed(err)
                    if not reported:
                        reported = True
                        self._logger.warning(
                            "Unexpected error reconnecting to %s; retrying with backoff",
                            self.name,
                            exc_info=True,
                        )
                    else:
                        self._logger.debug("Reconnect to %s failed: %r", self.name, err)
                    outcome = False
                self._attempt_finished()
                if outcome is not False:
                    return
        finally:
            self._attempt_finished()

    def _failed(self, err: Exception) -> None:
        """Tell the owner, and hold wakes if seeing the appliance cannot end this failure."""
        if self._on_failure is not None:
            self._on_failure(err)
        self._wake_helps = self._discovery_helps is None or self._discovery_helps(err)
        if not self._wake_helps:
            # Sightings during the attempt (a BLE one can take seconds) must not
            # start the next at once; attempt_now() callers heard this attempt's end.
            self._wake.clear()

    async def _attempt(self) -> bool | None:
        """One attempt: True connected, False failed (retry), None key rejected (give up)."""
        try:
            await self._connect()
        except LinkError as err:
            self._failed(err)
            if err.means(KeyRejectedError):
                self._logger.info("%s rejected the stored key; asking to pair again", self.name)
                self._on_key_rejected(err)
                return None
            self._logger.debug("Reconnect to %s failed: %s", self.name, err)
            return False
        self._logger.info("Connection to %s restored", self.name)
        self._on_connected()
        return True
