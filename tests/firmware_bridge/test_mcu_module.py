"""An MCU-class network module: the washer and dishwasher run the int8 wet_cycle file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pytest

from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural import Model, load_model
from custom_components.liuzhou_appliances.neural.wet_cycle import declared_remaining, run_features
from firmware_bridge import models
from firmware_bridge.bridge import simulated_appliances
from firmware_bridge.models import (
    WET_CYCLE,
    ModuleClass,
    RemainingSource,
    model_path,
    shipped_versions,
)
from firmware_bridge.simulators import create_simulator
from firmware_bridge.simulators.wet_cycle import WetApplianceSimulator

# Half a load of 60 °C cotton in winter water, and a dishwasher 40 % full: runs on which
# the declared profile is wrong from the start.
RUNS: Final = [
    (
        ApplianceType.LAUNDRY_WASHER,
        {"load_kg": 4.0, "season": "winter"},
        {"programme": "cotton", "water_temperature": "60"},
    ),
    (ApplianceType.DISHWASHER, {"load_fraction": 0.4}, {"programme": "eco"}),
]


@pytest.fixture(scope="module")
def files() -> dict[ModuleClass, Model]:
    """Each shipped wet_cycle variant, loaded directly on the numpy interpreter."""
    return {module: load_model(model_path(WET_CYCLE, module), "numpy") for module in ModuleClass}


def _machine(kind: ApplianceType, **options: Any) -> WetApplianceSimulator:
    simulator = create_simulator(kind, **options)
    assert isinstance(simulator, WetApplianceSimulator)
    return simulator


def _samples(
    machine: WetApplianceSimulator, files: dict[ModuleClass, Model], settings: dict[str, str]
) -> list[tuple[int, float, float, float]]:
    """Start a run; every 10 minutes for 90, the reported remaining_time and, on the same
    observation, the int8 file's, the float file's and the declared profile's (s)."""
    for key, value in settings.items():
        machine.write(key, value)
    machine.command("start", {})
    rows = []
    for _ in range(10):
        reported = machine.values()["remaining_time"]
        assert isinstance(reported, int)
        water, spin, rinses = machine.run_options()
        observation = machine.predictor.tracker.observation(
            water_temperature=water, spin_rpm=spin, rinses=rinses, inlet_water_c=machine.inlet_c()
        )
        assert observation is not None
        programme = machine.declaration.programme(machine.programme)
        row = run_features(programme, observation)
        int8 = float(files[ModuleClass.MCU].predict(row)[0, 0]) * 3600
        floats = float(files[ModuleClass.LINUX].predict(row)[0, 0]) * 3600
        declared = declared_remaining(programme, observation.elapsed_s)[0]
        rows.append((reported, int8, floats, declared))
        machine.step(600.0)
    return rows


def test_each_module_class_has_one_file_and_version() -> None:
    assert model_path(WET_CYCLE).name == "wet_cycle.tflite"
    assert model_path(WET_CYCLE, "mcu").name == "wet_cycle_int8.tflite"
    assert shipped_versions(WET_CYCLE) == {"1": ModuleClass.LINUX, "1-int8": ModuleClass.MCU}
    assert shipped_versions("fridge_fault") == {"1": ModuleClass.LINUX}  # no int8 file
    with pytest.raises(ValueError, match="unknown network module class 'arm'; one of linux, mcu"):
        model_path(WET_CYCLE, "arm")
    with pytest.raises(ValueError, match="unknown network module class"):
        _machine(ApplianceType.DISHWASHER, module="arm")


@pytest.mark.parametrize(("kind", "options", "settings"), RUNS)
def test_an_mcu_module_reports_the_int8_file_s_answer(
    kind: ApplianceType,
    options: dict[str, Any],
    settings: dict[str, str],
    files: dict[ModuleClass, Model],
) -> None:
    machine = _machine(kind, module="mcu", **options)
    assert [(m.id, m.version) for m in machine.declaration.models] == [(WET_CYCLE, "1-int8")]
    assert files[ModuleClass.MCU].version == "1-int8"  # read from the file, as declared
    assert machine.predictor.model is not None
    assert machine.predictor.model.runtime == "numpy"  # the stand-in for TFLite Micro
    samples = _samples(machine, files, settings)
    assert machine.predictor.source is RemainingSource.MODEL
    for reported, int8, _, _ in samples:
        assert reported == pytest.approx(int8, abs=1.0)
    # Not the float file's answer nor the declared profile's: either would fail the above.
    assert max(abs(int8 - floats) for _, int8, floats, _ in samples) > 30
    assert max(abs(int8 - declared) for _, int8, _, declared in samples) > 120


@pytest.mark.parametrize(("kind", "options", "settings"), RUNS[:1])
def test_the_linux_module_is_the_default_and_runs_the_float_file(
    kind: ApplianceType,
    options: dict[str, Any],
    settings: dict[str, str],
    files: dict[ModuleClass, Model],
) -> None:
    machine = _machine(kind, **options)
    assert [(m.id, m.version) for m in machine.declaration.models] == [(WET_CYCLE, "1")]
    samples = _samples(machine, files, settings)
    for reported, _, floats, _ in samples:
        assert reported == pytest.approx(floats, abs=1.0)


def test_without_the_model_an_mcu_module_declares_none() -> None:
    machine = _machine(ApplianceType.LAUNDRY_WASHER, module="mcu", remaining="declared")
    assert machine.declaration.models == ()


def test_a_missing_int8_file_falls_back_and_keeps_the_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / WET_CYCLE).mkdir()
    (tmp_path / WET_CYCLE / "wet_cycle.tflite").write_bytes(model_path(WET_CYCLE).read_bytes())
    monkeypatch.setattr(models, "MODELS_DIR", tmp_path)
    models.appliance_model.cache_clear()
    try:
        washer = _machine(ApplianceType.LAUNDRY_WASHER, module="mcu")
        versions = shipped_versions(WET_CYCLE)
    finally:
        models.appliance_model.cache_clear()
    assert versions == {"1": ModuleClass.LINUX}
    assert washer.predictor.model is None
    assert "wet_cycle_int8.tflite" in str(washer.predictor.error)
    washer.command("start", {})
    washer.step(600.0)
    programme = washer.declaration.programme(washer.programme)
    expected = declared_remaining(programme, 600.0)[0]
    assert washer.values()["remaining_time"] == pytest.approx(expected, abs=1)


async def test_a_restart_keeps_the_module_class(tmp_path: Path) -> None:
    async with simulated_appliances(
        dishwasher=1,
        seed=7,
        speed=0,
        state_dir=tmp_path,
        zeroconf=False,
        simulator_options={ApplianceType.DISHWASHER: {"module": "mcu"}},
    ) as (dishwasher,):
        await dishwasher.restart()
        simulator = dishwasher.simulator
        assert isinstance(simulator, WetApplianceSimulator)
        assert simulator.predictor.module is ModuleClass.MCU
        declared = dishwasher.module.backend.declaration.models
    assert [(m.id, m.version) for m in declared] == [(WET_CYCLE, "1-int8")]
