"""Fuzz measure: mutated frames through the codec and through live sessions.

``./scripts/bench fuzz [--codec-frames N] [--session-frames N] [--seed S]``

1. Codec: valid frames of every kind (HELLO both ways, ERROR, every inner
   message) are mutated (bit flips, cut, spliced bytes, frame type and
   length, hostile JSON: 401-digit integers, 1e400, lone surrogates,
   repeated keys, deep nesting, wrong types) and fed to every decoder.
   Allowed outcomes: a decode, ``LinkError`` (``CodecError`` included) or
   ``DeclarationError``; anything else is an unexpected exception.
2. Sessions: a real ApplianceServer and authenticated SecureChannels on
   127.0.0.1 exchange mutated inner messages. Each frame that decrypts must
   get exactly one answer and the session must go on; a dropped session, an
   INTERNAL answer or an error logged by the server counts as unexpected.

A hang is a codec input taking over 1 s, or a request unanswered after 5 s.
Memory growth is resident set size (``/proc/self/statm``) at the end minus
after the first tenth. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
import contextlib
import json
import logging
import os
import random
import time
from typing import Any

from custom_components.liuzhou_appliances.link.client import ApplianceClient, SecureChannel
from custom_components.liuzhou_appliances.link.codec import (
    ClientHello,
    CodecError,
    FrameDecoder,
    FrameType,
    HelloInfo,
    decode_error,
    decode_message,
    dump_json,
    encode_frame,
    error_from_dict,
)
from custom_components.liuzhou_appliances.link.declaration import Declaration, DeclarationError
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.server import (
    ApplianceIdentity,
    ApplianceServer,
    MemoryKeyStore,
)

from .link import DECLARATION, STATE, _Backend

KEY = bytes(range(32))
HANG_S = 1.0
ANSWER_TIMEOUT_S = 5.0
_PAGE = os.sysconf("SC_PAGE_SIZE")

_WASHER = {
    "schema": 1,
    "type": "laundry_washer",
    "manufacturer": "Liuzhou",
    "model": "LZ-W8",
    "max_delay_s": 86400,
    "programmes": [
        {"id": "cotton", "duration_s": 7200, "energy_kwh": 1.0, "profile": [[7200, 500]]}
    ],
}
DECLARATIONS = [Declaration.from_dict(DECLARATION), Declaration.from_dict(_WASHER)]

# Valid inner requests; the session fuzz mutates these.
REQUESTS: list[dict[str, Any]] = [
    {"id": 1, "type": "ping"},
    {"id": 1, "type": "describe"},
    {"id": 1, "type": "read"},
    {"id": 1, "type": "read", "keys": ["mode", "on", "temperature"]},
    {"id": 1, "type": "write", "values": {"target_temperature": 22.5}},
    {"id": 1, "type": "write", "values": {"on": True, "mode": "cool", "fan_speed": "low"}},
    {"id": 1, "type": "write", "values": {"swing": "off"}},
    {"id": 1, "type": "command", "name": "start", "args": {"delay_s": 60}},
]
# Valid payloads of every kind for the codec fuzz (outer frame type, JSON object).
MESSAGES: list[tuple[FrameType, dict[str, Any]]] = [
    (FrameType.HELLO, {"hub_id": "hub-1", "max_version": 1, "min_version": 1}),
    (
        FrameType.HELLO,
        {
            "appliance_id": "lz-ac-1",
            "firmware": "1.0",
            "model": "LZ-AC35",
            "paired": True,
            "type": "room_air_conditioner",
            "version": 1,
        },
    ),
    (FrameType.ERROR, {"code": 11, "message": "wait", "retry_after": 30}),
    *[(FrameType.ENCRYPTED, request) for request in REQUESTS],
    (FrameType.ENCRYPTED, {"id": 1, "type": "result", "result": {"declaration": DECLARATION}}),
    (FrameType.ENCRYPTED, {"id": 1, "type": "result", "result": {"declaration": _WASHER}}),
    (FrameType.ENCRYPTED, {"id": 1, "type": "result", "result": {"values": STATE}}),
    (FrameType.ENCRYPTED, {"id": 1, "type": "result", "result": {"seq": 4}}),
    (
        FrameType.ENCRYPTED,
        {"id": 2, "type": "error", "code": 5, "message": "no", "key": "mode", "retry_after": 1},
    ),
    (FrameType.ENCRYPTED, {"type": "changed", "seq": 9, "values": {"power": 12.5}}),
]
HOSTILE = [
    "9" * 401,
    "-" + "9" * 401,
    "1e400",
    '"\\ud800"',
    '"\\udfff"',
    "{}",
    "[]",
    "null",
    "true",
    "[" * 40 + "]" * 40,
    '{"a":' * 20 + "1" + "}" * 20,
    '"' + "x" * 500 + '"',
    "-0.0",
    "1.5e308",
    "9007199254740993",
]


def _rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE


def mutate_json(rng: random.Random, text: str) -> str:
    """A JSON text with one hostile change (may no longer be JSON)."""
    choice = rng.randrange(7)
    if choice <= 2:  # replace a value after some colon or comma with a hostile one
        marks = [i for i, c in enumerate(text) if c in ":,["]
        if marks:
            start = rng.choice(marks) + 1
            end = start
            depth = 0
            while end < len(text) and (depth or text[end] not in ",}]"):
                depth += text[end] in "[{"
                depth -= text[end] in "]}"
                end += 1
            return text[:start] + rng.choice(HOSTILE) + text[end:]
    if choice == 3 and text.startswith("{") and len(text) > 2:  # repeat the first key
        first = text[1:].split(",", 1)[0].rstrip("}")
        return "{" + first + "," + text[1:]
    if choice == 4:  # nest the whole message
        return '{"x":' * rng.randrange(1, 30) + text + "}" * rng.randrange(1, 30)
    if choice == 5:  # a key's value becomes a wrong type
        return text.replace('":"', '":' + rng.choice(["{}", "[]", "1", "true"]) + ',"_":"', 1)
    position = rng.randrange(len(text) + 1)
    return text[:position] + rng.choice(HOSTILE) + text[position:]


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """One byte-level change: flip, set, cut, insert, delete."""
    raw = bytearray(data)
    choice = rng.randrange(5)
    position = rng.randrange(len(raw) + 1)
    if choice == 0 and raw:
        raw[min(position, len(raw) - 1)] ^= 1 << rng.randrange(8)
    elif choice == 1 and raw:
        raw[min(position, len(raw) - 1)] = rng.randrange(256)
    elif choice == 2:
        del raw[position:]
    elif choice == 3:
        raw[position:position] = rng.randbytes(rng.randrange(1, 8))
    else:
        del raw[position : position + rng.randrange(1, 8)]
    return bytes(raw)


def mutated_frame(rng: random.Random) -> bytes:
    """A frame built from a valid message by one to three mutations."""
    frame_type, message = rng.choice(MESSAGES)
    text = json.dumps(message, separators=(",", ":"))
    for _ in range(rng.randrange(1, 4)):
        text = mutate_json(rng, text) if rng.random() < 0.6 else text
    payload = text.encode("utf-8", "surrogatepass")[:16384]
    if rng.random() < 0.3:
        payload = mutate_bytes(rng, payload)
    frame = encode_frame(frame_type, payload)
    if rng.random() < 0.1:
        frame = mutate_bytes(rng, frame)  # header too
    return frame


def _decode_everything(frame: bytes) -> None:
    """Every decoder the link has, on one input; raises only what it documents."""
    for decoded in FrameDecoder().feed(frame):
        payload = decoded.payload
        for decode in (ClientHello.decode, HelloInfo.decode, decode_error):
            with contextlib.suppress(CodecError):
                decode(payload)
        try:
            message = decode_message(payload)
        except CodecError:
            continue
        dump_json(message)
        with contextlib.suppress(CodecError):
            error_from_dict(message)
        result = message.get("result")
        if isinstance(result, dict) and "declaration" in result:
            with contextlib.suppress(DeclarationError):
                Declaration.from_dict(result["declaration"])
        values = message.get("values")
        if isinstance(values, dict):
            for declaration in DECLARATIONS:
                for key, value in values.items():
                    with contextlib.suppress(LinkError):
                        declaration.validate_write(key, value)


def fuzz_codec(count: int, seed: int) -> dict[str, Any]:
    """Push ``count`` mutated frames through every decoder."""
    rng = random.Random(seed)
    unexpected: Counter[str] = Counter()
    hangs = 0
    slowest = 0.0
    rss_start = _rss()
    started = time.perf_counter()
    for n in range(count):
        if n == count // 10:
            rss_start = _rss()
        frame = mutated_frame(rng)
        t0 = time.perf_counter()
        try:
            _decode_everything(frame)
        except (LinkError, DeclarationError):
            pass
        except Exception as err:  # counting what escapes is the point
            unexpected[f"{type(err).__name__}: {str(err)[:60]}"] += 1
        spent = time.perf_counter() - t0
        slowest = max(slowest, spent)
        hangs += spent > HANG_S
    return {
        "codec_frames": count,
        "codec_unexpected": sum(unexpected.values()),
        "codec_unexpected_kinds": dict(unexpected.most_common(5)),
        "codec_hangs": hangs,
        "codec_slowest_ms": slowest * 1e3,
        "codec_rss_growth_kib": (_rss() - rss_start) / 1024,
        "codec_s": time.perf_counter() - started,
    }


class _ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.records[record.getMessage()[:80]] += 1


def _mutated_request(rng: random.Random, message_id: int) -> bytes:
    text = json.dumps(rng.choice(REQUESTS) | {"id": message_id}, separators=(",", ":"))
    if rng.random() < 0.9:
        for _ in range(rng.randrange(1, 3)):
            text = mutate_json(rng, text)
    return text.encode("utf-8", "surrogatepass")[:16000]


async def _session_worker(
    server: ApplianceServer, frames: int, seed: int, stats: Counter[str]
) -> None:
    rng = random.Random(seed)
    channel = await SecureChannel.open("127.0.0.1", server.port, KEY, hub_id=f"fuzz-{seed}")
    try:
        sent = 0
        while sent < frames:
            batch = min(8, frames - sent)  # at most 8 writes in flight per session
            for n in range(batch):
                channel.send_plaintext(_mutated_request(rng, sent + n))
            await channel.drain()
            answers = 0
            while answers < batch:
                try:
                    reply = await channel.receive_message(ANSWER_TIMEOUT_S)
                except Exception as err:  # a dropped session is what we count
                    stats["session_drops"] += 1
                    stats[f"drop: {type(err).__name__}"] += 1
                    stats["session_hangs"] += "silent" in str(err)
                    return
                if reply.get("type") == "changed":
                    continue
                answers += 1
                if reply.get("code") == ErrorCode.INTERNAL:
                    stats["session_internal"] += 1
            sent += batch
            stats["session_frames"] += batch
    finally:
        await channel.close()


async def fuzz_sessions(count: int, seed: int, sessions: int = 4) -> dict[str, Any]:
    """Push ``count`` mutated requests through ``sessions`` live sessions."""
    logging.getLogger().setLevel(logging.CRITICAL)  # the server logs every closed connection
    counter = _ErrorCounter()
    link_logger = logging.getLogger("custom_components.liuzhou_appliances.link")
    link_logger.addHandler(counter)
    link_logger.setLevel(logging.ERROR)
    link_logger.propagate = False
    server = ApplianceServer(
        _Backend(),
        ApplianceIdentity("lz-ac-fuzz0001", ApplianceType.ROOM_AIR_CONDITIONER, "LZ-AC35", "1.0"),
        pairing_code="1234-5678",
        key_store=MemoryKeyStore(KEY),
    )
    await server.start("127.0.0.1", 0)
    stats: Counter[str] = Counter()
    started = time.perf_counter()
    try:
        warm = max(1, count // 10) // sessions
        await asyncio.gather(
            *(_session_worker(server, warm, seed + 1000 + n, stats) for n in range(sessions))
        )
        rss_start = _rss()
        rest = (count - stats["session_frames"]) // sessions
        await asyncio.gather(
            *(_session_worker(server, rest, seed + n, stats) for n in range(sessions))
        )
        # The service still works for a hub afterwards.
        client = ApplianceClient("127.0.0.1", server.port, KEY, hub_id="after")
        await client.connect()
        await client.ping()
        await client.disconnect()
    finally:
        await server.stop()
        link_logger.removeHandler(counter)
    return {
        "session_frames": stats["session_frames"],
        "session_unexpected": stats["session_internal"]
        + stats["session_drops"]
        + sum(counter.records.values()),
        "session_unexpected_kinds": dict(counter.records.most_common(5))
        | {k: v for k, v in stats.items() if k.startswith("drop")},
        "session_hangs": stats["session_hangs"],
        "session_rss_growth_kib": (_rss() - rss_start) / 1024,
        "session_s": time.perf_counter() - started,
    }


def main() -> None:
    """Run both phases; print the table and the JSON line."""
    parser = argparse.ArgumentParser(prog="./scripts/bench fuzz")
    parser.add_argument("--codec-frames", type=int, default=1_000_000)
    parser.add_argument("--session-frames", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    started = time.perf_counter()
    results = fuzz_codec(args.codec_frames, args.seed)
    results |= asyncio.run(fuzz_sessions(args.session_frames, args.seed))
    results["wall_s"] = time.perf_counter() - started
    rows = [
        ("mutated frames through the codec", results["codec_frames"], ""),
        ("  unexpected exceptions", results["codec_unexpected"], "(goal 0)"),
        ("  hangs (an input over 1 s)", results["codec_hangs"], ""),
        ("  slowest input", round(results["codec_slowest_ms"], 2), "ms"),
        ("  memory growth (RSS)", round(results["codec_rss_growth_kib"]), "KiB"),
        ("mutated frames through live sessions", results["session_frames"], ""),
        (
            "  unexpected (INTERNAL, drops, errors logged)",
            results["session_unexpected"],
            "(goal 0)",
        ),
        ("  hangs (unanswered after 5 s)", results["session_hangs"], ""),
        ("  memory growth (RSS)", round(results["session_rss_growth_kib"]), "KiB"),
        ("wall time", round(results["wall_s"], 1), "s"),
    ]
    width = max(len(name) for name, _, _ in rows)
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:>10}  {unit}")
    for kinds in ("codec_unexpected_kinds", "session_unexpected_kinds"):
        for kind, times in results[kinds].items():
            print(f"  {kinds.split('_')[0]}: {times} x {kind}")
    flat = {
        k: (round(v, 3) if isinstance(v, float) else v)
        for k, v in results.items()
        if not k.endswith("_kinds")
    }
    print(json.dumps({"benchmark": "fuzz", **flat}))


if __name__ == "__main__":
    main()
