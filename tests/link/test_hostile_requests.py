"""Inside a session every frame that decrypts gets an error reply and the session goes on.

Issue 9, item 2: PROTOCOL.md 7.2. Hostile values for every request kind, over
real sockets on 127.0.0.1, then a property test over every mutated message.
"""

from __future__ import annotations

import logging
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.liuzhou_appliances.link.client import SecureChannel
from custom_components.liuzhou_appliances.link.errors import ErrorCode
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.server import (
    ApplianceIdentity,
    ApplianceServer,
    MemoryKeyStore,
)

from .backend import AC_STATE, WASHER_DECLARATION, MemoryBackend
from .conftest import CODE, HUB_ID, KEY
from .hostile import hostile_payloads
from .memory_session import SessionRun, exchange, run_in_new_loop

HUGE = "9" * 401
WASHER_IDENTITY = ApplianceIdentity("lz-wm-00000001", ApplianceType.LAUNDRY_WASHER, "LZ-W8", "1.0")

# (request JSON text, id of the reply, code of the reply, key of the reply)
CASES: dict[str, tuple[str, int | None, ErrorCode, str | None]] = {
    "write_huge_integer": (
        f'{{"id":7,"type":"write","values":{{"target_temperature":{HUGE}}}}}',
        7,
        ErrorCode.OUT_OF_RANGE,
        "target_temperature",
    ),
    "write_huge_negative": (
        f'{{"id":7,"type":"write","values":{{"target_temperature":-{HUGE}}}}}',
        7,
        ErrorCode.OUT_OF_RANGE,
        "target_temperature",
    ),
    "write_beyond_double": (
        '{"id":7,"type":"write","values":{"target_temperature":1e400}}',
        None,
        ErrorCode.MALFORMED,
        None,
    ),
    "write_object_for_bool": (
        '{"id":7,"type":"write","values":{"on":{}}}',
        7,
        ErrorCode.INVALID_TYPE,
        "on",
    ),
    "write_list_for_enum": (
        '{"id":7,"type":"write","values":{"mode":[]}}',
        7,
        ErrorCode.INVALID_TYPE,
        "mode",
    ),
    "write_lone_surrogate": (
        '{"id":7,"type":"write","values":{"mode":"\\ud800"}}',
        None,
        ErrorCode.MALFORMED,
        None,
    ),
    "write_huge_unknown_key": (
        '{"id":7,"type":"write","values":{"' + "\\u0001" * 2700 + '":1}}',
        7,
        ErrorCode.UNKNOWN_CAPABILITY,
        None,
    ),
    "write_values_repeated": (
        '{"id":7,"type":"write","values":{"on":true},"values":{"on":false}}',
        None,
        ErrorCode.MALFORMED,
        None,
    ),
    "write_deep_nesting": (
        '{"id":7,"type":"write","values":{"on":' + "[" * 500 + "]" * 500 + "}}",
        None,
        ErrorCode.MALFORMED,
        None,
    ),
    "read_huge_key": (
        f'{{"id":8,"type":"read","keys":[{HUGE}]}}',
        8,
        ErrorCode.MALFORMED,
        None,
    ),
    "read_object_keys": ('{"id":8,"type":"read","keys":{"a":1}}', 8, ErrorCode.MALFORMED, None),
    "command_object_name": ('{"id":9,"type":"command","name":{}}', 9, ErrorCode.MALFORMED, None),
    "command_huge_delay": (
        f'{{"id":9,"type":"command","name":"start","args":{{"delay_s":{HUGE}}}}}',
        9,
        ErrorCode.OUT_OF_RANGE,
        None,
    ),
    "command_float_delay": (
        '{"id":9,"type":"command","name":"start","args":{"finish_in_s":1e308}}',
        9,
        ErrorCode.INVALID_TYPE,
        None,
    ),
    "describe_huge_id": (
        f'{{"id":{HUGE},"type":"describe"}}',
        None,
        ErrorCode.MALFORMED,
        None,
    ),
    "subscribe_object_type": ('{"id":3,"type":{}}', None, ErrorCode.MALFORMED, None),
    "ping_list_type": ('{"id":3,"type":["ping"]}', None, ErrorCode.MALFORMED, None),
    "ping_unknown_type": ('{"id":3,"type":"pong"}', 3, ErrorCode.UNKNOWN_MESSAGE, None),
}


@pytest.fixture
async def washer_server() -> Any:
    server = ApplianceServer(
        MemoryBackend(WASHER_DECLARATION, AC_STATE),
        WASHER_IDENTITY,
        pairing_code=CODE,
        key_store=MemoryKeyStore(KEY),
        handshake_timeout=2.0,
    )
    await server.start("127.0.0.1", 0)
    yield server
    await server.stop()


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
async def test_hostile_request_gets_an_error_and_the_session_continues(
    server: ApplianceServer,
    washer_server: ApplianceServer,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    text, reply_id, code, key = CASES[case]
    target = washer_server if case.startswith("command") else server
    channel = await SecureChannel.open("127.0.0.1", target.port, KEY, hub_id=HUB_ID)
    try:
        channel.send_plaintext(text.encode("utf-8", "surrogatepass"))
        reply = await channel.receive_message(2)
        assert (reply["type"], reply["id"], reply["code"]) == ("error", reply_id, code), reply
        assert reply.get("key") == key
        channel.send_message({"id": 100, "type": "ping"})
        assert await channel.receive_message(2) == {"id": 100, "type": "result", "result": {}}
    finally:
        await channel.close()
    assert target.backend.values == AC_STATE  # type: ignore[attr-defined]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_failure_inside_the_appliance_is_internal_and_the_session_continues(
    server: ApplianceServer, backend: MemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_snapshot() -> dict[str, Any]:
        raise TypeError("a bug in the appliance")

    monkeypatch.setattr(backend, "snapshot", broken_snapshot)
    channel = await SecureChannel.open("127.0.0.1", server.port, KEY, hub_id=HUB_ID)
    try:
        channel.send_message({"id": 5, "type": "read"})
        reply = await channel.receive_message(2)
        assert (reply["id"], reply["code"]) == (5, ErrorCode.INTERNAL)
        assert "read" in reply["message"]
        channel.send_message({"id": 6, "type": "describe"})
        assert (await channel.receive_message(2))["type"] == "result"
    finally:
        await channel.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_payloads(), min_size=1, max_size=6))
def test_every_mutated_message_is_answered_once_in_a_live_session(inputs: list[bytes]) -> None:
    run: SessionRun = run_in_new_loop(
        lambda: exchange([*inputs, b'{"id":0,"type":"ping"}'], keepalive_timeout=1)
    )
    replies, backend = run.replies, run.backend
    answers = [r for r in replies if r["type"] in ("result", "error")]
    assert len(answers) == len(inputs) + 1  # each answered once, and the session still serves
    assert {"id": 0, "type": "result", "result": {}} in answers
    assert not [a for a in answers if a.get("code") == ErrorCode.INTERNAL]
    for key, value in backend.values.items():
        assert backend.declaration.capabilities[key].validate(value) == value
