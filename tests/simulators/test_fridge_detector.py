"""The fridge's own fault detector: fridge_fault on its readings, reported in ``faults``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural import ModelError
from firmware_bridge import models
from firmware_bridge.models import FRIDGE_FAULT, FridgeFaultDetector
from firmware_bridge.simulators import RefrigeratorSimulator, create_simulator
from firmware_bridge.simulators.fridge_faults import PhysicalFault

from .conftest import assert_valid

JULY = datetime(2026, 7, 15)
HOUR = 3600.0
ONSET_H = 60  # after a full 48 h window of the healthy fridge
RUN_H = 84  # the onset plus a day


def _fridge(*faults: PhysicalFault, **options: Any) -> RefrigeratorSimulator:
    simulator = create_simulator(
        ApplianceType.REFRIGERATOR, start=JULY, physical_faults=faults, **options
    )
    assert isinstance(simulator, RefrigeratorSimulator)
    return simulator


def _hourly_faults(fridge: RefrigeratorSimulator, hours: int) -> list[list[str]]:
    """Step the simulator a minute at a time; the reported ``faults`` at each hour's end."""
    seen: list[list[str]] = []
    for _ in range(hours):
        for _ in range(60):
            fridge.step(60.0)
        faults = assert_valid(fridge)["faults"]
        assert isinstance(faults, list)
        seen.append(faults)
    return seen


def test_reference_fridge_declares_and_runs_the_detector() -> None:
    fridge = _fridge()
    assert [(m.id, m.version) for m in fridge.declaration.models] == [
        (FRIDGE_FAULT, models.declared_model(FRIDGE_FAULT)["version"])
    ]
    assert fridge.detector is not None
    assert fridge.detector.model is not None


def test_blocked_condenser_is_reported_as_suspected_after_the_onset() -> None:
    fridge = _fridge(PhysicalFault("condenser", 0.6, ONSET_H * HOUR))
    seen = _hourly_faults(fridge, RUN_H)
    assert all(faults == [] for faults in seen[:ONSET_H]), "suspected before the onset"
    hours = [h + 1 for h, faults in enumerate(seen) if "suspected_condenser" in faults]
    assert hours, f"never suspected; last scores {fridge.detector and fridge.detector.scores}"
    assert hours[0] - ONSET_H <= 24
    assert seen[-1] == ["suspected_condenser"]  # held while the fault lasts
    # The hardware fault list is untouched: the suspected code is not saved with it.
    assert fridge.export_state()["faults"] == []


def test_healthy_fridge_reports_nothing_in_the_same_time() -> None:
    fridge = _fridge()
    seen = _hourly_faults(fridge, RUN_H)
    assert all(faults == [] for faults in seen)
    assert fridge.detector is not None
    assert fridge.detector.scores is not None  # the model did run on full windows


def test_without_the_detector_the_model_is_not_declared_nor_reported() -> None:
    fridge = _fridge(PhysicalFault("condenser", 1.0, 0.0), fault_detector=False)
    assert fridge.declaration.models == ()
    assert fridge.detector is None
    assert all(faults == [] for faults in _hourly_faults(fridge, 50))


def test_model_that_cannot_load_reports_no_suspected_code(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(model_id: str) -> Any:
        raise ModelError(f"{model_id}: damaged file")

    monkeypatch.setattr(models, "appliance_model", broken)
    fridge = _fridge(PhysicalFault("condenser", 1.0, 0.0))
    assert fridge.detector is not None
    assert fridge.detector.error is not None
    assert "damaged file" in fridge.detector.error
    assert all(faults == [] for faults in _hourly_faults(fridge, 50))
    assert sum("damaged file" in r.getMessage() for r in caplog.records) == 1


def test_model_that_refuses_a_row_turns_the_detector_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    detector = FridgeFaultDetector()
    fridge = _fridge(PhysicalFault("condenser", 1.0, 0.0))
    fridge.detector = detector
    _hourly_faults(fridge, 46)
    assert detector.code == "suspected_condenser"

    class Refusing:
        def predict(self, row: Any) -> Any:
            raise ModelError("input out of the trained range")

    detector.model = Refusing()  # type: ignore[assignment]
    seen = _hourly_faults(fridge, 2)
    assert seen[-1] == []
    assert detector.model is None
    assert detector.error is not None
    assert sum("trained range" in r.getMessage() for r in caplog.records) == 1
