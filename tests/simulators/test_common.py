"""Contract of every simulator: ids, declarations, valid values, determinism, persistence."""

from __future__ import annotations

from datetime import datetime
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import (
    ApplianceType,
    OperationalState,
    Value,
    ValueKind,
)
from firmware_bridge.simulators import (
    AppliancePhysics,
    DishwasherSimulator,
    RefrigeratorSimulator,
    create_simulator,
)
from firmware_bridge.simulators.base import DECLARATIONS_DIR
from firmware_bridge.simulators.declarations import build_declarations, render

from .conftest import assert_valid

TYPES = list(ApplianceType)


def test_ids_and_pairing_codes_are_unique_and_deterministic() -> None:
    ids, codes = set(), set()
    for appliance_type in TYPES:
        for seed in range(3):
            for index in range(4):
                simulator = create_simulator(appliance_type, seed=seed, index=index)
                again = create_simulator(appliance_type, seed=seed, index=index)
                assert simulator.identity == again.identity
                assert simulator.pairing_code == again.pairing_code
                assert re.fullmatch(
                    r"lz-(fr|ac|wm|dw)-[0-9a-f]{8}", simulator.identity.appliance_id
                )
                assert re.fullmatch(r"\d{8}", simulator.pairing_code)
                assert simulator.identity.type is appliance_type
                assert simulator.identity.model == simulator.declaration.model
                ids.add(simulator.identity.appliance_id)
                codes.add(simulator.pairing_code)
    assert len(ids) == len(TYPES) * 12
    assert len(codes) == len(TYPES) * 12
    assert create_simulator("room_air_conditioner").identity.appliance_id.startswith("lz-ac-")


def test_unknown_type_and_mismatched_declaration_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown appliance type"):
        create_simulator("toaster")
    fridge = create_simulator(ApplianceType.REFRIGERATOR).declaration
    with pytest.raises(ValueError, match="declaration is for refrigerator"):
        create_simulator(ApplianceType.DISHWASHER, declaration=fridge)


@pytest.mark.parametrize("appliance_type", TYPES)
def test_declaration_files_load_and_match_the_generator(appliance_type: ApplianceType) -> None:
    path = DECLARATIONS_DIR / f"{appliance_type.value}.json"
    text = path.read_text(encoding="utf-8")
    declaration = Declaration.from_dict(json.loads(text))
    assert declaration.type is appliance_type
    # The files are generated from the simulation; regenerate them when the physics change.
    assert text == render(build_declarations()[appliance_type]), (
        "run: python -m firmware_bridge.simulators.declarations"
    )


def test_fault_codes_are_checked() -> None:
    simulator = create_simulator(ApplianceType.REFRIGERATOR)
    with pytest.raises(LinkError) as caught:
        simulator.inject_fault("flux_capacitor")
    assert caught.value.code is ErrorCode.OUT_OF_RANGE
    simulator.inject_fault("fan")
    simulator.inject_fault("fan")
    assert simulator.values()["faults"] == ["fan"]
    simulator.clear_fault("fan")
    simulator.clear_fault("fan")
    assert simulator.values()["faults"] == []


def test_writes_are_validated_against_the_declaration() -> None:
    simulator = create_simulator(ApplianceType.ROOM_AIR_CONDITIONER)
    with pytest.raises(LinkError) as caught:
        simulator.write("target_temperature", 31.0)
    assert caught.value.code is ErrorCode.OUT_OF_RANGE
    with pytest.raises(LinkError) as caught:
        simulator.write("temperature", 20.0)
    assert caught.value.code is ErrorCode.READ_ONLY
    with pytest.raises(LinkError) as caught:
        simulator.command("start", {})
    assert caught.value.code is ErrorCode.UNSUPPORTED_COMMAND
    with pytest.raises(ValueError, match="dt"):
        simulator.step(-1.0)
    with pytest.raises(ValueError, match="dt"):
        simulator.step(float("nan"))


def _scenario(simulator: AppliancePhysics) -> None:
    """Put each type to work so a day exercises its physics."""
    kind = simulator.declaration.type
    if kind is ApplianceType.ROOM_AIR_CONDITIONER:
        simulator.write("on", True)
    elif kind in (ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER):
        simulator.command("start", {"delay_s": 3600})


@pytest.mark.parametrize("appliance_type", TYPES)
def test_every_value_validates_at_every_step_of_a_day(appliance_type: ApplianceType) -> None:
    simulator = create_simulator(appliance_type, seed=3)
    _scenario(simulator)
    last_energy = 0.0
    for minute in range(24 * 60):
        simulator.step(60.0)
        values = assert_valid(simulator)
        energy = values["energy"]
        assert isinstance(energy, float)
        assert energy >= last_energy
        last_energy = energy
        if minute == 12 * 60 and appliance_type in (
            ApplianceType.LAUNDRY_WASHER,
            ApplianceType.DISHWASHER,
        ):
            assert values["operational_state"] == "finished"
            simulator.command("start", {})
    assert last_energy > 0


def _trace(appliance_type: ApplianceType, seed: int) -> list[dict[str, Value]]:
    simulator = create_simulator(appliance_type, seed=seed)
    _scenario(simulator)
    trace = []
    for _ in range(200):
        simulator.step(37.0)
        trace.append(simulator.values())
    return trace


@pytest.mark.parametrize("appliance_type", TYPES)
def test_same_seed_same_behaviour(appliance_type: ApplianceType) -> None:
    assert _trace(appliance_type, 5) == _trace(appliance_type, 5)


def test_different_seeds_differ() -> None:
    assert _trace(ApplianceType.REFRIGERATOR, 1) != _trace(ApplianceType.REFRIGERATOR, 2)
    assert _trace(ApplianceType.ROOM_AIR_CONDITIONER, 1) != _trace(
        ApplianceType.ROOM_AIR_CONDITIONER, 2
    )


@pytest.mark.parametrize("appliance_type", TYPES)
def test_export_restore_keeps_energy_and_settings(appliance_type: ApplianceType) -> None:
    simulator = create_simulator(appliance_type, seed=1)
    _scenario(simulator)
    simulator.step(4 * 3600.0)
    saved = json.loads(json.dumps(simulator.export_state()))  # must be JSON-ready
    energy = simulator.values()["energy"]
    assert isinstance(energy, float)
    assert energy > 0

    rebooted = create_simulator(appliance_type, seed=1)
    rebooted.restore_state(saved)
    assert rebooted.values()["energy"] == energy
    writable = [k for k, c in simulator.declaration.capabilities.items() if c.writable]
    for key in writable:
        assert rebooted.values()[key] == simulator.values()[key]

    # An older save never winds the counter back.
    rebooted.step(3600.0)
    newer = rebooted.values()["energy"]
    assert isinstance(newer, float)
    rebooted.restore_state(saved)
    assert rebooted.values()["energy"] == newer


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": 2}, "schema"),
        ({"type": "dishwasher"}, "state is for"),
        ({"energy_kwh": -1}, "energy_kwh"),
        ({"energy_kwh": "lots"}, "energy_kwh"),
        ({"energy_kwh": float("inf")}, "energy_kwh"),
        ({"faults": ["nonsense"]}, "faults"),
        ({"mode": "turbo"}, "mode"),
        ({"fridge_target_temperature": 20}, "fridge_target_temperature"),
        ({"freezer_c": None}, "freezer_c"),
    ],
)
def test_bad_saved_state_is_refused_and_changes_nothing(
    change: dict[str, Any], message: str
) -> None:
    simulator = create_simulator(ApplianceType.REFRIGERATOR)
    simulator.step(3600.0)
    good = simulator.export_state()
    before = simulator.values()
    with pytest.raises(ValueError, match=message):
        simulator.restore_state({**good, **change})
    assert simulator.values() == before
    with pytest.raises(ValueError, match="object"):
        simulator.restore_state([])  # type: ignore[arg-type]


def test_restore_of_a_running_washer_comes_back_stopped_with_its_energy() -> None:
    washer = create_simulator(ApplianceType.LAUNDRY_WASHER)
    washer.write("programme", "quick")
    washer.command("start", {})
    washer.step(600.0)
    saved = washer.export_state()
    rebooted = create_simulator(ApplianceType.LAUNDRY_WASHER)
    rebooted.restore_state(saved)
    values = rebooted.values()
    assert values["operational_state"] == "stopped"
    assert values["programme"] == "quick"
    assert values["energy"] == washer.values()["energy"]
    saved["faults"] = ["drain"]
    rebooted.restore_state(saved)
    assert rebooted.values()["operational_state"] == "error"


def test_start_time_and_season() -> None:
    summer = create_simulator(ApplianceType.ROOM_AIR_CONDITIONER, season="summer")
    winter = create_simulator(ApplianceType.ROOM_AIR_CONDITIONER, season="winter")
    assert summer.now == datetime(2026, 7, 15)
    assert winter.now.month == 1
    outdoor_summer = summer.values()["outdoor_temperature"]
    outdoor_winter = winter.values()["outdoor_temperature"]
    assert isinstance(outdoor_summer, float)
    assert isinstance(outdoor_winter, float)
    assert outdoor_summer > outdoor_winter + 10
    late = create_simulator(ApplianceType.REFRIGERATOR, start=datetime(2026, 8, 1, 18, 30))
    late.step(1800.0)
    assert late.now == datetime(2026, 8, 1, 19, 0)


# --- random sequences never break the invariants ---------------------------------------


def _write_strategy(declaration: Declaration) -> st.SearchStrategy[tuple[str, Value]]:
    options: list[st.SearchStrategy[tuple[str, Value]]] = []
    for key, capability in declaration.capabilities.items():
        if not capability.writable:
            continue
        kind = capability.spec.kind
        value: st.SearchStrategy[Value]
        if kind is ValueKind.BOOL:
            value = st.booleans()
        elif kind is ValueKind.ENUM:
            value = st.sampled_from(capability.options)
        else:
            assert capability.minimum is not None
            assert capability.maximum is not None
            assert capability.step is not None
            count = round((capability.maximum - capability.minimum) / capability.step)
            value = st.integers(0, count).map(
                lambda n, c=capability: c.minimum + n * c.step  # type: ignore[misc]
            )
        options.append(st.tuples(st.just(key), value))
    return st.one_of(options)


def _operations(appliance_type: ApplianceType) -> st.SearchStrategy[list[tuple[str, Any]]]:
    declaration = create_simulator(appliance_type).declaration
    faults = declaration.type_spec.fault_codes
    choices: list[st.SearchStrategy[tuple[str, Any]]] = [
        st.tuples(st.just("write"), _write_strategy(declaration)),
        st.tuples(st.just("step"), st.floats(0.1, 1800.0)),
        st.tuples(st.just("inject"), st.sampled_from(faults)),
        st.tuples(st.just("clear"), st.sampled_from(faults)),
    ]
    if declaration.type_spec.commands:
        choices.append(
            st.tuples(
                st.just("command"),
                st.tuples(
                    st.sampled_from(["start", "pause", "resume", "stop"]),
                    st.one_of(
                        st.just({}),
                        st.fixed_dictionaries({"delay_s": st.integers(0, 30000)}),
                        st.fixed_dictionaries({"finish_in_s": st.integers(0, 40000)}),
                    ),
                ),
            )
        )
    if appliance_type in (ApplianceType.REFRIGERATOR, ApplianceType.DISHWASHER):
        choices.append(st.tuples(st.sampled_from(["open_door", "close_door"]), st.none()))
    return st.lists(st.one_of(choices), min_size=1, max_size=40)


def _apply(simulator: AppliancePhysics, operation: tuple[str, Any]) -> None:
    kind, argument = operation
    try:
        if kind == "write":
            simulator.write(*argument)
        elif kind == "command":
            name, args = argument
            simulator.command(name, args if name == "start" else {})
        elif kind == "step":
            simulator.step(argument)
        elif kind == "inject":
            simulator.inject_fault(argument)
        elif kind == "clear":
            simulator.clear_fault(argument)
        else:
            assert isinstance(simulator, RefrigeratorSimulator | DishwasherSimulator)
            getattr(simulator, kind)()
    except LinkError as error:
        # Refusals are fine, but only with the codes the contract allows.
        if error.code not in (ErrorCode.INVALID_STATE, ErrorCode.OUT_OF_RANGE):
            raise


@pytest.mark.parametrize("appliance_type", TYPES)
def test_random_operations_keep_the_invariants(appliance_type: ApplianceType) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(operations=_operations(appliance_type))
    def check(operations: list[tuple[str, Any]]) -> None:
        simulator = create_simulator(appliance_type, seed=2)
        last_energy = 0.0
        for operation in operations:
            _apply(simulator, operation)
            values = assert_valid(simulator)
            energy = values["energy"]
            assert isinstance(energy, float)
            assert energy >= last_energy
            last_energy = energy
            if "operational_state" in values:
                in_error = values["operational_state"] == OperationalState.ERROR
                assert in_error == bool(values["faults"])
                if values["operational_state"] in ("stopped", "finished"):
                    assert values["phase"] == "idle"
                    assert values.get("delay_remaining", 0) == 0

    check()
