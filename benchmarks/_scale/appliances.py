"""The appliance process of ``./scripts/bench scale``: many appliance servers, one process.

``python -m benchmarks._scale.appliances --mode synthetic|simulators --count N
--rate R --roster PATH`` starts ``N`` appliances on 127.0.0.1, each an
``ApplianceServer`` on a port of its own holding a long-term key, writes
the roster (id, port, key of each) to ``PATH`` as JSON and prints ``READY``.

* ``synthetic``: an in-memory air conditioner per server (a realistic
  capability set) whose ``temperature`` and ``power`` change ``R`` times a
  second in all, spread evenly over the appliances (round robin). The key is
  installed in its ``MemoryKeyStore`` beforehand: no pairing.
* ``simulators``: the physics simulators of firmware_bridge (a mix of the
  four types), each behind its simulated MCU, paired once through ``pair``;
  they push what their physics changes (``R`` is ignored).

While running it samples, every half second, a timeline row: monotonic time
(comparable with the hub's: same clock), pushes sent, this process's CPU
seconds, authenticated sessions open, and connections ended. On ``quit``
(or end of standard input) it prints that timeline as one JSON line and
exits; the benchmark reads the rows inside the hub's measurement window.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
import contextlib
import hashlib
import json
import logging
import os
import sys
import time
from typing import Any

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.model import ApplianceType, Value
from custom_components.liuzhou_appliances.link.server import (
    ApplianceIdentity,
    ApplianceServer,
    MemoryKeyStore,
)
from custom_components.liuzhou_appliances.link.transport import FrameTransport

from .child import code_origin, exit_when_orphaned, raise_file_limit

HOST = "127.0.0.1"
CODE = "1234-5678"
HUB_ID = "liuzhou-scale-bench"
DECLARATION: dict[str, Any] = {
    "schema": 1,
    "type": "room_air_conditioner",
    "manufacturer": "Liuzhou",
    "model": "LZ-AC35",
    "capabilities": {
        "humidity": {},
        "outdoor_temperature": {},
        "swing": {},
        "eco": {},
        "running_state": {},
    },
}
STATE: dict[str, Value] = {
    "power": 812.4,
    "energy": 1534.218,
    "faults": [],
    "on": True,
    "mode": "cool",
    "target_temperature": 24.0,
    "temperature": 26.1,
    "humidity": 58,
    "outdoor_temperature": 31.5,
    "fan_speed": "auto",
    "swing": "off",
    "eco": False,
    "running_state": "cooling",
}
SAMPLE_INTERVAL = 0.5
TICK = 0.02  # the push pump's period; each tick sends what is due since the start


def appliance_key(index: int) -> bytes:
    """The long-term key of synthetic appliance ``index`` (deterministic)."""
    return hashlib.sha256(f"liuzhou-scale-{index}".encode()).digest()


class SyntheticAirConditioner:
    """An in-memory air conditioner whose readings change when ``tick`` is called."""

    def __init__(self, declaration: Declaration, offset: int) -> None:
        self._declaration = declaration
        self.values = dict(STATE)
        self._listeners: list[Callable[[Mapping[str, Value]], None]] = []
        self._count = offset

    @property
    def declaration(self) -> Declaration:
        return self._declaration

    def snapshot(self) -> dict[str, Value]:
        return dict(self.values)

    async def write(self, values: Mapping[str, Value]) -> None:
        self.values.update(values)
        self._notify(dict(values))

    async def command(self, name: str, args: Mapping[str, int]) -> None:
        return None

    def add_listener(self, callback: Callable[[Mapping[str, Value]], None]) -> Callable[[], None]:
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def tick(self) -> None:
        """The room warms or cools a little and the compressor's draw follows."""
        self._count += 1
        k = self._count
        changed: dict[str, Value] = {
            "temperature": round(22.0 + (k % 40) * 0.1, 1),
            "power": round(700.0 + (k * 37) % 300 + (k % 10) * 0.1, 1),
        }
        self.values.update(changed)
        self._notify(changed)

    def _notify(self, changed: Mapping[str, Value]) -> None:
        for listener in list(self._listeners):
            listener(changed)


class CountingServer(ApplianceServer):
    """An appliance server that counts the connections that ended."""

    ended = 0

    async def serve(self, transport: FrameTransport) -> None:
        try:
            await super().serve(transport)
        finally:
            CountingServer.ended += 1


class Fleet:
    """The running appliances, their roster and the counters sampled into the timeline."""

    def __init__(self) -> None:
        self.servers: list[ApplianceServer] = []
        self.roster: list[dict[str, Any]] = []
        self.pushes = 0
        self.skipped = 0
        self.timeline: list[list[float]] = []

    def sessions(self) -> int:
        return sum(server.session_count for server in self.servers)

    async def sample(self) -> None:
        while True:
            self.timeline.append(
                [
                    time.monotonic(),
                    float(self.pushes),
                    time.process_time(),
                    float(self.sessions()),
                    float(CountingServer.ended),
                ]
            )
            await asyncio.sleep(SAMPLE_INTERVAL)


async def start_synthetic(fleet: Fleet, first: int, count: int) -> list[SyntheticAirConditioner]:
    """Start ``count`` synthetic air conditioners numbered from ``first``."""
    declaration = Declaration.from_dict(DECLARATION)
    backends = []
    for index in range(first, first + count):
        backend = SyntheticAirConditioner(declaration, index)
        key = appliance_key(index)
        identity = ApplianceIdentity(
            f"lz-ac-scale{index:06d}", ApplianceType.ROOM_AIR_CONDITIONER, "LZ-AC35", "1.0"
        )
        server = CountingServer(backend, identity, pairing_code=CODE, key_store=MemoryKeyStore(key))
        await server.start(HOST, 0)
        fleet.servers.append(server)
        backends.append(backend)
        fleet.roster.append(
            {"id": identity.appliance_id, "host": HOST, "port": server.port, "key": key.hex()}
        )
    return backends


async def pump(fleet: Fleet, backends: list[SyntheticAirConditioner], rate: float) -> None:
    """Push ``rate`` changes a second in all, round robin over the appliances.

    If this process falls more than half a second behind, what is older is
    skipped (counted) rather than sent in one burst.
    """
    if rate <= 0 or not backends:
        return
    loop = asyncio.get_running_loop()
    started = loop.time()
    due_total = 0
    cursor = 0
    while True:
        await asyncio.sleep(TICK)
        target = int((loop.time() - started) * rate)
        due = target - due_total
        due_total = target
        if due > rate / 2:
            fleet.skipped += due - int(rate / 2)
            due = int(rate / 2)
        for _ in range(due):
            backends[cursor].tick()
            cursor = (cursor + 1) % len(backends)
        fleet.pushes += due


@contextlib.asynccontextmanager
async def simulators(fleet: Fleet, count: int, speed: float) -> AsyncIterator[None]:
    """Run ``count`` physics simulators (a mix of types), paired once."""
    from custom_components.liuzhou_appliances.link.client import pair
    from firmware_bridge.bridge import simulated_appliances

    ac, fridge, washer, dishwasher = (count // 4 + (1 if i < count % 4 else 0) for i in range(4))
    async with simulated_appliances(
        ac=ac, fridge=fridge, washer=washer, dishwasher=dishwasher, speed=speed, zeroconf=False
    ) as products:
        for product in products:
            result = await pair(product.host, product.port, product.code, hub_id=HUB_ID)
            server = product.module.server
            fleet.servers.append(server)

            def counted(values: Mapping[str, Value]) -> None:
                if values:
                    fleet.pushes += 1

            server.backend.add_listener(counted)
            fleet.roster.append(
                {
                    "id": product.id,
                    "host": product.host,
                    "port": product.port,
                    "key": result.key.hex(),
                }
            )
        yield


def write_roster(path: str, roster: list[dict[str, Any]]) -> None:
    """The roster the hub reads: where each appliance listens and its key."""
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"origin": code_origin(), "appliances": roster}, out)


async def read_line() -> str:
    """One line of standard input ('' at its end), without blocking the loop."""
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    fleet = Fleet()
    background = [asyncio.create_task(exit_when_orphaned())]
    async with contextlib.AsyncExitStack() as stack:
        if args.mode == "synthetic":
            backends = await start_synthetic(fleet, args.first, args.count)
            stack.push_async_callback(
                lambda: asyncio.gather(*(server.stop() for server in fleet.servers))
            )
        else:
            backends = []
            await stack.enter_async_context(simulators(fleet, args.count, args.speed))
        write_roster(args.roster, fleet.roster)
        background.append(asyncio.create_task(fleet.sample()))
        background.append(asyncio.create_task(pump(fleet, backends, args.rate)))
        print("READY", flush=True)
        while (await read_line()).strip() not in ("quit", ""):
            pass
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
    return {"timeline": fleet.timeline, "skipped": fleet.skipped, "pid": os.getpid()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._scale.appliances")
    parser.add_argument("--mode", choices=("synthetic", "simulators"), required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--roster", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    raise_file_limit()
    result = asyncio.run(run(args))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
