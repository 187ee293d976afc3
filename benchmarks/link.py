"""Link benchmark: commissioning, session set-up, round trips and codec throughput.

``./scripts/bench link [--requests N] [--frames N] [--pairings N] [--round-trips N]``
runs a real ApplianceServer and ApplianceClient on 127.0.0.1 in one process
(one event loop, so a round trip includes both sides' work), then again with
the appliance in a child process, next to a raw asyncio echo server in another
child process that answers each request with as many bytes as the appliance
does (a ping answer's, a read answer's). It prints a table plus one JSON line.

The separate-process figures compare what a hub pays per round trip with
what the same bytes cost through bare asyncio streams; the CPU time each
process spends per round trip shows which side dominates.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Mapping
import contextlib
import json
import multiprocessing
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
import statistics
import time
from typing import Any

from custom_components.liuzhou_appliances.link.client import ApplianceClient, pair
from custom_components.liuzhou_appliances.link.codec import (
    HEADER_SIZE,
    FrameDecoder,
    FrameType,
    decode_message,
    encode_frame,
    encode_message,
)
from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.messages import Ping, Read, Result
from custom_components.liuzhou_appliances.link.model import ApplianceType, Value
from custom_components.liuzhou_appliances.link.pairing import PairingLimiter
from custom_components.liuzhou_appliances.link.server import (
    ApplianceIdentity,
    ApplianceServer,
    MemoryKeyStore,
)
from custom_components.liuzhou_appliances.link.session import (
    TAG_SIZE,
    NoiseInitiator,
    NoiseResponder,
)

CODE = "1234-5678"
# The appliance in its own process starts paired with this key (no commissioning there).
APART_KEY = bytes(range(32))
IDENTITY = ApplianceIdentity(
    "lz-ac-bench0001", ApplianceType.ROOM_AIR_CONDITIONER, "LZ-AC35", "1.0"
)
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
        IDENTITY,
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


# --- hub and appliance in separate processes -----------------------------------


def _appliance_process(conn: Connection) -> None:
    """Child process: a real ApplianceServer with the trivial backend."""
    asyncio.run(_serve_appliance(conn))


async def _serve_appliance(conn: Connection) -> None:
    server = ApplianceServer(
        _Backend(), IDENTITY, pairing_code=CODE, key_store=MemoryKeyStore(APART_KEY)
    )
    await server.start("127.0.0.1", 0)
    try:
        await _serve_until_told(conn, server.port)
    finally:
        await server.stop()


def _echo_process(conn: Connection) -> None:
    """Child process: a raw asyncio echo server (no codec, no crypto)."""
    asyncio.run(_serve_echo(conn))


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    # Each request is frame-shaped (3-byte header, payload); the payload's first two
    # bytes say how many bytes to send back, so one server stands in for every answer.
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        while True:
            header = await reader.readexactly(HEADER_SIZE)
            payload = await reader.readexactly(int.from_bytes(header[1:], "big"))
            writer.write(bytes(int.from_bytes(payload[:2], "big")))
            await writer.drain()
    writer.close()


async def _serve_echo(conn: Connection) -> None:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    try:
        await _serve_until_told(conn, int(server.sockets[0].getsockname()[1]))
    finally:
        server.close()
        await server.wait_closed()


async def _serve_until_told(conn: Connection, port: int) -> None:
    """Send ``port``; then answer "cpu" with this process's CPU seconds until "stop"."""
    loop = asyncio.get_running_loop()
    stopped: asyncio.Future[None] = loop.create_future()

    def on_message() -> None:
        if conn.recv() == "cpu":
            conn.send(time.process_time())
        elif not stopped.done():
            stopped.set_result(None)

    loop.add_reader(conn.fileno(), on_message)
    conn.send(port)
    try:
        await stopped
    finally:
        loop.remove_reader(conn.fileno())


class _Child:
    """A server in a child process, reached through a pipe."""

    def __init__(self, target: Callable[[Connection], None]) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self._process: BaseProcess = context.Process(target=target, args=(child_conn,))
        self._process.start()
        child_conn.close()
        if not self._conn.poll(60):
            self.stop()
            raise RuntimeError("the child process did not start")
        self.port: int = self._conn.recv()

    def cpu(self) -> float:
        """The child's CPU seconds so far."""
        self._conn.send("cpu")
        value: float = self._conn.recv()
        return value

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self._process.join(5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)
        self._conn.close()


async def _timed(count: int, once: Callable[[], Awaitable[object]]) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await once()
        samples.append(time.perf_counter() - started)
    return samples


class _Series:
    """Round trips of one kind: samples and each side's CPU seconds."""

    def __init__(self, once: Callable[[], Awaitable[object]], server: _Child) -> None:
        self.once = once
        self.server = server
        self.samples: list[float] = []
        self.hub_cpu = 0.0
        self.server_cpu = 0.0

    async def run(self, count: int) -> None:
        hub_cpu, server_cpu = time.process_time(), self.server.cpu()
        self.samples += await _timed(count, self.once)
        self.hub_cpu += time.process_time() - hub_cpu
        self.server_cpu += self.server.cpu() - server_cpu

    def report(self, name: str, results: dict[str, float]) -> None:
        count = len(self.samples)
        results[f"{name}_us_p50"] = _percentile(self.samples, 0.5) * 1e6
        results[f"{name}_us_p99"] = _percentile(self.samples, 0.99) * 1e6
        results[f"{name}_hub_cpu_us"] = self.hub_cpu / count * 1e6
        results[f"{name}_server_cpu_us"] = self.server_cpu / count * 1e6


async def _side_by_side(
    kind: str, round_trips: int, series: Mapping[str, _Series], results: dict[str, float]
) -> None:
    """Alternate blocks of each series, so that both see the same load on the machine."""
    for each in series.values():
        await _timed(max(100, round_trips // 10), each.once)  # warm-up
    block = 250
    for done in range(0, round_trips, block):
        for each in series.values():
            await each.run(min(block, round_trips - done))
    for name, each in series.items():
        each.report(f"{name}_{kind}", results)


def _frame_size(message: Mapping[str, Any]) -> int:
    return HEADER_SIZE + len(encode_message(message)) + TAG_SIZE


async def _measure_apart(round_trips: int, appliance: _Child, echo: _Child) -> dict[str, float]:
    results: dict[str, float] = {}
    client = ApplianceClient("127.0.0.1", appliance.port, APART_KEY, hub_id="bench")
    await client.connect()
    reader, writer = await asyncio.open_connection("127.0.0.1", echo.port)
    try:
        values = await client.read()
        # The same sizes as the link's frames (ids of four digits, as most in the run).
        sizes = {
            "ping": (_frame_size(Ping(1000).to_dict()), _frame_size(Result(1000, {}).to_dict())),
            "read": (
                _frame_size(Read(1000).to_dict()),
                _frame_size(Result(1000, {"values": values}).to_dict()),
            ),
        }
        for kind, (request_size, answer_size) in sizes.items():
            request = (
                bytes([FrameType.ENCRYPTED])
                + (request_size - HEADER_SIZE).to_bytes(2, "big")
                + answer_size.to_bytes(2, "big")
                + bytes(request_size - HEADER_SIZE - 2)
            )

            async def echo_once(request: bytes = request, answer_size: int = answer_size) -> None:
                writer.write(request)
                await writer.drain()
                await reader.readexactly(answer_size)

            link = _Series(client.ping if kind == "ping" else client.read, appliance)
            series = {"echo": _Series(echo_once, echo), "apart": link}
            await _side_by_side(kind, round_trips, series, results)
            results[f"{kind}_request_bytes"] = float(request_size)
            results[f"{kind}_answer_bytes"] = float(answer_size)
    finally:
        writer.close()
        await client.disconnect()
    for kind in ("ping", "read"):
        results[f"{kind}_over_echo_p50"] = (
            results[f"apart_{kind}_us_p50"] / results[f"echo_{kind}_us_p50"]
        )
        results[f"{kind}_over_echo_p99"] = (
            results[f"apart_{kind}_us_p99"] / results[f"echo_{kind}_us_p99"]
        )
    return results


def _round_trips_apart(round_trips: int) -> dict[str, float]:
    appliance = _Child(_appliance_process)
    try:
        echo = _Child(_echo_process)
        try:
            return asyncio.run(_measure_apart(round_trips, appliance, echo))
        finally:
            echo.stop()
    finally:
        appliance.stop()


def _print_apart(results: Mapping[str, float], round_trips: int) -> None:
    print()
    print(f"hub and appliance in separate processes, {round_trips} round trips each (us)")
    header = f"{'':<24}{'p50':>9}{'p99':>9}{'hub cpu':>9}{'peer cpu':>9}"
    print(header)
    for kind in ("ping", "read"):
        for name, label in (
            (f"apart_{kind}", f"{kind} (link)"),
            (f"echo_{kind}", f"{kind}-sized raw echo"),
        ):
            print(
                f"{label:<24}{results[f'{name}_us_p50']:>9.1f}{results[f'{name}_us_p99']:>9.1f}"
                f"{results[f'{name}_hub_cpu_us']:>9.1f}{results[f'{name}_server_cpu_us']:>9.1f}"
            )
        print(
            f"{kind}/echo: {results[f'{kind}_over_echo_p50']:.2f}x at p50, "
            f"{results[f'{kind}_over_echo_p99']:.2f}x at p99 "
            f"({results[f'{kind}_request_bytes']:.0f}-byte request, "
            f"{results[f'{kind}_answer_bytes']:.0f}-byte answer)"
        )


def main() -> None:
    """Run the benchmark and print the table and the JSON line."""
    parser = argparse.ArgumentParser(prog="./scripts/bench link")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--pairings", type=int, default=10)
    parser.add_argument("--round-trips", type=int, default=5000)
    args = parser.parse_args()
    results = asyncio.run(_measure(args.requests, args.pairings))
    results |= _codec_rates(args.frames)
    apart = _round_trips_apart(args.round_trips)
    results |= apart
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
    _print_apart(apart, args.round_trips)
    print(json.dumps({"benchmark": "link", **{k: round(v, 4) for k, v in results.items()}}))


if __name__ == "__main__":
    main()
