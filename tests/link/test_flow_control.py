"""Flow control and keepalive on the appliance side, over real sessions on 127.0.0.1.

A hub that reads slowly gets pushes merged (fewer, fresher) and keeps its
session; answers are never lost or overtaken; a hub that stops reading
altogether, or goes silent, is still closed after ``keepalive_timeout``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.client import ApplianceClient, SecureChannel
from custom_components.liuzhou_appliances.link.errors import ApplianceUnreachable
from custom_components.liuzhou_appliances.link.model import Value
from custom_components.liuzhou_appliances.link.server import ApplianceServer

from .backend import MemoryBackend
from .conftest import HUB_ID, KEY
from .tcp import tcp
from .util import eventually

LOGGER = "custom_components.liuzhou_appliances.link.server"
# Keys whose values the test numbers; five values of ~3 kB fit one push together.
KEYS = ("mode", "fan_speed", "swing", "power", "energy")
PADDING = "x" * 3000


def numbered(n: int) -> str:
    """A value that sorts by the change that made it, large enough to fill buffers soon."""
    return f"{n:07d}{PADDING}"


def burst(backend: MemoryBackend, n: int, size: int = 100) -> int:
    """Make changes ``n`` to ``n + size - 1`` at once; the last of each key is ``numbered``.

    The others are short (cheaper to check and merge); all sort by their number.
    """
    for m in range(n, n + size):
        value = numbered(m) if m >= n + size - len(KEYS) else f"{m:07d}"
        backend.change({KEYS[m % len(KEYS)]: value})
    return n + size


async def subscribed_channel(server: ApplianceServer) -> SecureChannel:
    channel = await SecureChannel.open("127.0.0.1", server.port, KEY, hub_id=HUB_ID, io_timeout=2.0)
    channel.send_message({"id": 1, "type": "subscribe"})
    assert (await channel.receive_message(2))["result"] == {"seq": server.seq}
    return channel


def hub_socket(channel: SecureChannel) -> asyncio.Transport:
    """The hub's end of the connection, to stop and resume its reading."""
    socket = tcp(channel.transport).writer.transport
    assert isinstance(socket, asyncio.Transport)
    return socket


def appliance_writes_stalled(server: ApplianceServer) -> bool:
    """Whether the appliance's writer waits: its socket took no more, its buffer is full."""
    (conn,) = server._connections
    socket = tcp(conn.transport).writer.transport
    return socket.get_write_buffer_size() > socket.get_write_buffer_limits()[1]


async def stall(
    server: ApplianceServer, backend: MemoryBackend, channel: SecureChannel, *, ping: bool = False
) -> int:
    """Stop the hub reading and change values until the appliance's writes stall.

    With ``ping`` the hub pings meanwhile (ids from 10000 on), as it would.
    Returns the number of changes made (the values are ``numbered(0 ... n - 1)``).
    """
    hub_socket(channel).pause_reading()
    n = 0
    while not appliance_writes_stalled(server):
        n = burst(backend, n)  # far above the old 64-message queue: it closed the session here
        if ping:
            channel.send_message({"id": 10_000 + n, "type": "ping"})
        await asyncio.sleep(0)  # the writer sends one (merged) push per turn
    return n


async def test_hub_that_pauses_reading_keeps_its_session_and_gets_the_latest_values(
    server: ApplianceServer, backend: MemoryBackend
) -> None:
    channel = await subscribed_channel(server)
    try:
        n = await stall(server, backend, channel)
        reads: list[int] = []
        for _ in range(40):  # answers queue up between merged pushes
            n = burst(backend, n)
            reads.append(100 + len(reads))
            channel.send_message({"id": reads[-1], "type": "read", "keys": list(KEYS)})
            await asyncio.sleep(0.01)
        assert appliance_writes_stalled(server)
        assert server.session_count == 1
        hub_socket(channel).resume_reading()

        pushes: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        latest: dict[str, str] = {}
        while not pushes or pushes[-1]["seq"] < server.seq or len(answers) < len(reads):
            message = await channel.receive_message(5)
            if message["type"] == "changed":
                pushes.append(message)
                values = message["values"]
            else:
                answers.append(message)
                values = message["result"]["values"]
            # Nothing older ever arrives after something newer, answers to reads included.
            for key, value in values.items():
                assert value >= latest.get(key, ""), key
                latest[key] = value
        seqs = [push["seq"] for push in pushes]
        assert seqs == sorted(set(seqs))
        assert seqs[-1] == server.seq == n
        assert len(pushes) < n // 10  # merged, not one push per change
        assert latest == {key: numbered(n - len(KEYS) + i) for i, key in enumerate(KEYS)}
        assert [answer["id"] for answer in answers] == reads
        assert server.session_count == 1
        # The session goes on as usual.
        channel.send_message({"id": 999, "type": "ping"})
        assert await channel.receive_message(2) == {"id": 999, "result": {}, "type": "result"}
    finally:
        await channel.close()


async def test_answers_are_never_lost_while_pushes_merge(
    server: ApplianceServer, backend: MemoryBackend
) -> None:
    """More requests than the answer queue holds while the hub reads nothing, and pushes."""
    channel = await subscribed_channel(server)
    try:
        await stall(server, backend, channel)
        for request_id in range(2, 302):
            channel.send_message({"id": request_id, "type": "ping"})
            for _ in range(20):
                backend.change({"humidity": request_id})
            await asyncio.sleep(0)
        await asyncio.sleep(0.2)
        hub_socket(channel).resume_reading()
        answered: list[int] = []
        humidity = 0
        while len(answered) < 300 or humidity < 301:
            message = await channel.receive_message(5)
            if message["type"] == "changed":
                humidity = message["values"].get("humidity", humidity)
            else:
                assert message == {"id": message["id"], "result": {}, "type": "result"}
                answered.append(message["id"])
        assert answered == list(range(2, 302))
        assert server.session_count == 1
    finally:
        await channel.close()


async def test_read_answer_is_not_overtaken_by_a_later_change(
    server: ApplianceServer, backend: MemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A push waiting ahead of a read's answer keeps what it had when the read was answered."""
    snapshots: list[dict[str, Value]] = []

    def snapshot() -> dict[str, Value]:
        snapshots.append(dict(backend.values))
        return snapshots[-1]

    monkeypatch.setattr(backend, "snapshot", snapshot)
    channel = await subscribed_channel(server)
    try:
        await stall(server, backend, channel)  # pushes now wait behind the writer
        backend.change({"humidity": 1})
        channel.send_message({"id": 7, "type": "read", "keys": ["humidity"]})
        await eventually(lambda: bool(snapshots))
        backend.change({"humidity": 2})  # after the read was answered
        hub_socket(channel).resume_reading()
        humidity: list[tuple[str, int]] = []
        while True:
            message = await channel.receive_message(5)
            if message["type"] == "changed":
                if "humidity" in message["values"]:
                    humidity.append(("push", message["values"]["humidity"]))
            else:
                humidity.append(("read", message["result"]["values"]["humidity"]))
            if message.get("seq") == server.seq:
                break
        assert humidity == [("push", 1), ("read", 1), ("push", 2)]
    finally:
        await channel.close()


async def test_merged_push_too_large_is_dropped_and_the_session_continues(
    client: ApplianceClient,
    backend: MemoryBackend,
    server: ApplianceServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each change fits a frame alone; merged (the writer had no turn between) they do not."""
    changes: list[dict[str, Any]] = []
    client.add_state_listener(lambda values: changes.append(dict(values)))
    with caplog.at_level(logging.ERROR, LOGGER):
        backend.change({"swing": "a" * 9000})
        backend.change({"mode": "b" * 9000})
        await asyncio.sleep(0.1)
    assert "cannot push changes up to 2 to hub-test" in caplog.text
    backend.change({"temperature": 26.0})
    await eventually(lambda: bool(changes))
    assert changes == [{"temperature": 26.0}]
    assert client.last_seq == 3
    assert client.connected


# --- keepalive ---------------------------------------------------------------------


async def test_hub_that_never_reads_is_closed_after_keepalive_timeout(
    server: ApplianceServer, backend: MemoryBackend, caplog: pytest.LogCaptureFixture
) -> None:
    """It keeps pinging, so only the writes that cannot drain close it."""
    server.keepalive_timeout = 0.5
    channel = await subscribed_channel(server)
    try:
        loop = asyncio.get_running_loop()
        with caplog.at_level(logging.INFO, LOGGER):
            n = await stall(server, backend, channel, ping=True)
            stalled_at = loop.time()
            while server.session_count and loop.time() < stalled_at + 10:
                n = burst(backend, n, 20)
                channel.send_message({"id": n, "type": "ping"})
                await asyncio.sleep(0.01)
        assert server.session_count == 0
        assert "cannot write to hub (TimeoutError())" in caplog.text
        assert "keepalive timeout" not in caplog.text
    finally:
        hub_socket(channel).abort()
        await channel.close()


async def test_silent_hub_is_closed_after_keepalive_timeout(
    server: ApplianceServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.keepalive_timeout = 0.3
    loop = asyncio.get_running_loop()
    with caplog.at_level(logging.INFO, LOGGER):
        channel = await subscribed_channel(server)
        last_sent = loop.time()
        channel.send_message({"id": 2, "type": "ping"})
        assert (await channel.receive_message(2))["id"] == 2
        with pytest.raises(ApplianceUnreachable):
            await channel.receive_message(3)
    assert loop.time() - last_sent >= 0.3
    assert server.session_count == 0
    assert "keepalive timeout: nothing from the hub for 0.3 s" in caplog.text
    await channel.close()


async def test_each_frame_pushes_the_keepalive_deadline_back(
    server: ApplianceServer, make_client: Callable[..., ApplianceClient]
) -> None:
    """Pings every 0.1 s keep a 0.25 s timeout from firing for well over its length."""
    server.keepalive_timeout = 0.25
    client = make_client(keepalive_interval=0.1)
    await client.connect()
    await asyncio.sleep(1.0)
    assert client.connected
    assert server.session_count == 1
    await client.disconnect()
    await eventually(lambda: server.session_count == 0)


async def test_keepalive_costs_no_timer_per_frame(
    server: ApplianceServer, backend: MemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hundreds of frames each way schedule about one keepalive timer, not one per frame."""
    server.keepalive_timeout = 60.0  # far from every other timer in this test
    loop = asyncio.get_running_loop()
    keepalive_timers: list[object] = []
    call_at = loop.call_at

    def counting_call_at(
        when: float, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> asyncio.TimerHandle:
        if when - loop.time() > 50:
            keepalive_timers.append(callback)
        return call_at(when, callback, *args, context=context)

    channel = await subscribed_channel(server)
    try:
        monkeypatch.setattr(loop, "call_at", counting_call_at)
        for request_id in range(2, 302):
            channel.send_message({"id": request_id, "type": "ping"})
            backend.change({"humidity": request_id})
            await asyncio.sleep(0)
        answered = 0
        while answered < 300:
            answered += (await channel.receive_message(5))["type"] == "result"
        assert len(keepalive_timers) <= 2
    finally:
        await channel.close()
