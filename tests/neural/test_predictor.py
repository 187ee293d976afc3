"""The shipped wet-cycle predictor against the declared profile, on held-out runs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural import load_model_bytes
from custom_components.liuzhou_appliances.neural.wet_cycle import (
    FEATURES,
    OUTPUTS,
    RunObservation,
    declared_remaining,
    run_features,
)
from firmware_bridge.simulators.base import load_declaration


def test_the_file_describes_the_rows_we_build(model_bytes: bytes) -> None:
    model = load_model_bytes(model_bytes, "numpy")
    assert model.name == "wet_cycle"
    assert [(f.name, f.unit) for f in model.inputs] == list(FEATURES)
    assert [(f.name, f.unit) for f in model.outputs] == list(OUTPUTS)
    assert all(f.minimum < f.maximum for f in model.inputs)


def test_beats_the_declared_profile_on_held_out_runs(
    model_bytes: bytes, held_out: dict[str, np.ndarray[Any, Any]]
) -> None:
    predicted = load_model_bytes(model_bytes, "numpy").predict(held_out["x"])
    truth, declared = held_out["y"], held_out["baseline"]
    model_mae = np.abs(predicted - truth).mean(axis=0)
    declared_mae = np.abs(declared - truth).mean(axis=0)
    # Hours and kWh: the model's remaining-time error is a small part of the declared one.
    assert model_mae[0] * 60 < 2.0 < declared_mae[0] * 60
    assert model_mae[0] < 0.25 * declared_mae[0]
    assert model_mae[1] < 0.5 * declared_mae[1]
    for dishwasher in (False, True):  # each appliance on its own, not only on average
        rows = held_out["dishwasher"] == dishwasher
        assert (
            np.abs(predicted[rows] - truth[rows]).mean(axis=0)
            < np.abs(declared[rows] - truth[rows]).mean(axis=0)
        ).all()


@pytest.mark.parametrize("kind", [ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER])
def test_declared_remaining_walks_the_profile(kind: ApplianceType) -> None:
    for programme in load_declaration(kind).programmes:
        seconds, kwh = declared_remaining(programme, 0.0)
        assert seconds == programme.duration_s
        assert kwh == pytest.approx(programme.energy_kwh, abs=0.002)
        assert declared_remaining(programme, programme.duration_s) == (0.0, 0.0)
        first_s, first_w = programme.profile[0]
        _, after_first = declared_remaining(programme, first_s)
        assert kwh - after_first == pytest.approx(first_s * first_w / 3.6e6)


def test_a_row_needs_a_known_rinse_option() -> None:
    programme = load_declaration(ApplianceType.LAUNDRY_WASHER).programmes[0]
    run = RunObservation(False, 40.0, 1400.0, "lots", 15.0, 0.0, 0.0, 0.0, 0.0, False)
    with pytest.raises(ValueError, match="rinses"):
        run_features(programme, run)
