"""The fridge fault detector's part of ``./scripts/bench models``.

Builds validation and held-out runs with the model's dataset generator and
runs the shipped alarm rule (``AlarmRule``'s defaults, chosen on the full
validation split by ``models/fridge_fault/evaluate.py``); the baseline's rule
is chosen on the validation runs built here. Reports on the held-out runs:
detection rate per fault, hours between the alarm and the fresh-food
compartment passing 4 °C (max(4 °C, setpoint + 1 K)), false alarms per
appliance-year, against the duty-cycle threshold a hub can run without a
model; then the largest LiteRT-numpy output
difference and the per-row latency of both runtimes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np

from custom_components.liuzhou_appliances.neural import Model, litert_available, load_model
from custom_components.liuzhou_appliances.neural.fridge_fault import FAULTS, AlarmRule
from models.fridge_fault import dataset
from models.fridge_fault.evaluate import evaluate_splits

MODEL: Final = Path(__file__).resolve().parents[2] / "models/fridge_fault/fridge_fault.tflite"

type Latency = Callable[[list[Model], np.ndarray[Any, Any], int], dict[str, float]]


def benchmark(
    validation_runs: int, test_runs: int, blocks: int, latency: Latency
) -> dict[str, Any]:
    """Print the fridge table; return its keys for the benchmark's JSON line."""
    validation = dataset.build("validation", limit=validation_runs, jobs=2)
    test = dataset.build("test", limit=test_runs, jobs=2)
    numpy_model = load_model(MODEL, "numpy")
    result = evaluate_splits(numpy_model, validation, test, shipped=AlarmRule())
    model, baseline = result["test"], result["baseline_test"]
    rule, duty_rule = result["rule"], result["baseline_rule"]
    print()
    print(
        f"fridge_fault: {len(test['x'])} held-out hourly rows from {test_runs} fridges "
        f"({model['healthy_years']:.2f} healthy appliance-years), {MODEL.stat().st_size} B"
    )
    print(
        f"  alarm rule: model score > {rule['threshold']} for "
        f"{rule['consecutive']} h; baseline: 48 h duty > {duty_rule['duty']} for "
        f"{duty_rule['consecutive']} h; fault codes alone detect none of these faults"
    )
    print(f"  {'detection %':<30}{'model':>10}{'duty rule':>12}")
    for fault in (*FAULTS, "all"):
        print(
            f"  {fault:<30}{model['detection_pct'][fault]:>10.1f}"
            f"{baseline['detection_pct'][fault]:>12.1f}"
        )
    for label, key, unit in (
        ("false alarms", "false_alarms_per_year", "/appliance-year"),
        ("median onset to alarm", "median_delay_h", "h"),
        ("median alarm before 4 °C", "median_lead_h", "h"),
        ("warned before 4 °C", "warned_before_warm_pct", "%"),
    ):
        print(f"  {label + ' (' + unit + ')':<30}{model[key]:>10.1f}{baseline[key]:>12.1f}")
    print(f"  {'fault named right (%)':<30}{model['identified_pct']:>10.1f}{'-':>12}")
    summary: dict[str, Any] = {
        "fridge_fault_detection_pct": round(model["detection_pct"]["all"], 1),
        "fridge_fault_detection_pct_duty_rule": round(baseline["detection_pct"]["all"], 1),
        "fridge_false_alarms_per_year": round(model["false_alarms_per_year"], 2),
        "fridge_false_alarms_per_year_duty_rule": round(baseline["false_alarms_per_year"], 2),
        "fridge_hours_before_4c": round(model["median_lead_h"], 1),
        "fridge_hours_before_4c_duty_rule": round(baseline["median_lead_h"], 1),
        "fridge_warned_before_4c_pct": round(model["warned_before_warm_pct"], 1),
        "fridge_fault_identified_pct": round(model["identified_pct"], 1),
    }
    for fault in FAULTS:
        summary[f"fridge_fault_detection_pct_{fault}"] = round(model["detection_pct"][fault], 1)
    models = [numpy_model]
    if litert_available():
        litert_model = load_model(MODEL, "litert")
        models.append(litert_model)
        diff = np.abs(litert_model.predict(test["x"]) - numpy_model.predict(test["x"]))
        summary["fridge_max_abs_output_diff"] = float(diff.max())
    times = latency(models, test["x"][len(test["x"]) // 2], blocks)
    for name, microseconds in times.items():
        print(f"  one row, {name:<14}{microseconds:8.1f} µs")
        summary[f"fridge_latency_us_{name}"] = round(microseconds, 2)
    if "litert" in times:
        summary["fridge_numpy_vs_litert_latency_ratio"] = round(times["numpy"] / times["litert"], 3)
    return summary
