"""Fixtures: a real ApplianceServer on 127.0.0.1 with an in-memory backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TypedDict, Unpack

import pytest

from custom_components.liuzhou_appliances.link.client import (
    ApplianceClient,
    InvalidValueCallback,
)
from custom_components.liuzhou_appliances.link.pairing import PairingLimiter, PairingWindow
from custom_components.liuzhou_appliances.link.server import ApplianceServer, MemoryKeyStore

from .backend import AC_IDENTITY, MemoryBackend

CODE = "1234-5678"
HUB_ID = "hub-test"
KEY = bytes(range(32))


class ClientOptions(TypedDict, total=False):
    """ApplianceClient's optional keyword arguments."""

    keepalive_interval: float
    request_timeout: float
    keepalive_timeout: float
    on_invalid_value: InvalidValueCallback | None


class FakeClock:
    """Injectable monotonic clock for the pairing limiter and window."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """Real TCP on 127.0.0.1 (the Home Assistant test plugin allows only that host)."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


@pytest.fixture
def key_store() -> MemoryKeyStore:
    return MemoryKeyStore(KEY)


@pytest.fixture
async def server(
    backend: MemoryBackend, key_store: MemoryKeyStore, clock: FakeClock
) -> AsyncIterator[ApplianceServer]:
    srv = ApplianceServer(
        backend,
        AC_IDENTITY,
        pairing_code=CODE,
        key_store=key_store,
        pairing_limiter=PairingLimiter(clock=clock),
        pairing_window=PairingWindow(clock=clock),
        keepalive_timeout=5.0,
        handshake_timeout=2.0,
        operation_timeout=2.0,
    )
    await srv.start("127.0.0.1", 0)
    yield srv
    await srv.stop()


@pytest.fixture
async def make_client(
    server: ApplianceServer,
) -> AsyncIterator[Callable[..., ApplianceClient]]:
    clients: list[ApplianceClient] = []

    def factory(key: bytes = KEY, **kwargs: Unpack[ClientOptions]) -> ApplianceClient:
        options: ClientOptions = {"request_timeout": 2.0} | kwargs
        client = ApplianceClient("127.0.0.1", server.port, key, hub_id=HUB_ID, **options)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.disconnect()


@pytest.fixture
async def client(make_client: Callable[..., ApplianceClient]) -> ApplianceClient:
    c = make_client()
    await c.connect()
    return c
