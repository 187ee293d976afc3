"""The shipped fridge fault detector: its file, both runtimes, and alarms on simulated fridges."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from custom_components.liuzhou_appliances.neural import Model, litert_available, load_model
from custom_components.liuzhou_appliances.neural.fridge_fault import (
    FEATURES,
    OUTPUTS,
    AlarmRule,
)
from firmware_bridge.simulators.climate import LiuzhouClimate
from firmware_bridge.simulators.fridge_faults import PhysicalFault
from models.fridge_fault import dataset

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "fridge_fault" / "fridge_fault.tflite"
SHIPPED = ROOT / "custom_components/liuzhou_appliances/models/fridge_fault.tflite"
DAY_S = 86400.0


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(MODEL, "numpy")


@pytest.fixture(scope="module")
def held_out() -> dict[str, np.ndarray[Any, Any]]:
    """Rows of the first held-out runs: other seeds, a room and a weather year not trained on."""
    return dataset.build("test", limit=4)


def _alarms(
    model: Model, fault: PhysicalFault | None
) -> tuple[list[str | None], np.ndarray[Any, Any]]:
    """The rule's answer after each hourly row of a held-out fridge, and the rows' hours."""
    split = dataset.SPLITS["test"]
    setting = replace(dataset.draw(split.seeds[0], split), fault=fault)
    run = dataset.simulate(setting, LiuzhouClimate(seed=split.climate_seed))
    rule = AlarmRule()
    return [rule.update(row).fault for row in model.predict(run["x"])], run["hour"]


def test_the_file_describes_the_rows_we_build(model: Model) -> None:
    assert model.name == "fridge_fault"
    assert [(f.name, f.unit) for f in model.inputs] == list(FEATURES)
    assert [(f.name, f.unit) for f in model.outputs] == list(OUTPUTS)
    assert all(f.minimum < f.maximum for f in model.inputs)


def test_the_integration_ships_the_same_file() -> None:
    assert SHIPPED.read_bytes() == MODEL.read_bytes()


@pytest.mark.skipif(not litert_available(), reason="ai-edge-litert is not installed")
def test_litert_and_numpy_agree_on_held_out_rows(held_out: dict[str, np.ndarray[Any, Any]]) -> None:
    litert, numpy = load_model(MODEL, "litert"), load_model(MODEL, "numpy")
    assert (litert.runtime, numpy.runtime) == ("litert", "numpy")
    rows = held_out["x"]
    assert len(rows) > 100
    assert np.abs(litert.predict(rows) - numpy.predict(rows)).max() <= 1e-5
    for row in rows[::50]:  # one row at a time, as the hub calls it
        assert np.abs(litert.predict(row) - numpy.predict(row)).max() <= 1e-5


def test_a_healthy_fridge_raises_no_alarm(model: Model) -> None:
    suspected, _ = _alarms(model, None)
    assert suspected == [None] * len(suspected)


def test_a_blocked_condenser_is_named_after_its_onset(model: Model) -> None:
    onset_h = 3.0 * 24
    suspected, hours = _alarms(model, PhysicalFault("condenser", 1.0, onset_s=onset_h * 3600))
    alarmed = [h for h, fault in zip(hours, suspected, strict=True) if fault is not None]
    assert alarmed, "never detected"
    assert alarmed[0] > onset_h  # nothing before the fault
    assert alarmed[0] < onset_h + 48
    assert {fault for fault in suspected if fault is not None} == {"condenser"}
