"""ReconnectLogic's wake-ups: a sighting shortens the backoff only when it can help.

No sockets: ``connect`` is a function that fails as each test says. The backoff
is patched to "first attempt at once, then a long wait", so an attempt that
comes before the test ends was started by ``wake()`` or ``attempt_now()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from custom_components.liuzhou_appliances.link import reconnect as reconnect_module
from custom_components.liuzhou_appliances.link.errors import ApplianceUnreachable, LinkError
from custom_components.liuzhou_appliances.link.reconnect import ReconnectLogic


class NoFreeSlot(ApplianceUnreachable):
    """Stands for a proxy without a free connection: seeing the appliance changes nothing."""


class Appliance:
    """Counts connect attempts and fails each with ``error`` (None: connects)."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error
        self.attempts = 0
        self.in_attempt = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def connect(self) -> None:
        self.attempts += 1
        self.in_attempt.set()
        await self.release.wait()
        self.in_attempt.clear()
        if self.error is not None:
            raise self.error


@pytest.fixture(autouse=True)
def _first_at_once_then_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        reconnect_module, "reconnect_delay", lambda attempt: 0.0 if attempt == 0 else 3600.0
    )


def _logic(appliance: Appliance, connected: list[bool]) -> ReconnectLogic:
    return ReconnectLogic(
        name="Dishwasher",
        address="C0:11:22:33:44:55",
        connect=appliance.connect,
        on_connected=lambda: connected.append(True),
        on_key_rejected=lambda _err: None,
        discovery_helps=lambda err: not isinstance(err, NoFreeSlot),
    )


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


async def _let_run() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_wake_after_a_failure_a_sighting_can_end_tries_at_once() -> None:
    appliance = Appliance(ApplianceUnreachable("not in range"))
    logic = _logic(appliance, [])
    logic.start()
    await _until(lambda: appliance.attempts == 1)
    await _let_run()
    logic.wake()
    await _until(lambda: appliance.attempts == 2)
    await logic.stop()


async def test_wakes_after_a_failure_a_sighting_cannot_end_keep_the_backoff() -> None:
    appliance = Appliance(NoFreeSlot("no free connection"))
    logic = _logic(appliance, [])
    logic.start()
    await _until(lambda: appliance.attempts == 1)
    for _ in range(50):
        logic.wake()
        await _let_run()
    assert appliance.attempts == 1
    await logic.stop()


async def test_wakes_during_an_attempt_that_then_finds_no_slot_are_dropped() -> None:
    appliance = Appliance(NoFreeSlot("no free connection"))
    appliance.release.clear()
    logic = _logic(appliance, [])
    logic.start()
    await _until(appliance.in_attempt.is_set)
    for _ in range(10):
        logic.wake()  # advertisements while the proxy tries for seconds
    appliance.release.set()
    await _until(lambda: not appliance.in_attempt.is_set())
    await _let_run()
    assert appliance.attempts == 1
    await logic.stop()


async def test_attempt_now_tries_whatever_the_last_failure() -> None:
    appliance = Appliance(NoFreeSlot("no free connection"))
    connected: list[bool] = []
    logic = _logic(appliance, connected)
    logic.start()
    await _until(lambda: appliance.attempts == 1)
    await _let_run()
    appliance.error = None  # a slot was freed; the user asks to retry now
    assert await logic.attempt_now()
    assert appliance.attempts == 2
    assert connected == [True]
    assert not logic.running


async def test_a_failure_a_sighting_can_end_lets_wakes_through_again() -> None:
    appliance = Appliance(NoFreeSlot("no free connection"))
    logic = _logic(appliance, [])
    logic.start()
    await _until(lambda: appliance.attempts == 1)
    appliance.error = ApplianceUnreachable("not in range")
    assert await logic.attempt_now()
    assert appliance.attempts == 2
    logic.wake()
    await _until(lambda: appliance.attempts == 3)
    await logic.stop()


async def test_without_discovery_helps_every_failure_lets_wakes_through() -> None:
    appliance = Appliance(LinkError("busy"))
    logic = ReconnectLogic(
        name="Dishwasher",
        address="C0:11:22:33:44:55",
        connect=appliance.connect,
        on_connected=lambda: None,
        on_key_rejected=lambda _err: None,
    )
    logic.start()
    await _until(lambda: appliance.attempts == 1)
    await _let_run()
    logic.wake()
    await _until(lambda: appliance.attempts == 2)
    await logic.stop()
