"""BLE benchmark: the link over Bumble's virtual controllers next to TCP loopback.

``./scripts/bench ble [--pairings N] [--round-trips N] [--pushes N]`` runs a
real ApplianceServer and ApplianceClient in one process (one event loop) over
TCP on 127.0.0.1, then over BLE at MTU 23 and 247: the appliance's GATT service
on one virtual controller, the hub's bleak-compatible client on another, both
on one in-process link. It measures commissioning (SPAKE2 + key transfer), the
ping and read-all round trips (p50/p99) and push throughput (value changes the
appliance makes back to back, until the hub holds the last one). It prints a
table and ends with one JSON line.

The virtual link has no radio: no connection interval, no air time. The BLE
figures are what the two Bumble host stacks, the fragmentation and the link's
own code cost; on air, add about two connection intervals per round trip
(PROTOCOL.md 11.2).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
import contextlib
import json
import statistics
import time
from typing import Any

from custom_components.liuzhou_appliances.link.ble_client import BleTransport
from custom_components.liuzhou_appliances.link.client import ApplianceClient, OpenTransport, pair
from custom_components.liuzhou_appliances.link.model import Value
from custom_components.liuzhou_appliances.link.pairing import PairingLimiter
from custom_components.liuzhou_appliances.link.server import ApplianceServer, MemoryKeyStore
from custom_components.liuzhou_appliances.link.transport import FrameTransport
from firmware_bridge.ble import BlePeripheral, VirtualLink
from firmware_bridge.ble.central import central_device, connector

from .link import CODE, IDENTITY, _Backend, _percentile

MTUS = (23, 247)


class _Appliance(_Backend):
    def push(self, values: Mapping[str, Value]) -> None:
        """The MCU reports new values."""
        self.values.update(values)
        for listener in list(self._listeners):
            listener(values)


async def _run(
    name: str,
    server: ApplianceServer,
    backend: _Appliance,
    open_transport: OpenTransport | None,
    port: int,
    args: argparse.Namespace,
) -> dict[str, float]:
    pair_times = []
    key = b""
    for _ in range(args.pairings):
        server.open_pairing_window()
        started = time.perf_counter()
        key = (
            await pair("127.0.0.1", port, CODE, hub_id="bench", open_transport=open_transport)
        ).key
        pair_times.append(time.perf_counter() - started)
    client = ApplianceClient("127.0.0.1", port, key, hub_id="bench", open_transport=open_transport)
    started = time.perf_counter()
    await client.connect()
    setup = time.perf_counter() - started
    try:
        for _ in range(50):  # warm-up
            await client.ping()
        pings = [await client.ping() for _ in range(args.round_trips)]
        reads = []
        for _ in range(args.round_trips):
            started = time.perf_counter()
            await client.read()
            reads.append(time.perf_counter() - started)
        arrived = asyncio.Event()
        last = 1000.0 + args.pushes

        def on_state(values: Mapping[str, Value]) -> None:
            if values.get("power") == last:
                arrived.set()

        remove = client.add_state_listener(on_state)
        started = time.perf_counter()
        for n in range(1, args.pushes + 1):
            backend.push({"power": 1000.0 + n, "temperature": 20 + n % 10 / 10})
            await asyncio.sleep(0)  # as MCU reports arrive: one per loop turn at best
        await asyncio.wait_for(arrived.wait(), 60)
        push_time = time.perf_counter() - started
        remove()
    finally:
        await client.disconnect()
    return {
        f"{name}_pair_ms_p50": statistics.median(pair_times) * 1e3,
        f"{name}_setup_ms": setup * 1e3,
        f"{name}_ping_us_p50": _percentile(pings, 0.5) * 1e6,
        f"{name}_ping_us_p99": _percentile(pings, 0.99) * 1e6,
        f"{name}_read_us_p50": _percentile(reads, 0.5) * 1e6,
        f"{name}_read_us_p99": _percentile(reads, 0.99) * 1e6,
        f"{name}_push_changes_per_s": args.pushes / push_time,
    }


def _server(backend: _Appliance) -> ApplianceServer:
    return ApplianceServer(
        backend,
        IDENTITY,
        pairing_code=CODE,
        key_store=MemoryKeyStore(),
        pairing_limiter=PairingLimiter(max_failures=10**6),
    )


async def _measure(args: argparse.Namespace) -> dict[str, float]:
    results: dict[str, float] = {}
    backend = _Appliance()
    server = _server(backend)
    await server.start("127.0.0.1", 0)
    try:
        results |= await _run("tcp", server, backend, None, server.port, args)
    finally:
        await server.stop()
    for mtu in MTUS:
        results |= await _measure_ble(mtu, args)
    return results


async def _measure_ble(mtu: int, args: argparse.Namespace) -> dict[str, float]:
    backend = _Appliance()
    server = _server(backend)
    link = VirtualLink()
    hub = central_device(link.link)
    await hub.power_on()
    peripheral = BlePeripheral(
        link.radio("appliance"), IDENTITY, server.serve, lambda: server.paired
    )
    await peripheral.start()

    async def open_ble() -> FrameTransport:
        return await BleTransport.open(connector(hub, peripheral.address, mtu=mtu))

    try:
        return await _run(f"ble{mtu}", server, backend, open_ble, 0, args)
    finally:
        await peripheral.stop()
        await server.stop()
        with contextlib.suppress(Exception):
            await hub.power_off()


_ROWS: tuple[tuple[str, str, str], ...] = (
    ("commissioning, median", "pair_ms_p50", "ms"),
    ("session set-up (connect+Noise+describe+read)", "setup_ms", "ms"),
    ("ping round trip, p50", "ping_us_p50", "us"),
    ("ping round trip, p99", "ping_us_p99", "us"),
    ("read-all round trip, p50", "read_us_p50", "us"),
    ("read-all round trip, p99", "read_us_p99", "us"),
    ("pushed changes delivered", "push_changes_per_s", "/s"),
)


def _print(results: Mapping[str, float], args: argparse.Namespace) -> None:
    names = ["tcp", *(f"ble{mtu}" for mtu in MTUS)]
    heads = ["TCP loopback", *(f"BLE MTU {mtu}" for mtu in MTUS)]
    width = max(len(label) for label, _, _ in _ROWS) + 5
    print(f"{'measure':<{width}}" + "".join(f"{head:>14}" for head in heads))
    for label, key, unit in _ROWS:
        cells = "".join(f"{results[f'{name}_{key}']:>14.1f}" for name in names)
        print(f"{label + ' (' + unit + ')':<{width}}{cells}")
    print(
        f"{args.pairings} pairings, {args.round_trips} round trips of each kind, "
        f"{args.pushes} pushed changes; BLE on virtual controllers (no air time)"
    )


def main() -> None:
    """Run the benchmark and print the table and the JSON line."""
    parser = argparse.ArgumentParser(prog="./scripts/bench ble")
    parser.add_argument("--pairings", type=int, default=5)
    parser.add_argument("--round-trips", type=int, default=500)
    parser.add_argument("--pushes", type=int, default=500)
    args = parser.parse_args()
    results = asyncio.run(_measure(args))
    _print(results, args)
    out: dict[str, Any] = {"benchmark": "ble", **{k: round(v, 3) for k, v in results.items()}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
