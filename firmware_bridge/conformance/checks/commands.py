"""Operational commands and delayed start (commands, CONFORMANCE.md 7)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import OperationalState
from firmware_bridge.conformance.runner import Context, describe_error

from .common import fail_if, restore, stop_programme

UNKNOWN_COMMAND: Final = "conformance_no_such_command"
# Delayed start asked for in the commands check (capped by the declared maximum).
DELAY_S: Final = 3600


async def _command_rejected(
    context: Context, name: str, args: Mapping[str, int], code: ErrorCode
) -> str | None:
    try:
        await context.require_client().command(name, args)
    except LinkError as err:
        return None if err.code is code else f"{name}: {err.code.name}, expected {code.name}"
    return f"{name}: accepted, expected {code.name}"


async def _command_to(
    context: Context, name: str, args: Mapping[str, int], *states: OperationalState
) -> str | None:
    try:
        await context.require_client().command(name, args)
    except LinkError as err:
        return f"{name} rejected ({describe_error(err)})"
    seen = await context.wait_for_state(*states)
    if seen not in {str(state) for state in states}:
        return f"{name}: operational_state {seen!r}, expected {'/'.join(states)}"
    return None


async def check_commands(context: Context) -> str:
    """start/pause/resume/stop follow Matter Operational State; wrong states are refused."""
    declaration = context.declaration
    problems: list[str] = []
    if not declaration.type_spec.commands:
        problem = await _command_rejected(context, "start", {}, ErrorCode.UNSUPPORTED_COMMAND)
        fail_if([problem] if problem else [])
        return f"a {declaration.type} has no commands; start -> UNSUPPORTED_COMMAND"
    original = await context.settings()
    await stop_programme(context)
    stopped = (OperationalState.STOPPED, OperationalState.FINISHED)
    running, paused = OperationalState.RUNNING, OperationalState.PAUSED
    steps: list[Callable[[], Any]] = [
        lambda: _command_rejected(context, UNKNOWN_COMMAND, {}, ErrorCode.UNSUPPORTED_COMMAND),
        lambda: _command_rejected(context, "pause", {}, ErrorCode.INVALID_STATE),
        lambda: _command_rejected(context, "resume", {}, ErrorCode.INVALID_STATE),
        lambda: _command_to(context, "start", {}, running),
        # Matter: resuming a running machine and pausing a paused one succeed and do nothing.
        lambda: _command_to(context, "resume", {}, running),
        lambda: _command_to(context, "pause", {}, paused),
        lambda: _command_to(context, "pause", {}, paused),
        lambda: _command_to(context, "resume", {}, running),
        lambda: _command_to(context, "stop", {}, *stopped),
        lambda: _command_rejected(context, "pause", {}, ErrorCode.INVALID_STATE),
    ]
    for step in steps:
        if problem := await step():
            problems.append(problem)
    done = [
        "start, pause, resume, stop follow Matter",
        "pause/resume when stopped -> INVALID_STATE",
    ]
    if declaration.max_delay_s > 0:
        delay = min(DELAY_S, declaration.max_delay_s)
        if problem := await _delayed_start(context, delay):
            problems.append(problem)
        else:
            done.append(f"delayed start ({delay} s) and its cancel")
    else:
        problem = await _command_rejected(
            context, "start", {"delay_s": 60}, ErrorCode.UNSUPPORTED_COMMAND
        )
        if problem:
            problems.append(f"delayed start without max_delay_s: {problem}")
    await stop_programme(context)
    await restore(context, original, problems)
    fail_if(problems)
    return "; ".join(done)


async def _delayed_start(context: Context, delay: int) -> str | None:
    client = context.require_client()
    try:
        await client.command("start", {"delay_s": delay})
    except LinkError as err:
        return f"start with delay_s={delay} rejected ({describe_error(err)})"
    remaining = await context.wait_for(
        "delay_remaining",
        lambda value: isinstance(value, int) and not isinstance(value, bool) and value > 0,
    )
    state = (await client.read(["operational_state"])).get("operational_state")
    problems = []
    if not isinstance(remaining, int) or not 0 < remaining <= delay:
        problems.append(f"after start with delay_s={delay}: delay_remaining {remaining!r}")
    if state not in (OperationalState.STOPPED, OperationalState.RUNNING):
        problems.append(f"while a delayed start waits: operational_state {state!r}")
    try:
        await client.command("stop")
    except LinkError as err:
        problems.append(f"stop (cancel the delayed start) rejected ({describe_error(err)})")
    remaining = await context.wait_for("delay_remaining", lambda value: value == 0)
    if remaining != 0:
        problems.append(f"after stop, delay_remaining {remaining!r}")
    state = await context.wait_for_state(OperationalState.STOPPED)
    if state != OperationalState.STOPPED:
        problems.append(f"after cancelling a delayed start: operational_state {state!r}")
    return "; ".join(problems) or None
