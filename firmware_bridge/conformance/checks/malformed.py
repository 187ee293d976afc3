"""Bad input on plain connections and inside sessions (malformed_requests, CONFORMANCE.md 10)."""

from __future__ import annotations

from collections.abc import Callable
import os
from typing import Final

from custom_components.liuzhou_appliances.link.client import SecureChannel
from custom_components.liuzhou_appliances.link.codec import (
    ClientHello,
    FrameType,
    MessageType,
    encode_frame,
    encode_message,
    request_message,
)
from custom_components.liuzhou_appliances.link.errors import (
    ErrorCode,
    LinkError,
    TransportError,
)
from firmware_bridge.conformance.probes import Reaction, session_outcome
from firmware_bridge.conformance.runner import (
    CheckFailed,
    Context,
    describe_error,
    settings_differences,
)

from .common import fail_if, ping, result_of


def _hello_frame(hub_id: str, min_version: int = 1, max_version: int = 1) -> bytes:
    return encode_frame(FrameType.HELLO, ClientHello(hub_id, min_version, max_version).encode())


async def _plain_probe(
    context: Context, data: bytes, *, end: bool, codes: set[ErrorCode], what: str
) -> str:
    connection = await context.open_plain()
    try:
        await connection.send(data, end=end)
        outcome = await connection.outcome()
        verdict = outcome.expect_error_or_close(codes, what)
        if outcome.reaction is Reaction.ERROR:
            # PROTOCOL.md 3: one ERROR frame, then the appliance closes.
            after = await connection.outcome()
            if after.reaction is not Reaction.CLOSED:
                raise CheckFailed(f"{what}: after its ERROR the device sent {after.describe()}")
    finally:
        await connection.close()
    return verdict


async def _probe_garbage(context: Context) -> str:
    return await _plain_probe(
        context,
        b"GET / HTTP/1.1\r\nHost: appliance\r\n\r\n",
        end=False,
        codes={ErrorCode.UNKNOWN_MESSAGE, ErrorCode.MALFORMED},
        what="garbage before HELLO",
    )


async def _probe_truncated(context: Context) -> str:
    frame = _hello_frame(context.options.hub_id)
    return await _plain_probe(
        context,
        frame[: len(frame) // 2],
        end=True,
        codes={ErrorCode.MALFORMED},
        what="truncated HELLO then end of stream",
    )


async def _probe_oversized(context: Context) -> str:
    header = bytes([FrameType.HELLO]) + (0xFFFF).to_bytes(2, "big")
    return await _plain_probe(
        context,
        header + b"{" * 64,
        end=False,
        codes={ErrorCode.TOO_LARGE, ErrorCode.MALFORMED},
        what="frame announcing 65535 bytes",
    )


async def _probe_wrong_version(context: Context) -> str:
    payload = b'{"hub_id":"%s","max_version":0,"min_version":0}' % context.options.hub_id.encode()
    return await _plain_probe(
        context,
        encode_frame(FrameType.HELLO, payload),
        end=False,
        codes={ErrorCode.MALFORMED, ErrorCode.UNSUPPORTED_VERSION},
        what="HELLO offering version 0",
    )


async def _probe_handshake_first(context: Context) -> str:
    return await _plain_probe(
        context,
        encode_frame(FrameType.HANDSHAKE, os.urandom(48)),
        end=False,
        codes={ErrorCode.MALFORMED},
        what="HANDSHAKE before HELLO",
    )


async def _session_probe(
    context: Context,
    send: Callable[[SecureChannel], None],
    codes: set[ErrorCode],
    what: str,
    *,
    reply_id: int | None = None,
    continues: bool = False,
) -> str:
    """Send something bad inside a session; expect an error (``reply_id``) or a close.

    With ``continues`` an error reply must leave the session serving
    (PROTOCOL.md 7.2), checked with a ping on the same session.
    """
    wait = context.options.timeout
    channel = await context.open_channel()
    try:
        send(channel)
        await channel.drain()
        outcome = await session_outcome(channel, wait)
        verdict = outcome.expect_error_or_close(codes, what)
        if outcome.reaction is Reaction.ERROR and outcome.message is not None:
            if outcome.message.get("id") != reply_id:
                raise CheckFailed(
                    f"{what}: error carries id {outcome.message.get('id')!r}, expected {reply_id!r}"
                )
            if continues:
                await ping(channel, wait, 99, what + ", then ping")
                verdict += ", session continues"
    finally:
        await channel.close()
    return verdict


async def _probe_unknown_type(context: Context) -> str:
    return await _session_probe(
        context,
        lambda channel: channel.send_message({"id": 41, "type": "conformance_self_destruct"}),
        {ErrorCode.UNKNOWN_MESSAGE},
        "unknown message type in a session",
        reply_id=41,
        continues=True,
    )


async def _probe_bad_json(context: Context) -> str:
    return await _session_probe(
        context,
        lambda channel: channel.send_plaintext(b'{"id": 42, "type": "ping"'),
        {ErrorCode.MALFORMED},
        "malformed JSON in a valid encrypted frame",
        continues=True,
    )


async def _probe_tampered(context: Context) -> str:
    def send(channel: SecureChannel) -> None:
        sealed = bytearray(
            channel.session.encrypt(encode_message(request_message(43, MessageType.PING)))
        )
        sealed[-1] ^= 0x01  # the last byte belongs to the authentication tag
        channel.send_frame(FrameType.ENCRYPTED, bytes(sealed))

    return await _session_probe(
        context, send, {ErrorCode.AUTH_FAILED, ErrorCode.MALFORMED}, "tampered frame (bad tag)"
    )


async def _probe_replayed(context: Context) -> str:
    options = context.options
    channel = await context.open_channel()
    try:
        sealed = channel.session.encrypt(encode_message(request_message(44, MessageType.PING)))
        channel.send_frame(FrameType.ENCRYPTED, sealed)
        await channel.drain()
        result_of(await session_outcome(channel, options.timeout), 44, "ping before the replay")
        channel.send_frame(FrameType.ENCRYPTED, sealed)
        await channel.drain()
        outcome = await session_outcome(channel, options.timeout)
    finally:
        await channel.close()
    if outcome.reaction is Reaction.REPLY:
        raise CheckFailed("replayed frame: the device answered it as a new request")
    return outcome.expect_error_or_close(
        {ErrorCode.AUTH_FAILED, ErrorCode.MALFORMED}, "replayed frame"
    )


PROBES: Final = (
    ("garbage", _probe_garbage),
    ("truncated", _probe_truncated),
    ("oversized", _probe_oversized),
    ("wrong_version", _probe_wrong_version),
    ("handshake_first", _probe_handshake_first),
    ("unknown_type", _probe_unknown_type),
    ("bad_json", _probe_bad_json),
    ("tampered", _probe_tampered),
    ("replayed", _probe_replayed),
)


class _DeviceGone(Exception):
    """The device no longer accepts connections at all."""


async def _fresh_session_works(context: Context) -> str | None:
    """None if a new session opens and answers a ping, else why not.

    Raises _DeviceGone when the device cannot even be connected to.
    """
    try:
        channel = await context.open_channel()
    except TransportError as err:
        raise _DeviceGone(f"no fresh session ({describe_error(err)})") from None
    except LinkError as err:
        return f"no fresh session ({describe_error(err)})"
    try:
        await ping(channel, context.options.timeout)
    except CheckFailed as failed:
        return f"fresh session broken ({failed})"
    finally:
        await channel.close()
    return None


async def check_malformed_requests(context: Context) -> str:
    """Every bad input gets an error or a clean close; the device keeps serving, unchanged."""
    before = await context.settings()
    problems: list[str] = []
    passed: list[str] = []
    for position, (name, probe) in enumerate(PROBES):
        try:
            passed.append(await probe(context))
        except CheckFailed as failed:
            problems.append(str(failed))
        except (LinkError, OSError) as err:
            problems.append(f"{name}: {describe_error(err)}")
        try:
            if broken := await _fresh_session_works(context):
                problems.append(f"after {name}: {broken}")
        except _DeviceGone as gone:
            problems.append(f"after {name}: {gone}; the device stopped serving")
            if remaining := [later for later, _ in PROBES[position + 1 :]]:
                problems.append(f"not run: {', '.join(remaining)}")
            break
    try:
        after = await context.settings()
    except (CheckFailed, LinkError):
        problems.append("the hub's own session was dropped")
    else:
        if changed := settings_differences(context.declaration, before, after):
            problems.append(f"state changed: {', '.join(changed)}")
    fail_if(problems)
    return f"{len(PROBES)} probes, each refused cleanly with fresh sessions after: " + "; ".join(
        passed
    )
