"""Pairing with the printed code, a wrong one, and after the window closed (CONFORMANCE.md 3)."""

from __future__ import annotations

import os
from typing import Final

from custom_components.liuzhou_appliances.link.client import SecureChannel, pair
from custom_components.liuzhou_appliances.link.codec import ClientHello, FrameType, encode_frame
from custom_components.liuzhou_appliances.link.errors import (
    ErrorCode,
    LinkError,
    TransportError,
)
from custom_components.liuzhou_appliances.link.pairing import (
    KEY_SIZE,
    MAC_SIZE,
    PairingInitiator,
    PairStep,
    normalise_pairing_code,
)
from custom_components.liuzhou_appliances.link.session import hello_transcript
from firmware_bridge.conformance.probes import Outcome, PlainConnection, Reaction
from firmware_bridge.conformance.runner import CheckFailed, Context, describe_error

from .common import device_hello, fail_if, ping_new_session

# Pairing attempts made while the window is closed: more than the 5 failures
# that would lock pairing if they were counted (PROTOCOL.md 5.5).
CLOSED_WINDOW_ATTEMPTS: Final = 6
CLOSED_HINT: Final = (
    "pairing is closed (INVALID_STATE): the device is paired already; "
    "press its pairing button, then run the kit within 15 min"
)


def wrong_code_for(code: str) -> str:
    """A code one digit away from ``code`` (a plausible typo)."""
    digits = normalise_pairing_code(code)
    return digits[:-1] + str((int(digits[-1]) + 1) % 10)


async def _start_pairing(
    connection: PlainConnection, hub_id: str, code: str
) -> tuple[PairingInitiator, Outcome]:
    """HELLO, then PAIR START with ``code`` on ``connection``; the initiator and the answer."""
    offer = ClientHello(hub_id)
    info, server_hello = await connection.hello(offer)
    initiator = PairingInitiator(
        code,
        hub_id=hub_id,
        appliance_id=info.appliance_id,
        hello_transcript=hello_transcript(offer.encode(), server_hello),
    )
    await connection.send(encode_frame(FrameType.PAIR, initiator.start()))
    return initiator, await connection.outcome()


async def _wrong_code_attempt(context: Context, code: str) -> str:
    """One pairing attempt with a wrong code, completed as a guessing attacker would.

    The hub itself notices the device's confirmation does not match; to test
    the device's side the kit then sends a confirmation it cannot have
    computed, which the device must answer with WRONG_CODE and no key.
    """
    options = context.options
    connection = await context.open_plain()
    try:
        initiator, outcome = await _start_pairing(connection, options.hub_id, code)
        if outcome.reaction is Reaction.ERROR and outcome.error is not None:
            if outcome.error.code is ErrorCode.RATE_LIMITED:
                raise CheckFailed(
                    f"pairing is rate limited (retry after {outcome.error.retry_after} s): "
                    "earlier failed attempts count; wait and run again"
                )
            if outcome.error.code is ErrorCode.INVALID_STATE:
                raise CheckFailed(CLOSED_HINT)
            raise CheckFailed(f"PAIR START answered {outcome.describe()}")
        if (
            outcome.reaction is not Reaction.REPLY
            or outcome.message is None
            or outcome.message["type"] != FrameType.PAIR.name
        ):
            raise CheckFailed(f"PAIR START: expected PAIR REPLY, got {outcome.describe()}")
        try:
            initiator.handle_reply(outcome.message["payload"])
        except LinkError as err:
            if err.code is not ErrorCode.WRONG_CODE:
                raise CheckFailed(f"PAIR REPLY unreadable: {describe_error(err)}") from None
        else:
            raise CheckFailed("the device's confirmation matches a wrong code")
        forged = bytes([PairStep.CONFIRM]) + os.urandom(MAC_SIZE)
        await connection.send(encode_frame(FrameType.PAIR, forged))
        outcome = await connection.outcome()
    finally:
        await connection.close()
    if outcome.reaction is Reaction.ERROR and outcome.error is not None:
        if outcome.error.code is ErrorCode.WRONG_CODE:
            return "wrong code -> WRONG_CODE"
        raise CheckFailed(f"wrong code answered {outcome.describe()}, expected WRONG_CODE")
    if outcome.reaction is Reaction.REPLY:
        raise CheckFailed(
            "wrong code accepted: the device went on (sent a PAIR frame, its wrapped key) "
            "instead of answering WRONG_CODE"
        )
    raise CheckFailed(f"wrong code: expected WRONG_CODE, got {outcome.describe()}")


async def check_commissioning(context: Context) -> str:
    """Wrong code -> WRONG_CODE; right code -> a 32-byte key that opens sessions."""
    options = context.options
    hello = await device_hello(context)
    problems: list[str] = []
    steps: list[str] = []
    try:
        steps.append(await _wrong_code_attempt(context, wrong_code_for(options.code)))
    except CheckFailed as failed:
        problems.append(str(failed))
    try:
        result = await pair(
            options.host,
            options.port,
            options.code,
            hub_id=options.hub_id,
            timeout=options.timeout,
            open_transport=options.opener(),
        )
    except LinkError as err:  # transport errors included
        if not (isinstance(err, LinkError) and err.code is ErrorCode.INVALID_STATE):
            problems.append(f"pairing with the right code failed: {describe_error(err)}")
        elif CLOSED_HINT not in problems:
            problems.append(CLOSED_HINT)
        raise CheckFailed("; ".join(problems)) from None
    if len(result.key) != KEY_SIZE:
        problems.append(f"key of {len(result.key)} bytes, expected {KEY_SIZE}")
        fail_if(problems)
    if result.hello.appliance_id != hello.appliance_id:
        problems.append(f"paired HELLO names {result.hello.appliance_id}, not {hello.appliance_id}")
    context.key = result.key
    steps.append("right code -> 32-byte key")
    try:
        await ping_new_session(context)
        steps.append("key opens a session")
    except (LinkError, CheckFailed) as err:
        problems.append(f"the new key does not open a session: {describe_error(err)}")
    try:
        stranger = await SecureChannel.open(
            options.host,
            options.port,
            os.urandom(KEY_SIZE),
            hub_id=options.hub_id,
            io_timeout=options.timeout,
            open_transport=options.opener(),
        )
    except TransportError:
        steps.append("other key -> closed")
    except LinkError as err:
        if err.code is ErrorCode.AUTH_FAILED:
            steps.append("other key -> AUTH_FAILED")
        else:
            problems.append(
                f"a key it never issued answered {describe_error(err)}, not AUTH_FAILED"
            )
    else:
        await stranger.close()
        problems.append("a session opened with a key the device never issued")
    try:
        steps.append(await _closed_window_attempts(context))
    except CheckFailed as failed:
        problems.append(str(failed))
    fail_if(problems)
    return "; ".join(steps)


async def _pair_start(context: Context) -> Outcome:
    """HELLO, then PAIR START with the right code on a fresh connection; the answer."""
    options = context.options
    connection = await context.open_plain()
    try:
        _, outcome = await _start_pairing(connection, options.hub_id, options.code)
        return outcome
    finally:
        await connection.close()


async def _closed_window_attempts(context: Context) -> str:
    """Paired now, so the window is closed: PAIR START is refused at once, uncounted.

    Each attempt uses the right code, so a device that ignores the window would
    go on to REPLY. A refusal before REPLY gives no guess, so nothing can be
    counted (PROTOCOL.md 5.5); the kit makes more attempts than the lockout
    allows failures, and the key from commissioning must still open a session.
    """
    for attempt in range(1, CLOSED_WINDOW_ATTEMPTS + 1):
        try:
            outcome = await _pair_start(context)
        except LinkError as err:  # transport errors included
            raise CheckFailed(
                f"PAIR START after pairing (attempt {attempt}): {describe_error(err)}"
            ) from None
        error = outcome.error
        if outcome.reaction is Reaction.ERROR and error is not None:
            if error.code is ErrorCode.INVALID_STATE:
                continue
            raise CheckFailed(
                f"PAIR START after pairing (attempt {attempt}) answered {outcome.describe()}, "
                "expected INVALID_STATE: a paired device accepts pairing only after its "
                "pairing button"
            )
        if outcome.reaction is Reaction.REPLY:
            raise CheckFailed(
                "pairing accepted after pairing without the pairing button (PAIR REPLY "
                "instead of INVALID_STATE): strangers can guess the code at any time"
            )
        raise CheckFailed(
            f"PAIR START after pairing: expected INVALID_STATE, got {outcome.describe()}"
        )
    try:
        await ping_new_session(context)
    except LinkError as err:  # transport errors included
        raise CheckFailed(
            f"after the refused attempts the key no longer opens a session: {describe_error(err)}"
        ) from None
    return f"paired: {CLOSED_WINDOW_ATTEMPTS} x PAIR START -> INVALID_STATE, key still works"
