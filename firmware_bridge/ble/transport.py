"""One BLE connection to the appliance as a FrameTransport: writes in, notifications out."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from bumble.device import Connection, Device
from bumble.gatt import Characteristic

from custom_components.liuzhou_appliances.link.fragmented import FragmentedTransport

# Notifications waiting in the host for the controller's buffers; beyond this the
# sender waits, so drain() (and the session's push merging) sees a slow link.
MAX_ACL_PENDING: Final = 8


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
        queue = self._device.host.le_acl_packet_queue
        if queue is None:
            return
        while queue.pending > MAX_ACL_PENDING and not self.is_closing():
            self._flow.clear()
            queue.on("flow", self._flow.set)
            try:
                # A link that died completes nothing: look again now and then.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await self._flow.wait()
            finally:
                with contextlib.suppress(KeyError):
                    queue.remove_listener("flow", self._flow.set)

    async def drop_link(self) -> None:
        """Disconnect the hub."""
        await self._connection.disconnect()
