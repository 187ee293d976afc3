"""Regenerate the vector files: ``python -m tests.vectors.generate``.

Everything random is derived from fixed seeds (see ``seeded_entropy``) or
fixed Noise ephemeral keys, so the output is reproducible; review any diff.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
import warnings

from custom_components.liuzhou_appliances.link import ble, ble_advertisement, discovery
from custom_components.liuzhou_appliances.link.client import SecureChannel
from custom_components.liuzhou_appliances.link.codec import (
    ClientHello,
    CodecError,
    FrameType,
    HelloInfo,
    choose_version,
    decode_frame,
    encode_error,
    encode_frame,
)
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.pairing import PairingInitiator, PairingResponder
from custom_components.liuzhou_appliances.link.server import (
    ApplianceIdentity,
    ApplianceServer,
    MemoryKeyStore,
)
from custom_components.liuzhou_appliances.link.session import (
    NoiseInitiator,
    NoiseResponder,
    hello_transcript,
)

from . import VECTOR_DIR, VectorBackend, VectorPanel, seeded_entropy, speech_dict

HUB_ID = "hub-7f3c"
APPLIANCE: dict[str, Any] = {
    "identity": {
        "appliance_id": "lz-ac-3f2a9c01",
        "type": "room_air_conditioner",
        "model": "LZ-AC35",
        "firmware": "1.4.2",
    },
    "pairing_code": "2468-1357",
    "declaration": {
        "schema": 1,
        "type": "room_air_conditioner",
        "manufacturer": "Liuzhou",
        "model": "LZ-AC35",
        "capabilities": {
            "target_temperature": {"min": 16, "max": 30, "step": 0.5},
            "humidity": {},
            "swing": {"options": ["off", "vertical"]},
        },
    },
    "state": {
        "power": 0.0,
        "energy": 12.5,
        "faults": [],
        "on": False,
        "mode": "cool",
        "target_temperature": 24.0,
        "temperature": 27.5,
        "humidity": 60,
        "fan_speed": "auto",
        "swing": "off",
    },
}
LONG_TERM_KEY = bytes.fromhex("5c" * 16 + "a3" * 16)


def _hello_pair() -> tuple[bytes, bytes]:
    client = ClientHello(HUB_ID, 1, 1).encode()
    identity = APPLIANCE["identity"]
    server = HelloInfo(
        identity["appliance_id"],
        ApplianceType(identity["type"]),
        identity["model"],
        identity["firmware"],
        1,
        True,
    ).encode()
    return client, server


def frames() -> dict[str, Any]:
    client_hello, server_hello = _hello_pair()
    valid = [
        (FrameType.HELLO, client_hello),
        (FrameType.HELLO, server_hello),
        (FrameType.PAIR, bytes([1]) + bytes(range(33))),
        (FrameType.HANDSHAKE, bytes(48)),
        (FrameType.ENCRYPTED, bytes(range(20))),
        (FrameType.ERROR, encode_error(LinkError(ErrorCode.NOT_PAIRED, "not paired"))),
        (FrameType.ENCRYPTED, b""),
    ]
    invalid = [
        ("oversized", bytes([4, 0x40, 0x01])),
        ("unknown type", bytes([0x09, 0, 0])),
        ("type zero", bytes([0x00, 0, 1, 0])),
        ("truncated header", bytes([1, 0])),
        ("payload shorter than announced", bytes([1, 0, 5, 1, 2])),
        ("payload longer than announced", bytes([4, 0, 1, 1, 2])),
    ]
    invalid_out = []
    for name, data in invalid:
        try:
            decode_frame(data)
        except CodecError as err:
            invalid_out.append({"name": name, "bytes": data.hex(), "error": err.code.name})
        else:
            raise AssertionError(name)
    negotiation = []
    for low, high in [(1, 1), (1, 3), (2, 3), (1, 255)]:
        entry: dict[str, Any] = {"offer": [low, high], "supported": [1, 1]}
        try:
            entry["chosen"] = choose_version(ClientHello("h", low, high))
        except CodecError as err:
            entry["error"] = err.code.name
        negotiation.append(entry)
    bad_hellos = [
        '{"hub_id":"h","max_version":1}',
        '{"hub_id":"","max_version":1,"min_version":1}',
        '{"hub_id":"h h","max_version":1,"min_version":1}',
        '{"hub_id":"h","max_version":1,"min_version":2}',
        '{"hub_id":"h","max_version":true,"min_version":1}',
        '{"hub_id":"h","max_version":1,"min_version":0}',
        "[]",
        "not json",
    ]
    rejections = [
        ("garbage before HELLO", [bytes([4, 0, 2, 1, 2])], "MALFORMED"),
        ("HELLO that is not JSON", [encode_frame(FrameType.HELLO, b"{")], "MALFORMED"),
        (
            "no common version",
            [encode_frame(FrameType.HELLO, ClientHello(HUB_ID, 2, 3).encode())],
            "UNSUPPORTED_VERSION",
        ),
        ("oversized frame", [bytes([1, 0xFF, 0xFF])], "TOO_LARGE"),
        ("unknown frame type", [bytes([0x7F, 0, 0])], "UNKNOWN_MESSAGE"),
        (
            "encrypted frame without a handshake",
            [
                encode_frame(FrameType.HELLO, client_hello),
                encode_frame(FrameType.ENCRYPTED, bytes(20)),
            ],
            "MALFORMED",
        ),
        (
            "handshake with the wrong key",
            [
                encode_frame(FrameType.HELLO, client_hello),
                encode_frame(FrameType.HANDSHAKE, bytes(48)),
            ],
            "AUTH_FAILED",
        ),
        (
            "malformed pairing start",
            [encode_frame(FrameType.HELLO, client_hello), encode_frame(FrameType.PAIR, b"\x01")],
            "MALFORMED",
        ),
    ]
    return {
        "valid": [
            {"type": int(t), "payload": p.hex(), "encoded": encode_frame(t, p).hex()}
            for t, p in valid
        ],
        "invalid": invalid_out,
        "client_hello": {
            "fields": {"hub_id": HUB_ID, "min_version": 1, "max_version": 1},
            "payload": client_hello.decode(),
        },
        "server_hello": {"payload": server_hello.decode()},
        "invalid_client_hello": [{"payload": text, "error": "MALFORMED"} for text in bad_hellos],
        "version_negotiation": negotiation,
        "error_frames": [
            {
                "payload": encode_error(
                    LinkError(ErrorCode.RATE_LIMITED, "retry later", retry_after=29.2)
                ).decode(),
                "code": "RATE_LIMITED",
                "retry_after": 30,
            },
            {
                "payload": encode_error(LinkError(ErrorCode.WRONG_CODE, "wrong code")).decode(),
                "code": "WRONG_CODE",
                "retry_after": None,
            },
        ],
        "appliance_rejections": [
            {"name": name, "send": [f.hex() for f in sent], "error": code}
            for name, sent, code in rejections
        ],
    }


def pairing() -> dict[str, Any]:
    client_hello, server_hello = _hello_pair()
    server_hello = server_hello.replace(b'"paired":true', b'"paired":false')
    transcript = hello_transcript(client_hello, server_hello)
    identity = APPLIANCE["identity"]
    code = "24681357"

    def run(hub_code: str) -> dict[str, Any]:
        hub = PairingInitiator(
            hub_code,
            hub_id=HUB_ID,
            appliance_id=identity["appliance_id"],
            hello_transcript=transcript,
            entropy=seeded_entropy("hub"),
        )
        appliance = PairingResponder(
            code,
            hub_id=HUB_ID,
            appliance_id=identity["appliance_id"],
            hello_transcript=transcript,
            entropy=seeded_entropy("appliance"),
        )
        out: dict[str, Any] = {"hub_code": hub_code}
        start = hub.start()
        reply = appliance.handle_start(start)
        out |= {"start": start.hex(), "reply": reply.hex()}
        out["hub_scalar_le"] = hub._spake.xy_scalar.to_bytes(32, "little").hex()
        out["appliance_scalar_le"] = appliance._spake.xy_scalar.to_bytes(32, "little").hex()
        try:
            confirm = hub.handle_reply(reply)
        except LinkError as err:
            out["hub_error"] = err.code.name
            return out
        schedule = appliance._schedule
        assert schedule is not None
        out["spake2_key"] = schedule.shared.hex()
        out["transcript_hash"] = schedule.transcript_hash.hex()
        out["appliance_confirm_key"] = schedule.appliance_confirm_key.hex()
        out["hub_confirm_key"] = schedule.hub_confirm_key.hex()
        out["wrap_key"] = schedule.wrap_key.hex()
        key_payload = appliance.handle_confirm(confirm)
        ack = hub.handle_key(key_payload)
        key, done = appliance.handle_ack(ack)
        assert hub.handle_done(done) == key
        out |= {
            "confirm": confirm.hex(),
            "key": key_payload.hex(),
            "ack": ack.hex(),
            "done": done.hex(),
            "long_term_key": key.hex(),
        }
        return out

    return {
        "code": "2468-1357",
        "hub_id": HUB_ID,
        "appliance_id": identity["appliance_id"],
        "client_hello": client_hello.decode(),
        "server_hello": server_hello.decode(),
        "hello_transcript": transcript.hex(),
        "hub_entropy_seed": "hub",
        "appliance_entropy_seed": "appliance",
        "right_code": run("2468-1357"),
        "wrong_code": run("2468-1358"),
    }


def session() -> dict[str, Any]:
    client_hello, server_hello = _hello_pair()
    prologue = hello_transcript(client_hello, server_hello)
    hub_e, appliance_e = bytes([0x11] * 32), bytes([0x22] * 32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hub = NoiseInitiator(LONG_TERM_KEY, prologue, ephemeral=hub_e)
        responder = NoiseResponder(LONG_TERM_KEY, prologue, ephemeral=appliance_e)
        first = hub.first_message()
        reply, appliance = responder.respond(first)
        hub_session = hub.finish(reply)
        wrong = NoiseInitiator(bytes(32), prologue, ephemeral=hub_e).first_message()
    transport = []
    for sender, text in [
        ("hub", '{"id":1,"type":"describe"}'),
        ("appliance", '{"id":1,"result":{},"type":"result"}'),
        ("hub", '{"id":2,"type":"ping"}'),
        ("hub", '{"id":3,"type":"ping"}'),
        ("appliance", '{"seq":1,"type":"changed","values":{"on":true}}'),
    ]:
        cipher = (hub_session if sender == "hub" else appliance).encrypt(text.encode())
        transport.append({"from": sender, "plaintext": text, "ciphertext": cipher.hex()})
    return {
        "protocol": "Noise_NNpsk0_25519_ChaChaPoly_SHA256",
        "psk": LONG_TERM_KEY.hex(),
        "client_hello": client_hello.decode(),
        "server_hello": server_hello.decode(),
        "prologue": prologue.hex(),
        "hub_ephemeral_private": hub_e.hex(),
        "appliance_ephemeral_private": appliance_e.hex(),
        "handshake_1": first.hex(),
        "handshake_2": reply.hex(),
        "handshake_hash": hub_session.handshake_hash.hex(),
        "transport": transport,
        "wrong_psk_handshake_1": wrong.hex(),
    }


def _steps() -> list[tuple[str, str]]:
    return [
        ("describe", '{"id":1,"type":"describe"}'),
        ("subscribe", '{"id":2,"type":"subscribe"}'),
        ("read all", '{"id":3,"type":"read"}'),
        ("read some", '{"id":4,"keys":["mode","on"],"type":"read"}'),
        (
            "write two values",
            '{"id":5,"type":"write","values":{"on":true,"target_temperature":21.5}}',
        ),
        ("write out of range", '{"id":6,"type":"write","values":{"target_temperature":31}}'),
        ("write off step", '{"id":7,"type":"write","values":{"target_temperature":21.7}}'),
        ("write read-only", '{"id":8,"type":"write","values":{"temperature":20}}'),
        ("write unknown", '{"id":9,"type":"write","values":{"turbo":true}}'),
        ("write wrong type", '{"id":10,"type":"write","values":{"on":"yes"}}'),
        ("all or nothing", '{"id":11,"type":"write","values":{"mode":"sauna","on":false}}'),
        ("read after rejected write", '{"id":12,"keys":["mode","on"],"type":"read"}'),
        ("command not supported", '{"args":{},"id":13,"name":"start","type":"command"}'),
        ("read unknown key", '{"id":14,"keys":["turbo"],"type":"read"}'),
        ("ping", '{"id":15,"type":"ping"}'),
        ("unknown type", '{"id":100,"type":"reboot"}'),
        ("not JSON", "{not json"),
        ("no type", '{"id":101}'),
        ("request without id", '{"type":"ping"}'),
        ("negative id", '{"id":-1,"type":"ping"}'),
        ("read keys not a list", '{"id":102,"keys":"mode","type":"read"}'),
    ]


async def _messages() -> dict[str, Any]:
    identity = APPLIANCE["identity"]
    backend = VectorBackend(APPLIANCE)
    server = ApplianceServer(
        backend,
        ApplianceIdentity(
            identity["appliance_id"],
            ApplianceType(identity["type"]),
            identity["model"],
            identity["firmware"],
        ),
        pairing_code=APPLIANCE["pairing_code"],
        key_store=MemoryKeyStore(LONG_TERM_KEY),
    )
    await server.start("127.0.0.1", 0)
    channel = await SecureChannel.open("127.0.0.1", server.port, LONG_TERM_KEY, hub_id=HUB_ID)
    steps: list[dict[str, Any]] = []
    try:
        for name, request in _steps():
            channel.send_plaintext(request.encode())
            expect = []
            while True:
                message = await channel.receive_message(5)
                expect.append(message)
                if message["type"] != "changed":
                    break
            steps.append({"name": name, "request": request, "expect": expect})
    finally:
        await channel.close()
        await server.stop()
    # Requests 1-15 are what the hub's API sends, in its id order; the rest are raw.
    for step in steps:
        request = step["request"]
        message_id = json.loads(request).get("id") if request.startswith('{"') else None
        step["client_api"] = isinstance(message_id, int) and 1 <= message_id <= 15
    return {
        "hub_id": HUB_ID,
        "key": LONG_TERM_KEY.hex(),
        "appliance": APPLIANCE,
        "steps": steps,
    }


VOICE_APPLIANCE: dict[str, Any] = APPLIANCE | {
    "declaration": APPLIANCE["declaration"] | {"voice_panel": {"languages": ["zh-CN", "en"]}}
}
CONVERSATION = "01JD3W8K6YQ2N5ZB7C4XHVTR9E"


def _voice_steps() -> list[tuple[str, str, Any]]:
    """(name, "request" or "hear", the request's JSON text or what the panel hears)."""
    follow_up = f'"conversation":"{CONVERSATION}"'
    return [
        ("describe", "request", '{"id":1,"type":"describe"}'),
        ("subscribe", "request", '{"id":2,"type":"subscribe"}'),
        ("read all", "request", '{"id":3,"type":"read"}'),
        ("the panel hears", "hear", {"text": "开始洗衣", "language": "zh-CN"}),
        (
            "reply, keep listening",
            "request",
            f'{{"continue":true,{follow_up},"id":4,"text":"好的。用哪个程序？",'
            '"type":"voice_reply","utterance":1}',
        ),
        ("a follow-up", "hear", {"text": "用快洗", "language": "zh-CN"}),
        (
            "reply, stop listening",
            "request",
            f'{{"continue":false,{follow_up},"id":5,"text":"好的，开始快洗",'
            '"type":"voice_reply","utterance":2}',
        ),
        (
            "reply again",
            "request",
            '{"continue":false,"conversation":null,"id":6,"text":"again","type":"voice_reply",'
            '"utterance":2}',
        ),
        (
            "reply to an utterance never sent",
            "request",
            '{"continue":false,"conversation":null,"id":7,"text":"?","type":"voice_reply",'
            '"utterance":99}',
        ),
        (
            "announce",
            "request",
            '{"id":8,"language":"zh-CN","text":"洗衣完成","type":"announce"}',
        ),
        (
            "announce in English",
            "request",
            '{"id":9,"language":"en","text":"Washing done","type":"announce"}',
        ),
        (
            "announce in an undeclared language",
            "request",
            '{"id":10,"language":"de","text":"Fertig","type":"announce"}',
        ),
        ("announce nothing", "request", '{"id":11,"language":"en","text":"","type":"announce"}'),
        ("a new question", "hear", {"text": "what time is it", "language": "en"}),
        (
            "reply with nothing to say",
            "request",
            '{"continue":false,"conversation":null,"id":12,"text":"","type":"voice_reply",'
            '"utterance":3}',
        ),
        (
            "utterance not a number",
            "request",
            '{"continue":false,"id":100,"text":"x","type":"voice_reply","utterance":"1"}',
        ),
        ("continue missing", "request", '{"id":101,"text":"x","type":"voice_reply","utterance":1}'),
        ("language null", "request", '{"id":102,"language":null,"text":"x","type":"announce"}'),
    ]


async def _voice() -> dict[str, Any]:
    identity = VOICE_APPLIANCE["identity"]
    panel = VectorPanel()
    server = ApplianceServer(
        VectorBackend(VOICE_APPLIANCE),
        ApplianceIdentity(
            identity["appliance_id"],
            ApplianceType(identity["type"]),
            identity["model"],
            identity["firmware"],
        ),
        pairing_code=VOICE_APPLIANCE["pairing_code"],
        key_store=MemoryKeyStore(LONG_TERM_KEY),
        panel=panel,
    )
    await server.start("127.0.0.1", 0)
    channel = await SecureChannel.open("127.0.0.1", server.port, LONG_TERM_KEY, hub_id=HUB_ID)
    assert server.voice_panel is not None
    steps: list[dict[str, Any]] = []
    try:
        for name, kind, what in _voice_steps():
            said = len(panel.said)
            step: dict[str, Any] = {"name": name}
            if kind == "hear":
                server.voice_panel.hear(what["text"], what["language"])
                step["hear"] = what
            else:
                channel.send_plaintext(what.encode())
                step["request"] = what
                message_id = json.loads(what)["id"]
                step["client_api"] = message_id < 100
            step["expect"] = [await channel.receive_message(5)]
            step["panel_says"] = [speech_dict(speech) for speech in panel.said[said:]]
            steps.append(step)
    finally:
        await channel.close()
        await server.stop()
    return {
        "hub_id": HUB_ID,
        "key": LONG_TERM_KEY.hex(),
        "appliance": VOICE_APPLIANCE,
        "steps": steps,
    }


def ble_vectors() -> dict[str, Any]:
    frame = encode_frame(FrameType.ENCRYPTED, bytes(range(50)))
    cases = [
        {"mtu": mtu, "frame": frame.hex(), "fragments": [f.hex() for f in ble.fragment(frame, mtu)]}
        for mtu in (23, 40, 185)
    ]
    big = encode_frame(FrameType.ENCRYPTED, bytes(i % 251 for i in range(1500)))
    cases.extend(
        {"mtu": mtu, "frame": big.hex(), "fragments": [f.hex() for f in ble.fragment(big, mtu)]}
        for mtu in (23, 185, 247, 517)
    )
    first, second, third = ble.fragment(frame, 23)[:3]
    invalid = [
        ("continuation first", [second]),
        ("skipped fragment", [first, third]),
        ("new frame inside a frame", [first, first]),
        ("oversized frame header", [bytes([0xC0, 4, 0x40, 0x01])]),
        ("empty fragment", [bytes([0xC0])]),
        ("last flag too early", [bytes([0xC0]) + frame[:19]]),
    ]
    invalid_out = []
    for name, fragments in invalid:
        reassembler = ble.Reassembler()
        try:
            for f in fragments:
                reassembler.feed(f)
        except CodecError as err:
            invalid_out.append(
                {"name": name, "fragments": [f.hex() for f in fragments], "error": err.code.name}
            )
        else:
            raise AssertionError(name)
    return {
        "service_uuid": ble.SERVICE_UUID,
        "write_characteristic_uuid": ble.WRITE_CHARACTERISTIC_UUID,
        "notify_characteristic_uuid": ble.NOTIFY_CHARACTERISTIC_UUID,
        "valid": cases,
        "invalid": invalid_out,
        "advertisements": _ble_advertisements(),
    }


def _ble_advertisements() -> list[dict[str, Any]]:
    out = []
    for appliance_id, kind, paired, seq in (
        ("lz-ac-3f2a9c01", ApplianceType.ROOM_AIR_CONDITIONER, False, 0),
        ("lz-fr-00000001", ApplianceType.REFRIGERATOR, True, 5),
        ("lz-dishwasher-with-a-long-appliance-id-01", ApplianceType.DISHWASHER, True, 1234),
    ):
        out.append(
            {
                "appliance_id": appliance_id,
                "type": str(kind),
                "paired": paired,
                "seq": seq,
                "changes": seq % 8,
                "service_data": ble_advertisement.build_service_data(
                    appliance_id, kind, paired=paired, seq=seq
                ).hex(),
                "advertising_data": ble_advertisement.advertising_data(
                    appliance_id, kind, paired=paired, seq=seq
                ).hex(),
                "scan_response_data": ble_advertisement.scan_response_data(appliance_id).hex(),
            }
        )
    return out


def discovery_vectors() -> dict[str, Any]:
    good = discovery.build_txt(
        appliance_id="lz-ac-3f2a9c01",
        appliance_type=ApplianceType.ROOM_AIR_CONDITIONER,
        model="LZ-AC35",
        firmware="1.4.2",
        paired=False,
        protocol=(1, 2),
    )
    invalid = [
        {k: v for k, v in good.items() if k != "id"},
        good | {"id": "LZ-AC"},
        good | {"type": "toaster"},
        good | {"proto": "2-1"},
        good | {"proto": "v1"},
        good | {"paired": "yes"},
        good | {"model": ""},
    ]
    return {
        "service_type": discovery.SERVICE_TYPE,
        "default_port": discovery.DEFAULT_PORT,
        "valid": [
            {
                "txt": good,
                "record": {
                    "appliance_id": "lz-ac-3f2a9c01",
                    "type": "room_air_conditioner",
                    "model": "LZ-AC35",
                    "firmware": "1.4.2",
                    "protocol_min": 1,
                    "protocol_max": 2,
                    "paired": False,
                },
            }
        ],
        "invalid": [{"txt": txt} for txt in invalid],
    }


def declaration_vectors() -> dict[str, Any]:
    """Declarations with valid and invalid ``models`` (PROTOCOL.md 7.6) and what a receiver
    makes of them: the parsed list, or an error naming the fault."""
    base = APPLIANCE["declaration"]
    wet_cycle = {"id": "wet_cycle", "version": "1"}
    valid = [
        ("one model", [wet_cycle]),
        ("none", []),
        (
            "an id this hub does not know is kept",
            [wet_cycle, {"id": "room_thermal", "version": "2.1-int8"}],
        ),
    ]
    invalid = [
        ("not a list", {"id": "wet_cycle", "version": "1"}, "models must be a list"),
        ("null", None, "models must be a list"),
        ("an entry is not an object", ["wet_cycle"], "models[0] must be an object"),
        ("an unknown key", [wet_cycle | {"url": "x"}], "models[0] has unknown keys: url"),
        ("no version", [{"id": "wet_cycle"}], "models[0].version"),
        ("version a number", [{"id": "wet_cycle", "version": 1}], "models[0].version"),
        ("version with a space", [{"id": "wet_cycle", "version": "1 beta"}], "models[0].version"),
        ("id in capitals", [{"id": "WetCycle", "version": "1"}], "models[0].id"),
        ("empty id", [{"id": "", "version": "1"}], "models[0].id"),
        ("id too long", [{"id": "m" * 33, "version": "1"}], "models[0].id"),
        ("repeated id", [wet_cycle, wet_cycle], "models repeat ids: wet_cycle"),
        (
            "17 models",
            [{"id": f"m{n}", "version": "1"} for n in range(17)],
            "at most 16",
        ),
    ]
    return {
        "valid": [
            {"name": name, "declaration": base | {"models": models}, "models": models}
            for name, models in valid
        ],
        "invalid": [
            {"name": name, "declaration": base | {"models": models}, "error": error}
            for name, models, error in invalid
        ],
    }


def _write(name: str, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    (VECTOR_DIR / f"{name}.json").write_text(text, "utf-8")


def main() -> None:
    """Write every vector file."""
    _write("frames", frames())
    _write("pairing", pairing())
    _write("session", session())
    _write("messages", asyncio.run(_messages()))
    _write("voice", asyncio.run(_voice()))
    _write("ble", ble_vectors())
    _write("discovery", discovery_vectors())
    _write("declarations", declaration_vectors())


if __name__ == "__main__":
    main()
