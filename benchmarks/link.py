"""Link benchmark: commissioning, session set-up, round trips and codec throughput.

``./scripts/bench link [--requests N] [--frames N] [--pairings N]`` runs a real
ApplianceServer and ApplianceClient on 127.0.0.1 in one process (one event
loop, so a round trip includes both sides' work) and prints a table plus one
JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Mapping
import json
import statistics
import time
from typing import Any

from custom_components.liuzhou_appliances.link.client import ApplianceClient, pair
from custom_components.liuzhou_appliances.link.codec import (
    FrameDecoder,
    FrameType,
    decode_message,
    encode_frame,
    encode_message,
)
from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.model import ApplianceType, Value
from custom_components.liuzhou_appliances.link.pairing import PairingLimiter
from custom_components.liuzhou_appliances.link.server import (
    ApplianceIdentity,
    ApplianceServer,
    MemoryKeyStore,
)
from custom_components.liuzhou_appliances.link.session import NoiseInitiator, NoiseResponder

CODE = "1234-5678"
DECLARATION = {
    "schema": 1,
    "type": "room_air_conditioner",
    "manufacturer": "Liuzhou",
    "model": "LZ-AC35",
    "capabilities": {"humidity": {}, "swing": {}},
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
    "fan_speed": "auto",
    "swing": "off",
}


class _Backend:
    """A minimal in-memory appliance (the benchmark measures the link, not an MCU)."""

    def __init__(self) -> None:
        self._declaration = Declaration.from_dict(DECLARATION)
        self.values = dict(STATE)
        self._listeners: list[Callable[[Mapping[str, Value]], None]] = []

    @property
    def declaration(self) -> Declaration:
        return self._declaration

    def snapshot(self) -> dict[str, Value]:
        return dict(self.values)

    async def write(self, values: Mapping[str, Value]) -> None:
        self.values.update(values)
        for listener in list(self._listeners):
            listener(values)

    async def command(self, name: str, args: Mapping[str, int]) -> None:
        return None

    def add_listener(self, callback: Callable[[Mapping[str, Value]], None]) -> Callable[[], None]:
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _measure(requests: int, pairings: int) -> dict[str, float]:
    key_store = MemoryKeyStore()
    server = ApplianceServer(
        _Backend(),
        ApplianceIdentity("lz-ac-bench0001", ApplianceType.ROOM_AIR_CONDITIONER, "LZ-AC35", "1.0"),
        pairing_code=CODE,
        key_store=key_store,
        # Benchmark pairings must not trip the rate limit.
        pairing_limiter=PairingLimiter(max_failures=10**6),
    )
    await server.start("127.0.0.1", 0)
    try:
        pair_times = []
        key = b""
        for _ in range(pairings):
            # Paired after the first round: each re-pairing needs the pairing button.
            server.open_pairing_window()
            started = time.perf_counter()
            key = (await pair("127.0.0.1", server.port, CODE, hub_id="bench")).key
            pair_times.append(time.perf_counter() - started)
        setup_times = []
        for _ in range(20):
            client = ApplianceClient("127.0.0.1", server.port, key, hub_id="bench")
            started = time.perf_counter()
            await client.connect()  # HELLO + Noise + describe + subscribe + read
            setup_times.append(time.perf_counter() - started)
            await client.disconnect()
        client = ApplianceClient("127.0.0.1", server.port, key, hub_id="bench")
        await client.connect()
        try:
            pings = [await client.ping() for _ in range(requests)]
            reads = []
            for _ in range(requests):
                started = time.perf_counter()
                await client.read()
                reads.append(time.perf_counter() - started)
        finally:
            await client.disconnect()
    finally:
        await server.stop()
    return {
        "pair_ms_median": statistics.median(pair_times) * 1e3,
        "session_setup_ms_median": statistics.median(setup_times) * 1e3,
        "ping_ms_median": statistics.median(pings) * 1e3,
        "ping_ms_p95": _percentile(pings, 0.95) * 1e3,
        "read_ms_median": statistics.median(reads) * 1e3,
        "read_ms_p95": _percentile(reads, 0.95) * 1e3,
    }


def _codec_rates(frames: int) -> dict[str, float]:
    message: dict[str, Any] = {"seq": 1, "type": "changed", "values": STATE}
    started = time.perf_counter()
    decoder = FrameDecoder()
    for n in range(frames):
        message["seq"] = n
        data = encode_frame(FrameType.ENCRYPTED, encode_message(message))
        for frame in decoder.feed(data):
            decode_message(frame.payload)
    plain = frames / (time.perf_counter() - started)

    initiator = NoiseInitiator(bytes(32), b"bench")
    reply, appliance = NoiseResponder(bytes(32), b"bench").respond(initiator.first_message())
    hub = initiator.finish(reply)
    started = time.perf_counter()
    for n in range(frames):
        message["seq"] = n
        data = encode_frame(FrameType.ENCRYPTED, appliance.encrypt(encode_message(message)))
        for frame in decoder.feed(data):
            decode_message(hub.decrypt(frame.payload))
    encrypted = frames / (time.perf_counter() - started)
    return {
        "codec_frames_per_s": plain,
        "encrypted_frames_per_s": encrypted,
        "message_bytes": float(len(encode_message(message))),
    }


def main() -> None:
    """Run the benchmark and print the table and the JSON line."""
    parser = argparse.ArgumentParser(prog="./scripts/bench link")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--pairings", type=int, default=10)
    args = parser.parse_args()
    results = asyncio.run(_measure(args.requests, args.pairings))
    results |= _codec_rates(args.frames)
    rows = [
        ("commissioning (SPAKE2 + key transfer), median", results["pair_ms_median"], "ms"),
        (
            "session set-up (connect+Noise+describe+read), median",
            results["session_setup_ms_median"],
            "ms",
        ),
        (f"ping round trip, median of {args.requests}", results["ping_ms_median"], "ms"),
        (f"ping round trip, p95 of {args.requests}", results["ping_ms_p95"], "ms"),
        (f"read-all round trip, median of {args.requests}", results["read_ms_median"], "ms"),
        (f"read-all round trip, p95 of {args.requests}", results["read_ms_p95"], "ms"),
        ("codec encode+decode (changed push)", results["codec_frames_per_s"], "frames/s"),
        ("codec + Noise encrypt+decrypt", results["encrypted_frames_per_s"], "frames/s"),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"{'measure':<{width}}  {'value':>10}  unit")
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:>10.3f}  {unit}")
    ratio = results["codec_frames_per_s"] / results["encrypted_frames_per_s"]
    size = results["message_bytes"]
    print(f"encryption costs {ratio:.1f}x the plain codec ({size:.0f}-byte message)")
    print(json.dumps({"benchmark": "link", **{k: round(v, 4) for k, v in results.items()}}))


if __name__ == "__main__":
    main()
