"""The kit's expectations agree with the data model for every reference declaration."""

from __future__ import annotations

import pytest

from custom_components.liuzhou_appliances.link.declaration import Capability
from custom_components.liuzhou_appliances.link.errors import LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.pairing import normalise_pairing_code
from firmware_bridge.conformance.checks.commissioning import wrong_code_for
from firmware_bridge.conformance.checks.values import invalid_values, valid_values
from firmware_bridge.conformance.runner import same_value
from firmware_bridge.simulators.base import load_declaration


@pytest.mark.parametrize("appliance_type", list(ApplianceType))
def test_valid_and_invalid_values_match_the_model(appliance_type: ApplianceType) -> None:
    declaration = load_declaration(appliance_type)
    writable = [cap for cap in declaration.capabilities.values() if cap.writable]
    assert writable
    value: object
    for capability in writable:
        values = valid_values(capability)
        assert values, capability.key
        for value in values:
            declaration.validate_write(capability.key, value)
        for value, code, why in invalid_values(declaration, capability):
            with pytest.raises(LinkError) as raised:
                declaration.validate_write(capability.key, value)
            assert raised.value.code is code, (capability.key, value, why)


def _target(appliance_type: ApplianceType, key: str) -> Capability:
    return load_declaration(appliance_type).capability(key)


def test_number_values_cover_bounds_and_a_step() -> None:
    target = _target(ApplianceType.ROOM_AIR_CONDITIONER, "target_temperature")
    assert target.minimum is not None
    assert target.maximum is not None
    assert target.step
    values = valid_values(target)
    assert values[:2] == [target.minimum, target.maximum]
    middle = values[2]
    assert isinstance(middle, int | float)
    assert target.minimum < middle < target.maximum
    invalid = {
        why: value
        for value, _, why in invalid_values(
            load_declaration(ApplianceType.ROOM_AIR_CONDITIONER), target
        )
    }
    assert invalid["above max"] == target.maximum + target.step
    assert invalid["below min"] == target.minimum - target.step
    assert invalid["off the step"] == target.minimum + target.step / 2


def test_enum_values_are_every_option() -> None:
    programme = _target(ApplianceType.LAUNDRY_WASHER, "programme")
    assert valid_values(programme) == list(programme.options)


def test_same_value_uses_the_wire_resolution() -> None:
    target = _target(ApplianceType.ROOM_AIR_CONDITIONER, "target_temperature")  # 1 decimal
    assert same_value(target, 23.0, 23)
    assert same_value(target, 23.04, 23.0)
    assert not same_value(target, 23.1, 23.0)
    assert not same_value(target, True, 1)
    assert not same_value(target, "23", 23)
    mode = _target(ApplianceType.ROOM_AIR_CONDITIONER, "mode")
    assert same_value(mode, "cool", "cool")
    assert not same_value(mode, "heat", "cool")


@pytest.mark.parametrize("code", ["1234-5678", "00000000", "9999 9999", "12345679"])
def test_wrong_code_is_one_digit_off(code: str) -> None:
    wrong = wrong_code_for(code)
    right = normalise_pairing_code(code)
    assert normalise_pairing_code(wrong) == wrong
    assert wrong != right
    assert sum(a != b for a, b in zip(wrong, right, strict=True)) == 1
