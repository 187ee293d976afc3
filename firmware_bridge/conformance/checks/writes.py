"""Writes inside and outside the declared bounds (writes_and_bounds, CONFORMANCE.md 6)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from firmware_bridge.conformance.runner import (
    Context,
    describe_error,
    same_value,
    settings_differences,
)

from .common import UNKNOWN_KEY, fail_if, restore, stop_programme
from .values import invalid_values, valid_values


async def _expect_rejected(
    context: Context, values: Mapping[str, object], code: ErrorCode, what: str
) -> str | None:
    """Write ``values`` expecting ``code`` and no change; a problem text, or None."""
    client = context.require_client()
    before = await context.settings()
    try:
        await client.write(values)  # type: ignore[arg-type]  # deliberately wrong types
    except LinkError as err:
        problem = None if err.code is code else f"{what}: {err.code.name}, expected {code.name}"
    else:
        problem = f"{what}: accepted, expected {code.name}"
    await asyncio.sleep(0)
    changed = settings_differences(context.declaration, before, await context.settings())
    if changed:
        detail = f"{what}: changed {', '.join(changed)}"
        problem = f"{problem}; {detail}" if problem else detail
    return problem


@dataclass
class _Rejections:
    """Writes that must be refused: how many were, and what went wrong with the others."""

    context: Context
    problems: list[str]
    count: int = 0

    async def expect(self, values: Mapping[str, object], code: ErrorCode, what: str) -> None:
        """Write ``values`` expecting ``code`` and no change; count it or note the problem."""
        problem = await _expect_rejected(self.context, values, code, what)
        if problem:
            self.problems.append(problem)
        else:
            self.count += 1


async def check_writes_and_bounds(context: Context) -> str:
    """Declared bounds hold both ways; rejections change nothing; originals come back."""
    client = context.require_client()
    declaration = context.declaration
    await stop_programme(context)
    original = await context.settings()
    problems: list[str] = []
    accepted = 0
    rejections = _Rejections(context, problems)
    writable = [cap for cap in declaration.capabilities.values() if cap.writable]
    for capability in writable:
        key = capability.key
        for value in valid_values(capability):
            try:
                await client.write({key: value})
            except LinkError as err:
                problems.append(f"{key}={value!r} rejected ({describe_error(err)})")
                continue
            seen = await context.wait_for_value(key, value)
            if not same_value(capability, seen, value):
                problems.append(f"{key}={value!r} accepted but reads {seen!r}")
            else:
                accepted += 1
        for bad, code, why in invalid_values(declaration, capability):
            await rejections.expect({key: bad}, code, f"{key}={bad!r} ({why})")
        try:
            await client.write({key: original[key]})
        except LinkError as err:
            problems.append(f"restoring {key}={original[key]!r}: {describe_error(err)}")
    for capability in declaration.capabilities.values():
        if not capability.writable:
            current = (await client.read([capability.key])).get(capability.key)
            await rejections.expect(
                {capability.key: current},
                ErrorCode.READ_ONLY,
                f"{capability.key} (read-only)",
            )
    unknown = [UNKNOWN_KEY] + [
        spec.key
        for spec in declaration.type_spec.attributes
        if spec.key not in declaration.capabilities
    ][:1]
    for key in unknown:
        await rejections.expect({key: 1}, ErrorCode.UNKNOWN_CAPABILITY, f"{key} (undeclared)")
    if writable:
        # All or nothing: a valid value next to an invalid one must not be applied.
        first = writable[0]
        other = next(
            (v for v in valid_values(first) if not same_value(first, v, original[first.key])), None
        )
        if other is not None:
            await rejections.expect(
                {first.key: other, UNKNOWN_KEY: 1},
                ErrorCode.UNKNOWN_CAPABILITY,
                f"{first.key}={other!r} with an unknown key (all or nothing)",
            )
    await restore(context, original, problems)
    fail_if(problems)
    return (
        f"{len(writable)} writable capabilities: {accepted} valid writes read back, "
        f"{rejections.count} bad writes rejected with the right code and no change; "
        "originals restored"
    )
