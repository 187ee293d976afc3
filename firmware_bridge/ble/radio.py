"""The Bluetooth controller an appliance's GATT service runs on.

A Bumble transport spec names a real controller (``usb:0``,
``serial:/dev/ttyUSB0``, ``hci-socket:0`` ...; one appliance per controller).
``virtual`` is a Bumble virtual controller on an in-process ``VirtualLink``:
every simulated appliance gets one, and centrals on the same link (the tests,
the benchmark) connect to them. ``VirtualLink.expose`` adds one more virtual
controller whose HCI is served over a transport spec (``tcp-server:_:9000``),
so a host stack in another process can join the link as a central.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import hashlib
from typing import Final

from bumble.controller import Controller
from bumble.hci import (
    HCI_COMMAND_STATUS_PENDING,
    HCI_CONNECTION_TERMINATED_BY_LOCAL_HOST_ERROR,
    HCI_SUCCESS,
    Address,
    HCI_Command_Status_Event,
    HCI_Disconnect_Command,
    HCI_Disconnection_Complete_Event,
    HCI_LE_Advertising_Report_Event,
)
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink, TransportSink, TransportSource

VIRTUAL: Final = "virtual"
# ACL packets waiting in the host for the controller's buffers; beyond this a sender
# waits, so drain() (and the session's push merging) sees a slow link.
MAX_ACL_PENDING: Final = 8


def address_for(appliance_id: str) -> str:
    """A static random address derived from the appliance id (stable across restarts)."""
    raw = bytearray(hashlib.sha256(b"ble address " + appliance_id.encode("ascii")).digest()[:6])
    raw[0] |= 0xC0  # static random: the two top bits set
    return ":".join(f"{byte:02X}" for byte in raw)


@dataclass(slots=True)
class BleRadio:
    """One controller's HCI, as a Bumble host talks to it."""

    source: TransportSource
    sink: TransportSink
    description: str
    _close: Callable[[], Awaitable[None]] | None = field(default=None, repr=False)

    async def close(self) -> None:
        """Release the controller (a real one's transport)."""
        if self._close is not None:
            close, self._close = self._close, None
            await close()


class VirtualController(Controller):
    """Bumble's virtual controller, plus a disconnection the peripheral starts and real
    scan responses.

    Bumble's own (0.0.211) only lets the central end an LE connection; an
    appliance ends one whenever a session fails (PROTOCOL.md 11.4). And it
    answers an active scan with the advertising data again as the scan
    response; the appliance id is in the scan response (PROTOCOL.md 11.1).
    """

    def on_link_advertising_data(self, sender_address: Address, data: bytes) -> None:
        if self.le_scan_enable == 0:
            return
        sender = self.link.find_controller(sender_address) if self.link is not None else None
        response = getattr(sender, "le_scan_response_data", None)
        reports = [(HCI_LE_Advertising_Report_Event.ADV_IND, data)]
        if response is not None:
            reports.append((HCI_LE_Advertising_Report_Event.SCAN_RSP, bytes(response)))
        for event_type, payload in reports:
            report = HCI_LE_Advertising_Report_Event.Report(
                HCI_LE_Advertising_Report_Event.Report.FIELDS,
                event_type=event_type,
                address_type=sender_address.address_type,
                address=sender_address,
                data=payload,
                rssi=-50,
            )
            self.send_hci_packet(HCI_LE_Advertising_Report_Event([report]))

    def on_hci_disconnect_command(self, command: HCI_Disconnect_Command) -> bytes | None:
        handle: int = command.connection_handle  # type: ignore[attr-defined]
        peer = next(
            (c.peer_address for c in self.peripheral_connections.values() if c.handle == handle),
            None,
        )
        if peer is None or self.link is None:
            result: bytes | None = super().on_hci_disconnect_command(command)
            return result
        self.send_hci_packet(
            HCI_Command_Status_Event(
                status=HCI_COMMAND_STATUS_PENDING,
                num_hci_command_packets=1,
                command_opcode=command.op_code,
            )
        )
        asyncio.get_running_loop().call_soon(
            self._disconnect_central,
            peer,
            handle,
            command.reason,  # type: ignore[attr-defined]
        )
        return None

    def _disconnect_central(self, peer: Address, handle: int, reason: int) -> None:
        central = self.link.find_controller(peer) if self.link is not None else None
        if central is not None:
            connection = central.central_connections.pop(self.random_address, None)
            if connection is not None:
                central.send_hci_packet(
                    HCI_Disconnection_Complete_Event(
                        status=HCI_SUCCESS, connection_handle=connection.handle, reason=reason
                    )
                )
        self.peripheral_connections.pop(peer, None)
        self.send_hci_packet(
            HCI_Disconnection_Complete_Event(
                status=HCI_SUCCESS,
                connection_handle=handle,
                reason=HCI_CONNECTION_TERMINATED_BY_LOCAL_HOST_ERROR,
            )
        )


class VirtualLink:
    """An in-process radio: virtual controllers that see each other."""

    def __init__(self) -> None:
        self.link = LocalLink()
        self._exposed: list[BleRadio] = []

    def radio(self, name: str) -> BleRadio:
        """A new virtual controller on this link."""
        controller = VirtualController(name, link=self.link)

        async def power_off() -> None:
            # Gone from the air: a controller started later with the same address
            # (the appliance back in range) must be the one the link finds.
            self.link.remove_controller(controller)

        return BleRadio(
            controller, AsyncPipeSink(controller), f"virtual controller {name}", power_off
        )

    async def expose(self, spec: str) -> None:
        """Serve one more virtual controller's HCI over ``spec`` (e.g. ``tcp-server:_:9000``)."""
        hci = await open_transport(spec)
        VirtualController("exposed", host_source=hci.source, host_sink=hci.sink, link=self.link)
        self._exposed.append(BleRadio(hci.source, hci.sink, spec, hci.close))

    async def close(self) -> None:
        """Stop serving exposed controllers."""
        for radio in self._exposed:
            await radio.close()
        self._exposed.clear()


async def open_radio(spec: str, link: VirtualLink | None, name: str) -> BleRadio:
    """The controller ``spec`` names; ``virtual`` needs ``link``. OSError-like failures pass."""
    if spec == VIRTUAL:
        if link is None:
            raise ValueError("a virtual controller needs a VirtualLink")
        return link.radio(name)
    hci = await open_transport(spec)
    return BleRadio(hci.source, hci.sink, spec, hci.close)


async def wait_for_acl_room(
    host: Host, flow: asyncio.Event, still_open: Callable[[], bool]
) -> None:
    """Wait while the host holds more than MAX_ACL_PENDING LE ACL packets for the controller.

    ``flow`` is the caller's event, set by the queue when packets complete; a
    link that died completes nothing, so ``still_open`` is asked every 0.5 s.
    """
    queue = host.le_acl_packet_queue
    while queue is not None and queue.pending > MAX_ACL_PENDING and still_open():
        flow.clear()
        queue.on("flow", flow.set)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await flow.wait()
        finally:
            with contextlib.suppress(KeyError):
                queue.remove_listener("flow", flow.set)
