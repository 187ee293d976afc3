"""Fitting a value a person set in their units to the appliance's step and bounds."""

from __future__ import annotations

from homeassistant.const import UnitOfTemperature
from homeassistant.exceptions import ServiceValidationError
import pytest

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.setpoints import (
    fit_number,
    fit_value,
    user_bound,
    user_step,
)

C = UnitOfTemperature.CELSIUS
F = UnitOfTemperature.FAHRENHEIT

AC = Declaration.from_dict(
    {
        "schema": 1,
        "type": "room_air_conditioner",
        "manufacturer": "Liuzhou",
        "model": "LZ-AC35",
        "capabilities": {"target_temperature": {"min": 16, "max": 30, "step": 0.5}},
    }
)
SETPOINT = AC.capabilities["target_temperature"]


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (22.2222, 22),  # 72 °F
        (22.7778, 23),  # 73 °F
        (23.3333, 23.5),  # 74 °F
        (16.1111, 16),  # 61 °F, the lowest offered
        (30.0, 30),
        # Just outside (a bound rounded in the person's units): clamped to the bound.
        (15.6, 16),
        (30.4, 30),
    ],
)
def test_converted_values_snap_to_the_step_and_clamp_just_outside(
    value: float, sent: float
) -> None:
    """Nearest step from the declared minimum; whole numbers go out as integers."""
    fitted = fit_number(SETPOINT, value)
    assert fitted == sent
    assert isinstance(fitted, int) == float(sent).is_integer()
    assert SETPOINT.validate(fitted) == fitted  # the appliance's own check accepts it


@pytest.mark.parametrize("value", [15.4, 30.6, 100.0, float("nan"), float("inf")])
def test_values_farther_outside_are_refused_with_the_bounds(value: float) -> None:
    """More than one step outside: a translated error naming the bounds, nothing sent."""
    with pytest.raises(ServiceValidationError) as error:
        fit_number(SETPOINT, value)
    assert error.value.translation_key == "setpoint_out_of_range"
    placeholders = error.value.translation_placeholders
    assert placeholders is not None
    assert (placeholders["minimum"], placeholders["maximum"], placeholders["unit"]) == (
        "16",
        "30",
        "°C",
    )


def test_values_in_the_appliances_own_unit_are_sent_as_asked() -> None:
    """In °C, 22.3 was asked for as such: left for the write's validation to refuse."""
    assert fit_value(AC, "target_temperature", 22.3, C) == 22.3
    assert fit_value(AC, "target_temperature", 22.3, F) == 22.5
    # Not a number capability, or not a number: untouched.
    assert fit_value(AC, "mode", "cool", F) == "cool"
    assert fit_value(AC, "target_temperature", True, F) is True


@pytest.mark.parametrize(
    ("step", "native", "user", "offered"),
    [(0.5, C, F, 1.0), (1, C, F, 2.0), (0.1, C, F, 1.0), (0.5, C, C, 0.5), (None, C, F, None)],
)
def test_step_in_the_persons_units(
    step: float | None, native: str, user: str, offered: float | None
) -> None:
    """The declared step converted and rounded up to whole units; unchanged in °C."""
    assert user_step(step, native, user) == offered


def test_bounds_are_whole_in_the_persons_units_and_inside_the_declared_ones() -> None:
    """16 °C (60.8 °F) is offered as 61 °F, 30.5 °C (86.9 °F) as 86 °F."""
    low = user_bound(16, C, F, upper=False)
    high = user_bound(30.5, C, F, upper=True)
    assert (round(low * 1.8 + 32, 9), round(high * 1.8 + 32, 9)) == (61, 86)
    assert low >= 16
    assert high <= 30.5
    assert user_bound(16, C, C, upper=False) == 16
