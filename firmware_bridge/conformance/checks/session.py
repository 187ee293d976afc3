"""The hub's session over time: pushed changes (pushed_updates), idling (keepalive) and
coming back with the stored key (reconnect), CONFORMANCE.md checks 8, 9 and 11."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import statistics
import time

from custom_components.liuzhou_appliances.link.codec import MessageType
from custom_components.liuzhou_appliances.link.declaration import Capability, Declaration
from custom_components.liuzhou_appliances.link.errors import LinkError
from custom_components.liuzhou_appliances.link.model import Value, ValueKind
from firmware_bridge.conformance.probes import Reaction
from firmware_bridge.conformance.runner import (
    CheckFailed,
    Context,
    describe_error,
    same_value,
    settings_differences,
)

from .common import fail_if, ping, request, restore, result_of, stop_programme
from .values import valid_values


def push_target(declaration: Declaration, current: Mapping[str, Value]) -> tuple[str, Value]:
    """A writable capability and a different valid value (numbers preferred: few side effects)."""
    kinds = (ValueKind.NUMBER, ValueKind.ENUM, ValueKind.BOOL)
    for kind in kinds:
        for capability in declaration.capabilities.values():
            if capability.writable and capability.spec.kind is kind:
                for value in valid_values(capability):
                    if not same_value(capability, value, current[capability.key]):
                        return capability.key, value
    raise CheckFailed("no writable capability with a second value to change")


async def check_pushed_updates(context: Context) -> str:
    """A change arrives as a pushed ``changed`` message, without reads."""
    client = context.require_client()
    declaration = context.declaration
    await stop_programme(context)
    original = await context.settings()
    key, value = push_target(declaration, original)
    capability = declaration.capability(key)
    pushes: asyncio.Queue[dict[str, Value]] = asyncio.Queue()
    remove = client.add_state_listener(lambda values: pushes.put_nowait(dict(values)))
    problems: list[str] = []
    latencies: list[float] = []
    seq_before = client.last_seq
    try:
        for target in (value, original[key]):
            while not pushes.empty():
                pushes.get_nowait()
            started = time.monotonic()
            await client.write({key: target})
            if await _await_push(pushes, key, capability, target, context.options.push_timeout):
                latencies.append(time.monotonic() - started)
            else:
                problems.append(
                    f"{key}={target!r} was accepted but no push brought it within "
                    f"{context.options.push_timeout:g} s"
                )
    finally:
        remove()
    if latencies and client.last_seq <= seq_before:
        problems.append(f"push seq did not increase (stayed {client.last_seq})")
    await restore(context, original, problems)
    fail_if(problems)
    return (
        f"{key} -> {value!r} and back: both pushed, slowest {max(latencies) * 1000:.0f} ms "
        f"after the write; seq {seq_before} -> {client.last_seq}"
    )


async def _await_push(
    pushes: asyncio.Queue[dict[str, Value]],
    key: str,
    capability: Capability,
    target: Value,
    wait: float,
) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while (remaining := deadline - loop.time()) > 0:
        try:
            values = await asyncio.wait_for(pushes.get(), remaining)
        except TimeoutError:
            return False
        if key in values and same_value(capability, values[key], target):
            return True
    return False


async def check_keepalive(context: Context) -> str:
    """Pings are answered; an idle session is not dropped."""
    client = context.require_client()
    options = context.options
    round_trips = [await client.ping() for _ in range(5)]
    channel = await context.open_channel()
    try:
        # A session counts once a frame from the hub decrypted (PROTOCOL.md 1), so
        # authenticate first: the idle period is a session's, not a handshake's.
        await ping(channel, options.timeout, 0, "first ping")
        await asyncio.sleep(options.idle)
        outcome = await request(channel, 1, MessageType.PING, options.timeout)
    finally:
        await channel.close()
    problems = []
    if outcome.reaction is Reaction.CLOSED:
        problems.append(f"the device closed a session idle for {options.idle:g} s")
    else:
        try:
            result_of(outcome, 1, f"ping after {options.idle:g} s idle")
        except CheckFailed as failed:
            problems.append(str(failed))
    if not client.connected:
        problems.append("the hub session dropped during the idle period")
    else:
        round_trips.append(await client.ping())
    fail_if(problems)
    return (
        f"ping round trip median {statistics.median(round_trips) * 1000:.1f} ms "
        f"(max {max(round_trips) * 1000:.1f}); idle {options.idle:g} s survived"
    )


async def check_reconnect(context: Context) -> str:
    """Disconnect, reconnect with the stored key: same appliance, declaration and settings."""
    key = context.require_key()
    previous = context.client
    declaration = context.last_declaration
    if previous is None or declaration is None or previous.hello is None:
        raise CheckFailed("not run: no hub session to compare with (see capability_declaration)")
    appliance_id = previous.hello.appliance_id
    problems: list[str] = []
    if previous.connected:
        await context.settings()
        await previous.disconnect()
    else:
        problems.append("the previous hub session had already been dropped")
    context.client = None
    before = context.last_settings or {}
    started = time.monotonic()
    fresh = context.new_client(key)
    try:
        await fresh.connect()
    except LinkError as err:  # transport errors included
        problems.append(f"reconnecting with the key failed: {describe_error(err)}")
        raise CheckFailed("; ".join(problems)) from None
    elapsed = time.monotonic() - started
    context.client = fresh
    assert fresh.hello is not None
    assert fresh.declaration is not None
    if fresh.hello.appliance_id != appliance_id:
        problems.append(f"now HELLO names {fresh.hello.appliance_id}, before {appliance_id}")
    if fresh.declaration.to_dict() != declaration.to_dict():
        problems.append("the declaration changed across the reconnect")
    if missing := sorted(set(declaration.capabilities) - set(fresh.state)):
        problems.append(f"state after reconnect lacks {', '.join(missing)}")
    after = {key: value for key, value in fresh.state.items() if key in before}
    if changed := settings_differences(declaration, before, after):
        problems.append(f"settings differ after reconnect: {', '.join(changed)}")
    try:
        await fresh.ping()
    except LinkError as err:  # transport errors included
        problems.append(f"ping after reconnect: {describe_error(err)}")
    fail_if(problems)
    return f"reconnected in {elapsed * 1000:.0f} ms; same appliance, declaration and settings"
