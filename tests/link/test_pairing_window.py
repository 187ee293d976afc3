"""The pairing window: when an appliance accepts commissioning, and a count of
failed attempts that neither a reboot nor a stranger can turn against the owner."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import json
import os
from pathlib import Path
import stat

import pytest

from custom_components.liuzhou_appliances.link.client import PlaintextConnection, pair
from custom_components.liuzhou_appliances.link.codec import FrameType
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.pairing import (
    PAIRING_WINDOW_S,
    FilePairingStateStore,
    MemoryPairingStateStore,
    PairingInitiator,
    PairingLimiter,
    PairingWindow,
)
from custom_components.liuzhou_appliances.link.server import ApplianceServer, MemoryKeyStore

from .backend import AC_IDENTITY, MemoryBackend
from .conftest import CODE, HUB_ID, KEY, FakeClock

WRONG = "8765-4321"


async def _pair_error(server: ApplianceServer, code: str) -> LinkError:
    with pytest.raises(LinkError) as caught:
        await pair("127.0.0.1", server.port, code, hub_id=HUB_ID, timeout=2)
    return caught.value


async def _start_and_walk_away(server: ApplianceServer, code: str = WRONG) -> None:
    """A stranger: HELLO, PAIR START, read the REPLY (one guess checked), close."""
    stream = await PlaintextConnection.open("127.0.0.1", server.port, 2)
    try:
        info, transcript = await stream.hello(HUB_ID)
        guess = PairingInitiator(
            code, hub_id=HUB_ID, appliance_id=info.appliance_id, hello_transcript=transcript
        )
        await stream.send(FrameType.PAIR, guess.start())
        await stream.receive(FrameType.PAIR)
    finally:
        await stream.close()


@pytest.fixture
def store() -> MemoryPairingStateStore:
    return MemoryPairingStateStore()


type Store = MemoryPairingStateStore | FilePairingStateStore
type MakeServer = Callable[[MemoryKeyStore, Store], Awaitable[ApplianceServer]]


@pytest.fixture
async def make_server(clock: FakeClock) -> AsyncIterator[MakeServer]:
    """Start servers on 127.0.0.1 with the fake clock; ``restart`` powers one off and on."""
    running: list[ApplianceServer] = []

    async def start(key_store: MemoryKeyStore, store: Store) -> ApplianceServer:
        server = ApplianceServer(
            MemoryBackend(),
            AC_IDENTITY,
            pairing_code=CODE,
            key_store=key_store,
            pairing_limiter=PairingLimiter(clock=clock, store=store),
            pairing_window=PairingWindow(clock=clock),
            handshake_timeout=2.0,
        )
        await server.start("127.0.0.1", 0)
        running.append(server)
        return server

    yield start
    for server in running:
        await server.stop()


# --- the window ------------------------------------------------------------------


def test_window_is_open_while_unpaired_and_after_the_button_for_15_minutes() -> None:
    clock = FakeClock()
    window = PairingWindow(clock=clock)
    assert window.duration == PAIRING_WINDOW_S == 900
    assert window.is_open(paired=False)
    assert not window.is_open(paired=True)
    window.open()
    clock.now += 899
    assert window.is_open(paired=True)
    assert window.remaining() == 1
    clock.now += 1
    assert not window.is_open(paired=True)
    with pytest.raises(LinkError) as caught:
        window.check(paired=True)
    assert caught.value.code is ErrorCode.INVALID_STATE
    assert "pairing button" in caught.value.message
    window.open()
    window.close()
    assert not window.is_open(paired=True)
    assert window.is_open(paired=False)


async def test_outside_the_window_pairing_is_refused_at_once_and_not_counted(
    server: ApplianceServer, key_store: MemoryKeyStore
) -> None:
    # Paired, nobody pressed the button: more refusals than the lockout allows failures.
    for code in (WRONG, CODE) * 4:
        error = await _pair_error(server, code)
        assert error.code is ErrorCode.INVALID_STATE
        assert "press the pairing button" in error.message
    assert server.pairing_limiter.failures == 0
    assert server.pairing_limiter.retry_after() == 0
    assert server.key == key_store.load() == KEY
    # The owner presses the button: not locked, the right code pairs at once.
    server.open_pairing_window()
    result = await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID, timeout=2)
    assert server.key == result.key != KEY


async def test_start_outside_the_window_gets_an_error_not_a_reply(
    server: ApplianceServer,
) -> None:
    stream = await PlaintextConnection.open("127.0.0.1", server.port, 2)
    try:
        info, transcript = await stream.hello(HUB_ID)
        hub = PairingInitiator(
            CODE, hub_id=HUB_ID, appliance_id=info.appliance_id, hello_transcript=transcript
        )
        await stream.send(FrameType.PAIR, hub.start())
        with pytest.raises(LinkError) as caught:
            await stream.receive(FrameType.PAIR)  # no REPLY: no guess can be checked
        assert caught.value.code is ErrorCode.INVALID_STATE
    finally:
        await stream.close()


async def test_the_window_closes_when_paired_and_when_it_expires(
    server: ApplianceServer, clock: FakeClock
) -> None:
    server.open_pairing_window()
    assert server.pairing_open
    await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID, timeout=2)
    assert not server.pairing_open
    assert (await _pair_error(server, CODE)).code is ErrorCode.INVALID_STATE
    server.open_pairing_window()
    clock.now += PAIRING_WINDOW_S
    assert (await _pair_error(server, CODE)).code is ErrorCode.INVALID_STATE


async def test_an_unpaired_appliance_is_open_until_paired(server: ApplianceServer) -> None:
    server.factory_reset()
    assert server.pairing_open
    result = await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID, timeout=2)
    assert server.key == result.key
    assert not server.pairing_open


# --- strangers and the owner -----------------------------------------------------


async def test_abandoned_attempts_outside_the_window_cannot_lock_the_owner_out(
    server: ApplianceServer,
) -> None:
    for _ in range(8):
        with pytest.raises(LinkError) as caught:
            await _start_and_walk_away(server)
        assert caught.value.code is ErrorCode.INVALID_STATE
    server.open_pairing_window()
    result = await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID, timeout=2)
    assert server.key == result.key


async def test_the_button_gives_the_owner_a_fresh_start_after_a_strangers_lockout(
    server: ApplianceServer,
) -> None:
    server.factory_reset()  # unpaired: open to anyone on the LAN
    for _ in range(5):
        await _start_and_walk_away(server)
    assert (await _pair_error(server, CODE)).code is ErrorCode.RATE_LIMITED
    server.open_pairing_window()
    result = await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID, timeout=2)
    assert server.key == result.key
    assert server.pairing_limiter.failures == 0


async def test_a_guess_is_counted_and_saved_before_the_reply_leaves(
    make_server: MakeServer, store: MemoryPairingStateStore
) -> None:
    server = await make_server(MemoryKeyStore(), store)
    stream = await PlaintextConnection.open("127.0.0.1", server.port, 2)
    try:
        info, transcript = await stream.hello(HUB_ID)
        hub = PairingInitiator(
            CODE, hub_id=HUB_ID, appliance_id=info.appliance_id, hello_transcript=transcript
        )
        await stream.send(FrameType.PAIR, hub.start())
        reply = await stream.receive(FrameType.PAIR)
        # The hub can check its guess now, whatever it does next: already on record.
        assert store.failures == 1
        await stream.send(FrameType.PAIR, hub.handle_reply(reply.payload))
        await stream.receive(FrameType.PAIR)  # KEY: the code was right
        assert store.failures == 0
    finally:
        await stream.close()


# --- across reboots --------------------------------------------------------------


async def test_the_failure_count_and_lockout_survive_a_reboot(
    make_server: MakeServer, tmp_path: Path, clock: FakeClock
) -> None:
    key_store = MemoryKeyStore()
    path = tmp_path / "lz-ac-3f2a9c01.pairing.json"
    server = await make_server(key_store, FilePairingStateStore(path))
    for _ in range(3):
        assert (await _pair_error(server, WRONG)).code is ErrorCode.WRONG_CODE
    await server.stop()
    # Power cycle: a new limiter reads the count; two more failures lock as five would.
    server = await make_server(key_store, FilePairingStateStore(path))
    assert server.pairing_limiter.failures == 3
    for _ in range(2):
        assert (await _pair_error(server, WRONG)).code is ErrorCode.WRONG_CODE
    assert (await _pair_error(server, CODE)).code is ErrorCode.RATE_LIMITED
    clock.now += 10
    await server.stop()
    # Rebooting while locked restarts the full lockout: no fresh tries, no shortcut.
    server = await make_server(key_store, FilePairingStateStore(path))
    error = await _pair_error(server, CODE)
    assert error.code is ErrorCode.RATE_LIMITED
    assert error.retry_after == 30
    clock.now += 30
    result = await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID, timeout=2)
    assert key_store.load() == result.key
    assert json.loads(path.read_text()) == {"failures": 0}


def test_file_pairing_state_store(tmp_path: Path) -> None:
    store = FilePairingStateStore(tmp_path / "sub" / "appliance.pairing.json")
    assert store.load() == 0
    store.save(7)
    assert store.load() == 7
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["appliance.pairing.json"]
    for damaged in ("", "[]", '{"failures": -1}', '{"failures": true}', '{"failures": "3"}'):
        store.path.write_text(damaged)
        with pytest.raises(ValueError, match="Expecting value|holds no failure count"):
            store.load()


def test_a_damaged_record_starts_locked_instead_of_with_fresh_tries(tmp_path: Path) -> None:
    path = tmp_path / "appliance.pairing.json"
    path.write_text("{not json")
    limiter = PairingLimiter(clock=FakeClock(), store=FilePairingStateStore(path))
    assert limiter.failures == 5
    assert limiter.retry_after() == 30


def test_a_failure_that_cannot_be_saved_raises() -> None:
    class FullDisk(MemoryPairingStateStore):
        def save(self, failures: int) -> None:
            raise OSError(28, "No space left on device")

    limiter = PairingLimiter(clock=FakeClock(), store=FullDisk())
    with pytest.raises(OSError, match="No space left"):
        limiter.record_failure()
    limiter.reset()  # logged, not raised: a higher count on disk errs on the safe side
    assert limiter.failures == 0
