"""One appliance's GATT service and advertisement; each BLE connection is served by its server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
import contextlib
import logging
from typing import Any, Final

from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.hci import Address

from custom_components.liuzhou_appliances.link.backend import ApplianceIdentity
from custom_components.liuzhou_appliances.link.ble import (
    MAX_ATT_MTU,
    NOTIFY_CHARACTERISTIC_UUID,
    SERVICE_UUID,
    WRITE_CHARACTERISTIC_UUID,
)
from custom_components.liuzhou_appliances.link.ble_advertisement import (
    CHANGES_MODULO,
    advertising_data,
    scan_response_data,
)
from custom_components.liuzhou_appliances.link.transport import FrameTransport

from .radio import BleRadio, address_for
from .transport import PeripheralTransport

_LOGGER = logging.getLogger(__name__)

# BLE links at once: a hub and, say, the maker's phone app. The server's own limits
# (sessions, unauthenticated connections) apply on top, as on TCP.
MAX_LINKS: Final = 2
# Advertising interval, ms: quick to find, modest on the radio (PROTOCOL.md 11.1).
ADVERTISING_INTERVAL_MS: Final = 100


class BlePeripheral:
    """Serves ``serve(transport)`` for each BLE connection to one appliance.

    ``serve`` is normally ``ApplianceServer.serve``; ``paired`` says what the
    advertisement's paired flag shows and ``seq`` the state seq its change
    counter follows (``ApplianceServer.seq``); call ``update_advertisement``
    when either changes. ``address`` defaults to one derived from the appliance id.
    """

    def __init__(
        self,
        radio: BleRadio,
        identity: ApplianceIdentity,
        serve: Callable[[FrameTransport], Awaitable[None]],
        paired: Callable[[], bool],
        *,
        address: str | None = None,
        max_links: int = MAX_LINKS,
        seq: Callable[[], int] = lambda: 0,
    ) -> None:
        self.radio = radio
        self.identity = identity
        self.serve = serve
        self._paired = paired
        self._seq = seq
        self.address = address or address_for(identity.appliance_id)
        self.max_links = max_links
        self._device: Device | None = None
        self._notify: Characteristic[bytes] | None = None
        self._links: dict[int, PeripheralTransport] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # What the advertisement on the air shows: (paired, change counter).
        self._advertised: tuple[bool, int] | None = None
        self._updating = False
        self._updates: set[asyncio.Task[None]] = set()
        self._advertising = asyncio.Lock()

    @property
    def advertising_busy(self) -> bool:
        """A change of advertising is waiting for the controller's answer.

        Tests that jump the clock wait for this to clear: the jump would fire Bumble's
        command timeout under a command still in flight, and the late answer then
        breaks Bumble's host.
        """
        return self._advertising.locked() or bool(self._updates)

    @property
    def link_count(self) -> int:
        """BLE connections open now."""
        return len(self._links)

    async def start(self) -> None:
        """Power the controller on, add the service, advertise."""
        device = Device.with_hci(
            self.identity.appliance_id, Address(self.address), self.radio.source, self.radio.sink
        )
        device.gatt_server.max_mtu = MAX_ATT_MTU
        self._notify = Characteristic(
            NOTIFY_CHARACTERISTIC_UUID,
            Characteristic.Properties.NOTIFY,
            Characteristic.Permissions(0),
            b"",
        )
        write: Characteristic[bytes] = Characteristic(
            WRITE_CHARACTERISTIC_UUID,
            Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
            Characteristic.Permissions.WRITEABLE,
            CharacteristicValue(write=self._on_write),
        )
        device.add_service(Service(SERVICE_UUID, [write, self._notify]))
        device.on("connection", self._on_connection)
        self._device = device
        await device.power_on()
        await self._advertise()
        _LOGGER.info(
            "%s advertising over BLE as %s (%s)",
            self.identity.appliance_id,
            self.address,
            self.radio.description,
        )

    async def stop(self) -> None:
        """Stop advertising, drop every link, release the controller."""
        device, self._device = self._device, None
        # Advertisement updates end by themselves once _device is None; cancelled in the
        # middle of an HCI command they would leave Bumble's host waiting for its answer.
        await asyncio.gather(*self._updates, return_exceptions=True)
        if device is not None:
            with contextlib.suppress(Exception):
                await device.stop_advertising()
            for transport in list(self._links.values()):
                await transport.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if device is not None:
            with contextlib.suppress(Exception):
                await device.power_off()
        await self.radio.close()

    async def update_advertisement(self) -> None:
        """Advertise the paired flag and change counter as they are now.

        Calls made while one runs are folded into it: a burst of state changes
        restarts advertising once or twice, not once per change.
        """
        if self._updating:
            return
        self._updating = True
        try:
            # Not advertising while every link is in use: the next disconnection advertises.
            while (
                self._device is not None
                and len(self._links) < self.max_links
                and self._advertised != self._now()
            ):
                await self._advertise()
        finally:
            self._updating = False

    def advertisement_changed(self) -> None:
        """The paired flag or the state changed: update the advertisement soon (no await)."""
        if self._device is not None and not self._updating:
            task = asyncio.create_task(self.update_advertisement())
            self._updates.add(task)
            task.add_done_callback(self._updates.discard)

    def _now(self) -> tuple[bool, int]:
        return self._paired(), self._seq() % CHANGES_MODULO

    async def _advertise(self) -> None:
        # One change of advertising at a time: interleaved stop/start pairs (a state
        # change racing a disconnection) could leave the appliance not advertising.
        async with self._advertising:
            device = self._device
            if device is None:
                return
            paired, seq = self._paired(), self._seq()
            if device.is_advertising:
                await device.stop_advertising()
            if self._device is not device:  # stopped meanwhile
                return
            if len(self._links) >= self.max_links:
                self._advertised = None
                return
            await device.start_advertising(
                advertising_data=advertising_data(
                    self.identity.appliance_id, self.identity.type, paired=paired, seq=seq
                ),
                scan_response_data=scan_response_data(self.identity.appliance_id),
                advertising_interval_min=ADVERTISING_INTERVAL_MS,
                advertising_interval_max=ADVERTISING_INTERVAL_MS,
            )
            self._advertised = (paired, seq % CHANGES_MODULO)

    def _on_connection(self, connection: Connection) -> None:
        device, notify = self._device, self._notify
        if device is None or notify is None:
            return
        transport = PeripheralTransport(device, connection, notify)
        self._links[connection.handle] = transport

        def on_disconnection(reason: int) -> None:
            transport.link_lost(f"disconnected (HCI reason 0x{reason:02x})")
            self._links.pop(connection.handle, None)
            self._spawn(self._advertise())

        connection.on("disconnection", on_disconnection)
        transport.start()
        self._spawn(self._serve(transport))
        # Legacy advertising stops with a connection: advertise again while there is room.
        self._spawn(self._advertise())

    async def _serve(self, transport: PeripheralTransport) -> None:
        try:
            await self.serve(transport)
        finally:
            await transport.close()

    def _on_write(self, connection: Connection | None, value: bytes) -> None:
        transport = None if connection is None else self._links.get(connection.handle)
        if transport is not None:
            transport.fragment_received(bytes(value))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
