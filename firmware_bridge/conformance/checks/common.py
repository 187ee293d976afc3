"""What several checks share: the cached HELLO, requests on a raw session, settings kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from custom_components.liuzhou_appliances.link.client import SecureChannel
from custom_components.liuzhou_appliances.link.codec import (
    ClientHello,
    HelloInfo,
    MessageType,
    request_message,
)
from custom_components.liuzhou_appliances.link.errors import LinkError
from custom_components.liuzhou_appliances.link.model import OperationalState, Value
from firmware_bridge.conformance.probes import Outcome, Reaction, exchange_hello, session_outcome
from firmware_bridge.conformance.runner import (
    CheckFailed,
    Context,
    describe_error,
    settings_differences,
)

UNKNOWN_KEY: Final = "conformance_no_such_capability"


def fail_if(problems: list[str]) -> None:
    if problems:
        raise CheckFailed("; ".join(problems))


async def device_hello(context: Context) -> HelloInfo:
    """The device's answer to the hub's usual HELLO (cached)."""
    if context.hello is None:
        options = context.options
        try:
            context.hello = await exchange_hello(context, ClientHello(options.hub_id))
        except LinkError as err:
            raise CheckFailed(f"HELLO refused: {describe_error(err)}") from None
    return context.hello


async def request(
    channel: SecureChannel, message_id: int, message_type: MessageType, wait: float, **fields: Any
) -> Outcome:
    channel.send_message(request_message(message_id, message_type, **fields))
    await channel.drain()
    return await session_outcome(channel, wait)


def result_of(outcome: Outcome, message_id: int, what: str) -> dict[str, Any]:
    message = outcome.message
    if outcome.reaction is not Reaction.REPLY or message is None:
        raise CheckFailed(f"{what}: expected a result, got {outcome.describe()}")
    if message.get("type") != MessageType.RESULT or message.get("id") != message_id:
        raise CheckFailed(f"{what}: expected result {message_id}, got {message!r:.120}")
    result = message.get("result")
    if not isinstance(result, dict):
        raise CheckFailed(f"{what}: result is not an object")
    return result


async def ping(
    channel: SecureChannel, wait: float, message_id: int = 1, what: str = "ping"
) -> None:
    """One PING on ``channel``; CheckFailed unless its result comes back."""
    result_of(await request(channel, message_id, MessageType.PING, wait), message_id, what)


async def ping_new_session(context: Context) -> None:
    """Open a new session with the key, ping once, close it."""
    channel = await context.open_channel()
    try:
        await ping(channel, context.options.timeout)
    finally:
        await channel.close()


async def stop_programme(context: Context) -> None:
    """Writes need an idle appliance: stop a programme that runs (documented)."""
    declaration = context.declaration
    if "operational_state" not in declaration.capabilities:
        return
    state = (await context.require_client().read(["operational_state"])).get("operational_state")
    if state in (OperationalState.RUNNING, OperationalState.PAUSED):
        await context.require_client().command("stop")
        await context.wait_for_state(OperationalState.STOPPED, OperationalState.FINISHED)


async def restore(context: Context, original: Mapping[str, Value], problems: list[str]) -> None:
    client = context.require_client()
    current = await context.settings()
    if settings_differences(context.declaration, original, current):
        try:
            await client.write(original)
        except LinkError as err:
            problems.append(f"restoring the original settings: {describe_error(err)}")
    for key, value in original.items():
        await context.wait_for_value(key, value)
    if differences := settings_differences(context.declaration, original, await context.settings()):
        problems.append(f"not restored: {', '.join(differences)}")
