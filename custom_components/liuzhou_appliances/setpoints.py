"""Values a person sets, made fit for the appliance, and bounds that work in their units.

Home Assistant converts what a person sets in their units into the entity's
native unit (the appliance's, °C) before the entity sees it: 72 °F arrives as
22.22 °C, which an air conditioner with a 0.5 °C step refuses. So every
number a person sets through an entity goes through ``fit_value`` first, and
one converted from their units is fitted:

- it is snapped to the nearest value on the declared step (counted from the
  declared minimum, as the appliance checks it);
- a value outside the declared bounds by less than one step (a bound rounded
  in the person's units) is clamped to the bound;
- a value farther outside is refused with a translated error naming the
  bounds (``setpoint_out_of_range``), never sent. Home Assistant's own checks
  usually refuse it first: the climate entity against ``min_temp``/``max_temp``,
  the number entity against ``min``/``max`` (it then clamps to the native
  bounds itself).

A value in the appliance's own unit is sent as asked: one off the step is
refused with the reason (see ``fit_value``).

What the entities advertise works in the person's units too: a step converted
and rounded up to whole units (``user_step``: 0.5 °C is 1 °F, 1 °C is 2 °F, so
each press of an arrow moves the setpoint by one appliance step and never
asks for a refused value), and climate bounds that are whole in the person's
units and inside the declared ones (``user_bound``: 16-30 °C is 61-86 °F).
"""

from __future__ import annotations

import math

from homeassistant.const import UnitOfTemperature
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util.unit_conversion import TemperatureConverter

from .const import DOMAIN
from .link.declaration import Capability, Declaration
from .link.model import Value, ValueKind

# Float noise allowed when comparing converted values.
_EPSILON = 1e-9
_TEMPERATURE_UNITS = frozenset(UnitOfTemperature)


def _units(native_unit: str | None, user_unit: str | None) -> tuple[str, str] | None:
    """The two units if a temperature is converted between them, else None."""
    if (
        native_unit is None
        or user_unit is None
        or native_unit == user_unit
        or native_unit not in _TEMPERATURE_UNITS
        or user_unit not in _TEMPERATURE_UNITS
    ):
        return None
    return native_unit, user_unit


def user_step(step: float | None, native_unit: str | None, user_unit: str | None) -> float | None:
    """The step to advertise in the person's units: the declared one, or whole units above it."""
    units = _units(native_unit, user_unit)
    if step is None or units is None:
        return step
    converted = TemperatureConverter.convert_interval(step, *units)
    return float(max(1, math.ceil(converted - _EPSILON)))


def user_bound(
    bound: float, native_unit: str | None, user_unit: str | None, *, upper: bool
) -> float:
    """A bound in the native unit that is a whole number in the person's units.

    The lower bound is rounded up and the upper bound down in the person's
    units, so the bound shown (Home Assistant rounds it for display) is one
    the appliance accepts after conversion.
    """
    units = _units(native_unit, user_unit)
    if units is None:
        return bound
    native, user = units
    shown = TemperatureConverter.convert(bound, native, user)
    whole = math.floor(shown + _EPSILON) if upper else math.ceil(shown - _EPSILON)
    return TemperatureConverter.convert(float(whole), user, native)


def _normalised(number: float) -> int | float:
    """Rounded to drop float noise; whole numbers as integers, as the appliance reports them."""
    number = round(number, 9)
    return int(number) if number.is_integer() else number


def fit_number(capability: Capability, value: float) -> int | float:
    """``value`` snapped to the capability's step and clamped to its bounds (see module doc)."""
    minimum, maximum, step = capability.minimum, capability.maximum, capability.step
    tolerance = step or _EPSILON
    if (
        not math.isfinite(value)
        or (minimum is not None and value < minimum - tolerance)
        or (maximum is not None and value > maximum + tolerance)
    ):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="setpoint_out_of_range",
            translation_placeholders={
                "key": capability.key,
                "value": f"{value:g}",
                "minimum": "-∞" if minimum is None else f"{minimum:g}",
                "maximum": "∞" if maximum is None else f"{maximum:g}",
                "unit": capability.spec.unit or "",
            },
        )
    fitted = value
    if step:
        base = minimum or 0.0
        fitted = base + round((value - base) / step) * step
        if maximum is not None and fitted > maximum + _EPSILON:
            fitted = base + math.floor((maximum - base) / step + _EPSILON) * step
    if minimum is not None:
        fitted = max(fitted, minimum)
    if maximum is not None:
        fitted = min(fitted, maximum)
    return _normalised(fitted)


def fit_value(declaration: Declaration, key: str, value: Value, user_unit: str) -> Value:
    """A value a person set in ``user_unit`` (their temperature unit), fitted for sending.

    Only a number Home Assistant converted from the person's unit is fitted:
    they could not have asked for an exact step of the appliance's unit. A
    value in the appliance's own unit was asked for as it is, so one off the
    step is refused by the write's validation with the reason, not changed
    behind the person's back. Unknown keys, other kinds and wrong types are
    also left to that validation.
    """
    capability = declaration.capabilities.get(key)
    if (
        capability is None
        or capability.spec.kind is not ValueKind.NUMBER
        or isinstance(value, bool)
        or not isinstance(value, int | float)
        or _units(capability.spec.unit, user_unit) is None
    ):
        return value
    return fit_number(capability, value)
