"""Typed inner messages write the same dictionaries as the envelope functions and read them back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.codec import (
    MessageType,
    changed_message,
    decode_message,
    encode_message,
    error_message,
    request_message,
    result_message,
)
from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.errors import (
    ErrorCode,
    LinkError,
    MalformedError,
    OutOfRangeError,
    UnknownMessageError,
)
from custom_components.liuzhou_appliances.link.messages import (
    Announce,
    Changed,
    Command,
    Describe,
    DescribeResult,
    EmptyResult,
    ErrorReply,
    Ping,
    Read,
    ReadResult,
    Request,
    Result,
    Subscribe,
    SubscribeResult,
    Utterance,
    VoiceReply,
    Write,
    request_from_dict,
)

from .backend import AC_DECLARATION

REQUESTS: list[tuple[Request, dict[str, Any]]] = [
    (Ping(1), request_message(1, MessageType.PING)),
    (Describe(2), request_message(2, MessageType.DESCRIBE)),
    (Subscribe(3), request_message(3, MessageType.SUBSCRIBE)),
    (Read(4), request_message(4, MessageType.READ)),
    (Read(5, ("mode", "on")), request_message(5, MessageType.READ, keys=["mode", "on"])),
    (Write(6, {"on": True}), request_message(6, MessageType.WRITE, values={"on": True})),
    (
        Command(7, "start", {"delay_s": 60}),
        request_message(7, MessageType.COMMAND, name="start", args={"delay_s": 60}),
    ),
    (
        VoiceReply(8, 3, "好的", True, "01JABC"),
        request_message(
            8,
            MessageType.VOICE_REPLY,
            utterance=3,
            text="好的",
            conversation="01JABC",
            **{"continue": True},
        ),
    ),
    (
        VoiceReply(9, 4, "", False),
        request_message(
            9,
            MessageType.VOICE_REPLY,
            utterance=4,
            text="",
            conversation=None,
            **{"continue": False},
        ),
    ),
    (
        Announce(10, "洗衣完成", "zh-CN"),
        request_message(10, MessageType.ANNOUNCE, text="洗衣完成", language="zh-CN"),
    ),
]


@pytest.mark.parametrize(("request_", "wire"), REQUESTS)
def test_requests_write_the_envelope_and_read_back(request_: Request, wire: dict[str, Any]) -> None:
    assert request_.to_dict() == wire
    assert request_from_dict(decode_message(encode_message(wire))) == request_


@pytest.mark.parametrize("message_id", [0, 7, 1000, 2**53 - 1])
@pytest.mark.parametrize(
    "make",
    [
        Ping,
        Describe,
        Subscribe,
        Read,
        lambda i: Read(i, ("mode", "on")),
        lambda i: Write(i, {"on": True, "mode": "cool"}),
        lambda i: Command(i, "start", {"delay_s": 60}),
        lambda i: VoiceReply(i, 2, "好", False, None),
        lambda i: Announce(i, "done", "en"),
    ],
)
def test_encoded_requests_are_the_bytes_of_their_wire_dictionary(
    make: Callable[[int], Request], message_id: int
) -> None:
    """The hand-written fast path for requests without fields is the JSON encoder's output."""
    request = make(message_id)
    assert request.encode() == encode_message(request.to_dict())


def _reply(**fields: Any) -> dict[str, Any]:
    """A valid voice_reply with ``fields`` replaced."""
    return {
        "id": 1,
        "type": "voice_reply",
        "utterance": 1,
        "text": "ok",
        "continue": False,
        "conversation": None,
    } | fields


@pytest.mark.parametrize(
    ("message", "error", "detail"),
    [
        ({"id": 1, "type": "pong"}, UnknownMessageError, "unknown message type"),
        ({"type": "ping"}, MalformedError, "needs an id"),
        ({"id": None, "type": "read"}, MalformedError, "needs an id"),
        ({"id": 1, "type": "read", "keys": "mode"}, MalformedError, "keys must be"),
        ({"id": 1, "type": "read", "keys": ["a"] * 257}, MalformedError, "keys must be"),
        ({"id": 1, "type": "write", "values": {}}, MalformedError, "non-empty object"),
        ({"id": 1, "type": "command"}, MalformedError, "needs a name"),
        ({"id": 1, "type": "command", "name": "start", "args": None}, MalformedError, "args"),
        (_reply(utterance="1"), MalformedError, "utterance must be"),
        (_reply(utterance=True), MalformedError, "utterance must be"),
        (_reply(utterance=2**53), MalformedError, "utterance must be"),
        (_reply(utterance=-1), MalformedError, "utterance must be"),
        (_reply(text=None), MalformedError, "text must be"),
        (_reply(**{"continue": 1}), MalformedError, "continue must be"),
        (_reply(conversation=7), MalformedError, "conversation must be"),
        ({"id": 1, "type": "voice_reply", "text": "x", "continue": False}, MalformedError, "utt"),
        ({"id": 1, "type": "announce", "text": "x"}, MalformedError, "language strings"),
        ({"id": 1, "type": "announce", "language": "en", "text": 3}, MalformedError, "strings"),
        ({"type": "announce", "language": "en", "text": "x"}, MalformedError, "needs an id"),
    ],
)
def test_requests_of_the_wrong_shape_raise_the_error_the_session_answers(
    message: dict[str, Any], error: type[LinkError], detail: str
) -> None:
    with pytest.raises(error, match=detail):
        request_from_dict(message)


def test_a_voice_reply_without_conversation_has_none() -> None:
    message = {"id": 1, "type": "voice_reply", "utterance": 5, "text": "ok", "continue": True}
    assert request_from_dict(message) == VoiceReply(1, 5, "ok", True, None)


def test_utterances_write_the_push_and_read_back() -> None:
    heard = Utterance(7, "开始洗", "zh-CN", "01JABC")
    wire = heard.to_dict()
    assert wire == {
        "type": "utterance",
        "utterance": 7,
        "text": "开始洗",
        "language": "zh-CN",
        "conversation": "01JABC",
    }
    assert Utterance.from_dict(decode_message(encode_message(wire))) == heard
    assert Utterance(1, "hi", "en").to_dict()["conversation"] is None


@pytest.mark.parametrize(
    "fields",
    [
        {"utterance": "7"},
        {"utterance": 2**53},
        {"text": None},
        {"language": 1},
        {"conversation": 1},
    ],
)
def test_utterances_of_the_wrong_shape_are_malformed(fields: dict[str, Any]) -> None:
    wire = Utterance(7, "hi", "en").to_dict() | fields
    with pytest.raises(MalformedError):
        Utterance.from_dict(wire)


def test_a_command_without_args_has_none() -> None:
    assert request_from_dict({"id": 1, "type": "command", "name": "pause"}) == Command(1, "pause")


def test_answers_and_pushes_write_the_envelope_and_read_back() -> None:
    declaration = Declaration.from_dict(AC_DECLARATION)
    described = DescribeResult(declaration, {"appliance_id": "lz-ac-1", "model": "M"})
    wire = Result.answering(9, described).to_dict()
    assert wire == result_message(
        9, {"appliance_id": "lz-ac-1", "model": "M", "declaration": declaration.to_dict()}
    )
    assert DescribeResult.from_dict(Result.from_dict(wire).result) == described
    assert Result.answering(1, EmptyResult()).to_dict() == result_message(1, {})
    assert ReadResult.from_dict(ReadResult({"on": True}).to_dict()) == ReadResult({"on": True})
    assert SubscribeResult.from_dict(SubscribeResult(4).to_dict()) == SubscribeResult(4)
    assert SubscribeResult.from_dict({}) == SubscribeResult(0)
    changed = Changed(3, {"on": False})
    assert changed.to_dict() == changed_message(3, {"on": False})
    assert Changed.from_dict(changed.to_dict()) == changed
    error = OutOfRangeError("too hot", key="target_temperature")
    reply = ErrorReply.from_dict(ErrorReply(5, error).to_dict())
    assert ErrorReply(5, error).to_dict() == error_message(5, error)
    assert (reply.id, reply.error.code, reply.error.key) == (5, error.code, error.key)


@pytest.mark.parametrize(
    ("parse", "data", "detail"),
    [
        (DescribeResult.from_dict, {"declaration": {"type": "toaster"}}, "bad declaration"),
        (ReadResult.from_dict, {"values": []}, "has no values"),
        (Result.from_dict, {"id": 1, "type": "result", "result": []}, "not an object"),
        (Result.from_dict, {"id": None, "type": "result", "result": {}}, "needs an id"),
        (Changed.from_dict, {"type": "changed", "seq": "1", "values": {}}, "seq and values"),
    ],
)
def test_answers_of_the_wrong_shape_are_malformed(
    parse: Callable[[Mapping[str, Any]], object], data: dict[str, Any], detail: str
) -> None:
    with pytest.raises(MalformedError, match=detail):
        parse(data)


def test_an_error_that_is_no_error_is_malformed() -> None:
    with pytest.raises(LinkError) as caught:
        ErrorReply.from_dict({"id": 1, "type": "error", "code": "x"})
    assert caught.value.code is ErrorCode.MALFORMED
