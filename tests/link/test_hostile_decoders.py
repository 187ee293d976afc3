"""Every decoder, for any input, raises only its documented error (issue 9, item 1).

The link's codec, pairing and session parsers raise ``LinkError`` (the codec's
``CodecError`` is one); ``Declaration.from_dict`` raises ``DeclarationError``.
Whatever a decoder accepts can be encoded again: no value that only breaks
later (a lone surrogate, an infinity, a huge integer in a float field) gets
through.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.liuzhou_appliances.link.client import ApplianceClient
from custom_components.liuzhou_appliances.link.codec import (
    MAX_JSON_DEPTH,
    ClientHello,
    CodecError,
    FrameType,
    HelloInfo,
    decode_error,
    decode_frame,
    decode_message,
    dump_json,
    encode_error,
    encode_frame,
    error_from_dict,
    load_json_object,
)
from custom_components.liuzhou_appliances.link.declaration import Declaration, DeclarationError
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.messages import Utterance, request_from_dict
from custom_components.liuzhou_appliances.link.pairing import (
    PairingInitiator,
    PairingResponder,
    PairStep,
)
from custom_components.liuzhou_appliances.link.session import NoiseInitiator, NoiseResponder
from custom_components.liuzhou_appliances.link.voice_client import checked_utterance

from .backend import AC_DECLARATION, WASHER_DECLARATION
from .hostile import hostile_payloads

HOSTILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DECLARATIONS = [
    Declaration.from_dict(AC_DECLARATION),
    Declaration.from_dict(WASHER_DECLARATION),
    Declaration.from_dict(AC_DECLARATION | {"voice_panel": {"languages": ["zh-CN", "en"]}}),
]


def _check_inner(message: dict[str, Any]) -> None:
    """What the hub and the appliance do with a decoded inner message."""
    dump_json(message)  # anything accepted can be written again
    with contextlib.suppress(CodecError):
        error = error_from_dict(message)
        assert error.retry_after is None or math.isfinite(error.retry_after)
        encode_error(error)
    result = message.get("result")
    if isinstance(result, dict) and "declaration" in result:
        with contextlib.suppress(DeclarationError):
            dump_json(Declaration.from_dict(result["declaration"]).to_dict())
    client = ApplianceClient("127.0.0.1", 1, bytes(32), hub_id="hub")
    with contextlib.suppress(LinkError):
        client._handle(message)
    if isinstance(message.get("type"), str) and (message.get("id") is not None):
        with contextlib.suppress(LinkError):
            request = request_from_dict(message)
            assert request_from_dict(decode_message(request.encode())) == request
    with contextlib.suppress(LinkError):
        utterance = Utterance.from_dict(message)
        assert Utterance.from_dict(decode_message(dump_json(utterance.to_dict()))) == utterance
        for declaration in DECLARATIONS:
            with contextlib.suppress(LinkError):
                checked_utterance(message, declaration)
    values = message.get("values")
    args = message.get("args")
    name = message.get("name")
    for declaration in DECLARATIONS:
        if isinstance(values, dict):
            for key, value in values.items():
                with contextlib.suppress(LinkError):
                    dump_json({"v": declaration.validate_write(key, value)})
        if isinstance(name, str) and isinstance(args, dict):
            with contextlib.suppress(LinkError):
                declaration.validate_command(name, args)


@HOSTILE
@given(hostile_payloads())
def test_every_json_decoder_raises_only_its_documented_error(payload: bytes) -> None:
    with contextlib.suppress(CodecError):
        hello = ClientHello.decode(payload)
        assert ClientHello.decode(hello.encode()) == hello
    with contextlib.suppress(CodecError):
        info = HelloInfo.decode(payload)
        assert HelloInfo.decode(info.encode()) == info
    with contextlib.suppress(CodecError):
        error = decode_error(payload)
        assert error.retry_after is None or math.isfinite(error.retry_after)
        encode_error(error)
    assert decode_frame(encode_frame(FrameType.HELLO, payload)).payload == payload
    message: dict[str, Any] | None = None
    with contextlib.suppress(CodecError):
        message = decode_message(payload)
    if message is not None:
        _check_inner(message)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('{"a":1,"a":2}', "repeats"),
        ('{"x":{"b":true,"b":true}}', "repeats"),
        ('{"a":1e400}', "out of range"),
        ('{"a":-1e999}', "out of range"),
        ('{"a":NaN}', "NaN"),
        ('{"a":"\\ud800"}', "surrogate"),
        ('{"\\udc00":1}', "surrogate"),
        ('{"a":' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}", "nested"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ],
)
def test_json_that_peers_could_read_differently_is_malformed(text: str, detail: str) -> None:
    with pytest.raises(CodecError) as caught:
        load_json_object(text.encode())
    assert caught.value.code is ErrorCode.MALFORMED
    assert detail in caught.value.message


def test_json_within_the_limits_is_kept() -> None:
    deepest = '{"a":' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    assert load_json_object(deepest.encode())["a"] is not None
    assert load_json_object(b'{"s":"\\ud83d\\ude00","n":' + b"9" * 401 + b"}") == {
        "s": "\U0001f600",
        "n": int("9" * 401),
    }


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b'{"appliance_id":"a","type":{},"model":"m","firmware":"f","version":1,"paired":true}', 1),
        (b'{"appliance_id":"a","type":[],"model":"m","firmware":"f","version":1,"paired":true}', 1),
        (b'{"code":11,"message":"m","retry_after":' + b"9" * 401 + b"}", 1),
    ],
)
def test_field_examples_from_the_issue(payload: bytes, code: int) -> None:
    for decode in (HelloInfo.decode, decode_error):
        with pytest.raises(CodecError) as caught:
            decode(payload)
        assert caught.value.code == code


def _declaration_with(**changes: Any) -> dict[str, Any]:
    return {**WASHER_DECLARATION, **changes}


@pytest.mark.parametrize(
    "raw",
    [
        {**AC_DECLARATION, "capabilities": {"target_temperature": {"min": 10**400}}},
        {**AC_DECLARATION, "capabilities": {"target_temperature": {"step": 2**60}}},
        _declaration_with(
            programmes=[
                {"id": "cotton", "duration_s": 10**400, "energy_kwh": 1, "profile": [[1, 1]]}
            ]
        ),
        _declaration_with(
            programmes=[
                {
                    "id": "cotton",
                    "duration_s": 7200,
                    "energy_kwh": 1,
                    "profile": [[10**400, 500], [7200 - 10**400, 1]],
                }
            ]
        ),
        {**AC_DECLARATION, "type": {}},
    ],
)
def test_declarations_with_huge_numbers_are_declaration_errors(raw: dict[str, Any]) -> None:
    with pytest.raises(DeclarationError):
        Declaration.from_dict(raw)


@pytest.mark.parametrize("value", [10**400, -(10**400), 2**53, float("inf"), float("nan")])
def test_numbers_beyond_safe_range_are_out_of_range(value: float) -> None:
    for declaration in DECLARATIONS:
        for key, capability in declaration.capabilities.items():
            if capability.spec.kind in ("number", "duration"):
                with pytest.raises(LinkError) as caught:
                    capability.validate(value)
                assert caught.value.code is ErrorCode.OUT_OF_RANGE
                assert caught.value.key == key


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=120),
        st.tuples(st.sampled_from(list(PairStep)), st.binary(max_size=100)).map(
            lambda t: bytes([t[0]]) + t[1]
        ),
        # Right step and length, wrong content: reaches the cryptography.
        st.tuples(st.sampled_from(list(PairStep)), st.sampled_from([0, 32, 33, 65])).map(
            lambda t: bytes([t[0]]) + bytes(range(t[1]))
        ),
    )
)
def test_pairing_and_handshake_parsers_raise_only_link_errors(payload: bytes) -> None:
    initiator = PairingInitiator("12345678", hub_id="h", appliance_id="a", hello_transcript=b"")
    initiator.start()
    responder = PairingResponder("12345678", hub_id="h", appliance_id="a", hello_transcript=b"")
    for parse in (
        initiator.handle_reply,
        initiator.handle_key,
        initiator.handle_done,
        responder.handle_start,
        responder.handle_confirm,
        responder.handle_ack,
    ):
        with contextlib.suppress(LinkError):
            parse(payload)
    noise = NoiseInitiator(bytes(32), b"p")
    noise.first_message()
    with contextlib.suppress(LinkError):
        noise.finish(payload)
    with contextlib.suppress(LinkError):
        NoiseResponder(bytes(32), b"p").respond(payload)
    first = NoiseInitiator(bytes(32), b"p")
    _, session = NoiseResponder(bytes(32), b"p").respond(first.first_message())
    with contextlib.suppress(LinkError):
        session.decrypt(payload)
