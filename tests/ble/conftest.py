"""Fixtures: an ApplianceServer served over BLE on a virtual controller, a hub central beside it.

Both sides run the real Bumble host stack; the two virtual controllers meet
on one ``LocalLink``. No TCP: the server is never started on a port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from bumble.device import Device
import pytest

from custom_components.liuzhou_appliances.link.backend import ApplianceIdentity
from custom_components.liuzhou_appliances.link.ble_client import BleTransport
from custom_components.liuzhou_appliances.link.pairing import PairingLimiter, PairingWindow
from custom_components.liuzhou_appliances.link.server import ApplianceServer, MemoryKeyStore
from custom_components.liuzhou_appliances.link.transport import FrameTransport
from firmware_bridge.ble import BlePeripheral, VirtualLink
from firmware_bridge.ble.central import BumbleGattClient, central_device, connector
from tests.link.backend import AC_IDENTITY, MemoryBackend

CODE = "1234-5678"
HUB_ID = "hub-ble"
KEY = bytes(range(32))


@dataclass
class BleAppliance:
    """An appliance served over BLE only."""

    server: ApplianceServer
    backend: MemoryBackend
    peripheral: BlePeripheral
    key_store: MemoryKeyStore

    @property
    def address(self) -> str:
        return self.peripheral.address


@dataclass
class Hub:
    """The hub's central and the transports it opened (newest last)."""

    device: Device
    transports: list[BleTransport] = field(default_factory=list)

    def opener(self, address: str, mtu: int = 517) -> Callable[[], Awaitable[FrameTransport]]:
        """An ``open_transport`` for pair() and ApplianceClient."""

        async def open_transport() -> FrameTransport:
            transport = await BleTransport.open(connector(self.device, address, mtu=mtu))
            self.transports.append(transport)
            return transport

        return open_transport

    @property
    def client(self) -> BumbleGattClient:
        """The GATT client of the newest transport."""
        client = self.transports[-1].client
        assert isinstance(client, BumbleGattClient)
        return client


@pytest.fixture
def virtual_link() -> VirtualLink:
    return VirtualLink()


@pytest.fixture
async def hub(virtual_link: VirtualLink) -> Hub:
    device = central_device(virtual_link.link)
    await device.power_on()
    return Hub(device)


type MakeAppliance = Callable[..., Awaitable[BleAppliance]]


@pytest.fixture
async def make_appliance(virtual_link: VirtualLink) -> AsyncIterator[MakeAppliance]:
    started: list[BleAppliance] = []

    async def make(
        *,
        key: bytes | None = KEY,
        backend: MemoryBackend | None = None,
        identity: ApplianceIdentity = AC_IDENTITY,
    ) -> BleAppliance:
        backend = backend or MemoryBackend()
        key_store = MemoryKeyStore(key)
        server = ApplianceServer(
            backend,
            identity,
            pairing_code=CODE,
            key_store=key_store,
            pairing_limiter=PairingLimiter(),
            pairing_window=PairingWindow(),
            handshake_timeout=3.0,
            operation_timeout=2.0,
        )
        peripheral = BlePeripheral(
            virtual_link.radio(identity.appliance_id),
            identity,
            server.serve,
            lambda: server.paired,
        )
        await peripheral.start()
        appliance = BleAppliance(server, backend, peripheral, key_store)
        started.append(appliance)
        return appliance

    yield make
    for appliance in started:
        await appliance.peripheral.stop()
        await appliance.server.stop()
