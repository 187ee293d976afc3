"""The neural models the declaration lists behave as declared (declared_models, CONFORMANCE.md 13).

Each entry must be well formed (the hub's parser, ``link/declared_models.py``);
an id this kit knows must fit the appliance's type, and the appliance must
behave as that model says (PROTOCOL.md 7.6). Ids the kit does not know are
listed, not checked: a hub ignores them too.
"""

from __future__ import annotations

import asyncio
from typing import Final

from custom_components.liuzhou_appliances.link.codec import MessageType
from custom_components.liuzhou_appliances.link.declared_models import parse_models
from custom_components.liuzhou_appliances.link.errors import LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType, OperationalState
from firmware_bridge.conformance.runner import CheckFailed, Context, describe_error

from .common import fail_if, request, restore, result_of, stop_programme

# The model ids this kit knows and the appliance types they fit.
KNOWN: Final = {
    "wet_cycle": frozenset({ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER}),
}
# A remaining time under a quarter or over three times the declared programme is not
# an estimate of that programme (the declared profile is for default options).
PLAUSIBLE: Final = (0.25, 3.0)
# While it runs, an estimate may be revised, but the countdown must not climb by more.
MAX_RISE_S: Final = 60
MAX_WAIT_S: Final = 10.0  # between the two readings (the idle period, within the check's bound)


async def check_declared_models(context: Context) -> str:
    """The describe's ``models`` parse; known ids fit the type and behave as declared."""
    declaration = context.declaration  # also: the hub session is up
    channel = await context.open_channel()
    try:
        described = result_of(
            await request(channel, 1, MessageType.DESCRIBE, context.options.timeout), 1, "describe"
        )
    finally:
        await channel.close()
    raw = described.get("declaration", {}).get("models", [])
    try:
        declared = parse_models(raw)
    except ValueError as err:
        raise CheckFailed(f"models: {err}") from None
    if not declared:
        return "the declaration lists no models"
    problems: list[str] = []
    done: list[str] = []
    for model in declared:
        types = KNOWN.get(model.id)
        if types is None:
            done.append(f"{model.id} {model.version}: not known to this kit, not checked")
        elif declaration.type not in types:
            problems.append(
                f"{model.id} is for {', '.join(sorted(types))}, not a {declaration.type}"
            )
    if any(model.id == "wet_cycle" for model in declared) and not problems:
        try:
            done.append(await _wet_cycle(context))
        except LinkError as err:
            problems.append(f"wet_cycle: {describe_error(err)}")
        except CheckFailed as err:
            problems.append(f"wet_cycle: {err}")
    fail_if(problems)
    return "; ".join(done)


async def _wet_cycle(context: Context) -> str:
    """A run reports a positive, plausible remaining_time that counts down."""
    client = context.require_client()
    declaration = context.declaration
    original = await context.settings()
    await stop_programme(context)
    programme = declaration.programme(str((await client.read(["programme"]))["programme"]))
    problems: list[str] = []
    await client.command("start")
    try:
        state = await context.wait_for_state(OperationalState.RUNNING)
        if state != OperationalState.RUNNING:
            raise CheckFailed(f"start: operational_state {state!r}, expected running")
        first = await _remaining(context)
        low, high = (programme.duration_s * share for share in PLAUSIBLE)
        if not low <= first <= high:
            problems.append(
                f"remaining_time {first} s at the start of {programme.id}, declared "
                f"{programme.duration_s} s (plausible: {low:.0f}-{high:.0f} s)"
            )
        await asyncio.sleep(min(context.options.idle, MAX_WAIT_S))
        second = await _remaining(context)
        if second > first + MAX_RISE_S:
            problems.append(f"remaining_time rose from {first} s to {second} s while running")
    finally:
        await stop_programme(context)
        await restore(context, original, problems)
    fail_if(problems)
    return (
        f"wet_cycle: {programme.id} runs with remaining_time {first} s then {second} s "
        f"(declared {programme.duration_s} s)"
    )


async def _remaining(context: Context) -> int:
    value = await context.wait_for(
        "remaining_time", lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0
    )
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise CheckFailed(f"remaining_time {value!r} while a programme runs")
    return value
