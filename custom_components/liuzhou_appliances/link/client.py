"""Hub side of the link: ``pair()`` (commissioning) and ``ApplianceClient`` (sessions).

``SecureChannel`` is the lower layer both use: one connection (a
``FrameTransport``, TCP today) that has done HELLO and the Noise handshake,
sending and receiving raw inner messages. The conformance kit uses it
directly to send malformed requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
import contextlib
from dataclasses import dataclass
import itertools
import logging
import time
from typing import Any, Final

from .codec import (
    ClientHello,
    CodecError,
    Frame,
    FrameType,
    HelloInfo,
    MessageType,
    decode_error,
    decode_message,
    encode_error,
    encode_message,
)
from .declaration import Declaration
from .errors import (
    ApplianceUnreachable,
    AuthFailedError,
    BusyError,
    ConnectionClosed,
    LinkError,
    MalformedError,
    NotPairedError,
    TimedOutError,
    TransportError,
    UnsupportedVersionError,
)
from .messages import (
    Changed,
    Command,
    Describe,
    DescribeResult,
    ErrorReply,
    Ping,
    Read,
    ReadResult,
    Request,
    Result,
    Subscribe,
    SubscribeResult,
    Write,
)
from .model import Value
from .pairing import PairingInitiator
from .session import NoiseInitiator, SecureSession, hello_transcript
from .transport import FrameTransport, TcpTransport

_LOGGER: Final = logging.getLogger(__name__)
MAX_PENDING_REQUESTS: Final = 32


@dataclass(frozen=True, slots=True)
class PairingResult:
    """The outcome of commissioning: the long-term key and the appliance's HELLO."""

    key: bytes
    hello: HelloInfo


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


async def drain(transport: FrameTransport, timeout: float) -> None:  # noqa: ASYNC109
    """Wait up to ``timeout`` for ``transport`` to take what was sent; ApplianceUnreachable."""
    try:
        await asyncio.wait_for(transport.drain(), timeout)
    except TimeoutError as err:
        raise ApplianceUnreachable(f"connection lost: {err!r}") from err
    except ConnectionClosed as err:
        raise ApplianceUnreachable(f"connection lost: {err}") from err


async def pair(
    host: str,
    port: int,
    code: str,
    *,
    hub_id: str,
    timeout: float = 10.0,  # noqa: ASYNC109 - per-step timeout, part of the documented contract
) -> PairingResult:
    """Commission an appliance with its printed code; return the long-term key.

    Raises LinkError(WRONG_CODE | RATE_LIMITED (``retry_after``) |
    UNSUPPORTED_VERSION | BUSY ...) or ApplianceUnreachable.
    """
    stream = await PlaintextConnection.open(host, port, timeout)
    try:
        info, transcript = await stream.hello(hub_id)
        initiator = PairingInitiator(
            code, hub_id=hub_id, appliance_id=info.appliance_id, hello_transcript=transcript
        )
        await stream.send(FrameType.PAIR, initiator.start())
        reply = await stream.receive(FrameType.PAIR)
        try:
            confirm = initiator.handle_reply(reply.payload)
        except LinkError as err:
            # Tell the appliance why we stop; it counts the failed attempt either way.
            with contextlib.suppress(Exception):
                await stream.send(FrameType.ERROR, encode_error(err))
            raise
        await stream.send(FrameType.PAIR, confirm)
        key_frame = await stream.receive(FrameType.PAIR)
        await stream.send(FrameType.PAIR, initiator.handle_key(key_frame.payload))
        done = await stream.receive(FrameType.PAIR)
        key = initiator.handle_done(done.payload)
        return PairingResult(key, info)
    except CodecError as err:
        raise LinkError(err.code, f"appliance sent an invalid frame: {err.message}") from err
    finally:
        await stream.close()


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
    ) -> SecureChannel:
        """Connect, exchange HELLO and complete the Noise handshake.

        ``on_hello`` hears the appliance's HELLO before the handshake, so a
        caller knows which appliance rejected its key. LinkError(AUTH_FAILED)
        if the appliance rejects the key or has none (not paired, e.g. after a
        factory reset); ApplianceUnreachable if it cannot be reached.
        """
        stream = await PlaintextConnection.open(host, port, io_timeout)
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
        """Wait until the transport takes what was sent."""
        await drain(self.transport, self._timeout)

    async def receive_message(self, idle_timeout: float | None = None) -> dict[str, Any]:
        """The next inner message.

        ApplianceUnreachable when the connection ends or is silent for
        ``idle_timeout``; LinkError(AUTH_FAILED) when a frame fails decryption.
        """
        try:
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


type InvalidValueCallback = Callable[[str, object, LinkError], None]


class ApplianceClient:
    """A session with one paired appliance, kept current by pushed changes.

    ``state`` only ever holds values that fit the appliance's own declaration
    (``Declaration.validate_reported``): a pushed or read value that does not
    (undeclared key, wrong type, out of range, not an option) leaves the last
    valid value in place and is handed to ``on_invalid_value`` instead, with
    the reason; state listeners hear only the valid values.
    """

    def __init__(
        self,
        host: str,
        port: int,
        key: bytes,
        *,
        hub_id: str,
        keepalive_interval: float = 20.0,
        request_timeout: float = 10.0,
        keepalive_timeout: float = 90.0,
        on_invalid_value: InvalidValueCallback | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._key = key
        self.hub_id = hub_id
        self.keepalive_interval = keepalive_interval
        self.request_timeout = request_timeout
        self.keepalive_timeout = keepalive_timeout
        self.hello: HelloInfo | None = None
        self.declaration: Declaration | None = None
        self.state: dict[str, Value] = {}
        self.connected = False
        self.last_seq = 0
        self._channel: SecureChannel | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Mapping[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: asyncio.Task[None] | None = None
        self._state_listeners: list[Callable[[Mapping[str, Value]], None]] = []
        self._disconnect_listeners: list[Callable[[Exception | None], None]] = []
        self._on_invalid_value = on_invalid_value

    # --- listeners -----------------------------------------------------------

    def add_state_listener(self, cb: Callable[[Mapping[str, Value]], None]) -> Callable[[], None]:
        """Call ``cb`` with the changed values on every push; returns the remover."""
        self._state_listeners.append(cb)
        return lambda: _remove(self._state_listeners, cb)

    def add_disconnect_listener(self, cb: Callable[[Exception | None], None]) -> Callable[[], None]:
        """Call ``cb`` once when the session ends (None after ``disconnect()``)."""
        self._disconnect_listeners.append(cb)
        return lambda: _remove(self._disconnect_listeners, cb)

    # --- lifecycle -----------------------------------------------------------

    async def connect(self) -> None:
        """HELLO, Noise handshake, describe, subscribe, read all; start keepalive."""
        if self._channel is not None:
            raise RuntimeError("already connected")
        channel = await SecureChannel.open(
            self.host,
            self.port,
            self._key,
            hub_id=self.hub_id,
            io_timeout=self.request_timeout,
            on_hello=self._set_hello,
        )
        self._channel = channel
        self.hello = channel.hello
        self._tasks = [asyncio.create_task(self._read_loop(channel))]
        try:
            described = DescribeResult.from_dict(await self._request(Describe))
            self.declaration = described.declaration
            subscribed = SubscribeResult.from_dict(await self._request(Subscribe))
            self.last_seq = subscribed.seq
            self.state = self._accept(await self.read())
            if self._channel is not channel:
                # The read loop dropped the session right behind the last answer.
                raise ApplianceUnreachable("the session ended while connecting")
        except BaseException as err:
            await self._shutdown(err if isinstance(err, Exception) else None, notify=False)
            raise
        self.connected = True
        self._tasks.append(asyncio.create_task(self._keepalive_loop()))

    def _set_hello(self, hello: HelloInfo) -> None:
        self.hello = hello

    async def disconnect(self) -> None:
        """Close the session; listeners hear ``None``."""
        await self._shutdown(None)

    # --- requests ------------------------------------------------------------

    async def read(self, keys: Sequence[str] | None = None) -> dict[str, Value]:
        """Current values (all, or ``keys``)."""
        wanted = None if keys is None else tuple(keys)
        result = ReadResult.from_dict(await self._request(lambda i: Read(i, wanted)))
        return dict(result.values)

    async def refresh(self) -> dict[str, Value]:
        """Read every value again; the valid ones update ``state``, which is returned."""
        self.state.update(self._accept(await self.read()))
        return dict(self.state)

    async def write(self, values: Mapping[str, Value]) -> None:
        """Write values, all or nothing; LinkError on rejection."""
        await self._request(lambda i: Write(i, dict(values)))

    async def command(self, name: str, args: Mapping[str, int] | None = None) -> None:
        """Run a command; LinkError on rejection."""
        await self._request(lambda i: Command(i, name, dict(args or {})))

    async def ping(self) -> float:
        """Round trip in seconds."""
        started = time.perf_counter()
        await self._request(Ping)
        return time.perf_counter() - started

    async def _request(self, request_with_id: Callable[[int], Request]) -> Mapping[str, Any]:
        """Send the request (given its id), wait for the answer; return the result body."""
        channel = self._channel
        if channel is None:
            raise ApplianceUnreachable("not connected")
        if len(self._pending) >= MAX_PENDING_REQUESTS:
            raise BusyError("too many requests in flight")
        message_id = next(self._ids)
        request = request_with_id(message_id)
        future: asyncio.Future[Mapping[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        try:
            channel.send_message(request.to_dict())
            await channel.drain()
            return await asyncio.wait_for(asyncio.shield(future), self.request_timeout)
        except TimeoutError:
            raise TimedOutError(
                f"no answer to {request.KIND} in {self.request_timeout:g} s"
            ) from None
        finally:
            self._pending.pop(message_id, None)

    # --- background ----------------------------------------------------------

    async def _read_loop(self, channel: SecureChannel) -> None:
        error: Exception
        try:
            while True:
                message = await channel.receive_message(self.keepalive_timeout)
                self._handle(message)
        except asyncio.CancelledError:
            raise
        except TransportError as err:
            error = err
        except LinkError as err:
            _LOGGER.warning("closing session with %s: %s", self.host, err)
            error = err
        except Exception as err:  # pragma: no cover - defensive: a bug must still end the session
            _LOGGER.exception("unexpected error reading from %s", self.host)
            error = err
        self._drop(error)

    def _handle(self, message: dict[str, Any]) -> None:
        """Act on one decoded message from the appliance: a push or an answer."""
        message_type = message["type"]
        if message_type == MessageType.CHANGED:
            changed = Changed.from_dict(message)
            self.last_seq = changed.seq
            accepted = self._accept(changed.values)
            if not accepted:
                return
            self.state.update(accepted)
            for listener in list(self._state_listeners):
                try:
                    listener(accepted)
                except Exception:
                    _LOGGER.exception("state listener failed")
            return
        message_id = message.get("id")
        if message_type not in (MessageType.RESULT, MessageType.ERROR):
            _LOGGER.debug("ignoring %s message from %s", message_type, self.host)
            return
        if message_id is None:
            error = ErrorReply.from_dict(message).error
            _LOGGER.warning("appliance %s reports: %s", self.host, error)
            return
        future = self._pending.get(message_id)
        if future is None or future.done():
            _LOGGER.debug("answer to unknown request %s", message_id)
            return
        if message_type == MessageType.ERROR:
            future.set_exception(ErrorReply.from_dict(message).error)
            return
        try:
            future.set_result(Result.from_dict(message).result)
        except MalformedError as err:
            future.set_exception(err)

    def _accept(self, values: Mapping[str, object]) -> dict[str, Value]:
        """The values that fit the declaration; each other one goes to ``on_invalid_value``."""
        declaration = self.declaration
        accepted: dict[str, Value] = {}
        for key, value in values.items():
            try:
                if declaration is None:  # pragma: no cover - values come after DESCRIBE
                    raise MalformedError("values before the declaration")
                accepted[key] = declaration.validate_reported(key, value)
            except LinkError as err:
                if self._on_invalid_value is not None:
                    try:
                        self._on_invalid_value(key, value, err)
                    except Exception:
                        _LOGGER.exception("invalid value callback failed")
        return accepted

    async def _keepalive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive_interval)
            try:
                await self.ping()
            except LinkError as err:
                self._drop(ApplianceUnreachable(f"keepalive failed: {err}"))
                return

    def _drop(self, error: Exception) -> None:
        """End the session from a background task (no await)."""
        if self._channel is None:  # pragma: no cover - tasks are cancelled before they can get here
            return
        self._closing = asyncio.create_task(self._shutdown(error))

    async def _shutdown(self, error: Exception | None, *, notify: bool = True) -> None:
        channel, self._channel = self._channel, None
        if channel is None:
            return
        was_connected = self.connected
        self.connected = False
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        self._tasks = []
        for task in tasks:
            task.cancel()
        reason = error if error is not None else ApplianceUnreachable("disconnected")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(
                    reason
                    if isinstance(reason, ApplianceUnreachable)
                    else ApplianceUnreachable(f"session ended: {reason}")
                )
                future.exception()  # mark retrieved: nobody may be waiting any more
        self._pending.clear()
        await asyncio.gather(*tasks, return_exceptions=True)
        await channel.close()
        if notify and was_connected:
            for listener in list(self._disconnect_listeners):
                try:
                    listener(error)
                except Exception:
                    _LOGGER.exception("disconnect listener failed")


def _remove[T](items: list[T], item: T) -> None:
    with contextlib.suppress(ValueError):
        items.remove(item)
