"""A bleak-compatible GATT client on Bumble's central, for tests and the benchmark.

``BumbleGattClient`` has the part of ``bleak.BleakClient`` that the hub uses
(``link.ble_client.GattClient``), so hub code written against bleak runs
against a real Bluetooth host stack: here, Bumble with a virtual controller
on the same ``LocalLink`` as the appliance's.

Two hooks stand in for a faulty radio: ``mangle_writes`` and
``mangle_notifications`` take one value and return the values to pass on
(none to drop it, two to duplicate, a held one later to reorder).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
import contextlib
from typing import Any, Final

from bumble.controller import Controller
from bumble.core import UUID
from bumble.device import Connection, ConnectionParametersPreferences, Device, Peer
from bumble.gatt_client import CharacteristicProxy
from bumble.hci import HCI_LE_1M_PHY, Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from custom_components.liuzhou_appliances.link.ble import SERVICE_UUID
from custom_components.liuzhou_appliances.link.ble_client import (
    ConnectGattClient,
    DisconnectedCallback,
)
from custom_components.liuzhou_appliances.link.errors import ApplianceUnreachable

# As BlueZ does: a write without response waits while the controller's buffers are full.
MAX_ACL_PENDING: Final = 8

type Mangle = Callable[[bytes], Sequence[bytes]]


def central_device(link: LocalLink, address: str = "F5:F4:F3:F2:F1:F0") -> Device:
    """A Bumble device (not powered on yet) on a virtual controller on ``link``."""
    controller = Controller(f"hub {address}", link=link)
    return Device(
        name="hub", address=Address(address), host=Host(controller, AsyncPipeSink(controller))
    )


class BumbleGattClient:
    """``bleak.BleakClient``'s connect, disconnect, mtu_size, write_gatt_char, start_notify."""

    def __init__(
        self,
        device: Device,
        address: str,
        *,
        disconnected_callback: DisconnectedCallback | None = None,
        mtu: int = 517,
        timeout: float = 5.0,
    ) -> None:
        self.device = device
        self._address = address
        self._disconnected_callback = disconnected_callback
        self._mtu_wanted = mtu
        self._timeout = timeout
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._characteristics: dict[str, CharacteristicProxy[bytes]] = {}
        self.mangle_writes: Mangle | None = None
        self.mangle_notifications: Mangle | None = None
        self._flow = asyncio.Event()

    @property
    def address(self) -> str:
        """The appliance's address."""
        return self._address

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        return self._connection is not None

    @property
    def mtu_size(self) -> int:
        """The negotiated ATT MTU."""
        return 23 if self._connection is None else int(self._connection.att_mtu)

    async def connect(self) -> bool:
        """Connect (PROTOCOL.md 11.2's parameters), exchange the MTU, discover the service."""
        async with asyncio.timeout(self._timeout):
            connection = await self.device.connect(
                Address(self._address),
                connection_parameters_preferences={
                    HCI_LE_1M_PHY: ConnectionParametersPreferences(
                        connection_interval_min=15,
                        connection_interval_max=30,
                        max_latency=0,
                        supervision_timeout=4000,
                    )
                },
            )
        self._connection = connection
        connection.on("disconnection", self._on_disconnection)
        peer = Peer(connection)
        self._peer = peer
        try:
            async with asyncio.timeout(self._timeout):
                if self._mtu_wanted > 23:
                    await peer.request_mtu(self._mtu_wanted)
                await peer.discover_services([UUID(SERVICE_UUID)])
                await peer.discover_characteristics()
        except BaseException:
            await self.disconnect()
            raise
        for service in peer.services:
            for characteristic in service.characteristics:
                self._characteristics[str(characteristic.uuid).lower()] = characteristic
        return True

    async def disconnect(self) -> bool:
        """Drop the link (at once if it is gone)."""
        connection = self._connection
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.disconnect()
        return True

    def _characteristic(self, uuid: str) -> CharacteristicProxy[bytes]:
        try:
            return self._characteristics[uuid.lower()]
        except KeyError:
            raise ApplianceUnreachable(f"no characteristic {uuid}") from None

    async def write_gatt_char(self, char_specifier: str, data: bytes, response: bool) -> None:
        """Write a value (without response unless ``response``)."""
        peer = self._peer
        if peer is None or self._connection is None:
            raise ApplianceUnreachable("not connected")
        characteristic = self._characteristic(char_specifier)
        values = [bytes(data)] if self.mangle_writes is None else self.mangle_writes(bytes(data))
        for value in values:
            await peer.write_value(characteristic, value, with_response=response)
            await self._wait_for_buffers()

    async def _wait_for_buffers(self) -> None:
        queue = self.device.host.le_acl_packet_queue
        while queue is not None and queue.pending > MAX_ACL_PENDING and self.is_connected:
            self._flow.clear()
            queue.on("flow", self._flow.set)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await self._flow.wait()
            finally:
                with contextlib.suppress(KeyError):
                    queue.remove_listener("flow", self._flow.set)

    async def start_notify(
        self, char_specifier: str, callback: Callable[[Any, bytearray], None]
    ) -> None:
        """Subscribe; ``callback(characteristic, value)`` hears each notification."""
        peer = self._peer
        if peer is None:
            raise ApplianceUnreachable("not connected")
        characteristic = self._characteristic(char_specifier)

        def on_value(value: bytes) -> None:
            values = (
                [bytes(value)]
                if self.mangle_notifications is None
                else self.mangle_notifications(bytes(value))
            )
            for each in values:
                callback(characteristic, bytearray(each))

        await peer.subscribe(characteristic, on_value)

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._peer = None
        if self._disconnected_callback is not None:
            self._disconnected_callback(self)


def connector(device: Device, address: str, *, mtu: int = 517) -> ConnectGattClient:
    """What ``BleTransport.open`` takes: connect a new client to ``address``."""

    async def connect(disconnected: DisconnectedCallback) -> BumbleGattClient:
        client = BumbleGattClient(device, address, disconnected_callback=disconnected, mtu=mtu)
        await client.connect()
        return client

    return connect
