"""Commissioning: ``pair()`` exchanges the printed code for the long-term key.

SPAKE2 itself is pairing.py (both sides); this is the hub's conversation
over a ``PlaintextConnection`` (channel.py): HELLO, then the PAIR frames.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from .channel import OpenTransport, open_plaintext
from .codec import CodecError, FrameType, HelloInfo, encode_error
from .errors import LinkError
from .pairing import PairingInitiator


@dataclass(frozen=True, slots=True)
class PairingResult:
    """The outcome of commissioning: the long-term key and the appliance's HELLO."""

    key: bytes
    hello: HelloInfo


async def pair(
    host: str,
    port: int,
    code: str,
    *,
    hub_id: str,
    timeout: float = 10.0,  # noqa: ASYNC109 - per-step timeout, part of the documented contract
    open_transport: OpenTransport | None = None,
) -> PairingResult:
    """Commission an appliance with its printed code; return the long-term key.

    With ``open_transport`` the connection is the one it opens (BLE) and
    ``host``/``port`` only name the appliance. Raises LinkError(WRONG_CODE |
    RATE_LIMITED (``retry_after``) | UNSUPPORTED_VERSION | BUSY ...) or
    ApplianceUnreachable.
    """
    stream = await open_plaintext(host, port, timeout, open_transport)
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
