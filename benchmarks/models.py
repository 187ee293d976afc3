"""Models benchmark: each shipped model against its baseline, and numpy against LiteRT.

``./scripts/bench models [--quick]`` builds the held-out split of each model's
dataset (other seeds, a room and a weather year never trained on), then:

- quality: the wet-cycle predictor's remaining-time error (minutes) and
  remaining-energy error (kWh) against what the declared profile says, per
  appliance, on every held-out row and on the rows of a run's first 45 minutes;
- planning: the run planner's share of the oracle's savings when it plans on
  the model's profiles and on the declared ones, for the energy benchmark's
  home washer and hotel dishwasher (``benchmarks/_models/planner.py``);
- runtimes: the largest difference between LiteRT's and the numpy
  interpreter's outputs on the same rows, and the time of one ``predict`` of
  one row (input checks included) on each, measured in alternating blocks in
  this one process so both see the same machine;
- int8: the full-integer variant's error next to the float file's, and the
  largest difference between its LiteRT and numpy outputs;
- on the appliance (``_models/appliance.py``): the remaining time the
  simulated washers and dishwashers report, from the model, from the declared
  profile and from the exact physics, against the time each run really took;
- a run the hub joined half way (``_models/joined.py``): the hub's remaining
  time and energy of a run joined 10, 30 and 60 minutes in on firmware that
  counts down its declared profile, against that countdown and against the
  run followed from its start;
- MCU (``_models/mcu.py``): each file's flash and tensor arena against an
  ESP32-C3 module.
- the fridge fault detector against a duty-cycle rule (``_models/fridge.py``).

The room thermal model and the predictive AC controller: benchmarks/_models/ac.py.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
import json
import time
from typing import Any

import numpy as np

from custom_components.liuzhou_appliances.neural import Model, litert_available, load_model
from custom_components.liuzhou_appliances.neural.wet_cycle import FEATURES
from firmware_bridge.models import WET_CYCLE, ModuleClass, model_path
from models.wet_cycle import dataset

from ._models import appliance, joined, mcu
from ._models.ac import ac_section
from ._models.fridge import benchmark as fridge_benchmark
from ._models.planner import compare_all

MODEL = model_path(WET_CYCLE)
MODEL_INT8 = model_path(WET_CYCLE, ModuleClass.MCU)
FRIDGE_MODEL = MODEL.parent.parent / "fridge_fault" / "fridge_fault.tflite"
ROOM_MODEL = MODEL.parent.parent / "room_thermal" / "room_thermal.tflite"
ELAPSED = [name for name, _ in FEATURES].index("elapsed")
BLOCKS = 20
CALLS_PER_BLOCK = 500


def _mae(predicted: np.ndarray[Any, Any], truth: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray(np.abs(predicted - truth).mean(axis=0))


def quality(model: Model, held_out: dict[str, np.ndarray[Any, Any]]) -> dict[str, float]:
    """Remaining time (min) and energy (kWh) errors of the model and the declared profile."""
    predicted = model.predict(held_out["x"])
    truth, declared = held_out["y"], held_out["baseline"]
    elapsed = held_out["x"][:, ELAPSED]
    out: dict[str, float] = {}
    print(f"{'rows':<28}{'n':>7}  {'time MAE min':>22}  {'energy MAE kWh':>22}")
    print(f"{'':<28}{'':>7}  {'model':>10}{'declared':>12}  {'model':>10}{'declared':>12}")
    for kind, is_dishwasher in (("washer", False), ("dishwasher", True)):
        for scope, rows in (
            ("", held_out["dishwasher"] == is_dishwasher),
            ("_first_45_min", (held_out["dishwasher"] == is_dishwasher) & (elapsed <= 0.75)),
        ):
            model_mae, declared_mae = (
                _mae(predicted[rows], truth[rows]),
                _mae(declared[rows], truth[rows]),
            )
            print(
                f"{kind + scope:<28}{int(rows.sum()):>7}  {model_mae[0] * 60:>10.2f}"
                f"{declared_mae[0] * 60:>12.2f}  {model_mae[1]:>10.3f}{declared_mae[1]:>12.3f}"
            )
            out[f"{kind}{scope}_remaining_mae_min_model"] = round(float(model_mae[0] * 60), 3)
            out[f"{kind}{scope}_remaining_mae_min_declared"] = round(float(declared_mae[0] * 60), 3)
            out[f"{kind}{scope}_energy_mae_kwh_model"] = round(float(model_mae[1]), 4)
            out[f"{kind}{scope}_energy_mae_kwh_declared"] = round(float(declared_mae[1]), 4)
    return out


def planner_shares(model: Model) -> dict[str, float]:
    """The run planner's share of the oracle on the model's profiles and on the declared ones
    (benchmarks/_models/planner.py), printed side by side."""
    print()
    print(
        f"{'planner':<26}{'baseline':>10}{'declared':>10}{'model':>10}{'oracle':>10}"
        f"{'% declared':>12}{'% model':>10}"
    )
    out: dict[str, float] = {}
    for (name, result), key in zip(
        compare_all(model).items(), ("washer", "hotel_dishwasher"), strict=True
    ):
        cost = result.cost
        print(
            f"{name:<26}{cost['baseline']:>10.3f}{cost['declared']:>10.3f}{cost['model']:>10.3f}"
            f"{cost['oracle']:>10.3f}{result.share('declared'):>12.2f}{result.share('model'):>10.2f}"
        )
        print(
            f"{'':<4}delay min {_row(result.delay_min)}; profile min {_row(result.duration_min)}; "
            f"kWh {_row(result.energy_kwh, 3)}"
        )
        for strategy in ("declared", "model"):
            out[f"{key}_planner_oracle_share_pct_{strategy}"] = round(result.share(strategy), 2)
    return out


def _row(values: dict[str, float], digits: int = 0) -> str:
    return ", ".join(f"{name} {value:.{digits}f}" for name, value in values.items())


def latency(
    models: list[Model], row: np.ndarray[Any, Any], blocks: int, names: list[str] | None = None
) -> dict[str, float]:
    """Median per-call time (µs) on one row, per model, blocks alternating: ``predict``
    (input and output checks included) as ``NAME``, the runtime alone as ``NAME_infer``;
    ``NAME`` is each model's runtime unless ``names`` are given."""
    calls: dict[str, Callable[[], object]] = {}
    for model, name in zip(models, names or [m.runtime for m in models], strict=True):
        calls[name] = partial(model.predict, row)
        calls[f"{name}_infer"] = partial(model.infer, model.check(row))
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call()  # warm
    for _ in range(blocks):
        for name, call in calls.items():
            started = time.perf_counter()
            for _ in range(CALLS_PER_BLOCK):
                call()
            samples[name].append((time.perf_counter() - started) / CALLS_PER_BLOCK)
    return {name: float(np.median(times) * 1e6) for name, times in samples.items()}


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 held-out runs, not all")
    parser.add_argument("--runs", type=int, help="this many held-out runs")
    parser.add_argument("--blocks", type=int, default=BLOCKS, help="latency blocks per runtime")
    parser.add_argument(
        "--appliance-runs",
        type=int,
        help="simulated appliance runs (60; 12 with --quick or --runs)",
    )
    parser.add_argument(
        "--joined-runs",
        type=int,
        help="simulated runs joined half way (200; 40 with --quick or --runs)",
    )
    parser.add_argument(
        "--fridges", type=int, help="held-out fridges (200; 60 with --quick or --runs)"
    )
    args = parser.parse_args(argv)
    wall = time.perf_counter()
    held_out = dataset.build("test", limit=args.runs or (500 if args.quick else None))
    runs = len(set(held_out["run"].tolist()))
    print(
        f"wet_cycle: {len(held_out['x'])} held-out rows from {runs} runs, {MODEL.stat().st_size} B"
    )
    numpy_model = load_model(MODEL, "numpy")
    summary: dict[str, Any] = {"model": "wet_cycle", "held_out_rows": len(held_out["x"])}
    summary.update(quality(numpy_model, held_out))
    summary.update(planner_shares(numpy_model))
    models = [numpy_model]
    if litert_available():
        litert_model = load_model(MODEL, "litert")
        models.append(litert_model)
        diff = np.abs(litert_model.predict(held_out["x"]) - numpy_model.predict(held_out["x"]))
        summary["max_abs_output_diff"] = float(diff.max())
    else:
        print("LiteRT (ai-edge-litert) is not installed: numpy only")
        summary["max_abs_output_diff"] = None
    times = latency(models, held_out["x"][len(held_out["x"]) // 2], args.blocks)
    print()
    print("one row, median of alternating blocks (predict: checks included; infer: runtime alone):")
    for name, microseconds in times.items():
        print(f"  {name:<14}{microseconds:8.1f} µs")
    for name, microseconds in times.items():
        summary[f"latency_us_{name}"] = round(microseconds, 2)
    has_litert = "litert" in times
    summary["numpy_vs_litert_latency_ratio"] = (
        round(times["numpy"] / times["litert"], 3) if has_litert else None
    )
    summary["numpy_vs_litert_infer_latency_ratio"] = (
        round(times["numpy_infer"] / times["litert_infer"], 3) if has_litert else None
    )
    print(
        f"numpy/LiteRT: {summary['numpy_vs_litert_latency_ratio']} (goal: within 5x); "
        f"max |LiteRT - numpy| {summary['max_abs_output_diff']}"
    )
    summary.update(_int8(held_out, summary, args.blocks))
    summary.update(
        appliance.measure(args.appliance_runs or (12 if args.quick or args.runs else 60))
    )
    summary.update(
        joined.measure(args.joined_runs or (40 if args.quick or args.runs else 200), numpy_model)
    )
    fridges = args.fridges or (60 if args.quick or args.runs else 200)
    summary.update(fridge_benchmark(fridges * 3 // 5, fridges, args.blocks, latency))
    summary.update(ac_section(args.quick or args.runs is not None))
    summary.update(mcu.report([MODEL, MODEL_INT8, FRIDGE_MODEL, ROOM_MODEL]))
    print(f"wall time {time.perf_counter() - wall:.0f} s")
    print(json.dumps(summary))


def _int8(
    held_out: dict[str, np.ndarray[Any, Any]], summary: dict[str, Any], blocks: int
) -> dict[str, Any]:
    """The int8 file's remaining-time and energy errors, LiteRT against numpy on it, and
    one row's time on the numpy interpreter next to the float file's (an MCU-class
    network module runs the int8 file there)."""
    int8 = load_model(MODEL_INT8, "numpy")
    predicted = int8.predict(held_out["x"])
    mae = _mae(predicted, held_out["y"])
    out: dict[str, Any] = {
        "int8_remaining_mae_min": round(float(mae[0] * 60), 3),
        "int8_energy_mae_kwh": round(float(mae[1]), 4),
        "int8_max_abs_output_diff": None,
    }
    if litert_available():
        litert = load_model(MODEL_INT8, "litert").predict(held_out["x"])
        out["int8_max_abs_output_diff"] = float(np.abs(litert - predicted).max())
    print(
        f"\nint8 ({MODEL_INT8.stat().st_size} B): remaining {out['int8_remaining_mae_min']} min, "
        f"energy {out['int8_energy_mae_kwh']} kWh (washer float "
        f"{summary.get('washer_remaining_mae_min_model')} min); "
        f"max |LiteRT - numpy| {out['int8_max_abs_output_diff']}"
    )
    floats = load_model(MODEL, "numpy")
    times = latency(
        [int8, floats], held_out["x"][len(held_out["x"]) // 2], blocks, ["int8", "float"]
    )
    for name, microseconds in times.items():
        out[f"numpy_latency_us_{name}"] = round(microseconds, 2)
    print(
        "numpy interpreter, one row (predict; infer): "
        f"int8 {times['int8']:.0f} µs; {times['int8_infer']:.0f} µs, "
        f"float {times['float']:.0f} µs; {times['float_infer']:.0f} µs"
    )
    return out


if __name__ == "__main__":
    main()
