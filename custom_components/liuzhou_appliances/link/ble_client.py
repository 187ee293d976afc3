"""Hub side of the BLE transport: a FrameTransport over a bleak-compatible GATT client.

``GattClient`` is the part of ``bleak.BleakClient`` the hub uses, so this
module does not import bleak: Home Assistant hands in a ``BleakClient`` (made
by bleak-retry-connector's ``establish_connection``), the tests one backed by
Bumble's central. ``BleTransport.open`` subscribes to the appliance's
notifications and returns the transport; pairing and sessions then run over it
unchanged (``pair(..., open_transport=...)``, ``ApplianceClient(...,
open_transport=...)``).

The MTU is read from ``client.mtu_size`` for each frame: the hub exchanges
the MTU before its first write (bleak does on connecting; on BlueZ the
caller acquires it first), PROTOCOL.md 11.3.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import contextlib
from typing import Any, Protocol

from .ble import NOTIFY_CHARACTERISTIC_UUID, WRITE_CHARACTERISTIC_UUID
from .errors import ApplianceUnreachable, TransportError
from .fragmented import FragmentedTransport


class GattClient(Protocol):
    """What the hub needs of a connected ``bleak.BleakClient``."""

    @property
    def address(self) -> str:
        """The peer's address."""
        ...

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        ...

    @property
    def mtu_size(self) -> int:
        """The negotiated ATT MTU (23-517)."""
        ...

    async def disconnect(self) -> Any:
        """Drop the link."""
        ...

    async def write_gatt_char(self, char_specifier: str, data: bytes, response: bool) -> None:
        """Write a characteristic's value (``response=False``: write without response)."""
        ...

    async def start_notify(
        self, char_specifier: str, callback: Callable[[Any, bytearray], None]
    ) -> None:
        """Call ``callback(characteristic, value)`` for each notification."""
        ...


type DisconnectedCallback = Callable[[Any], None]
type ConnectGattClient = Callable[[DisconnectedCallback], Awaitable[GattClient]]


class BleTransport(FragmentedTransport):
    """Frames over the appliance's GATT service (PROTOCOL.md 11), as the central."""

    def __init__(self, client: GattClient) -> None:
        super().__init__(client.address)
        self.client = client

    @classmethod
    async def open(cls, connect: ConnectGattClient) -> BleTransport:
        """Connect with ``connect(disconnected_callback)``, then subscribe to notifications.

        ``connect`` returns a connected client that calls the callback it was
        given when the link goes (bleak's ``disconnected_callback``); it bounds
        its own wait. Any failure is ApplianceUnreachable (a TransportError
        from ``connect`` passes unchanged).
        """
        transport: BleTransport | None = None

        def disconnected(_client: Any) -> None:
            if transport is not None:
                transport.link_lost("disconnected")

        try:
            client = await connect(disconnected)
        except TransportError:
            raise
        except Exception as err:  # bleak's errors are BleakError, OSError, TimeoutError ...
            raise ApplianceUnreachable(f"cannot connect over BLE: {err!r}") from err
        transport = cls(client)
        try:
            await client.start_notify(NOTIFY_CHARACTERISTIC_UUID, transport._on_notify)
        except Exception as err:
            with contextlib.suppress(Exception):
                await client.disconnect()
            raise ApplianceUnreachable(
                f"{client.address} has no usable appliance service: {err!r}"
            ) from err
        if not client.is_connected:
            raise ApplianceUnreachable(f"{client.address} disconnected while subscribing")
        transport.start()
        return transport

    def _on_notify(self, _characteristic: Any, value: bytearray) -> None:
        self.fragment_received(bytes(value))

    def current_mtu(self) -> int:
        """The client's negotiated MTU."""
        return self.client.mtu_size

    async def send_value(self, value: bytes) -> None:
        """A write without response to the appliance's write characteristic."""
        await self.client.write_gatt_char(WRITE_CHARACTERISTIC_UUID, value, response=False)

    async def drop_link(self) -> None:
        """Disconnect the client."""
        await self.client.disconnect()
