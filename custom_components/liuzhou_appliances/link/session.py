"""Session encryption: Noise_NNpsk0_25519_ChaChaPoly_SHA256 (``noiseprotocol`` library).

The long-term key from commissioning is the PSK, so only a paired hub can
complete the handshake. The prologue binds both HELLO payloads exactly as
sent: a man in the middle who edits the version offer or the appliance's
answer makes the handshake fail (no downgrade). Sans-IO; the hub is the
initiator.
"""

from __future__ import annotations

import struct
from typing import Final

from noise.connection import Keypair, NoiseConnection

from .errors import (
    AuthFailedError,
    MalformedError,
)

NOISE_PROTOCOL_NAME: Final = b"Noise_NNpsk0_25519_ChaChaPoly_SHA256"
PROLOGUE_LABEL: Final = b"liuzhou-link"
KEY_SIZE: Final = 32
TAG_SIZE: Final = 16


def hello_transcript(client_hello: bytes, server_hello: bytes) -> bytes:
    """The bytes binding both HELLO payloads: Noise prologue and pairing transcript.

    ``"liuzhou-link" | u16 len | client HELLO | u16 len | server HELLO``.
    """
    return (
        PROLOGUE_LABEL
        + struct.pack(">H", len(client_hello))
        + client_hello
        + struct.pack(">H", len(server_hello))
        + server_hello
    )


def _connection(key: bytes, prologue: bytes, ephemeral: bytes | None) -> NoiseConnection:
    if len(key) != KEY_SIZE:
        raise AuthFailedError(f"the key must be {KEY_SIZE} bytes")
    noise = NoiseConnection.from_name(NOISE_PROTOCOL_NAME)
    noise.set_psks(psk=bytes(key))
    noise.set_prologue(prologue)
    if ephemeral is not None:  # fixed ephemeral keys only for test vectors
        noise.set_keypair_from_private_bytes(Keypair.EPHEMERAL, ephemeral)
    return noise


class SecureSession:
    """An established session: encrypt outgoing, decrypt incoming messages.

    Nonces are implicit and sequential, so a replayed, reordered, dropped or
    altered frame fails authentication; after one failure the session refuses
    everything (the connection must be closed).
    """

    def __init__(self, noise: NoiseConnection) -> None:
        self._noise = noise
        self._broken = False
        self.handshake_hash: bytes = bytes(noise.get_handshake_hash())

    def encrypt(self, plaintext: bytes) -> bytes:
        """Encrypt one message (ciphertext is 16 bytes longer)."""
        if self._broken:
            raise AuthFailedError("session is closed after a failure")
        return bytes(self._noise.encrypt(bytes(plaintext)))

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt one message; AUTH_FAILED for anything not sent next by the peer."""
        if self._broken:
            raise AuthFailedError("session is closed after a failure")
        try:
            return bytes(self._noise.decrypt(bytes(ciphertext)))
        except Exception as err:  # InvalidTag, short input, nonce exhaustion
            self._broken = True
            raise AuthFailedError(f"frame failed decryption ({type(err).__name__})") from None


class NoiseInitiator:
    """The hub's handshake: ``first_message()``, then ``finish(reply)``."""

    def __init__(self, key: bytes, prologue: bytes, *, ephemeral: bytes | None = None) -> None:
        self._noise = _connection(key, prologue, ephemeral)
        self._noise.set_as_initiator()
        self._noise.start_handshake()
        self._sent = False

    def first_message(self) -> bytes:
        """The HANDSHAKE payload to send (``psk, e``)."""
        if self._sent:
            raise MalformedError("handshake already started")
        self._sent = True
        return bytes(self._noise.write_message(b""))

    def finish(self, reply: bytes) -> SecureSession:
        """Read the appliance's reply (``e, ee``); AUTH_FAILED if it does not verify."""
        if not self._sent:
            raise MalformedError("handshake not started")
        try:
            payload = self._noise.read_message(bytes(reply))
        except Exception as err:
            raise AuthFailedError(f"handshake failed ({type(err).__name__})") from None
        if payload or not self._noise.handshake_finished:
            raise MalformedError("unexpected handshake payload")
        return SecureSession(self._noise)


class NoiseResponder:
    """The appliance's handshake: ``respond(first_message)`` -> (reply, session)."""

    def __init__(self, key: bytes, prologue: bytes, *, ephemeral: bytes | None = None) -> None:
        self._noise = _connection(key, prologue, ephemeral)
        self._noise.set_as_responder()
        self._noise.start_handshake()
        self._done = False

    def respond(self, message: bytes) -> tuple[bytes, SecureSession]:
        """Check the hub's first message; AUTH_FAILED on a wrong key or prologue."""
        if self._done:
            raise MalformedError("handshake already answered")
        self._done = True
        try:
            payload = self._noise.read_message(bytes(message))
        except Exception as err:
            raise AuthFailedError(
                f"handshake failed: wrong key or altered HELLO ({type(err).__name__})",
            ) from None
        if payload:
            raise MalformedError("unexpected handshake payload")
        reply = bytes(self._noise.write_message(b""))
        return reply, SecureSession(self._noise)
