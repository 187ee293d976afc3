"""``./scripts/bench models`` on a few held-out runs: the JSON line has its figures."""

from __future__ import annotations

import json

import pytest

from benchmarks import models
from custom_components.liuzhou_appliances.neural import litert_available


def test_models_bench_tiny_run(capsys: pytest.CaptureFixture[str]) -> None:
    models.main(["--runs", "30", "--blocks", "2", "--appliance-runs", "4", "--fridges", "10"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["model"] == "wet_cycle"
    assert result["held_out_rows"] == 30 * 6
    assert (
        0 < result["washer_remaining_mae_min_model"] < result["washer_remaining_mae_min_declared"]
    )
    assert result["latency_us_numpy"] > 0
    if litert_available():
        assert 0 <= result["max_abs_output_diff"] <= 1e-5
        assert result["numpy_vs_litert_latency_ratio"] > 0
    # int8 and the appliances' own remaining time, and the files against the MCU.
    assert 0 < result["int8_remaining_mae_min"] < result["washer_remaining_mae_min_declared"]
    if litert_available():
        assert result["int8_max_abs_output_diff"] == 0.0
    assert (
        result["appliance_washer_remaining_mae_min_model"]
        < result["appliance_washer_remaining_mae_min_declared"]
    )
    # An MCU-class network module's washer (the int8 file): its own error, and the int8
    # file's time on the numpy interpreter next to the float file's.
    assert (
        0
        < result["appliance_washer_remaining_mae_min_model_mcu"]
        < result["appliance_washer_remaining_mae_min_declared"]
    )
    assert result["numpy_latency_us_int8"] > 0
    assert result["numpy_latency_us_float"] > 0
    assert result["wet_cycle_int8_file_bytes"] < result["wet_cycle_file_bytes"]
    assert 0 < result["wet_cycle_int8_arena_bytes"] < result["wet_cycle_arena_bytes"]
    # The fridge fault detector and the predictive AC controller report their figures.
    assert 0 <= result["fridge_fault_detection_pct"] <= 100
    assert result["fridge_false_alarms_per_year"] >= 0
    assert (
        result["room_thermal_temperature_mae_k_model"]
        < (result["room_thermal_temperature_mae_k_persistence"])
    )
    assert "ac_predictive_oracle_share_pct" in result
    assert result["ac_predictive_comfort_violation_kh"] >= 0
