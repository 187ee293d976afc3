"""The declared_models check against the simulators and against appliances that get it wrong."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.declared_models import DeclaredModel
from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.bridge import simulated_appliances
from firmware_bridge.conformance import CHECKS, Status, run_checks
from firmware_bridge.conformance.runner import Check, CheckResult
from firmware_bridge.models import WetCyclePredictor
from firmware_bridge.simulators import RefrigeratorSimulator
from firmware_bridge.simulators.wet_cycle import WetApplianceSimulator

from .conftest import explain, options_for

# What the check needs before it: a key and a hub session.
MODELS_RUN: list[Check] = [
    check
    for check in CHECKS
    if check.name in ("commissioning", "capability_declaration", "declared_models")
]


async def _check_an_mcu_washer(*, seed: int) -> list[CheckResult]:
    """The checks up to declared_models against one washer with an MCU-class module."""
    options = {ApplianceType.LAUNDRY_WASHER: {"module": "mcu"}}
    async with simulated_appliances(
        washer=1, seed=seed, zeroconf=False, simulator_options=options
    ) as (washer,):
        return await run_checks(MODELS_RUN, options_for(washer))


@pytest.mark.parametrize(
    ("kind", "module", "declared"),
    [
        ("washer", "linux", "wet_cycle 1 (wet_cycle.tflite, linux module): "),
        ("dishwasher", "linux", "wet_cycle 1 (wet_cycle.tflite, linux module): "),
        ("washer", "mcu", "wet_cycle 1-int8 (wet_cycle_int8.tflite, mcu module): "),
    ],
)
async def test_the_simulated_wet_cycle_passes_and_is_left_as_found(
    kind: str, module: str, declared: str
) -> None:
    count: dict[str, Any] = {kind: 1}  # washer=1 or dishwasher=1
    options = {ApplianceType.LAUNDRY_WASHER: {"module": module}}
    async with simulated_appliances(
        **count, seed=401, zeroconf=False, simulator_options=options
    ) as (machine,):
        results = await run_checks(MODELS_RUN, options_for(machine))
        assert machine.simulator.values()["operational_state"] == "stopped"
    assert [r.status for r in results] == [Status.PASSED] * 3, explain(results)
    assert results[-1].detail.startswith(declared), explain(results)
    assert "runs with remaining_time" in results[-1].detail


async def test_a_declared_version_no_shipped_file_has_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A firmware declaring a version it does not run: no file of that version to check with.
    def declares_int4(self: WetCyclePredictor, declaration: Declaration) -> Declaration:
        return dataclasses.replace(declaration, models=(DeclaredModel("wet_cycle", "1-int4"),))

    monkeypatch.setattr(WetCyclePredictor, "declared_as_run", declares_int4)
    results = await _check_an_mcu_washer(seed=407)
    assert results[-1].status is Status.FAILED, explain(results)
    assert results[-1].detail == (
        "wet_cycle version '1-int4' matches no shipped wet_cycle file (shipped versions: "
        "1, 1-int8); declare the version in the spec of the file it runs"
    )


async def test_no_models_declared_passes_saying_so() -> None:
    async with simulated_appliances(ac=1, seed=402, zeroconf=False) as (ac,):
        results = await run_checks(MODELS_RUN, options_for(ac))
    assert results[-1].status is Status.PASSED, explain(results)
    assert results[-1].detail == "the declaration lists no models"


async def test_a_model_for_another_type_fails_and_an_unknown_id_is_listed() -> None:
    async with simulated_appliances(fridge=1, seed=403, zeroconf=False) as (fridge,):
        declared = (DeclaredModel("room_thermal", "3"), DeclaredModel("wet_cycle", "1"))
        declaration = dataclasses.replace(fridge.simulator.declaration, models=declared)
        await fridge.restart(declaration=declaration)
        results = await run_checks(MODELS_RUN, options_for(fridge))
        declaration = dataclasses.replace(declaration, models=declared[:1])
        await fridge.restart(declaration=declaration)
        await fridge.press_pairing_button()  # the first run left it paired
        unknown_only = await run_checks(MODELS_RUN, options_for(fridge))
    assert results[-1].status is Status.FAILED, explain(results)
    assert "wet_cycle is for dishwasher, laundry_washer, not a refrigerator" in results[-1].detail
    assert unknown_only[-1].status is Status.PASSED, explain(unknown_only)
    assert unknown_only[-1].detail == "room_thermal 3: not known to this kit, not checked"


async def test_a_washer_that_reports_no_remaining_time_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(WetApplianceSimulator, "_predicted_remaining_s", lambda self: 0.0)
    async with simulated_appliances(washer=1, seed=404, zeroconf=False) as (washer,):
        results = await run_checks(MODELS_RUN, options_for(washer))
        assert washer.simulator.values()["operational_state"] == "stopped"
    assert results[-1].status is Status.FAILED, explain(results)
    assert "remaining_time 0 while a programme runs" in results[-1].detail


async def test_the_simulated_fridge_detector_passes() -> None:
    async with simulated_appliances(fridge=1, seed=405, zeroconf=False) as (fridge,):
        results = await run_checks(MODELS_RUN, options_for(fridge))
    assert [r.status for r in results] == [Status.PASSED] * 3, explain(results)
    assert results[-1].detail == "fridge_fault: suspected faults reported now: none"


async def test_a_suspected_fault_without_the_detector_declared_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        RefrigeratorSimulator, "faults", property(lambda self: ("suspected_condenser",))
    )
    async with simulated_appliances(
        fridge=1,
        seed=406,
        zeroconf=False,
        simulator_options={ApplianceType.REFRIGERATOR: {"fault_detector": False}},
    ) as (fridge,):
        results = await run_checks(MODELS_RUN, options_for(fridge))
    assert results[-1].status is Status.FAILED, explain(results)
    assert "reports suspected_condenser but does not declare fridge_fault" in results[-1].detail


async def test_a_plausible_time_that_is_not_the_model_s_answer_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Within ¼-3 times the programme, but neither the model's answer nor the profile's.
    def four_fifths(self: WetApplianceSimulator) -> float:
        return 0.8 * self.declaration.programme(self.programme).duration_s

    monkeypatch.setattr(WetApplianceSimulator, "_predicted_remaining_s", four_fifths)
    results = await _check_an_mcu_washer(seed=408)
    assert results[-1].status is Status.FAILED, explain(results)
    assert "is not wet_cycle 1-int8's answer for it (answers " in results[-1].detail
    assert "nor the declared profile's" in results[-1].detail


async def test_the_declared_profile_passes_where_the_model_cannot_answer() -> None:
    # 40 °C inlet water is outside what the model takes: the firmware counts down the
    # declared profile, as PROTOCOL.md 7.6 allows.
    options = {ApplianceType.LAUNDRY_WASHER: {"module": "mcu", "inlet_water_c": 40.0}}
    async with simulated_appliances(
        washer=1, seed=409, zeroconf=False, simulator_options=options
    ) as (washer,):
        results = await run_checks(MODELS_RUN, options_for(washer))
        simulator = washer.simulator
        assert isinstance(simulator, WetApplianceSimulator)
        assert "inlet_water_temperature" in str(simulator.predictor.error)
    assert results[-1].status is Status.PASSED, explain(results)
