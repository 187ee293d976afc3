"""Commissioning: SPAKE2 with the printed pairing code, then long-term key transfer.

Sans-IO state machines for both ends (``PairingInitiator`` on the hub,
``PairingResponder`` on the appliance) plus the appliance's ``PairingWindow``
(when it accepts commissioning at all) and ``PairingLimiter`` (how many
guesses it allows, counted across reboots through a ``PairingStateStore``).
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
import json
import logging
import os
from pathlib import Path
import re
import secrets
import time
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from spake2 import SPAKE2_A, SPAKE2_B

from .errors import (
    AuthFailedError,
    InvalidStateError,
    MalformedError,
    RateLimitedError,
    WrongCodeError,
)
from .storage import write_private_file

KEY_SIZE: Final = 32
SPAKE2_MESSAGE_SIZE: Final = 33  # side byte + Ed25519 group element
MAC_SIZE: Final = 32
NONCE_SIZE: Final = 12
WRAPPED_KEY_SIZE: Final = NONCE_SIZE + KEY_SIZE + 16

_TRANSCRIPT_LABEL: Final = b"liuzhou-pair-v1"
_HKDF_INFO: Final = b"liuzhou-pair-v1 keys"
_ACK_LABEL: Final = b"liuzhou-pair-v1 stored"
_CODE_PATTERN: Final = re.compile(r"([0-9]{4})[- ]?([0-9]{4})")
_LOGGER: Final = logging.getLogger(__name__)

# How long the pairing button opens pairing on an appliance that is already
# paired: 15 min, the commissioning window a Matter device opens by default
# (connectedhomeip's OpenBasicCommissioningWindow, the top of the 3-15 min range
# the Matter specification allows). Long enough to walk to the phone, find the
# appliance in Home Assistant and type 8 digits; the guesses a stranger gets in
# it are bounded by PairingLimiter (about 9 in 15 min), not by its length.
PAIRING_WINDOW_S: Final = 900.0

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
        raise MalformedError(f"expected PAIR {step.name} with {size} bytes after the step")
    return bytes(payload[1:])


def check_start_shape(payload: bytes) -> None:
    """Raise MALFORMED unless ``payload`` is shaped as PAIR START (step byte, 33 bytes).

    No cryptography: the appliance answers a malformed START as MALFORMED
    before it asks whether pairing is open.
    """
    _split(payload, PairStep.START, SPAKE2_MESSAGE_SIZE)


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
            raise MalformedError("unexpected PAIR REPLY")
        body = _split(payload, PairStep.REPLY, SPAKE2_MESSAGE_SIZE + MAC_SIZE)
        message_b, confirmation = body[:SPAKE2_MESSAGE_SIZE], body[SPAKE2_MESSAGE_SIZE:]
        try:
            shared = self._spake.finish(message_b)
        except Exception as err:  # the library raises assorted errors on bad elements
            raise MalformedError(f"bad SPAKE2 message: {err!r}") from None
        schedule = _KeySchedule(
            shared, _transcript(self._hello_transcript, self._message_a, message_b)
        )
        if not hmac.compare_digest(confirmation, schedule.appliance_confirmation()):
            raise WrongCodeError("the pairing code does not match")
        self._schedule = schedule
        return _step(PairStep.CONFIRM, schedule.hub_confirmation())

    def handle_key(self, payload: bytes) -> bytes:
        """Unwrap the long-term key; return the ACK payload."""
        if self._schedule is None or self.key is not None:
            raise MalformedError("unexpected PAIR KEY")
        body = _split(payload, PairStep.KEY, WRAPPED_KEY_SIZE)
        try:
            key = ChaCha20Poly1305(self._schedule.wrap_key).decrypt(
                body[:NONCE_SIZE], body[NONCE_SIZE:], self._schedule.transcript_hash
            )
        except InvalidTag:
            raise AuthFailedError("the wrapped key failed authentication") from None
        self.key = key
        return _step(PairStep.ACK, self._schedule.ack(key))

    def handle_done(self, payload: bytes) -> bytes:
        """Accept DONE; return the long-term key."""
        _split(payload, PairStep.DONE, 0)
        if self.key is None:
            raise MalformedError("unexpected PAIR DONE")
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
            raise MalformedError("unexpected PAIR START")
        message_a = _split(payload, PairStep.START, SPAKE2_MESSAGE_SIZE)
        message_b = self._spake.start()
        try:
            shared = self._spake.finish(message_a)
        except Exception as err:  # the library raises assorted errors on bad elements
            raise MalformedError(f"bad SPAKE2 message: {err!r}") from None
        self._schedule = _KeySchedule(
            shared, _transcript(self._hello_transcript, message_a, message_b)
        )
        return _step(PairStep.REPLY, message_b + self._schedule.appliance_confirmation())

    def handle_confirm(self, payload: bytes) -> bytes:
        """Check the hub's confirmation (WRONG_CODE if wrong); return KEY with a new key."""
        if self._schedule is None or self._confirmed:
            raise MalformedError("unexpected PAIR CONFIRM")
        confirmation = _split(payload, PairStep.CONFIRM, MAC_SIZE)
        if not hmac.compare_digest(confirmation, self._schedule.hub_confirmation()):
            raise WrongCodeError("the pairing code does not match")
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
            raise MalformedError("unexpected PAIR ACK")
        proof = _split(payload, PairStep.ACK, MAC_SIZE)
        if not hmac.compare_digest(proof, self._schedule.ack(self._key)):
            raise AuthFailedError("the hub did not prove it holds the key")
        return self._key, _step(PairStep.DONE)


class PairingWindow:
    """When the appliance accepts commissioning (PROTOCOL.md 5.5).

    Always while it holds no key (from first power-on until paired, and again
    after a factory reset); once paired, only for ``duration`` seconds after
    ``open()`` (a person pressed its pairing button). A successful pairing
    closes it. Not persisted: a reboot closes a window opened by the button.
    ``clock`` (monotonic seconds) is injectable.
    """

    def __init__(
        self, *, duration: float = PAIRING_WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not duration > 0:
            raise ValueError("the pairing window lasts a positive number of seconds")
        self.duration = duration
        self._clock = clock
        self._open_until: float | None = None

    def open(self) -> None:
        """The pairing button: accept pairing for ``duration`` seconds from now."""
        self._open_until = self._clock() + self.duration

    def close(self) -> None:
        """Stop accepting pairing (paired, or the window is withdrawn)."""
        self._open_until = None

    def remaining(self) -> float:
        """Seconds the button's window stays open (0 when closed)."""
        if self._open_until is None:
            return 0.0
        return max(0.0, self._open_until - self._clock())

    def is_open(self, *, paired: bool) -> bool:
        """Whether commissioning is accepted now."""
        return not paired or self.remaining() > 0

    def check(self, *, paired: bool) -> None:
        """Raise INVALID_STATE when commissioning is not accepted now."""
        if not self.is_open(paired=paired):
            minutes = round(self.duration / 60)
            raise InvalidStateError(
                "pairing is closed: press the pairing button on the appliance, "
                f"then pair within {minutes} min",
            )


class PairingStateStore(Protocol):
    """Where the appliance keeps its count of failed pairing attempts across reboots."""

    def load(self) -> int:
        """The saved count (0 when nothing is saved); OSError or ValueError if unreadable."""
        ...

    def save(self, failures: int) -> None:
        """Replace the saved count; may raise OSError."""
        ...


class MemoryPairingStateStore:
    """A pairing state store in memory (simulators, tests): survives a new limiter."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures

    def load(self) -> int:
        """The saved count."""
        return self.failures

    def save(self, failures: int) -> None:
        """Keep the count."""
        self.failures = failures


class FilePairingStateStore:
    """The count as ``{"failures": n}`` in a 0600 file, replaced atomically (fsync, rename)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> int:
        """The saved count; 0 without a file, ValueError for a damaged one."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return 0
        data = json.loads(text)
        failures = data.get("failures") if isinstance(data, dict) else None
        if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
            raise ValueError(f"{self.path} holds no failure count")
        return failures

    def save(self, failures: int) -> None:
        """Replace the file so that a power cut leaves the old count or the new one."""
        write_private_file(self.path, json.dumps({"failures": failures}).encode())


class PairingLimiter:
    """Rate limit for pairing attempts on one appliance (PROTOCOL.md 5.5).

    After ``max_failures`` failed attempts in a row each further failure locks
    pairing for ``base_lockout`` seconds, doubling per failure up to
    ``max_lockout``. A success (or ``reset``: the pairing button, a factory
    reset) clears the count. With a ``store`` the count survives reboots: each
    failure is saved before ``record_failure`` returns (OSError if it cannot
    be, so the caller refuses the attempt), and a limiter built on a saved
    count of ``max_failures`` or more starts locked for that count's full
    lockout: a reboot never shortens a lockout nor gives fresh tries. A store
    that cannot be read counts as ``max_failures``. ``clock`` is injectable.
    """

    def __init__(
        self,
        *,
        max_failures: int = 5,
        base_lockout: float = 30.0,
        max_lockout: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        store: PairingStateStore | None = None,
    ) -> None:
        self.max_failures = max_failures
        self.base_lockout = base_lockout
        self.max_lockout = max_lockout
        self._clock = clock
        self._store = store
        self.failures = 0
        self._locked_until = 0.0
        if store is not None:
            try:
                self.failures = store.load()
            except (OSError, ValueError) as err:
                # Fail closed: a damaged record must not hand out fresh tries.
                _LOGGER.warning("unreadable pairing state, counting it as locked: %s", err)
                self.failures = max_failures
            if self.failures >= max_failures:
                self._locked_until = self._clock() + self._lockout()

    def _lockout(self) -> float:
        extra = self.failures - self.max_failures
        return float(min(self.base_lockout * 2 ** min(extra, 32), self.max_lockout))

    def retry_after(self) -> float:
        """Seconds until pairing is allowed again (0 when it is)."""
        return max(0.0, self._locked_until - self._clock())

    def check(self) -> None:
        """Raise RATE_LIMITED (with retry_after) while locked out."""
        wait = self.retry_after()
        if wait > 0:
            raise RateLimitedError(
                f"too many failed pairing attempts; retry in {wait:.0f} s",
                retry_after=wait,
            )

    def record_failure(self) -> None:
        """Count a failed attempt, start or extend the lockout, save the count.

        Raises OSError if the store cannot save it (the count in memory stands).
        """
        self.failures += 1
        if self.failures >= self.max_failures:
            self._locked_until = self._clock() + self._lockout()
        if self._store is not None:
            self._store.save(self.failures)

    def record_success(self) -> None:
        """Reset after a successful pairing (the code was proven)."""
        self.reset()

    def reset(self) -> None:
        """Clear the count and any lockout; a store that cannot save is logged.

        Not saving a reset only errs on the safe side (a higher count on disk).
        """
        self.failures = 0
        self._locked_until = 0.0
        if self._store is not None:
            try:
                self._store.save(0)
            except OSError as err:
                _LOGGER.warning("cannot save the reset pairing state: %s", err)
