"""Typed inner messages: one frozen dataclass per message kind.

The hub sends requests (``Ping``, ``Describe``, ``Read``, ``Write``,
``Command``, ``Subscribe``, and to a voice panel ``VoiceReply`` and
``Announce``); the appliance answers each with a ``Result`` (its body one of
``DescribeResult``, ``ReadResult``, ``SubscribeResult`` or ``EmptyResult``,
the answer to ping, write, command, voice_reply and announce) or an
``ErrorReply``, and pushes ``Changed`` and ``Utterance`` (what its panel heard).
Each class turns itself into the wire dictionary with ``to_dict()``
(through codec.py's envelope functions, so the bytes are the ones the
dict-level API writes) and is read back with ``from_dict()``,
which checks the shape only and raises the same ``LinkError`` classes the
hand checks raised. What the values mean (declared keys, bounds, command
arguments) is the declaration's business, not this module's.

``from_dict`` expects a dictionary that passed ``codec.decode_message`` (the
envelope: ``type`` a string, ``id`` absent, null or a whole number).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, TypeIs

from .codec import (
    MessageType,
    changed_message,
    encode_bare_request,
    encode_message,
    error_from_dict,
    error_message,
    request_message,
    result_message,
)
from .declaration import Declaration, DeclarationError
from .errors import LinkError, MalformedError, UnknownMessageError

MAX_READ_KEYS: Final = 256
_MAX_NUMBER: Final = 2**53 - 1  # protocol integers: what every JSON parser keeps exact


def _whole_number(value: object) -> TypeIs[int]:
    """A protocol integer: an int (not a bool) from 0 to 2^53 - 1."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_NUMBER


def _optional_text(message: Mapping[str, Any], name: str) -> str | None:
    """A field that is a string or null (absent counts as null); MALFORMED otherwise."""
    value = message.get(name)
    if value is not None and not isinstance(value, str):
        raise MalformedError(f"{name} must be a string or null")
    return value


def _request_id(message: Mapping[str, Any]) -> int:
    message_id = message.get("id")
    if message_id is None:
        raise MalformedError("a request needs an id")
    # decode_message checked it: a whole number in range.
    return int(message_id)


# --- requests (hub -> appliance) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ping:
    """Are you there? Answered with an ``EmptyResult``."""

    KIND: ClassVar = MessageType.PING
    id: int

    def to_dict(self) -> dict[str, Any]:
        """The wire dictionary."""
        return request_message(self.id, self.KIND)

    def encode(self) -> bytes:
        """The inner message's bytes (as ``encode_message(self.to_dict())``)."""
        return encode_bare_request(self.id, self.KIND)

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> Ping:
        """Read a ping request."""
        return cls(_request_id(message))


@dataclass(frozen=True, slots=True)
class Describe:
    """Who are you and what can you do? Answered with a ``DescribeResult``."""

    KIND: ClassVar = MessageType.DESCRIBE
    id: int

    def to_dict(self) -> dict[str, Any]:
        """The wire dictionary."""
        return request_message(self.id, self.KIND)

    def encode(self) -> bytes:
        """The inner message's bytes (as ``encode_message(self.to_dict())``)."""
        return encode_bare_request(self.id, self.KIND)

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> Describe:
        """Read a describe request."""
        return cls(_request_id(message))


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Push changes to this session from now on. Answered with a ``SubscribeResult``."""

    KIND: ClassVar = MessageType.SUBSCRIBE
    id: int

    def to_dict(self) -> dict[str, Any]:
        """The wire dictionary."""
        return request_message(self.id, self.KIND)

    def encode(self) -> bytes:
        """The inner message's bytes (as ``encode_message(self.to_dict())``)."""
        return encode_bare_request(self.id, self.KIND)

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> Subscribe:
        """Read a subscribe request."""
        return cls(_request_id(message))


@dataclass(frozen=True, slots=True)
class Read:
    """Current values: all (``keys`` None) or the listed keys. Answered with a ``ReadResult``."""

    KIND: ClassVar = MessageType.READ
    id: int
    keys: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The wire dictionary (no ``keys`` field when all are wanted)."""
        fields: dict[str, Any] = {} if self.keys is None else {"keys": list(self.keys)}
        return request_message(self.id, self.KIND, **fields)

    def encode(self) -> bytes:
        """The inner message's bytes (as ``encode_message(self.to_dict())``)."""
        if self.keys is None:
            return encode_bare_request(self.id, self.KIND)
        return encode_message(self.to_dict())

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> Read:
        """Read a read request; MALFORMED unless keys is a list of at most 256 strings."""
        message_id = _request_id(message)
        keys = message.get("keys")
        if keys is None:
            return cls(message_id)
        if (
            not isinstance(keys, list)
            or len(keys) > MAX_READ_KEYS
            or not all(isinstance(key, str) for key in keys)
        ):
            raise MalformedError("keys must be a list of capability keys")
        return cls(message_id, tuple(keys))


@dataclass(frozen=True, slots=True)
class Write:
    """Set values, all or nothing. Answered with an ``EmptyResult``.

    The values are as received: the declaration checks them
    (``Declaration.validate_write``).
    """

    KIND: ClassVar = MessageType.WRITE
    id: int
    values: Mapping[str, object]

    def to_dict(self) -> dict[str, Any]:
        """The wire dictionary."""
        return request_message(self.id, self.KIND, values=dict(self.values))

    def encode(self) -> bytes:
        """The inner message's bytes; MALFORMED or TOO_LARGE if they cannot be sent."""
        return encode_message(self.to_dict())

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> Write:
        """Read a write request; MALFORMED unless values is a non-empty object."""
        message_id = _request_id(message)
        values = message.get("values")
        if not isinstance(values, dict) or not values:
            raise MalformedError("values must be a non-empty object")
        return cls(message_id, values)


@dataclass(frozen=True, slots=True)
class Command:
    """Run a command (start, pause ...). Answered with an ``EmptyResult``.

    The arguments are as received: ``Declaration.validate_command`` checks them.
    """

    KIND: ClassVar = MessageType.COMMAND
    id: int
    name: str
    args: Mapping[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The wire dictionary (``args`` always present)."""
        return request_message(self.id, self.KIND, name=self.name, args=dict(self.args))

    def encode(self) -> bytes:
        """The inner message's bytes; MALFORMED or TOO_LARGE if they cannot be sent."""
        return encode_message(self.to_dict())

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> Command:
        """Read a command; MALFORMED unless name is a string and args (if given) an object."""
        message_id = _request_id(message)
        name = message.get("name")
        if not isinstance(name, str):
            raise MalformedError("command needs a name")
        args = message.get("args", {})
        if not isinstance(args, dict):
            raise MalformedError("args must be an object")
        return cls(message_id, name, args)


@dataclass(frozen=True, slots=True)
class VoiceReply:
    """The hub's answer to what the panel heard (PROTOCOL.md 7.5). Answered with an ``EmptyResult``.

    ``utterance`` is the number of the ``Utterance`` answered; the panel
    speaks ``text`` (0-1000 characters, in the utterance's language) and, when
    ``continue_listening`` (``continue`` on the wire), listens again: its next
    utterance carries ``conversation``. The lengths are the panel's to check.
    """

    KIND: ClassVar = MessageType.VOICE_REPLY
    id: int
    utterance: int
    text: str
    continue_listening: bool
    conversation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The wire dictionary (``conversation`` always present, maybe null)."""
        fields = {
            "utterance": self.utterance,
            "text": self.text,
            "continue": self.continue_listening,
            "conversation": self.conversation,
        }
        return request_message(self.id, self.KIND, **fields)

    def encode(self) -> bytes:
        """The inner message's bytes; TOO_LARGE if they cannot be sent."""
        return encode_message(self.to_dict())

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> VoiceReply:
        """Read a voice reply; MALFORMED unless utterance is a whole number, text a
        string, continue a boolean and conversation a string or null."""
        message_id = _request_id(message)
        utterance = message.get("utterance")
        if not _whole_number(utterance):
            raise MalformedError("utterance must be a whole number from 0 to 2^53-1")
        text = message.get("text")
        if not isinstance(text, str):
            raise MalformedError("text must be a string")
        listening = message.get("continue")
        if not isinstance(listening, bool):
            raise MalformedError("continue must be true or false")
        return cls(message_id, utterance, text, listening, _optional_text(message, "conversation"))


@dataclass(frozen=True, slots=True)
class Announce:
    """Have the panel say ``text`` in ``language`` (PROTOCOL.md 7.5).

    Answered with an ``EmptyResult``; the lengths and the language are the
    panel's to check.
    """

    KIND: ClassVar = MessageType.ANNOUNCE
    id: int
    text: str
    language: str

    def to_dict(self) -> dict[str, Any]:
        """The wire dictionary."""
        return request_message(self.id, self.KIND, text=self.text, language=self.language)

    def encode(self) -> bytes:
        """The inner message's bytes; TOO_LARGE if they cannot be sent."""
        return encode_message(self.to_dict())

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> Announce:
        """Read an announcement; MALFORMED unless text and language are strings."""
        message_id = _request_id(message)
        text = message.get("text")
        language = message.get("language")
        if not isinstance(text, str) or not isinstance(language, str):
            raise MalformedError("announce needs text and language strings")
        return cls(message_id, text, language)


type Request = Ping | Describe | Read | Write | Command | Subscribe | VoiceReply | Announce
type _RequestClass = type[
    Ping | Describe | Read | Write | Command | Subscribe | VoiceReply | Announce
]

_REQUESTS: Final[Mapping[str, _RequestClass]] = {
    cls.KIND: cls for cls in (Ping, Describe, Read, Write, Command, Subscribe, VoiceReply, Announce)
}


def request_from_dict(message: Mapping[str, Any]) -> Request:
    """The request a decoded message is.

    UNKNOWN_MESSAGE for a type that is no request, then MALFORMED for a
    missing id or a field of the wrong shape. Answer the error with the
    message's own ``id`` (None when it has none).
    """
    message_type = message["type"]
    request_class = _REQUESTS.get(message_type)
    if request_class is None:
        raise UnknownMessageError(f"unknown message type {message_type!r}")
    return request_class.from_dict(message)


# --- result bodies ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmptyResult:
    """The answer to ping, write and command: done, nothing to report."""

    def to_dict(self) -> dict[str, Any]:
        """The result body: an empty object."""
        return {}


@dataclass(frozen=True, slots=True)
class DescribeResult:
    """The answer to describe: the appliance's identity and its declaration.

    The hub relies on the declaration only (HELLO gave it a checked identity),
    so the identity fields travel as the appliance sent them.
    """

    declaration: Declaration
    identity: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The result body."""
        return {**self.identity, "declaration": self.declaration.to_dict()}

    @classmethod
    def from_dict(cls, result: Mapping[str, Any]) -> DescribeResult:
        """Read the answer; MALFORMED if the declaration does not fit the data model."""
        try:
            declaration = Declaration.from_dict(result.get("declaration"))
        except DeclarationError as err:
            raise MalformedError(f"bad declaration: {err}") from err
        identity = {key: value for key, value in result.items() if key != "declaration"}
        return cls(declaration, identity)


@dataclass(frozen=True, slots=True)
class ReadResult:
    """The answer to read: values as the appliance reports them (checked by the hub)."""

    values: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The result body."""
        return {"values": dict(self.values)}

    @classmethod
    def from_dict(cls, result: Mapping[str, Any]) -> ReadResult:
        """Read the answer; MALFORMED without a values object."""
        values = result.get("values")
        if not isinstance(values, dict):
            raise MalformedError("read result has no values")
        return cls(values)


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    """The answer to subscribe: the number of the last change pushed so far."""

    seq: int

    def to_dict(self) -> dict[str, Any]:
        """The result body."""
        return {"seq": self.seq}

    @classmethod
    def from_dict(cls, result: Mapping[str, Any]) -> SubscribeResult:
        """Read the answer; a missing or unreadable number counts as 0."""
        seq = result.get("seq")
        return cls(seq if isinstance(seq, int) else 0)


type ResultBody = EmptyResult | DescribeResult | ReadResult | SubscribeResult


# --- appliance -> hub -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Result:
    """A successful answer to request ``id``; ``result`` is the body as a dictionary."""

    KIND: ClassVar = MessageType.RESULT
    id: int
    result: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The wire dictionary."""
        return result_message(self.id, self.result)

    @classmethod
    def answering(cls, message_id: int, body: ResultBody) -> Result:
        """The answer carrying ``body``."""
        return cls(message_id, body.to_dict())

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> Result:
        """Read an answer that has an id; MALFORMED if its result is not an object."""
        message_id = message.get("id")
        if message_id is None:
            raise MalformedError("an answer needs an id")
        result = message.get("result")
        if not isinstance(result, dict):
            raise MalformedError("result is not an object")
        return cls(int(message_id), result)


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """A rejected request (``id`` None when the request could not be read)."""

    KIND: ClassVar = MessageType.ERROR
    id: int | None
    error: LinkError

    def to_dict(self) -> dict[str, Any]:
        """The wire dictionary (the message cut to 200 characters)."""
        return error_message(self.id, self.error)

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> ErrorReply:
        """Read an error; MALFORMED (a CodecError) if it does not describe one."""
        message_id = message.get("id")
        return cls(None if message_id is None else int(message_id), error_from_dict(message))


@dataclass(frozen=True, slots=True)
class Changed:
    """Pushed values: every key changed since the session's previous push, latest value each.

    ``seq`` is the number of the last change merged in; it increases from push
    to push and may jump by more than one (merged changes), losing nothing.
    """

    KIND: ClassVar = MessageType.CHANGED
    seq: int
    values: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The wire dictionary."""
        return changed_message(self.seq, self.values)

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> Changed:
        """Read a push; MALFORMED without a seq number and a values object."""
        values = message.get("values")
        seq = message.get("seq")
        if not isinstance(values, dict) or not isinstance(seq, int):
            raise MalformedError("changed needs seq and values")
        return cls(seq, values)


@dataclass(frozen=True, slots=True)
class Utterance:
    """What the appliance's voice panel heard, pushed to subscribed sessions (PROTOCOL.md 7.5).

    ``utterance`` numbers it (one increasing counter per appliance); ``text``
    is 1-500 characters, stripped; ``language`` one of the declared panel
    languages; ``conversation`` the id the hub's last reply gave when the
    panel kept listening (a follow-up), else None. Utterances are never merged.
    """

    KIND: ClassVar = MessageType.UTTERANCE
    utterance: int
    text: str
    language: str
    conversation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The wire dictionary (``conversation`` always present, maybe null)."""
        return {
            "type": str(self.KIND),
            "utterance": self.utterance,
            "text": self.text,
            "language": self.language,
            "conversation": self.conversation,
        }

    @classmethod
    def from_dict(cls, message: Mapping[str, Any]) -> Utterance:
        """Read a push; MALFORMED unless utterance is a whole number, text and
        language strings and conversation a string or null."""
        utterance = message.get("utterance")
        if not _whole_number(utterance):
            raise MalformedError("utterance must be a whole number from 0 to 2^53-1")
        text = message.get("text")
        language = message.get("language")
        if not isinstance(text, str) or not isinstance(language, str):
            raise MalformedError("utterance needs text and language strings")
        return cls(utterance, text, language, _optional_text(message, "conversation"))
