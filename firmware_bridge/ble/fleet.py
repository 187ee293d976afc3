"""``simulate --ble``: every simulated appliance also served over BLE, next to TCP."""

from __future__ import annotations

from collections.abc import Sequence
import contextlib
from typing import TYPE_CHECKING

from custom_components.liuzhou_appliances.link.transport import FrameTransport

from .peripheral import BlePeripheral
from .radio import VIRTUAL, BleRadio, VirtualLink, open_radio

if TYPE_CHECKING:
    from firmware_bridge.bridge import SimulatedProduct


async def serve_over_ble(
    fleet: Sequence[SimulatedProduct],
    specs: Sequence[str],
    expose: str | Sequence[str] | None,
    stack: contextlib.AsyncExitStack,
    link: VirtualLink | None = None,
) -> list[BlePeripheral]:
    """Start one BlePeripheral per appliance of ``fleet`` (``SimulatedProduct``s).

    ``specs`` name the controllers in the fleet's order (a Bumble transport
    spec each, or ``virtual``); the last one repeats for the rest. A real
    controller serves one appliance, so two appliances cannot share one.
    ``expose`` (e.g. ``tcp-server:_:9000``, or several) serves the virtual
    link's HCI to host stacks in other processes, one controller per spec.
    Virtual controllers join ``link`` (default: a new one). Stopped by
    ``stack``. ValueError for specs that do not fit, OSError-like errors from
    Bumble's transports.
    """
    wanted = list(specs) or [VIRTUAL]
    plan = [wanted[min(index, len(wanted) - 1)] for index in range(len(fleet))]
    real = [spec for spec in plan if spec != VIRTUAL]
    if len(set(real)) != len(real):
        raise ValueError("each appliance needs its own controller: give one --ble-transport each")
    if link is None:
        link = VirtualLink()
    stack.push_async_callback(link.close)
    for spec in [expose] if isinstance(expose, str) else list(expose or ()):
        await link.expose(spec)
    peripherals: list[BlePeripheral] = []
    for appliance, spec in zip(fleet, plan, strict=True):
        peripheral = _peripheral(appliance, await open_radio(spec, link, appliance.id))
        await peripheral.start()
        stack.push_async_callback(peripheral.stop)
        peripherals.append(peripheral)
    return peripherals


def _peripheral(appliance: SimulatedProduct, radio: BleRadio) -> BlePeripheral:
    """Serves whichever network module the appliance runs now (a restart makes a new one)."""

    async def serve(transport: FrameTransport) -> None:
        await appliance.module.server.serve(transport)

    def paired() -> bool:
        return appliance.module.paired

    identity = appliance.module.identity
    assert identity is not None  # the module has started
    peripheral = BlePeripheral(
        radio, identity, serve, paired, seq=lambda: appliance.module.server.seq
    )
    appliance.module.add_pairing_listener(peripheral.advertisement_changed)
    # The change counter follows the state, for hubs that let the connection go (11.6).
    appliance.module.backend.add_listener(lambda _values: peripheral.advertisement_changed())
    return peripheral
