"""The appliance data model: vocabulary, declarations and value validation."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.liuzhou_appliances.link.declaration import Declaration, DeclarationError
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import (
    APPLIANCE_TYPES,
    ATTRIBUTES_BY_ID,
    ApplianceType,
    ValueKind,
)

AC: dict[str, Any] = {
    "schema": 1,
    "type": "room_air_conditioner",
    "manufacturer": "Liuzhou Test",
    "model": "AC-1",
    "capabilities": {
        "target_temperature": {"min": 17, "max": 30, "step": 0.5},
        "humidity": {},
        "fan_speed": {"options": ["auto", "low", "high"]},
    },
}

WASHER: dict[str, Any] = {
    "schema": 1,
    "type": "laundry_washer",
    "manufacturer": "Liuzhou Test",
    "model": "W-8",
    "max_delay_s": 86400,
    "capabilities": {"spin_speed": {"options": ["800", "1200"]}},
    "programmes": [
        {"id": "quick", "duration_s": 1800, "energy_kwh": 0.25, "profile": [[1800, 500]]},
        {
            "id": "cotton",
            "duration_s": 7200,
            "energy_kwh": 1.3,
            "profile": [[1800, 2000], [5400, 200]],
        },
    ],
}


def test_attribute_ids_unique_and_keys_unique_per_type() -> None:
    """The MCU link relies on ids being unique across every type."""
    ids = [a.attribute_id for spec in APPLIANCE_TYPES.values() for a in spec.attributes]
    common = {1, 2, 3}
    assert len([i for i in ids if i not in common]) == len({i for i in ids if i not in common})
    assert set(ids) == set(ATTRIBUTES_BY_ID)
    for spec in APPLIANCE_TYPES.values():
        keys = [a.key for a in spec.attributes]
        assert len(keys) == len(set(keys)), spec.type
        for attr in spec.attributes:
            assert attr.matter, attr.key
            if attr.kind is ValueKind.ENUM:
                assert attr.options, attr.key


def test_every_type_reports_power_energy_faults() -> None:
    for spec in APPLIANCE_TYPES.values():
        for key in ("power", "energy", "faults"):
            assert spec.attribute(key).required


def test_required_capabilities_are_implicit_and_optional_ones_declared() -> None:
    declaration = Declaration.from_dict(AC)
    assert "humidity" in declaration.capabilities
    assert "outdoor_temperature" not in declaration.capabilities
    assert "swing" not in declaration.capabilities
    assert declaration.capability("fan_speed").options == ("auto", "low", "high")
    target = declaration.capability("target_temperature")
    assert (target.minimum, target.maximum, target.step) == (17, 30, 0.5)


def test_running_state_is_an_optional_report_a_model_may_narrow() -> None:
    """The AC's running state (Matter's ThermostatRunningState) is optional and read-only."""
    spec = APPLIANCE_TYPES[ApplianceType.ROOM_AIR_CONDITIONER].attribute("running_state")
    assert (spec.kind, spec.required, spec.writable) == (ValueKind.ENUM, False, False)
    assert spec.matter == "Thermostat.ThermostatRunningState"
    assert spec.options == ("idle", "cooling", "heating", "drying", "fan")
    assert "running_state" not in Declaration.from_dict(AC).capabilities
    cooling_only = copy.deepcopy(AC)
    cooling_only["capabilities"]["running_state"] = {"options": ["idle", "cooling", "fan"]}
    declaration = Declaration.from_dict(cooling_only)
    capability = declaration.capability("running_state")
    assert capability.options == ("idle", "cooling", "fan")
    assert capability.validate("cooling") == "cooling"
    with pytest.raises(LinkError) as err:
        capability.validate("heating")
    assert err.value.code is ErrorCode.OUT_OF_RANGE
    with pytest.raises(LinkError) as err:
        declaration.validate_write("running_state", "idle")
    assert err.value.code is ErrorCode.READ_ONLY


def test_round_trip_through_json() -> None:
    for raw in (AC, WASHER):
        declaration = Declaration.from_dict(raw)
        again = Declaration.from_dict(json.loads(json.dumps(declaration.to_dict())))
        assert again == declaration


def test_programmes_narrow_the_programme_options() -> None:
    declaration = Declaration.from_dict(WASHER)
    assert declaration.capability("programme").options == ("quick", "cotton")
    assert declaration.programme("cotton").energy_kwh == 1.3
    assert "delay_remaining" in declaration.capabilities
    with pytest.raises(LinkError) as err:
        declaration.programme("wool")
    assert err.value.code is ErrorCode.OUT_OF_RANGE


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("target_temperature", 16.5, ErrorCode.OUT_OF_RANGE),
        ("target_temperature", 30.5, ErrorCode.OUT_OF_RANGE),
        ("target_temperature", 22.3, ErrorCode.OUT_OF_RANGE),
        ("target_temperature", "22", ErrorCode.INVALID_TYPE),
        ("target_temperature", True, ErrorCode.INVALID_TYPE),
        ("target_temperature", float("nan"), ErrorCode.OUT_OF_RANGE),
        ("fan_speed", "medium", ErrorCode.OUT_OF_RANGE),
        ("fan_speed", 1, ErrorCode.INVALID_TYPE),
        ("on", 1, ErrorCode.INVALID_TYPE),
        ("temperature", 20, ErrorCode.READ_ONLY),
        ("swing", "off", ErrorCode.UNKNOWN_CAPABILITY),
        ("no_such_key", 1, ErrorCode.UNKNOWN_CAPABILITY),
    ],
)
def test_invalid_writes_are_rejected_with_their_code(key: str, value: Any, code: ErrorCode) -> None:
    declaration = Declaration.from_dict(AC)
    with pytest.raises(LinkError) as err:
        declaration.validate_write(key, value)
    assert err.value.code is code


def test_valid_writes_pass() -> None:
    declaration = Declaration.from_dict(AC)
    assert declaration.validate_write("target_temperature", 26) == 26
    assert declaration.validate_write("target_temperature", 25.5) == 25.5
    assert declaration.validate_write("mode", "cool") == "cool"
    assert declaration.validate_write("on", False) is False


def test_commands() -> None:
    washer = Declaration.from_dict(WASHER)
    assert washer.validate_command("start", {}) == {}
    assert washer.validate_command("start", {"delay_s": 3600}) == {"delay_s": 3600}
    bad: list[tuple[str, dict[str, Any], ErrorCode]] = [
        ("start", {"delay_s": -1}, ErrorCode.OUT_OF_RANGE),
        ("start", {"delay_s": 10**9}, ErrorCode.OUT_OF_RANGE),
        ("start", {"delay_s": "1"}, ErrorCode.INVALID_TYPE),
        ("start", {"delay_s": 1, "finish_in_s": 9000}, ErrorCode.MALFORMED),
        ("start", {"when": 1}, ErrorCode.MALFORMED),
        ("pause", {"delay_s": 1}, ErrorCode.MALFORMED),
        ("explode", {}, ErrorCode.UNSUPPORTED_COMMAND),
    ]
    for name, args, code in bad:
        with pytest.raises(LinkError) as err:
            washer.validate_command(name, args)
        assert err.value.code is code, (name, args)
    no_delay = copy.deepcopy(WASHER)
    del no_delay["max_delay_s"]
    with pytest.raises(LinkError) as err:
        Declaration.from_dict(no_delay).validate_command("start", {"delay_s": 60})
    assert err.value.code is ErrorCode.UNSUPPORTED_COMMAND
    ac = Declaration.from_dict(AC)
    with pytest.raises(LinkError):
        ac.validate_command("start", {})


def _broken(base: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(base)
    target = data
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("base", "path", "value", "message"),
    [
        (AC, ["schema"], 2, "schema must be 1"),
        (AC, ["type"], "toaster", "type must be one of"),
        (AC, ["model"], "", "model must be a string"),
        (AC, ["capabilities", "warp_drive"], {}, "has no capabilities warp_drive"),
        (AC, ["capabilities", "target_temperature", "min"], 5, "below the data model"),
        (AC, ["capabilities", "target_temperature", "max"], 40, "above the data model"),
        (AC, ["capabilities", "target_temperature", "step"], 0, "step must be positive"),
        (AC, ["capabilities", "target_temperature", "min"], "x", "finite number"),
        (AC, ["capabilities", "fan_speed", "options"], ["turbo"], "not in the data model"),
        (AC, ["capabilities", "fan_speed", "options"], [], "non-empty list"),
        (AC, ["capabilities", "humidity", "options"], ["a"], "takes no options"),
        (AC, ["capabilities", "fan_speed", "min"], 1, "takes no min/max/step"),
        (AC, ["capabilities", "humidity", "colour"], 1, "unknown keys"),
        (AC, ["programmes"], [], "has no programmes"),
        (AC, ["max_delay_s"], 60, "has no delayed start"),
        (AC, ["favourite_colour"], "red", "unknown declaration keys"),
        (WASHER, ["programmes"], _DELETE, "at least one programme"),
        (WASHER, ["programmes", 0, "id"], "rocket", "id must be one of"),
        (WASHER, ["programmes", 0, "duration_s"], 100, "not duration_s"),
        (WASHER, ["programmes", 0, "energy_kwh"], 5.0, "not energy_kwh"),
        (WASHER, ["programmes", 0, "profile"], [[1800]], "must be [seconds, watts]"),
        (WASHER, ["programmes", 1, "id"], "quick", "repeat"),
        (WASHER, ["max_delay_s"], -5, "max_delay_s must be"),
    ],
)
def test_bad_declarations_say_what_is_wrong(
    base: dict[str, Any], path: list[Any], value: Any, message: str
) -> None:
    with pytest.raises(DeclarationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Declaration.from_dict(_broken(base, path, value))


def test_non_object_declaration() -> None:
    data: object
    for data in (None, [], "x", 3):
        with pytest.raises(DeclarationError):
            Declaration.from_dict(data)


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("target_temperature", "hot", ErrorCode.INVALID_TYPE),
        ("target_temperature", 31, ErrorCode.OUT_OF_RANGE),
        ("fan_speed", "medium", ErrorCode.OUT_OF_RANGE),  # in the data model, not declared
        ("swing", "off", ErrorCode.UNKNOWN_CAPABILITY),  # not declared by this model
        ("humidity", 10**400, ErrorCode.OUT_OF_RANGE),  # too large for a float
        ("energy", 1e300, ErrorCode.OUT_OF_RANGE),  # no max declared, beyond the MCU's int32
        ("energy", 2_147_484.0, ErrorCode.OUT_OF_RANGE),  # 3 decimals: just past the int32
        ("energy", float("nan"), ErrorCode.OUT_OF_RANGE),
    ],
)
def test_reported_values_outside_the_declaration_or_the_wire_are_refused(
    key: str, value: Any, code: ErrorCode
) -> None:
    with pytest.raises(LinkError) as err:
        Declaration.from_dict(AC).validate_reported(key, value)
    assert err.value.code is code


def test_reported_values_inside_pass() -> None:
    declaration = Declaration.from_dict(AC)
    assert declaration.validate_reported("energy", 2_147_483.0) == 2_147_483.0
    assert declaration.validate_reported("target_temperature", 22.5) == 22.5
    washer = Declaration.from_dict(WASHER)
    assert washer.validate_reported("remaining_time", 2**32 - 1) == 2**32 - 1
    with pytest.raises(LinkError):
        washer.validate_reported("remaining_time", 2**32)


@given(st.text(max_size=30), st.none() | st.booleans() | st.integers() | st.floats() | st.text())
def test_any_reported_value_passes_or_raises_link_error(key: str, value: Any) -> None:
    """Whatever an appliance reports, checking it raises nothing but LinkError."""
    declaration = Declaration.from_dict(AC)
    for candidate in (key, "target_temperature", "energy", "humidity", "faults", "fan_speed"):
        with contextlib.suppress(LinkError):
            declaration.validate_reported(candidate, value)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_arbitrary_json_never_crashes_the_parser(data: Any) -> None:
    """Any JSON a maker could write either parses or raises DeclarationError."""
    with contextlib.suppress(DeclarationError):
        Declaration.from_dict(data)


@given(
    st.dictionaries(
        st.sampled_from([*sorted(AC["capabilities"]), "outdoor_temperature", "swing", "eco"]),
        st.dictionaries(
            st.sampled_from(["min", "max", "step", "options"]),
            st.one_of(
                st.integers(-50, 50),
                st.floats(allow_nan=True),
                st.lists(st.text(max_size=8), max_size=4),
            ),
        ),
    )
)
def test_arbitrary_capabilities_parse_or_fail_cleanly(capabilities: dict[str, Any]) -> None:
    data = {**AC, "capabilities": capabilities}
    try:
        declaration = Declaration.from_dict(data)
    except DeclarationError:
        return
    for cap in declaration.capabilities.values():
        if cap.minimum is not None and cap.maximum is not None:
            assert cap.minimum <= cap.maximum


def test_reference_declarations_load() -> None:
    """Every declaration shipped with firmware_bridge fits the data model."""
    folder = Path(__file__).parents[2] / "firmware_bridge" / "declarations"
    files = sorted(folder.glob("*.json"))
    assert {Declaration.from_dict(json.loads(f.read_text())).type for f in files} == set(
        ApplianceType
    )
