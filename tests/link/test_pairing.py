"""Commissioning: code handling, SPAKE2 exchange, rate limit, re-pairing, factory reset."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import os
from pathlib import Path
import stat

import pytest

from custom_components.liuzhou_appliances.link.client import ApplianceClient, pair
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.pairing import (
    InvalidPairingCode,
    PairingInitiator,
    PairingLimiter,
    PairingResponder,
    format_pairing_code,
    generate_pairing_code,
    normalise_pairing_code,
)
from custom_components.liuzhou_appliances.link.server import (
    ApplianceServer,
    FileKeyStore,
    MemoryKeyStore,
)

from .backend import AC_IDENTITY, MemoryBackend
from .conftest import CODE, HUB_ID, KEY, FakeClock
from .util import eventually


@pytest.mark.parametrize("code", ["1234-5678", "12345678", " 1234 5678 ", "1234-5678\n"])
def test_normalise_accepts_printed_forms(code: str) -> None:
    assert normalise_pairing_code(code) == "12345678"
    assert format_pairing_code(code) == "1234-5678"


@pytest.mark.parametrize(
    "code", ["", "1234567", "123456789", "1234--5678", "abcd-efgh", "١٢٣٤٥٦٧٨"]
)
def test_normalise_rejects(code: str) -> None:
    with pytest.raises(InvalidPairingCode):
        normalise_pairing_code(code)


def test_generated_codes_are_valid() -> None:
    for _ in range(20):
        assert normalise_pairing_code(generate_pairing_code())


def _exchange(hub_code: str, appliance_code: str) -> tuple[PairingInitiator, PairingResponder]:
    hub = PairingInitiator(hub_code, hub_id="h", appliance_id="a", hello_transcript=b"t")
    appliance = PairingResponder(
        appliance_code, hub_id="h", appliance_id="a", hello_transcript=b"t"
    )
    return hub, appliance


def test_sans_io_exchange_agrees_on_a_fresh_key() -> None:
    hub, appliance = _exchange(CODE, CODE)
    confirm = hub.handle_reply(appliance.handle_start(hub.start()))
    ack = hub.handle_key(appliance.handle_confirm(confirm))
    key, done = appliance.handle_ack(ack)
    assert hub.handle_done(done) == key
    assert len(key) == 32
    other_hub, other_appliance = _exchange(CODE, CODE)
    other_key, _ = other_appliance.handle_ack(
        other_hub.handle_key(
            other_appliance.handle_confirm(
                other_hub.handle_reply(other_appliance.handle_start(other_hub.start()))
            )
        )
    )
    assert other_key != key


def test_mismatched_identity_or_transcript_is_a_wrong_code() -> None:
    hub = PairingInitiator(CODE, hub_id="h", appliance_id="a", hello_transcript=b"t")
    appliance = PairingResponder(CODE, hub_id="h", appliance_id="b", hello_transcript=b"t")
    with pytest.raises(LinkError) as caught:
        hub.handle_reply(appliance.handle_start(hub.start()))
    assert caught.value.code is ErrorCode.WRONG_CODE
    hub = PairingInitiator(CODE, hub_id="h", appliance_id="a", hello_transcript=b"t")
    appliance = PairingResponder(CODE, hub_id="h", appliance_id="a", hello_transcript=b"x")
    with pytest.raises(LinkError) as caught:
        hub.handle_reply(appliance.handle_start(hub.start()))
    assert caught.value.code is ErrorCode.WRONG_CODE


def test_wrong_confirmation_and_tampered_key_are_rejected() -> None:
    hub, appliance = _exchange(CODE, CODE)
    confirm = hub.handle_reply(appliance.handle_start(hub.start()))
    with pytest.raises(LinkError) as caught:
        appliance.handle_confirm(confirm[:-1] + bytes([confirm[-1] ^ 1]))
    assert caught.value.code is ErrorCode.WRONG_CODE
    hub, appliance = _exchange(CODE, CODE)
    key_payload = appliance.handle_confirm(hub.handle_reply(appliance.handle_start(hub.start())))
    with pytest.raises(LinkError) as caught:
        hub.handle_key(key_payload[:20] + bytes([key_payload[20] ^ 1]) + key_payload[21:])
    assert caught.value.code is ErrorCode.AUTH_FAILED


@pytest.mark.parametrize(
    "payload", [b"", b"\x01", b"\x01" + bytes(33), b"\x02" + bytes(32), b"\x01" + bytes(40)]
)
def test_malformed_start_is_malformed(payload: bytes) -> None:
    _, appliance = _exchange(CODE, CODE)
    with pytest.raises(LinkError) as caught:
        appliance.handle_start(payload)
    assert caught.value.code is ErrorCode.MALFORMED


def test_limiter_locks_out_and_doubles() -> None:
    clock = FakeClock()
    limiter = PairingLimiter(clock=clock)
    for _ in range(4):
        limiter.record_failure()
        limiter.check()
    limiter.record_failure()
    with pytest.raises(LinkError) as caught:
        limiter.check()
    assert caught.value.code is ErrorCode.RATE_LIMITED
    assert caught.value.retry_after == 30
    clock.now += 30
    limiter.check()
    limiter.record_failure()
    assert limiter.retry_after() == 60
    for _ in range(10):
        limiter.record_failure()
    assert limiter.retry_after() == 900
    limiter.record_success()
    limiter.check()


async def test_pair_with_right_code(server: ApplianceServer, key_store: MemoryKeyStore) -> None:
    key_store.clear()
    server.factory_reset()
    assert not server.paired
    result = await pair("127.0.0.1", server.port, "12345678", hub_id=HUB_ID, timeout=2)
    assert result.hello.appliance_id == "lz-ac-3f2a9c01"
    assert not result.hello.paired
    assert key_store.load() == result.key
    assert server.paired


async def test_wrong_code(server: ApplianceServer) -> None:
    server.open_pairing_window()  # paired already: someone presses its pairing button
    with pytest.raises(LinkError) as caught:
        await pair("127.0.0.1", server.port, "8765-4321", hub_id=HUB_ID, timeout=2)
    assert caught.value.code is ErrorCode.WRONG_CODE
    assert server.key == KEY
    await asyncio.sleep(0.05)
    assert server.pairing_limiter.failures == 1


async def test_rate_limit_and_recovery(server: ApplianceServer, clock: FakeClock) -> None:
    server.open_pairing_window()  # paired already: someone presses its pairing button
    for _ in range(5):
        with pytest.raises(LinkError) as caught:
            await pair("127.0.0.1", server.port, "0000-0000", hub_id=HUB_ID, timeout=2)
        assert caught.value.code is ErrorCode.WRONG_CODE
        await asyncio.sleep(0.02)
    # Locked: even the right code is refused until the lockout ends.
    with pytest.raises(LinkError) as caught:
        await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID, timeout=2)
    assert caught.value.code is ErrorCode.RATE_LIMITED
    assert caught.value.retry_after == 30
    clock.now += 31
    result = await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID, timeout=2)
    assert server.key == result.key
    assert server.pairing_limiter.failures == 0


async def test_abandoned_attempt_counts_as_failure(server: ApplianceServer) -> None:
    from custom_components.liuzhou_appliances.link.client import PlaintextConnection
    from custom_components.liuzhou_appliances.link.codec import FrameType

    server.open_pairing_window()  # paired already: someone presses its pairing button
    stream = await PlaintextConnection.open("127.0.0.1", server.port, 2)
    _, transcript = await stream.hello(HUB_ID)
    guess = PairingInitiator(
        "1111-1111", hub_id=HUB_ID, appliance_id="lz-ac-3f2a9c01", hello_transcript=transcript
    )
    await stream.send(FrameType.PAIR, guess.start())
    await stream.receive(FrameType.PAIR)
    await stream.close()  # checks the guess offline-style and walks away
    for _ in range(100):
        if server.pairing_limiter.failures:
            break
        await asyncio.sleep(0.01)
    assert server.pairing_limiter.failures == 1


async def test_repair_replaces_key_and_drops_old_sessions(
    server: ApplianceServer, make_client: Callable[..., ApplianceClient]
) -> None:
    old = make_client()
    await old.connect()
    reasons: list[Exception | None] = []
    old.add_disconnect_listener(reasons.append)
    server.open_pairing_window()  # paired already: someone presses its pairing button
    result = await pair("127.0.0.1", server.port, CODE, hub_id="hub-2", timeout=2)
    assert result.key != KEY
    await eventually(lambda: bool(reasons), 2)
    with pytest.raises(LinkError) as caught:
        await make_client(KEY).connect()
    assert caught.value.code is ErrorCode.AUTH_FAILED
    fresh = make_client(result.key)
    await fresh.connect()
    assert fresh.connected


async def test_factory_reset_clears_key_and_sessions(
    server: ApplianceServer,
    key_store: MemoryKeyStore,
    make_client: Callable[..., ApplianceClient],
) -> None:
    client = make_client()
    await client.connect()
    reasons: list[Exception | None] = []
    client.add_disconnect_listener(reasons.append)
    server.factory_reset()
    assert key_store.load() is None
    await eventually(lambda: bool(reasons), 2)
    again = make_client()
    with pytest.raises(LinkError) as caught:
        await again.connect()
    # Not paired any more: the hub must re-authenticate, so it hears AUTH_FAILED.
    assert caught.value.code is ErrorCode.AUTH_FAILED
    assert again.hello is not None
    assert not again.hello.paired


async def test_concurrent_pairing_is_busy(server: ApplianceServer) -> None:
    from custom_components.liuzhou_appliances.link.client import PlaintextConnection
    from custom_components.liuzhou_appliances.link.codec import FrameType

    server.open_pairing_window()  # paired already: someone presses its pairing button
    first = await PlaintextConnection.open("127.0.0.1", server.port, 2)
    _, transcript = await first.hello(HUB_ID)
    hub = PairingInitiator(
        CODE, hub_id=HUB_ID, appliance_id="lz-ac-3f2a9c01", hello_transcript=transcript
    )
    await first.send(FrameType.PAIR, hub.start())
    await first.receive(FrameType.PAIR)
    with pytest.raises(LinkError) as caught:
        await pair("127.0.0.1", server.port, CODE, hub_id="other", timeout=2)
    assert caught.value.code is ErrorCode.BUSY
    await first.close()


def test_file_key_store(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "sub" / "appliance.key")
    assert store.load() is None
    store.save(KEY)
    assert store.load() == KEY
    mode = stat.S_IMODE(os.stat(store.path).st_mode)
    assert mode == 0o600
    store.save(bytes(32))
    assert store.load() == bytes(32)
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["appliance.key"]
    store.path.write_bytes(b"short")
    assert store.load() is None
    store.clear()
    assert store.load() is None
    store.clear()
    with pytest.raises(ValueError, match="32"):
        store.save(b"x")


async def test_no_common_version(backend: MemoryBackend, key_store: MemoryKeyStore) -> None:
    server = ApplianceServer(
        backend, AC_IDENTITY, pairing_code=CODE, key_store=key_store, supported_versions=(2, 3)
    )
    await server.start("127.0.0.1", 0)
    try:
        with pytest.raises(LinkError) as caught:
            await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID, timeout=2)
        assert caught.value.code is ErrorCode.UNSUPPORTED_VERSION
        client = ApplianceClient("127.0.0.1", server.port, KEY, hub_id=HUB_ID, request_timeout=2)
        with pytest.raises(LinkError) as caught:
            await client.connect()
        assert caught.value.code is ErrorCode.UNSUPPORTED_VERSION
    finally:
        await server.stop()


async def test_connection_limit_is_busy(server: ApplianceServer) -> None:
    server.max_connections = 1
    from custom_components.liuzhou_appliances.link.client import PlaintextConnection

    holder = await PlaintextConnection.open("127.0.0.1", server.port, 2)
    await holder.hello(HUB_ID)
    with pytest.raises(LinkError) as caught:
        await pair("127.0.0.1", server.port, CODE, hub_id=HUB_ID, timeout=2)
    assert caught.value.code is ErrorCode.BUSY
    await holder.close()
