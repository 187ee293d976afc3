"""The hub against a broken appliance: every stage answered wrongly, over real TCP.

Each test checks what the caller sees (exception type, code, message), what
is logged, that the client is left consistent (not connected, no pending
requests, no background tasks) and that the hub closed its connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import json
import logging
from typing import Any, Unpack

from noise.connection import NoiseConnection
import pytest

from custom_components.liuzhou_appliances.link.client import (
    MAX_PENDING_REQUESTS,
    ApplianceClient,
    PlaintextConnection,
    SecureChannel,
    pair,
)
from custom_components.liuzhou_appliances.link.codec import (
    ClientHello,
    FrameType,
    MessageType,
    changed_message,
    encode_error,
    error_message,
    result_message,
)
from custom_components.liuzhou_appliances.link.errors import (
    ApplianceUnreachable,
    ErrorCode,
    LinkError,
)
from custom_components.liuzhou_appliances.link.model import Value
from custom_components.liuzhou_appliances.link.server import ApplianceServer
from custom_components.liuzhou_appliances.link.session import (
    NOISE_PROTOCOL_NAME,
    hello_transcript,
)

from .conftest import CODE, HUB_ID, KEY, ClientOptions
from .fake_appliance import HELLO, FakeAppliance, Peer, correct_result
from .tcp import tcp
from .util import eventually

LOGGER = "custom_components.liuzhou_appliances.link.client"


def _client(fake: FakeAppliance, **options: Unpack[ClientOptions]) -> ApplianceClient:
    settings: ClientOptions = {"request_timeout": 1.0} | options
    return ApplianceClient("127.0.0.1", fake.port, KEY, hub_id=HUB_ID, **settings)


def _assert_idle(client: ApplianceClient) -> None:
    assert not client.connected
    assert client._channel is None
    assert client._requests.waiting == {}
    assert client._tasks == []


# --- HELLO and handshake -----------------------------------------------------


def _hello_with(**changes: Any) -> bytes:
    data = json.loads(HELLO)
    data.update(changes)
    return json.dumps(data).encode()


async def _answer_hello_with_pair(peer: Peer) -> None:
    await peer.frame()
    peer.send_frame(FrameType.PAIR, b"\x02")


async def _newer_version(peer: Peer) -> None:
    await peer.hello(_hello_with(version=2))


async def _bad_appliance_id(peer: Peer) -> None:
    await peer.hello(_hello_with(appliance_id="LZ-AC-UPPER"))


async def _unknown_type(peer: Peer) -> None:
    await peer.hello(_hello_with(type="toaster"))


async def _paired_not_boolean(peer: Peer) -> None:
    await peer.hello(_hello_with(paired="yes"))


async def _reset_before_handshake(peer: Peer) -> None:
    await peer.hello()
    await peer.frame()
    peer.send_frame(FrameType.ERROR, encode_error(LinkError(ErrorCode.NOT_PAIRED, "reset")))


async def _garbage_handshake_reply(peer: Peer) -> None:
    await peer.hello()
    await peer.frame()
    peer.send_frame(FrameType.HANDSHAKE, bytes(48))


async def _handshake_reply_with_payload(peer: Peer) -> None:
    await peer.hello()
    first = await peer.frame()
    noise = NoiseConnection.from_name(NOISE_PROTOCOL_NAME)
    noise.set_psks(psk=KEY)
    noise.set_prologue(hello_transcript(peer.hello_payload, HELLO))
    noise.set_as_responder()
    noise.start_handshake()
    noise.read_message(first.payload)
    peer.send_frame(FrameType.HANDSHAKE, noise.write_message(b"surprise"))


async def _error_code_from_the_future(peer: Peer) -> None:
    await peer.hello()
    await peer.frame()
    peer.send_frame(FrameType.ERROR, b'{"code":99,"message":"new firmware says no"}')


@pytest.mark.parametrize(
    ("script", "code", "detail"),
    [
        (_answer_hello_with_pair, ErrorCode.MALFORMED, "expected HELLO, got PAIR"),
        (_newer_version, ErrorCode.UNSUPPORTED_VERSION, "chose version 2, outside the offered"),
        (_bad_appliance_id, ErrorCode.MALFORMED, "invalid frame: appliance_id may hold only"),
        (_unknown_type, ErrorCode.MALFORMED, "invalid frame: unknown appliance type"),
        (_paired_not_boolean, ErrorCode.MALFORMED, "invalid frame: paired must be true or false"),
        (_reset_before_handshake, ErrorCode.AUTH_FAILED, "not paired: reset"),
        (_garbage_handshake_reply, ErrorCode.AUTH_FAILED, "handshake failed"),
        (_handshake_reply_with_payload, ErrorCode.MALFORMED, "unexpected handshake payload"),
        (_error_code_from_the_future, ErrorCode.INTERNAL, "error 99: new firmware says no"),
    ],
)
async def test_bad_hello_or_handshake_fails_connect(
    script: Callable[[Peer], Any], code: ErrorCode, detail: str
) -> None:
    async with FakeAppliance(script) as fake:
        client = _client(fake)
        with pytest.raises(LinkError) as caught:
            await client.connect()
        assert type(caught.value) is LinkError  # a CodecError is rewrapped for the caller
        assert caught.value.code is code
        assert detail in caught.value.message
        _assert_idle(client)
        assert await fake.hub_closed()


async def test_invalid_hello_fails_pairing_as_link_error() -> None:
    async with FakeAppliance(_unknown_type) as fake:
        with pytest.raises(LinkError) as caught:
            await pair("127.0.0.1", fake.port, CODE, hub_id=HUB_ID, timeout=1.0)
        assert type(caught.value) is LinkError
        assert caught.value.code is ErrorCode.MALFORMED
        assert "appliance sent an invalid frame" in caught.value.message
        assert await fake.hub_closed()


async def _hang_up_after_hello(peer: Peer) -> None:
    await peer.hello()
    await peer.frame()
    peer.writer.close()


async def _silent_after_hello(peer: Peer) -> None:
    await peer.hello()
    await peer.frame()


@pytest.mark.parametrize(
    ("script", "detail"),
    [
        (_hang_up_after_hello, "connection lost"),
        (_silent_after_hello, "did not answer in time"),
    ],
)
async def test_appliance_gone_during_pairing_is_unreachable(
    script: Callable[[Peer], Any], detail: str
) -> None:
    async with FakeAppliance(script) as fake:
        with pytest.raises(ApplianceUnreachable, match=detail):
            await pair("127.0.0.1", fake.port, CODE, hub_id=HUB_ID, timeout=0.2)


async def test_handshake_timeout_is_unreachable() -> None:
    async with FakeAppliance(_silent_after_hello) as fake:
        client = _client(fake, request_timeout=0.2)
        with pytest.raises(ApplianceUnreachable, match="did not answer in time"):
            await client.connect()
        assert client.hello is not None  # the HELLO arrived, the handshake did not
        _assert_idle(client)
        assert await fake.hub_closed()


async def test_wrong_key_size_is_auth_failed(server: ApplianceServer) -> None:
    client = ApplianceClient("127.0.0.1", server.port, KEY[:16], hub_id=HUB_ID)
    with pytest.raises(LinkError) as caught:
        await client.connect()
    assert caught.value.code is ErrorCode.AUTH_FAILED
    assert "32 bytes" in caught.value.message
    _assert_idle(client)


# --- describe / subscribe / read during connect ------------------------------


def _setup_answering(**overrides: dict[str, Any]) -> Callable[[Peer], Any]:
    """Answer the connect requests, replacing the result of the named request types."""

    async def script(peer: Peer) -> None:
        await peer.handshake()
        for _ in range(3):
            request = await peer.request()
            if request["type"] in overrides:
                peer.send(result_message(request["id"], overrides[request["type"]]))
                return
            peer.send(result_message(request["id"], correct_result(request)))

    return script


async def _describe_result_not_object(peer: Peer) -> None:
    await peer.handshake()
    request = await peer.request()
    peer.send({"id": request["id"], "type": "result", "result": [1, 2]})


@pytest.mark.parametrize(
    ("script", "detail"),
    [
        (_setup_answering(describe={"declaration": {"schema": 1}}), "bad declaration"),
        (_setup_answering(read={"value": {}}), "read result has no values"),
        (_describe_result_not_object, "result is not an object"),
    ],
)
async def test_malformed_setup_answers_fail_connect(
    script: Callable[[Peer], Any], detail: str
) -> None:
    async with FakeAppliance(script) as fake:
        client = _client(fake)
        heard: list[Exception | None] = []
        client.add_disconnect_listener(heard.append)
        with pytest.raises(LinkError) as caught:
            await client.connect()
        assert caught.value.code is ErrorCode.MALFORMED
        assert detail in caught.value.message
        _assert_idle(client)
        assert heard == []  # never connected, so nothing to announce
        assert await fake.hub_closed()


async def _answer_setup_then(peer: Peer, end: Callable[[Peer], None]) -> None:
    await peer.handshake()
    for _ in range(3):
        request = await peer.request()
        peer.send(result_message(request["id"], correct_result(request)))
    end(peer)  # right behind the last answer, in the same TCP segment


async def _hang_up_after_setup(peer: Peer) -> None:
    await _answer_setup_then(peer, lambda p: p.writer.close())


async def _violation_after_setup(peer: Peer) -> None:
    await _answer_setup_then(peer, lambda p: p.send_frame(FrameType.HELLO, b"{}"))


@pytest.mark.parametrize("script", [_hang_up_after_setup, _violation_after_setup])
async def test_session_lost_at_the_end_of_connect_is_never_half_connected(
    script: Callable[[Peer], Any],
) -> None:
    """Regression: connect() used to return 'connected' with no session, unannounced."""
    async with FakeAppliance(script) as fake:
        client = _client(fake)
        heard: list[Exception | None] = []
        client.add_disconnect_listener(heard.append)
        failure: ApplianceUnreachable | None = None
        try:
            await client.connect()
        except ApplianceUnreachable as err:
            failure = err
        if failure is not None:
            assert "session ended while connecting" in str(failure)
            assert heard == []  # never connected, so nothing to announce
        else:  # connected first, then the loss is announced like any other
            await eventually(lambda: bool(heard), 2)
        await asyncio.sleep(0.05)
        _assert_idle(client)


# --- a connected client against later misbehaviour ---------------------------


async def test_connect_twice_is_refused(client: ApplianceClient) -> None:
    with pytest.raises(RuntimeError, match="already connected"):
        await client.connect()
    assert client.connected
    assert await client.ping() >= 0


async def test_requests_without_a_session_are_unreachable(server: ApplianceServer) -> None:
    client = ApplianceClient("127.0.0.1", server.port, KEY, hub_id=HUB_ID)
    with pytest.raises(ApplianceUnreachable, match="not connected"):
        await client.read()
    await client.connect()
    await client.disconnect()
    with pytest.raises(ApplianceUnreachable, match="not connected"):
        await client.write({"on": True})


async def test_values_that_cannot_be_sent_fail_locally(client: ApplianceClient) -> None:
    with pytest.raises(LinkError) as caught:
        await client.write({"swing": "x" * 20000})
    assert caught.value.code is ErrorCode.TOO_LARGE
    with pytest.raises(LinkError) as caught:
        await client.command("start", {"delay": b"\x00"})  # type: ignore[dict-item]
    assert caught.value.code is ErrorCode.MALFORMED
    assert client._requests.waiting == {}
    assert client.connected
    assert await client.read(["swing"]) == {"swing": "off"}


async def test_failing_listeners_are_logged_and_the_others_still_hear(
    client: ApplianceClient, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("listener bug")

    changes: list[Mapping[str, Value]] = []
    endings: list[Exception | None] = []
    client.add_state_listener(broken)
    client.add_state_listener(changes.append)
    client.add_disconnect_listener(broken)
    client.add_disconnect_listener(endings.append)
    with caplog.at_level(logging.ERROR, LOGGER):
        await client.write({"on": True})
        await eventually(lambda: bool(changes), 2)
        assert client.state["on"] is True
        assert client.connected
        await client.disconnect()
    assert changes == [{"on": True}]
    assert endings == [None]
    assert "state listener failed" in caplog.text
    assert "disconnect listener failed" in caplog.text


async def test_removed_listeners_stay_removed(client: ApplianceClient) -> None:
    changes: list[Mapping[str, Value]] = []
    remove = client.add_state_listener(changes.append)
    remove()
    remove()  # a second removal is harmless
    await client.write({"on": True})
    await client.ping()
    assert changes == []


async def _junk_before_each_ping_answer(peer: Peer) -> None:
    await peer.setup()
    while True:
        request = await peer.request()
        peer.send(error_message(None, LinkError(ErrorCode.MALFORMED, "could not read that")))
        peer.send({"id": 12345, "type": "result", "result": {}})
        peer.send({"id": 1, "type": "ping"})
        peer.send(result_message(request["id"], {}))


async def test_stray_messages_are_logged_and_the_session_continues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with FakeAppliance(_junk_before_each_ping_answer) as fake:
        client = _client(fake)
        await client.connect()
        try:
            with caplog.at_level(logging.DEBUG, LOGGER):
                await client.ping()
                await client.ping()
            assert client.connected
            assert "reports: MALFORMED: could not read that" in caplog.text
            assert "answer to unknown request 12345" in caplog.text
            assert "ignoring ping message" in caplog.text
        finally:
            await client.disconnect()
        _assert_idle(client)
        assert await fake.hub_closed()


def _misbehave_on_write(action: Callable[[Peer], None]) -> Callable[[Peer], Any]:
    async def script(peer: Peer) -> None:
        await peer.setup()
        request = await peer.request()
        assert request["type"] == MessageType.WRITE
        action(peer)

    return script


def _plaintext_frame(peer: Peer) -> None:
    peer.send_frame(FrameType.ERROR, encode_error(LinkError(ErrorCode.INTERNAL, "oops")))


def _tampered_frame(peer: Peer) -> None:
    peer.send_frame(FrameType.ENCRYPTED, bytes(40))


def _change_without_seq(peer: Peer) -> None:
    message = changed_message(1, {"on": True})
    del message["seq"]
    peer.send(message)


def _not_json(peer: Peer) -> None:
    peer.send_encrypted(b"{oops")


def _error_with_bad_code(peer: Peer) -> None:
    peer.send({"id": 4, "type": "error", "code": "BUSY", "message": "?"})


@pytest.mark.parametrize(
    ("action", "code", "detail"),
    [
        (_plaintext_frame, ErrorCode.MALFORMED, "plaintext ERROR in a session"),
        (_tampered_frame, ErrorCode.AUTH_FAILED, "frame failed decryption"),
        (_change_without_seq, ErrorCode.MALFORMED, "changed needs seq and values"),
        (_not_json, ErrorCode.MALFORMED, "not valid JSON"),
        (_error_with_bad_code, ErrorCode.MALFORMED, "error code must be a whole number"),
    ],
)
async def test_protocol_violation_ends_the_session_and_fails_pending_requests(
    action: Callable[[Peer], None],
    code: ErrorCode,
    detail: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with FakeAppliance(_misbehave_on_write(action)) as fake:
        client = _client(fake)
        endings: list[Exception | None] = []
        client.add_disconnect_listener(endings.append)
        await client.connect()
        with caplog.at_level(logging.WARNING, LOGGER):
            with pytest.raises(ApplianceUnreachable) as caught:
                await client.write({"on": True})
            await eventually(lambda: bool(endings), 2)
        assert f"session ended: {code.name}: " in str(caught.value)
        assert detail in str(caught.value)
        assert len(endings) == 1
        assert isinstance(endings[0], LinkError)
        assert endings[0].code is code
        assert f"closing session with 127.0.0.1: {code.name}" in caplog.text
        assert client.state["on"] is False  # nothing from the broken message was applied
        await eventually(lambda: client._tasks == [], 2)
        _assert_idle(client)
        assert await fake.hub_closed()


async def test_connection_lost_during_a_request_is_unreachable() -> None:
    async with FakeAppliance(_misbehave_on_write(lambda peer: peer.writer.close())) as fake:
        client = _client(fake)
        endings: list[Exception | None] = []
        client.add_disconnect_listener(endings.append)
        await client.connect()
        with pytest.raises(ApplianceUnreachable, match="connection lost"):
            await client.write({"on": True})
        await eventually(lambda: bool(endings), 2)
        assert isinstance(endings[0], ApplianceUnreachable)
        _assert_idle(client)


async def test_disconnect_fails_a_request_in_flight() -> None:
    async with FakeAppliance(_silent_after_setup) as fake:
        client = _client(fake)
        endings: list[Exception | None] = []
        client.add_disconnect_listener(endings.append)
        await client.connect()
        request = asyncio.create_task(client.write({"on": True}))
        await eventually(lambda: bool(client._requests.waiting), 2)
        await client.disconnect()
        with pytest.raises(ApplianceUnreachable, match="disconnected"):
            await request
        assert endings == [None]
        _assert_idle(client)
        assert await fake.hub_closed()


async def _silent_after_setup(peer: Peer) -> None:
    await peer.setup()  # then read everything and never answer


async def test_unanswered_requests_time_out_and_the_pending_limit_holds() -> None:
    async with FakeAppliance(_silent_after_setup) as fake:
        client = _client(fake, request_timeout=0.3)
        await client.connect()
        try:
            results = await asyncio.gather(
                *(client.ping() for _ in range(MAX_PENDING_REQUESTS + 1)),
                return_exceptions=True,
            )
            codes = [r.code for r in results if isinstance(r, LinkError)]
            assert len(codes) == MAX_PENDING_REQUESTS + 1
            assert codes.count(ErrorCode.BUSY) == 1
            assert codes.count(ErrorCode.TIMEOUT) == MAX_PENDING_REQUESTS
            timeout = next(r for r in results if getattr(r, "code", None) is ErrorCode.TIMEOUT)
            assert "no answer to ping in 0.3 s" in str(timeout)
            assert client._requests.waiting == {}
            assert client.connected  # a slow appliance is not a lost one
        finally:
            await client.disconnect()


async def test_keepalive_that_goes_unanswered_drops_the_session() -> None:
    async with FakeAppliance(_silent_after_setup) as fake:
        client = _client(fake, request_timeout=0.1, keepalive_interval=0.05)
        endings: list[Exception | None] = []
        client.add_disconnect_listener(endings.append)
        await client.connect()
        await eventually(lambda: bool(endings), 2)
        assert isinstance(endings[0], ApplianceUnreachable)
        assert "keepalive failed: TIMEOUT" in str(endings[0])
        await eventually(lambda: client._tasks == [], 2)
        _assert_idle(client)
        assert await fake.hub_closed()


async def test_silent_appliance_is_reported_as_silent() -> None:
    async with FakeAppliance(_silent_after_setup) as fake:
        client = _client(fake, keepalive_interval=100.0, keepalive_timeout=0.2)
        endings: list[Exception | None] = []
        client.add_disconnect_listener(endings.append)
        await client.connect()
        await eventually(lambda: bool(endings), 2)
        assert isinstance(endings[0], ApplianceUnreachable)
        assert str(endings[0]) == "appliance silent for 0.2 s"
        _assert_idle(client)


# --- an appliance that stops reading -----------------------------------------


async def _stop_reading_after_handshake(peer: Peer) -> None:
    await peer.handshake()
    await asyncio.sleep(10)


async def _stop_reading(peer: Peer) -> None:
    await asyncio.sleep(10)


def _fill_send_buffer(writer: asyncio.StreamWriter, send: Callable[[], None]) -> None:
    """Send until the kernel buffers are full and the transport holds far more than its limit.

    Far more: the kernel grows a connection's buffers as it goes (TCP autotuning, up
    to tcp_rmem plus tcp_wmem: 36 MiB here), which can drain a transport held just
    above its limit.
    """
    high = writer.transport.get_write_buffer_limits()[1]
    while writer.transport.get_write_buffer_size() <= high + 64 * 1024 * 1024:
        send()


async def test_channel_drain_to_a_stalled_appliance_is_unreachable() -> None:
    async with FakeAppliance(_stop_reading_after_handshake) as fake:
        channel = await SecureChannel.open(
            "127.0.0.1", fake.port, KEY, hub_id=HUB_ID, io_timeout=0.2
        )
        try:
            _fill_send_buffer(
                tcp(channel.transport).writer,
                lambda: channel.send_frame(FrameType.ENCRYPTED, bytes(16000)),
            )
            with pytest.raises(ApplianceUnreachable, match="connection lost: TimeoutError"):
                await channel.drain()
        finally:
            tcp(channel.transport).writer.transport.abort()  # it cannot flush to a stalled peer
            await channel.close()


async def test_plaintext_send_to_a_stalled_appliance_is_unreachable() -> None:
    async with FakeAppliance(_stop_reading) as fake:
        stream = await PlaintextConnection.open("127.0.0.1", fake.port, 0.2)
        try:
            _fill_send_buffer(
                tcp(stream.transport).writer,
                lambda: tcp(stream.transport).writer.write(bytes(16000)),
            )
            with pytest.raises(ApplianceUnreachable, match="connection lost: TimeoutError"):
                await stream.send(FrameType.HELLO, ClientHello(HUB_ID).encode())
        finally:
            tcp(stream.transport).writer.transport.abort()
            await stream.close()
