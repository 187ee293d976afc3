"""Keepalive on demand (PROTOCOL.md 7.4) and the session's fixed cost: one task, one timer.

The hub pings only after ``keepalive_interval`` without hearing the appliance,
or ``max_send_gap`` without sending it anything; a ping left unanswered for
``request_timeout`` ends the session. Real sockets on 127.0.0.1, against a
scripted appliance (which records the pings it gets) or the real server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.client import ApplianceClient
from custom_components.liuzhou_appliances.link.codec import (
    MessageType,
    changed_message,
    read_frame,
    result_message,
)
from custom_components.liuzhou_appliances.link.errors import ApplianceUnreachable
from custom_components.liuzhou_appliances.link.server import ApplianceServer

from .backend import MemoryBackend
from .conftest import HUB_ID, KEY
from .fake_appliance import FakeAppliance, Peer, correct_result

# Room for a loaded machine in the deadlines below; far less than what is measured.
MARGIN = 0.4


class ChattyAppliance:
    """A scripted appliance that answers requests (while ``answering``), records the
    time of each ping and pushes a change every ``push_every`` seconds (None: silent)."""

    def __init__(self, *, push_every: float | None = None) -> None:
        self.push_every = push_every
        self.answering = True
        self.pings: list[float] = []
        self.last_sent = 0.0

    async def __call__(self, peer: Peer) -> None:
        await peer.setup()
        self.last_sent = asyncio.get_running_loop().time()
        pusher = asyncio.create_task(self._push(peer))
        try:
            await self._answer(peer)
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher

    async def _answer(self, peer: Peer) -> None:
        assert peer.session is not None
        loop = asyncio.get_running_loop()
        while True:
            frame = await read_frame(peer.reader)  # no deadline: the hub decides when to talk
            request: dict[str, Any] = json.loads(peer.session.decrypt(frame.payload))
            if request["type"] == MessageType.PING:
                self.pings.append(loop.time())
            if self.answering:
                peer.send(result_message(request["id"], correct_result(request)))
                self.last_sent = loop.time()

    async def _push(self, peer: Peer) -> None:
        loop = asyncio.get_running_loop()
        seq = 0
        while True:
            if self.push_every is None:
                await asyncio.sleep(0.01)
                continue
            seq += 1
            peer.send(changed_message(seq, {"on": seq % 2 == 0}))
            self.last_sent = loop.time()
            await asyncio.sleep(self.push_every)


def _client(port: int, **options: Any) -> ApplianceClient:
    return ApplianceClient("127.0.0.1", port, KEY, hub_id=HUB_ID, **options)


async def test_pings_are_skipped_while_the_appliance_pushes_and_sent_when_it_is_silent() -> None:
    appliance = ChattyAppliance(push_every=0.05)
    async with FakeAppliance(appliance) as fake:
        client = _client(fake.port, keepalive_interval=0.5, request_timeout=1.0, max_send_gap=60)
        changes: list[object] = []
        client.add_state_listener(changes.append)
        await client.connect()
        try:
            loop = asyncio.get_running_loop()
            await asyncio.sleep(1.5)  # three intervals, a push every tenth of one
            assert len(changes) > 10
            assert appliance.pings == []
            appliance.push_every = None  # still answers, says nothing unasked
            silent_since = appliance.last_sent
            await asyncio.sleep(1.5)
            assert len(appliance.pings) >= 2
            assert appliance.pings[0] - silent_since < 0.5 + MARGIN
            assert all(
                later - earlier >= 0.5
                for earlier, later in zip(appliance.pings, appliance.pings[1:], strict=False)
            )
            assert loop.time() - appliance.pings[-1] < 0.5 + MARGIN  # and it keeps pinging
            assert client.connected
        finally:
            await client.disconnect()


@pytest.mark.parametrize(("max_send_gap", "survives"), [(0.15, True), (60.0, False)])
async def test_the_hub_speaks_before_the_appliance_idle_timeout_while_it_pushes(
    server: ApplianceServer, backend: MemoryBackend, max_send_gap: float, survives: bool
) -> None:
    """Pushes keep the hub from pinging for silence; the send gap still reaches the appliance.

    The second case shows the check can fail: without the gap rule the
    appliance, hearing nothing, ends the session.
    """
    server.keepalive_timeout = 0.5
    client = _client(
        server.port, keepalive_interval=10.0, request_timeout=1.0, max_send_gap=max_send_gap
    )
    endings: list[Exception | None] = []
    client.add_disconnect_listener(endings.append)
    await client.connect()
    try:
        for n in range(30):  # 1.5 s, three of the appliance's idle timeouts
            backend.change({"on": n % 2 == 0})
            await asyncio.sleep(0.05)
        if survives:
            assert endings == []
            assert client.connected
            assert server.session_count == 1
        else:
            assert len(endings) == 1
            assert isinstance(endings[0], ApplianceUnreachable)
            assert server.session_count == 0
    finally:
        await client.disconnect()


async def test_a_silent_appliance_is_detected_within_interval_plus_request_timeout() -> None:
    appliance = ChattyAppliance(push_every=0.05)
    async with FakeAppliance(appliance) as fake:
        client = _client(fake.port, keepalive_interval=0.3, request_timeout=0.2)
        ended = asyncio.Event()
        endings: list[Exception | None] = []

        def on_end(error: Exception | None) -> None:
            endings.append(error)
            ended.set()

        client.add_disconnect_listener(on_end)
        await client.connect()
        await asyncio.sleep(0.6)  # pushes: the session lives past interval + timeout
        assert client.connected
        appliance.answering = False
        appliance.push_every = None  # from now on, not a frame
        await asyncio.wait_for(ended.wait(), 0.3 + 0.2 + MARGIN + 1)
        loop = asyncio.get_running_loop()
        silent_for = loop.time() - appliance.last_sent
        assert 0.3 + 0.2 - 0.05 <= silent_for <= 0.3 + 0.2 + MARGIN
        assert len(appliance.pings) == 1
        assert isinstance(endings[0], ApplianceUnreachable)
        assert str(endings[0]) == "keepalive failed: TIMEOUT: no answer to ping in 0.2 s"
        assert not client.connected
        assert not client._timer.armed
        assert await fake.hub_closed()


async def test_received_frames_create_no_timers_and_a_session_has_one_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frames = 200
    go = asyncio.Event()

    async def push_a_burst(peer: Peer) -> None:
        await peer.setup()
        await go.wait()
        for seq in range(1, frames + 1):
            peer.send(changed_message(seq, {"on": seq % 2 == 0}))
        await peer.writer.drain()

    async with FakeAppliance(push_a_burst) as fake:
        client = _client(fake.port, request_timeout=1.0)
        heard = asyncio.Event()
        client.add_state_listener(lambda _: heard.set() if client.last_seq == frames else None)
        await client.connect()
        try:
            assert len(client._tasks) == 1  # the read loop, no keepalive task
            assert client._timer.armed
            loop = asyncio.get_running_loop()
            scheduled: list[object] = []
            call_at = loop.call_at

            def counting_call_at(when: float, callback: Any, *args: Any, **kw: Any) -> Any:
                scheduled.append(callback)
                return call_at(when, callback, *args, **kw)

            monkeypatch.setattr(loop, "call_at", counting_call_at)
            go.set()
            async with asyncio.timeout(5):  # one timer, the test's own
                await heard.wait()
            monkeypatch.undo()
            assert client.last_seq == frames
            assert len(scheduled) <= 1, scheduled
            assert len(client._tasks) == 1
            assert client.connected
        finally:
            monkeypatch.undo()
            await client.disconnect()
