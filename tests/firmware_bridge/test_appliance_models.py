"""Models on the appliance: the washer's and dishwasher's own remaining time (wet_cycle)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pytest

from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural import load_model
from custom_components.liuzhou_appliances.neural.wet_cycle import declared_remaining
from firmware_bridge import models
from firmware_bridge.models import RemainingSource, WetCyclePredictor, model_path
from firmware_bridge.simulators import create_simulator
from firmware_bridge.simulators.base import load_declaration
from firmware_bridge.simulators.wet_cycle import WetApplianceSimulator


def _machine(kind: ApplianceType, **options: Any) -> WetApplianceSimulator:
    simulator = create_simulator(kind, **options)
    assert isinstance(simulator, WetApplianceSimulator)
    return simulator


def _errors(simulator: WetApplianceSimulator, every_s: float = 300.0) -> list[float]:
    """Run to the end; each sample's |reported - real time left| in seconds."""
    simulator.command("start", {})
    samples: list[tuple[float, int]] = []
    while simulator.operational_state == "running":
        reported = simulator.values()["remaining_time"]
        assert isinstance(reported, int)
        samples.append((simulator.elapsed_s, reported))
        for _ in range(int(every_s / 10)):
            simulator.step(10.0)
            if simulator.operational_state != "running":
                break
    end = simulator.elapsed_s
    return [abs(reported - (end - at)) for at, reported in samples]


@pytest.mark.parametrize("kind", [ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER])
def test_reference_declarations_declare_the_model_file_they_run(kind: ApplianceType) -> None:
    declared = load_declaration(kind).models
    shipped = load_model(model_path("wet_cycle"), "numpy")
    assert [(m.id, m.version) for m in declared] == [("wet_cycle", shipped.version)]
    assert shipped.version  # the file carries a version to declare


def test_the_fridge_and_ac_declare_no_wet_cycle_model() -> None:
    for kind in (ApplianceType.REFRIGERATOR, ApplianceType.ROOM_AIR_CONDITIONER):
        assert "wet_cycle" not in {m.id for m in load_declaration(kind).models}


WINTER_HALF_LOAD: Final = {"load_kg": 4.0, "season": "winter"}
COTTON_60: Final = {"programme": "cotton", "water_temperature": "60"}


@pytest.mark.parametrize(
    ("kind", "options", "settings"),
    [
        # Half a load of 60 °C cotton in winter water: the declared profile assumes a
        # full drum at 15 °C, so it is wrong from the start.
        (ApplianceType.LAUNDRY_WASHER, WINTER_HALF_LOAD, COTTON_60),
        (ApplianceType.DISHWASHER, {"load_fraction": 0.4}, {"programme": "eco"}),
    ],
)
def test_the_model_reports_the_time_left_better_than_the_declared_profile(
    kind: ApplianceType, options: dict[str, Any], settings: dict[str, str]
) -> None:
    results = {}
    for source in RemainingSource:
        machine = _machine(kind, remaining=source, **options)
        for key, value in settings.items():
            machine.write(key, value)
        errors = _errors(machine)
        results[source] = sum(errors) / len(errors)
        if source is RemainingSource.MODEL:
            assert machine.predictor.source is RemainingSource.MODEL
            assert machine.predictor.error is None
    # Mean absolute error over the run, seconds: the physics is exact up to the sampling.
    assert results[RemainingSource.PHYSICS] < 60
    assert results[RemainingSource.MODEL] < 0.5 * results[RemainingSource.DECLARED]


def test_a_fault_pauses_the_observed_run_instead_of_ending_it() -> None:
    washer = _machine(ApplianceType.LAUNDRY_WASHER)
    washer.command("start", {})
    washer.step(600.0)
    washer.inject_fault("heater")
    washer.step(300.0)
    washer.clear_fault("heater")
    washer.command("resume", {})
    washer.step(60.0)
    observed = washer.predictor.tracker.observation(
        water_temperature="40", spin_rpm=1400, rinses="normal", inlet_water_c=20.0
    )
    assert observed is not None
    assert observed.elapsed_s == pytest.approx(660.0)


def test_without_a_usable_file_the_declared_profile_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    damaged = tmp_path / "wet_cycle" / "wet_cycle.tflite"
    damaged.parent.mkdir()
    damaged.write_bytes(model_path("wet_cycle").read_bytes()[:4000])
    monkeypatch.setattr(models, "MODELS_DIR", tmp_path)
    models.appliance_model.cache_clear()
    try:
        washer = _machine(ApplianceType.LAUNDRY_WASHER)
    finally:
        models.appliance_model.cache_clear()
    assert washer.predictor.model is None
    assert "damaged" in str(washer.predictor.error)
    washer.command("start", {})
    washer.step(1200.0)
    programme = washer.declaration.programme(washer.programme)
    expected = declared_remaining(programme, 1200.0)[0]
    assert washer.values()["remaining_time"] == pytest.approx(expected, abs=1)
    assert washer.predictor.source is RemainingSource.DECLARED


def test_inputs_outside_the_trained_range_fall_back_for_that_answer() -> None:
    predictor = WetCyclePredictor(dishwasher=False)
    programme = load_declaration(ApplianceType.LAUNDRY_WASHER).programme("quick")
    settings: dict[str, Any] = {"water_temperature": "30", "spin_rpm": 800.0, "rinses": "normal"}
    hot = predictor.remaining_s(programme, inlet_water_c=40.0, **settings)  # trained to 35 °C
    sources = [predictor.source]
    assert "inlet_water_temperature" in str(predictor.error)
    assert hot == programme.duration_s
    predictor.remaining_s(programme, inlet_water_c=20.0, **settings)
    sources.append(predictor.source)
    assert sources == [RemainingSource.DECLARED, RemainingSource.MODEL]
    assert predictor.error is None
