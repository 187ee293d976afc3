"""Every error the link raises: one family rooted in ``LinkError``.

The numeric codes travel on the wire (see firmware_bridge/PROTOCOL.md section 8)
and must never be renumbered; names are what logs and translations use.

The family, as python-matter-server's ``errors.py`` builds it::

    LinkError                     root: a protocol error code, a message, maybe a key
    ├── MalformedError ... InvalidTypeError
    │                             one class per wire code, registered from the code;
    │                             ``error_for(code, message)`` builds the right one
    │                             from a received ERROR
    │   KeyRejectedError          AuthFailedError, NotPairedError: pair again
    │   ValueRejectedError        OutOfRange, InvalidType, ReadOnly, UnknownCapability:
    │                             the value asked for, not the appliance's state
    ├── CodecError                bytes from the peer that break the protocol; its code
    │                             is the one the receiver answers with
    └── TransportError            the connection could not be opened, ended or went silent
        ├── ApplianceUnreachable  hub side: the appliance cannot be reached
        └── ConnectionClosed      the peer closed the byte stream (or it broke)

``LinkError(code, message)`` is the generic form: an error carrying any code
whose class nobody acts on (an error relayed as it came, or one from a newer
peer). ``error_for`` is how a received code becomes its class.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar, Final, overload


class ErrorCode(IntEnum):
    """Protocol error codes, stable on the wire."""

    MALFORMED = 1
    UNSUPPORTED_VERSION = 2
    UNKNOWN_MESSAGE = 3
    UNKNOWN_CAPABILITY = 4
    OUT_OF_RANGE = 5
    READ_ONLY = 6
    INVALID_STATE = 7
    BUSY = 8
    AUTH_FAILED = 9
    WRONG_CODE = 10
    RATE_LIMITED = 11
    NOT_PAIRED = 12
    TOO_LARGE = 13
    INTERNAL = 14
    TIMEOUT = 15
    UNSUPPORTED_COMMAND = 16
    MCU_UNAVAILABLE = 17
    INVALID_TYPE = 18


_BY_CODE: Final[dict[ErrorCode, type[LinkError]]] = {}


class LinkError(Exception):
    """An error with a protocol error code; raised locally or received from the peer.

    ``key`` names the capability a rejection is about; ``retry_after`` (seconds)
    comes with RATE_LIMITED.
    """

    code: ErrorCode = ErrorCode.INTERNAL
    # Whether ``code`` is fixed by the class (a per-code class) or given per instance.
    _fixed_code: ClassVar[bool] = False

    def __init_subclass__(cls, *, code: ErrorCode | None = None, **kwargs: Any) -> None:
        """``class BusyError(LinkError, code=ErrorCode.BUSY)`` registers the class for BUSY."""
        super().__init_subclass__(**kwargs)
        if code is not None:
            if code in _BY_CODE:
                raise TypeError(f"{code.name} already has {_BY_CODE[code].__name__}")
            cls.code = code
            cls._fixed_code = True
            _BY_CODE[code] = cls

    @overload
    def __init__(
        self, message: str = "", /, *, key: str | None = None, retry_after: float | None = None
    ) -> None: ...

    @overload
    def __init__(
        self,
        code: ErrorCode,
        message: str,
        /,
        *,
        key: str | None = None,
        retry_after: float | None = None,
    ) -> None: ...

    def __init__(
        self,
        *args: ErrorCode | str,
        key: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Either ``(message)`` for a class with its own code, or ``(code, message)``."""
        if args and isinstance(args[0], ErrorCode):
            code, rest = args[0], args[1:]
            if not self._fixed_code:
                self.code = code
            elif code is not self.code:
                raise TypeError(f"{type(self).__name__} carries {self.code.name}, not {code.name}")
        else:
            rest = args
        message = str(rest[0]) if rest else ""
        super().__init__(self._text(message))
        self.message = message
        self.key = key
        # Seconds until a retry can succeed; set with RATE_LIMITED.
        self.retry_after = retry_after

    def _text(self, message: str) -> str:
        return f"{self.code.name}: {message}"

    def means(self, kind: type[LinkError]) -> bool:
        """Whether this error is a ``kind``: by its class, or, if generic, by its code.

        ``SecureChannel.open`` (so ``ApplianceClient.connect``) reports a refused
        handshake as a generic ``LinkError`` carrying the code of the step that
        refused; ``err.means(KeyRejectedError)`` still tells "pair again".
        """
        if isinstance(self, kind):
            return True
        if self._fixed_code or isinstance(self, TransportError):
            return False
        return issubclass(_BY_CODE.get(self.code, LinkError), kind)


def error_class(code: ErrorCode) -> type[LinkError]:
    """The class registered for ``code``."""
    return _BY_CODE[code]


def error_for(
    code: ErrorCode, message: str, *, key: str | None = None, retry_after: float | None = None
) -> LinkError:
    """The error a peer reported: an instance of the class registered for ``code``."""
    return _BY_CODE[code](message, key=key, retry_after=retry_after)


# --- groups callers catch ------------------------------------------------------


class KeyRejectedError(LinkError):
    """The appliance does not accept our long-term key: only pairing again helps."""


class ValueRejectedError(LinkError):
    """A value (or key) the request named is not acceptable, whatever the appliance's state."""


# --- one class per wire code -------------------------------------------------------


class MalformedError(LinkError, code=ErrorCode.MALFORMED):
    """The request or frame does not follow the protocol."""


class UnsupportedVersionError(LinkError, code=ErrorCode.UNSUPPORTED_VERSION):
    """No protocol version both sides speak."""


class UnknownMessageError(LinkError, code=ErrorCode.UNKNOWN_MESSAGE):
    """A frame or message type the receiver does not know."""


class UnknownCapabilityError(ValueRejectedError, code=ErrorCode.UNKNOWN_CAPABILITY):
    """A key the appliance does not declare."""


class OutOfRangeError(ValueRejectedError, code=ErrorCode.OUT_OF_RANGE):
    """A value outside the declared bounds or options."""


class ReadOnlyError(ValueRejectedError, code=ErrorCode.READ_ONLY):
    """A write to a capability that cannot be written."""


class InvalidStateError(LinkError, code=ErrorCode.INVALID_STATE):
    """Not possible now (a programme runs, pairing is closed ...)."""


class BusyError(LinkError, code=ErrorCode.BUSY):
    """Too many connections, sessions or requests at once."""


class AuthFailedError(KeyRejectedError, code=ErrorCode.AUTH_FAILED):
    """The key did not authenticate (wrong key, tampered or replayed frame)."""


class WrongCodeError(LinkError, code=ErrorCode.WRONG_CODE):
    """The pairing code was wrong."""


class RateLimitedError(LinkError, code=ErrorCode.RATE_LIMITED):
    """Too many failed pairing attempts; ``retry_after`` says when to try again."""


class NotPairedError(KeyRejectedError, code=ErrorCode.NOT_PAIRED):
    """The appliance holds no key (new, or factory reset)."""


class TooLargeError(LinkError, code=ErrorCode.TOO_LARGE):
    """A frame or message above the size limits."""


class InternalError(LinkError, code=ErrorCode.INTERNAL):
    """The appliance failed internally (also any code this version does not know)."""


class TimedOutError(LinkError, code=ErrorCode.TIMEOUT):
    """Something did not arrive or finish in time (an answer, the MCU)."""


class UnsupportedCommandError(LinkError, code=ErrorCode.UNSUPPORTED_COMMAND):
    """A command the appliance does not declare."""


class McuUnavailableError(LinkError, code=ErrorCode.MCU_UNAVAILABLE):
    """The network module cannot reach the appliance's controller."""


class InvalidTypeError(ValueRejectedError, code=ErrorCode.INVALID_TYPE):
    """A value of the wrong JSON type."""


# --- not from a peer's ERROR ---------------------------------------------------------


class CodecError(LinkError):
    """Bytes from a peer that do not follow the protocol.

    The code (MALFORMED, TOO_LARGE, UNKNOWN_MESSAGE ...) is the one the
    receiver answers with; it is set per instance: ``CodecError(code, message)``.
    """


class TransportError(LinkError):
    """The connection could not be opened, ended, or went silent.

    Carries TIMEOUT (nothing arrives from the peer any more); ``str()`` is
    the message alone.
    """

    code = ErrorCode.TIMEOUT

    def _text(self, message: str) -> str:
        return message


class ApplianceUnreachable(TransportError):
    """The appliance cannot be reached, or the connection to it was lost."""


class ConnectionClosed(TransportError):
    """The peer closed the byte stream, or it broke."""
