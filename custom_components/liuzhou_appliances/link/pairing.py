"""Commissioning: SPAKE2 with the printed pairing code, then long-term key transfer.

Sans-IO state machines for both ends (``PairingInitiator`` on the hub,
``PairingResponder`` on the appliance) plus the appliance's ``PairingLimiter``.
The byte layout of every PAIR payload is in firmware_bridge/PROTOCOL.md.

SPAKE2 (``spake2`` library, Ed25519 group, A/B roles) turns the 8-digit code
into a shared secret without revealing the code to a passive or active
attacker beyond one online guess per attempt. Identities are bound: the hub is
side A with its hub id, the appliance side B with its appliance id. Keys are
derived with HKDF-SHA256 over the transcript (both HELLO payloads and both
SPAKE2 messages), confirmed in both directions with HMAC-SHA256, and the
appliance's random 32-byte long-term key travels wrapped with
ChaCha20-Poly1305.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
import hashlib
import hmac
import os
import re
import secrets
import time
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from spake2 import SPAKE2_A, SPAKE2_B

from .errors import ErrorCode, LinkError

KEY_SIZE: Final = 32
SPAKE2_MESSAGE_SIZE: Final = 33  # side byte + Ed25519 group element
MAC_SIZE: Final = 32
NONCE_SIZE: Final = 12
WRAPPED_KEY_SIZE: Final = NONCE_SIZE + KEY_SIZE + 16

_TRANSCRIPT_LABEL: Final = b"liuzhou-pair-v1"
_HKDF_INFO: Final = b"liuzhou-pair-v1 keys"
_ACK_LABEL: Final = b"liuzhou-pair-v1 stored"
_CODE_PATTERN: Final = re.compile(r"([0-9]{4})[- ]?([0-9]{4})")

type Entropy = Callable[[int], bytes]


class PairStep(IntEnum):
    """First byte of every PAIR payload (wire-stable)."""

    START = 1  # hub -> appliance: SPAKE2 message A
    REPLY = 2  # appliance -> hub: SPAKE2 message B + appliance confirmation
    CONFIRM = 3  # hub -> appliance: hub confirmation
    KEY = 4  # appliance -> hub: wrapped long-term key
    ACK = 5  # hub -> appliance: proof the hub holds the key
    DONE = 6  # appliance -> hub: key stored


class InvalidPairingCode(ValueError):
    """A pairing code that is not 8 digits."""


def normalise_pairing_code(code: str) -> str:
    """Return the 8 digits of ``code``; accepts "1234-5678", "1234 5678" and "12345678"."""
    match = _CODE_PATTERN.fullmatch(code.strip()) if isinstance(code, str) else None
    if match is None:
        raise InvalidPairingCode("the pairing code is 8 digits, like 1234-5678")
    return match.group(1) + match.group(2)


def format_pairing_code(code: str) -> str:
    """The code as printed on the appliance label: ``1234-5678``."""
    digits = normalise_pairing_code(code)
    return f"{digits[:4]}-{digits[4:]}"


def generate_pairing_code() -> str:
    """A random code for a new appliance (printed on its label)."""
    return f"{secrets.randbelow(10**8):08d}"


def _split(payload: bytes, step: PairStep, size: int) -> bytes:
    if len(payload) != 1 + size or payload[0] != step:
        raise LinkError(
            ErrorCode.MALFORMED, f"expected PAIR {step.name} with {size} bytes after the step"
        )
    return bytes(payload[1:])


def _step(step: PairStep, body: bytes = b"") -> bytes:
    return bytes([step]) + body


class _KeySchedule:
    """Keys and confirmations derived from the SPAKE2 secret and transcript."""

    def __init__(self, shared: bytes, transcript: bytes) -> None:
        self.shared = shared
        self.transcript_hash = hashlib.sha256(_TRANSCRIPT_LABEL + transcript).digest()
        okm = HKDF(
            algorithm=hashes.SHA256(), length=96, salt=self.transcript_hash, info=_HKDF_INFO
        ).derive(shared)
        self.appliance_confirm_key = okm[:32]
        self.hub_confirm_key = okm[32:64]
        self.wrap_key = okm[64:]

    def appliance_confirmation(self) -> bytes:
        return hmac.digest(self.appliance_confirm_key, self.transcript_hash, "sha256")

    def hub_confirmation(self) -> bytes:
        return hmac.digest(self.hub_confirm_key, self.transcript_hash, "sha256")

    def ack(self, long_term_key: bytes) -> bytes:
        return hmac.digest(long_term_key, _ACK_LABEL + self.transcript_hash, "sha256")


def _transcript(hello_transcript: bytes, message_a: bytes, message_b: bytes) -> bytes:
    return hello_transcript + message_a + message_b


class PairingInitiator:
    """The hub's side of commissioning."""

    def __init__(
        self,
        code: str,
        *,
        hub_id: str,
        appliance_id: str,
        hello_transcript: bytes,
        entropy: Entropy = os.urandom,
    ) -> None:
        self._spake = SPAKE2_A(
            normalise_pairing_code(code).encode(),
            idA=hub_id.encode(),
            idB=appliance_id.encode(),
            entropy_f=entropy,
        )
        self._hello_transcript = hello_transcript
        self._message_a = b""
        self._schedule: _KeySchedule | None = None
        self.key: bytes | None = None

    def start(self) -> bytes:
        """The START payload."""
        self._message_a = self._spake.start()
        return _step(PairStep.START, self._message_a)

    def handle_reply(self, payload: bytes) -> bytes:
        """Check the appliance's confirmation; return the CONFIRM payload.

        Raises WRONG_CODE when the confirmation does not match: the codes differ
        (or someone in the middle guessed wrong).
        """
        if self._schedule is not None or not self._message_a:
            raise LinkError(ErrorCode.MALFORMED, "unexpected PAIR REPLY")
        body = _split(payload, PairStep.REPLY, SPAKE2_MESSAGE_SIZE + MAC_SIZE)
        message_b, confirmation = body[:SPAKE2_MESSAGE_SIZE], body[SPAKE2_MESSAGE_SIZE:]
        try:
            shared = self._spake.finish(message_b)
        except Exception as err:  # the library raises assorted errors on bad elements
            raise LinkError(ErrorCode.MALFORMED, f"bad SPAKE2 message: {err!r}") from None
        schedule = _KeySchedule(
            shared, _transcript(self._hello_transcript, self._message_a, message_b)
        )
        if not hmac.compare_digest(confirmation, schedule.appliance_confirmation()):
            raise LinkError(ErrorCode.WRONG_CODE, "the pairing code does not match")
        self._schedule = schedule
        return _step(PairStep.CONFIRM, schedule.hub_confirmation())

    def handle_key(self, payload: bytes) -> bytes:
        """Unwrap the long-term key; return the ACK payload."""
        if self._schedule is None or self.key is not None:
            raise LinkError(ErrorCode.MALFORMED, "unexpected PAIR KEY")
        body = _split(payload, PairStep.KEY, WRAPPED_KEY_SIZE)
        try:
            key = ChaCha20Poly1305(self._schedule.wrap_key).decrypt(
                body[:NONCE_SIZE], body[NONCE_SIZE:], self._schedule.transcript_hash
            )
        except InvalidTag:
            raise LinkError(
                ErrorCode.AUTH_FAILED, "the wrapped key failed authentication"
            ) from None
        self.key = key
        return _step(PairStep.ACK, self._schedule.ack(key))

    def handle_done(self, payload: bytes) -> bytes:
        """Accept DONE; return the long-term key."""
        _split(payload, PairStep.DONE, 0)
        if self.key is None:
            raise LinkError(ErrorCode.MALFORMED, "unexpected PAIR DONE")
        return self.key


class PairingResponder:
    """The appliance's side of commissioning."""

    def __init__(
        self,
        code: str,
        *,
        hub_id: str,
        appliance_id: str,
        hello_transcript: bytes,
        entropy: Entropy = os.urandom,
    ) -> None:
        self._spake = SPAKE2_B(
            normalise_pairing_code(code).encode(),
            idA=hub_id.encode(),
            idB=appliance_id.encode(),
            entropy_f=entropy,
        )
        self._entropy = entropy
        self._hello_transcript = hello_transcript
        self._schedule: _KeySchedule | None = None
        self._confirmed = False
        self._key: bytes | None = None

    def handle_start(self, payload: bytes) -> bytes:
        """Answer START with REPLY (SPAKE2 message B and our confirmation)."""
        if self._schedule is not None:
            raise LinkError(ErrorCode.MALFORMED, "unexpected PAIR START")
        message_a = _split(payload, PairStep.START, SPAKE2_MESSAGE_SIZE)
        message_b = self._spake.start()
        try:
            shared = self._spake.finish(message_a)
        except Exception as err:  # the library raises assorted errors on bad elements
            raise LinkError(ErrorCode.MALFORMED, f"bad SPAKE2 message: {err!r}") from None
        self._schedule = _KeySchedule(
            shared, _transcript(self._hello_transcript, message_a, message_b)
        )
        return _step(PairStep.REPLY, message_b + self._schedule.appliance_confirmation())

    def handle_confirm(self, payload: bytes) -> bytes:
        """Check the hub's confirmation (WRONG_CODE if wrong); return KEY with a new key."""
        if self._schedule is None or self._confirmed:
            raise LinkError(ErrorCode.MALFORMED, "unexpected PAIR CONFIRM")
        confirmation = _split(payload, PairStep.CONFIRM, MAC_SIZE)
        if not hmac.compare_digest(confirmation, self._schedule.hub_confirmation()):
            raise LinkError(ErrorCode.WRONG_CODE, "the pairing code does not match")
        self._confirmed = True
        self._key = self._entropy(KEY_SIZE)
        nonce = self._entropy(NONCE_SIZE)
        wrapped = ChaCha20Poly1305(self._schedule.wrap_key).encrypt(
            nonce, self._key, self._schedule.transcript_hash
        )
        return _step(PairStep.KEY, nonce + wrapped)

    def handle_ack(self, payload: bytes) -> tuple[bytes, bytes]:
        """Check the hub's ACK; return (the long-term key to store, the DONE payload)."""
        if self._schedule is None or self._key is None:
            raise LinkError(ErrorCode.MALFORMED, "unexpected PAIR ACK")
        proof = _split(payload, PairStep.ACK, MAC_SIZE)
        if not hmac.compare_digest(proof, self._schedule.ack(self._key)):
            raise LinkError(ErrorCode.AUTH_FAILED, "the hub did not prove it holds the key")
        return self._key, _step(PairStep.DONE)


class PairingLimiter:
    """Rate limit for pairing attempts on one appliance.

    After ``max_failures`` failed attempts in a row each further failure locks
    pairing for ``base_lockout`` seconds, doubling per failure up to
    ``max_lockout``. A success resets the count. ``clock`` is injectable.
    """

    def __init__(
        self,
        *,
        max_failures: int = 5,
        base_lockout: float = 30.0,
        max_lockout: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.base_lockout = base_lockout
        self.max_lockout = max_lockout
        self._clock = clock
        self.failures = 0
        self._locked_until = 0.0

    def retry_after(self) -> float:
        """Seconds until pairing is allowed again (0 when it is)."""
        return max(0.0, self._locked_until - self._clock())

    def check(self) -> None:
        """Raise RATE_LIMITED (with retry_after) while locked out."""
        wait = self.retry_after()
        if wait > 0:
            raise LinkError(
                ErrorCode.RATE_LIMITED,
                f"too many failed pairing attempts; retry in {wait:.0f} s",
                retry_after=wait,
            )

    def record_failure(self) -> None:
        """Count a failed attempt; start or extend the lockout."""
        self.failures += 1
        extra = self.failures - self.max_failures
        if extra >= 0:
            lockout = min(self.base_lockout * 2 ** min(extra, 32), self.max_lockout)
            self._locked_until = self._clock() + lockout

    def record_success(self) -> None:
        """Reset after a successful pairing."""
        self.failures = 0
        self._locked_until = 0.0
