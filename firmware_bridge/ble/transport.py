"""One BLE connection to the appliance as a FrameTransport: writes in, notifications out."""

from __future__ import annotations

import asyncio

from bumble.device import Connection, Device
from bumble.gatt import Characteristic

from custom_components.liuzhou_appliances.link.fragmented import FragmentedTransport

from .radio import wait_for_acl_room


class PeripheralTransport(FragmentedTransport):
    """Frames with one hub over the appliance's GATT service (the appliance is the peripheral)."""

    def __init__(
        self, device: Device, connection: Connection, notify: Characteristic[bytes]
    ) -> None:
        super().__init__(str(connection.peer_address))
        self._device = device
        self._connection = connection
        self._notify = notify
        self._flow = asyncio.Event()

    def current_mtu(self) -> int:
        """The MTU the hub negotiated (23 until it does)."""
        return int(self._connection.att_mtu)

    async def send_value(self, value: bytes) -> None:
        """Notify one fragment; wait while the host holds more than MAX_ACL_PENDING packets."""
        await self._device.notify_subscriber(self._connection, self._notify, value)
        await wait_for_acl_room(self._device.host, self._flow, lambda: not self.is_closing())

    async def drop_link(self) -> None:
        """Disconnect the hub."""
        await self._connection.disconnect()
