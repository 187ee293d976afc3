"""Values a declaration promises to accept, and values it must reject, per capability."""

from __future__ import annotations

from custom_components.liuzhou_appliances.link.declaration import Capability, Declaration
from custom_components.liuzhou_appliances.link.errors import ErrorCode
from custom_components.liuzhou_appliances.link.model import Value, ValueKind


def _rounded(value: float) -> float | int:
    number = round(value, 6)
    return int(number) if number == int(number) else number


def valid_values(capability: Capability) -> list[Value]:
    """Values the declaration promises to accept: bounds, a step value, every option."""
    kind = capability.spec.kind
    if kind is ValueKind.BOOL:
        return [True, False]
    if kind is ValueKind.ENUM:
        return list(capability.options)
    if kind not in (ValueKind.NUMBER, ValueKind.DURATION):
        return []
    low, high, step = capability.minimum, capability.maximum, capability.step
    values: list[Value] = []
    if low is not None:
        values.append(_rounded(low))
    if high is not None:
        values.append(_rounded(high))
    if low is not None and high is not None:
        if step:
            middle = low + step * int((high - low) / step / 2)
        else:
            middle = (low + high) / 2
            if kind is ValueKind.DURATION or capability.spec.decimals == 0:
                middle = round(middle)
            else:
                middle = round(middle, capability.spec.decimals)
        if _rounded(middle) not in values:
            values.append(_rounded(middle))
    return values


def invalid_values(
    declaration: Declaration, capability: Capability
) -> list[tuple[object, ErrorCode, str]]:
    """Values that must be rejected, with the code and why."""
    kind = capability.spec.kind
    out: list[tuple[object, ErrorCode, str]] = []
    if kind is ValueKind.BOOL:
        out += [(1, ErrorCode.INVALID_TYPE, "a number"), ("true", ErrorCode.INVALID_TYPE, "text")]
    elif kind is ValueKind.ENUM:
        out.append(("conformance-no-such-option", ErrorCode.OUT_OF_RANGE, "an unknown option"))
        spare = [o for o in capability.spec.options if o not in capability.options]
        out += [(o, ErrorCode.OUT_OF_RANGE, "an undeclared option") for o in spare[:1]]
        out.append((1, ErrorCode.INVALID_TYPE, "a number"))
    elif kind in (ValueKind.NUMBER, ValueKind.DURATION):
        low, high, step = capability.minimum, capability.maximum, capability.step
        delta = step or 1
        if high is not None:
            out.append((_rounded(high + delta), ErrorCode.OUT_OF_RANGE, "above max"))
        if low is not None:
            out.append((_rounded(low - delta), ErrorCode.OUT_OF_RANGE, "below min"))
        if step and low is not None:
            out.append((_rounded(low + step / 2), ErrorCode.OUT_OF_RANGE, "off the step"))
        sample = low if low is not None else 0
        out += [
            (str(sample), ErrorCode.INVALID_TYPE, "text"),
            (True, ErrorCode.INVALID_TYPE, "a boolean"),
        ]
    return out
