"""Error codes shared by the wire protocol, the data model and both peers.

The numeric values travel on the wire (see firmware_bridge/PROTOCOL.md) and
must never be renumbered; names are what logs and translations use.
"""

from __future__ import annotations

from enum import IntEnum


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


class LinkError(Exception):
    """An error with a protocol error code; raised locally or received from the peer."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        key: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.key = key
        # Seconds until a retry can succeed; set with RATE_LIMITED.
        self.retry_after = retry_after


class ApplianceUnreachable(Exception):
    """The appliance cannot be reached, or the connection to it was lost."""
