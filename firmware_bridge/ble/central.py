"""The hub's side of BLE on Bumble: a bleak-compatible GATT client, scanning, a central.

``BumbleGattClient`` has the part of ``bleak.BleakClient`` that the hub uses
(``link.ble_client.GattClient``), so hub code written against bleak runs
against a real Bluetooth host stack: Bumble, on a real controller (the
conformance kit's ``--ble-transport``) or a virtual one on the same
``LocalLink`` as the appliance's (the tests, the benchmark).
``BleCentral`` owns one such central device: it scans for an appliance's
advertisement and opens transports to it.

Two hooks stand in for a faulty radio: ``mangle_writes`` and
``mangle_notifications`` take one value and return the values to pass on
(none to drop it, two to duplicate, a held one later to reorder).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
import contextlib
from dataclasses import dataclass
from typing import Any, Final

from bumble.core import UUID
from bumble.device import Connection, ConnectionParametersPreferences, Device, Peer
from bumble.gatt_client import CharacteristicProxy
from bumble.hci import HCI_LE_1M_PHY, Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport as open_hci
from bumble.transport.common import AsyncPipeSink

from custom_components.liuzhou_appliances.link.ble import SERVICE_UUID
from custom_components.liuzhou_appliances.link.ble_client import (
    BleTransport,
    ConnectGattClient,
    DisconnectedCallback,
)
from custom_components.liuzhou_appliances.link.errors import ApplianceUnreachable

from .radio import VIRTUAL, VirtualController, VirtualLink, wait_for_acl_room

# The central's own static random address (a real controller may use its public one).
CENTRAL_ADDRESS: Final = "F5:F4:F3:F2:F1:F0"

type Mangle = Callable[[bytes], Sequence[bytes]]


class CentralHost(Host):
    """Bumble's host, without a race of Bumble 0.0.211's ``send_command``.

    When the task awaiting a command is cancelled (a link torn down mid-command), Bumble
    cancels the pending response future but clears it only when that task runs again; a
    controller answer arriving in between hits ``set_result`` on the cancelled future and
    raises ``InvalidStateError`` in the event loop. That answer is for nobody: drop it.
    """

    def on_command_processed(self, event: Any) -> None:
        pending: asyncio.Future[Any] | None = self.pending_response
        if pending is not None and pending.done():
            return
        super().on_command_processed(event)


def central_device(link: LocalLink, address: str = CENTRAL_ADDRESS) -> Device:
    """A Bumble device (not powered on yet) on a virtual controller on ``link``."""
    controller = VirtualController(f"hub {address}", link=link)
    return Device(
        name="hub",
        address=Address(address),
        host=CentralHost(controller, AsyncPipeSink(controller)),
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
            # As BlueZ does: a write without response waits while the controller's buffers are full.
            await wait_for_acl_room(self.device.host, self._flow, lambda: self.is_connected)

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


def same_address(a: object, b: object) -> bool:
    """Whether two BLE addresses are the same, ignoring case and Bumble's "/P" suffix."""
    return str(a).split("/")[0].upper() == str(b).split("/")[0].upper()


def ad_structures(data: bytes) -> list[tuple[int, bytes]]:
    """The AD structures of an advertising or scan response packet: (AD type, value) each.

    ValueError for a structure that runs past the end of the packet.
    """
    out: list[tuple[int, bytes]] = []
    offset = 0
    while offset < len(data):
        length = data[offset]
        if length == 0:  # the rest is padding
            break
        if offset + 1 + length > len(data):
            raise ValueError(f"AD structure at byte {offset} runs past the packet")
        out.append((data[offset + 1], bytes(data[offset + 2 : offset + 1 + length])))
        offset += 1 + length
    return out


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What one active scan heard from one address.

    ``advertising`` and ``scan_response`` are the raw packets (bytes of AD
    structures); ``scan_response`` is None if none arrived in time.
    """

    address: str
    advertising: bytes
    scan_response: bytes | None
    connectable: bool


class BleCentral:
    """One Bumble device acting as the hub's central: scan, and connect to appliances."""

    def __init__(self, device: Device, close: Callable[[], Awaitable[None]] | None = None) -> None:
        self.device = device
        self._close = close

    @classmethod
    async def open(
        cls, spec: str, *, link: VirtualLink | None = None, address: str = CENTRAL_ADDRESS
    ) -> BleCentral:
        """A powered-on central on the controller ``spec`` names.

        ``spec`` is a Bumble transport spec (``usb:0``, ``serial:/dev/ttyUSB0``,
        ``tcp-client:127.0.0.1:9000`` for a virtual link another process
        exposes) or ``virtual`` (a virtual controller on ``link``). Bumble's
        transport errors (OSError-like) pass; ValueError for ``virtual`` without a link.
        """
        if spec == VIRTUAL:
            if link is None:
                raise ValueError("a virtual controller needs a VirtualLink")
            device = central_device(link.link, address)
            await device.power_on()
            return cls(device)
        hci = await open_hci(spec)
        try:
            device = Device.with_hci("conformance", Address(address), hci.source, hci.sink)
            await device.power_on()
        except BaseException:
            await hci.close()
            raise
        return cls(device, hci.close)

    def opener(
        self, address: str, *, mtu: int = 517, timeout: float = 5.0
    ) -> Callable[[], Awaitable[BleTransport]]:
        """An ``open_transport``: a new BLE connection to ``address``, offering ``mtu``."""
        device = self.device

        async def open_transport() -> BleTransport:
            async def connect(disconnected: DisconnectedCallback) -> BumbleGattClient:
                client = BumbleGattClient(
                    device, address, disconnected_callback=disconnected, mtu=mtu, timeout=timeout
                )
                await client.connect()
                return client

            return await BleTransport.open(connect)

        return open_transport

    async def scan(self, address: str, timeout: float) -> ScanResult | None:  # noqa: ASYNC109
        """Scan actively for ``address`` up to ``timeout`` seconds; None if it was not heard.

        Returns as soon as a scan response arrived; with only advertisements
        heard, what they said once the time is up.
        """
        advertising: bytes | None = None
        connectable = False
        done = asyncio.Event()
        result: list[ScanResult] = []

        def on_advertisement(advertisement: Any) -> None:
            nonlocal advertising, connectable
            if not same_address(advertisement.address, address):
                return
            raw = bytes(advertisement.data_bytes)
            if not advertisement.is_scan_response:
                advertising, connectable = raw, bool(advertisement.is_connectable)
                return
            # Bumble reports a scan response with the advertisement before it merged into
            # ``data``; the advertising packet is what precedes the response's structures.
            merged = list(advertisement.data.ad_structures)
            own = len(ad_structures(raw))
            if advertising is None:
                advertising = b"".join(
                    bytes([len(bytes(value)) + 1, int(kind)]) + bytes(value)
                    for kind, value in merged[: len(merged) - own]
                )
            result.append(ScanResult(address, advertising, raw, bool(advertisement.is_connectable)))
            done.set()

        self.device.on("advertisement", on_advertisement)
        try:
            await self.device.start_scanning(active=True, filter_duplicates=False, legacy=True)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await done.wait()
        finally:
            self.device.remove_listener("advertisement", on_advertisement)
            with contextlib.suppress(Exception):
                await self.device.stop_scanning()
        if result:
            return result[0]
        if advertising is None:
            return None
        return ScanResult(address, advertising, None, connectable)

    async def close(self) -> None:
        """Power the device off and release a real controller's transport."""
        with contextlib.suppress(Exception):
            await self.device.power_off()
        if self._close is not None:
            close, self._close = self._close, None
            await close()
