"""The lower layer of the hub's side: one connection to an appliance, through HELLO.

``PlaintextConnection`` is a connection in its plaintext phase (HELLO, then
PAIR or HANDSHAKE frames); ``SecureChannel`` is one that has done HELLO and
the Noise handshake, sending and receiving raw inner messages. ``pair()``
(commissioning.py) and ``ApplianceClient`` (client.py) are built on them; the
conformance kit uses ``SecureChannel`` directly to send malformed requests.
Each opens a TCP connection to ``host:port``, or, given ``open_transport``,
whatever that returns (``ble_client.BleTransport``): the same pairing and
session over another medium. Every wait is bounded; a connection that fails
or stays silent is ``ApplianceUnreachable``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .codec import (
    ClientHello,
    CodecError,
    Frame,
    FrameType,
    HelloInfo,
    decode_error,
    decode_message,
    encode_message,
)
from .errors import (
    ApplianceUnreachable,
    AuthFailedError,
    ConnectionClosed,
    LinkError,
    MalformedError,
    NotPairedError,
    TransportError,
    UnsupportedVersionError,
)
from .session import NoiseInitiator, SecureSession, hello_transcript
from .transport import FrameTransport, TcpTransport

# Opens a connection to the appliance; bounds its own wait; raises a TransportError
# (ApplianceUnreachable) if it cannot.
type OpenTransport = Callable[[], Awaitable[FrameTransport]]


class PlaintextConnection:
    """A connection in its plaintext phase: HELLO, then PAIR or HANDSHAKE frames.

    Every wait is bounded by ``timeout``; a connection that fails or stays
    silent is ``ApplianceUnreachable``, an ERROR frame raises its error.
    """

    def __init__(self, transport: FrameTransport, timeout: float) -> None:
        self.transport = transport
        self.timeout = timeout

    @classmethod
    async def open(cls, host: str, port: int, io_timeout: float) -> PlaintextConnection:
        """Connect over TCP."""
        return cls(await TcpTransport.connect(host, port, io_timeout), io_timeout)

    async def send(self, frame_type: FrameType, payload: bytes) -> None:
        """Send one frame and wait until the connection takes it."""
        self.transport.send_frame(frame_type, payload)
        await drain(self.transport, self.timeout)

    async def receive(self, expected: FrameType) -> Frame:
        """The next frame, which must be ``expected``; an ERROR frame raises its LinkError."""
        try:
            frame = await asyncio.wait_for(self.transport.receive_frame(), self.timeout)
        except TimeoutError as err:
            raise ApplianceUnreachable("the appliance did not answer in time") from err
        except ConnectionClosed as err:
            raise ApplianceUnreachable(f"connection lost: {err}") from err
        if frame.type is FrameType.ERROR:
            raise decode_error(frame.payload)
        if frame.type is not expected:
            raise MalformedError(f"expected {expected.name}, got {frame.type.name}")
        return frame

    async def hello(self, hub_id: str) -> tuple[HelloInfo, bytes]:
        """Exchange HELLO; return the appliance's answer and the transcript."""
        offer = ClientHello(hub_id)
        client_hello = offer.encode()
        await self.send(FrameType.HELLO, client_hello)
        frame = await self.receive(FrameType.HELLO)
        info = HelloInfo.decode(frame.payload)
        if not offer.min_version <= info.protocol <= offer.max_version:
            raise UnsupportedVersionError(
                f"appliance chose version {info.protocol}, outside the offered "
                f"{offer.min_version}-{offer.max_version}",
            )
        return info, hello_transcript(client_hello, frame.payload)

    async def close(self) -> None:
        """Close the connection."""
        await self.transport.close()


async def open_plaintext(
    host: str,
    port: int,
    timeout: float,  # noqa: ASYNC109
    open_transport: OpenTransport | None,
) -> PlaintextConnection:
    """TCP to ``host:port``, or the connection ``open_transport`` makes."""
    if open_transport is None:
        return await PlaintextConnection.open(host, port, timeout)
    return PlaintextConnection(await open_transport(), timeout)


async def drain(transport: FrameTransport, timeout: float) -> None:  # noqa: ASYNC109
    """Wait up to ``timeout`` for ``transport`` to take what was sent; ApplianceUnreachable."""
    try:
        await asyncio.wait_for(transport.drain(), timeout)
    except TimeoutError as err:
        raise ApplianceUnreachable(f"connection lost: {err!r}") from err
    except ConnectionClosed as err:
        raise ApplianceUnreachable(f"connection lost: {err}") from err


class SecureChannel:
    """An authenticated, encrypted connection carrying inner messages."""

    def __init__(
        self, connection: PlaintextConnection, hello: HelloInfo, session: SecureSession
    ) -> None:
        self.transport = connection.transport
        self._timeout = connection.timeout
        self.hello = hello
        self.session = session

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        key: bytes,
        *,
        hub_id: str,
        io_timeout: float = 10.0,
        on_hello: Callable[[HelloInfo], None] | None = None,
        open_transport: OpenTransport | None = None,
    ) -> SecureChannel:
        """Connect, exchange HELLO and complete the Noise handshake.

        ``on_hello`` hears the appliance's HELLO before the handshake, so a
        caller knows which appliance rejected its key. LinkError(AUTH_FAILED)
        if the appliance rejects the key or has none (not paired, e.g. after a
        factory reset); ApplianceUnreachable if it cannot be reached. With
        ``open_transport`` the connection is the one it opens.
        """
        stream = await open_plaintext(host, port, io_timeout, open_transport)
        try:
            info, transcript = await stream.hello(hub_id)
            if on_hello is not None:
                on_hello(info)
            if not info.paired:
                raise AuthFailedError(
                    f"{info.appliance_id} is not paired (factory reset?); pair it again"
                )
            initiator = NoiseInitiator(key, transcript)
            await stream.send(FrameType.HANDSHAKE, initiator.first_message())
            try:
                reply = await stream.receive(FrameType.HANDSHAKE)
            except NotPairedError as err:
                raise AuthFailedError(f"not paired: {err.message}") from err
            session = initiator.finish(reply.payload)
        except TransportError:
            await stream.close()
            raise
        except CodecError as err:
            await stream.close()
            raise LinkError(err.code, f"appliance sent an invalid frame: {err.message}") from err
        except LinkError as err:
            # Whichever step refused, the caller gets the code (AUTH_FAILED: pair again).
            await stream.close()
            raise LinkError(err.code, err.message, key=err.key) from err
        except BaseException:
            await stream.close()
            raise
        return cls(stream, info, session)

    def send_plaintext(self, plaintext: bytes) -> None:
        """Encrypt arbitrary bytes as one ENCRYPTED frame (the conformance kit's door)."""
        self.transport.send_frame(FrameType.ENCRYPTED, self.session.encrypt(plaintext))

    def send_frame(self, frame_type: FrameType, payload: bytes) -> None:
        """Send a raw outer frame (for tests of the appliance's defences)."""
        self.transport.send_frame(frame_type, payload)

    def send_message(self, message: Mapping[str, Any]) -> None:
        """Encrypt and send one inner message (encryption order equals send order)."""
        self.send_plaintext(encode_message(message))

    async def drain(self) -> None:
        """Wait until the transport takes what was sent (at once when it already has)."""
        if self.transport.drain_needed():
            await drain(self.transport, self._timeout)

    async def receive_message(self, idle_timeout: float | None = None) -> dict[str, Any]:
        """The next inner message.

        ApplianceUnreachable when the connection ends or is silent for
        ``idle_timeout`` (None: wait as long as it takes, the caller keeps
        time); LinkError(AUTH_FAILED) when a frame fails decryption.
        """
        try:
            if idle_timeout is None:
                frame = await self.transport.receive_frame()
            else:
                frame = await asyncio.wait_for(self.transport.receive_frame(), idle_timeout)
        except TimeoutError as err:
            raise ApplianceUnreachable(f"appliance silent for {idle_timeout:g} s") from err
        except ConnectionClosed as err:
            raise ApplianceUnreachable(f"connection lost: {err}") from err
        if frame.type is not FrameType.ENCRYPTED:
            raise MalformedError(f"plaintext {frame.type.name} in a session")
        return decode_message(self.session.decrypt(frame.payload))

    async def close(self) -> None:
        """Close the connection."""
        await self.transport.close()
