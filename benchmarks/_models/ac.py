"""Models benchmark, AC part: the room thermal model and the predictive controller it drives.

- quality: on held-out rows (other rooms, a weather year never trained on) the
  model's error over one 15-minute step against persistence (no change, the
  last step's power), and over a 4-hour open-loop rollout (the model fed its
  own predictions, as the controller uses it) against persistence;
- runtimes: the largest |LiteRT - numpy| on those rows and the time of one
  ``infer`` of one row and of a 64-row block (the controller's batch) on each;
- control: the hotel floor of the energy benchmark (commercial time-of-use,
  summer and winter) with the baseline, fuzzy, predictive controllers and the
  oracle: the predictive controller's share of the oracle's savings and its
  comfort violation against the baseline's.
"""

from __future__ import annotations

from datetime import datetime
import math
from pathlib import Path
import time
from typing import Any

import numpy as np

from benchmarks._energy.ac import hotel_schedule, run_site
from custom_components.liuzhou_appliances.energy.ac import ComfortPreset
from custom_components.liuzhou_appliances.energy.tariff_presets import guangxi_commercial_tou
from custom_components.liuzhou_appliances.neural import Model, litert_available, load_model
from custom_components.liuzhou_appliances.neural.room_thermal import (
    HISTORY_STEPS,
    HOUR_STEPS,
    BatchRollout,
    RoomHistory,
)
from models.room_thermal import dataset

MODEL = Path(__file__).resolve().parents[2] / "models" / "room_thermal" / "room_thermal.tflite"
ROLLOUT_STEPS = 16  # 4 hours
SEED = 7


def _rollout_errors(model: Model, held_out: dict[str, Any]) -> dict[str, float]:
    """Mean |error| of the room temperature after ROLLOUT_STEPS open-loop steps."""
    x, y, runs = held_out["x"], held_out["y"], held_out["run"]
    model_errors, persistence_errors = [], []
    for run in np.unique(runs):
        rows = np.flatnonzero(runs == run)
        starts = rows[: len(rows) - ROLLOUT_STEPS : 8]
        for start in starts:
            first = x[start]
            room = float(first[12])
            # A history with the start row's columns: the temperatures 15 min, 1 h and 3 h
            # ago, the last step's power, the hour's and the 3 hours' means and the slow
            # averages (the other entries are not read).
            hour = max(0.0, (4 * float(first[17]) - float(first[16])) / 3)
            before = max(0.0, (12 * float(first[19]) - 4 * float(first[17])) / 8)
            three_hours_ago = room - float(first[18])
            temperatures = [three_hours_ago] * (HISTORY_STEPS + 1)
            temperatures[-1 - HOUR_STEPS] = room - float(first[15])
            temperatures[-2] = room - float(first[14])
            temperatures[-1] = room
            history = RoomHistory(
                tuple(temperatures),
                (float(first[13]),) * (HISTORY_STEPS + 1),
                (before,) * (HISTORY_STEPS - HOUR_STEPS)
                + (hour,) * (HOUR_STEPS - 1)
                + (float(first[16]),),
                room - float(first[20]),
                float(first[21]),
            )
            rollout = BatchRollout(history, 1)
            for k in range(ROLLOUT_STEPS):
                row = x[start + k]
                angle = math.atan2(row[10], row[11])
                rows_in = rollout.rows(
                    row[None, :8].astype(np.float64),
                    outdoor_temperature=float(row[8]),
                    outdoor_humidity=float(row[9]),
                    seconds_of_day=(angle % (2 * math.pi)) / (2 * math.pi) * 86400,
                )
                rollout.advance(model.infer(rows_in))
            truth = room + float(y[start : start + ROLLOUT_STEPS, 0].sum())
            model_errors.append(abs(float(rollout.temperature[0]) - truth))
            persistence_errors.append(abs(room - truth))
    return {
        "rollout_4h_temperature_mae_k_model": float(np.mean(model_errors)),
        "rollout_4h_temperature_mae_k_persistence": float(np.mean(persistence_errors)),
    }


def _latency(models: list[Model], rows: np.ndarray[Any, Any], repeats: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for size in (1, 64):
        batch = models[0].check(rows[:size])
        for model in models:
            model.infer(batch)
        samples: dict[str, list[float]] = {m.runtime: [] for m in models}
        for _ in range(20):
            for model in models:
                started = time.perf_counter()
                for _ in range(repeats):
                    model.infer(batch)
                samples[model.runtime].append((time.perf_counter() - started) / repeats)
        for runtime, times in samples.items():
            out[f"room_thermal_latency_us_{runtime}_{size}"] = float(np.median(times) * 1e6)
    return out


def _control(quick: bool) -> dict[str, float]:
    days, rooms = (1, 2) if quick else (3, 4)
    model = load_model(MODEL)
    seasons = (
        (datetime(2026, 7, 15), "cool", 26.0),
        (datetime(2026, 1, 12), "heat", 20.0),
    )
    totals: dict[str, list[float]] = {}
    for start, mode, setpoint in seasons:
        site = run_site(
            seed=SEED,
            rooms=[(i + 1, hotel_schedule(start, days, i)) for i in range(rooms)],
            start=start,
            days=days,
            mode=mode,  # type: ignore[arg-type]
            setpoint=setpoint,
            tariff=guangxi_commercial_tou(),
            presets=(ComfortPreset.BALANCED,),
            thermal_model=model,
        )
        for name, result in site.items():
            cost, violation = totals.setdefault(name, [0.0, 0.0])
            totals[name] = [cost + result.cost, violation + result.violation_kh]
    base, oracle = totals["baseline"][0], totals["oracle"][0]

    def share(name: str) -> float:
        return 100.0 * (base - totals[name][0]) / (base - oracle) if base > oracle else math.nan

    return {
        "ac_predictive_oracle_share_pct": round(share("predictive"), 2),
        "ac_fuzzy_oracle_share_pct": round(share(str(ComfortPreset.BALANCED)), 2),
        "ac_predictive_comfort_violation_kh": round(totals["predictive"][1], 3),
        "ac_baseline_comfort_violation_kh": round(totals["baseline"][1], 3),
        "ac_control_days": days,
        "ac_control_rooms": rooms,
    }


def ac_section(quick: bool) -> dict[str, Any]:
    """Run the AC part, print its table and return its JSON keys."""
    held_out = dataset.build("test", limit=4 if quick else 20)
    numpy_model = load_model(MODEL, "numpy")
    # Rows outside the trained ranges are refused in use (the controller falls back to
    # fuzzy control): measured on the rest, the refused share reported.
    low = np.array([f.minimum for f in numpy_model.inputs])
    high = np.array([f.maximum for f in numpy_model.inputs])
    inside = np.all((held_out["x"] >= low) & (held_out["x"] <= high), axis=1)
    refused = int((~inside).sum())
    rollouts = held_out  # consecutive rows of each run (rolled with infer: no range checks)
    held_out = {key: value[inside] for key, value in held_out.items()}
    predicted = numpy_model.predict(held_out["x"])
    model_mae = np.abs(predicted - held_out["y"]).mean(axis=0)
    persistence_mae = np.abs(held_out["baseline"] - held_out["y"]).mean(axis=0)
    out: dict[str, Any] = {
        "room_thermal_rows": len(held_out["x"]),
        "room_thermal_rows_outside_trained_range": refused,
        "room_thermal_temperature_mae_k_model": round(float(model_mae[0]), 4),
        "room_thermal_temperature_mae_k_persistence": round(float(persistence_mae[0]), 4),
        "room_thermal_humidity_mae_pct_model": round(float(model_mae[1]), 3),
        "room_thermal_humidity_mae_pct_persistence": round(float(persistence_mae[1]), 3),
        "room_thermal_power_mae_kw_model": round(float(model_mae[2]), 4),
        "room_thermal_power_mae_kw_persistence": round(float(persistence_mae[2]), 4),
    }
    out.update({k: round(v, 4) for k, v in _rollout_errors(numpy_model, rollouts).items()})
    models = [numpy_model]
    if litert_available():
        litert_model = load_model(MODEL, "litert")
        models.append(litert_model)
        diff = np.abs(litert_model.predict(held_out["x"]) - predicted)
        out["room_thermal_max_abs_output_diff"] = float(diff.max())
    out.update({k: round(v, 2) for k, v in _latency(models, held_out["x"], 200).items()})
    if litert_available():
        out["room_thermal_numpy_vs_litert_latency_ratio"] = round(
            out["room_thermal_latency_us_numpy_1"] / out["room_thermal_latency_us_litert_1"], 3
        )
    out.update(_control(quick))
    print()
    print(f"room_thermal ({MODEL.stat().st_size} B) on {out['room_thermal_rows']} held-out rows:")
    print(f"{'15-min step MAE':<34}{'model':>10}{'persistence':>13}")
    for label, key, unit in (
        ("temperature change", "temperature_mae_k", "K"),
        ("humidity change", "humidity_mae_pct", "%"),
        ("power", "power_mae_kw", "kW"),
    ):
        print(
            f"{label + ' (' + unit + ')':<34}{out[f'room_thermal_{key}_model']:>10}"
            f"{out[f'room_thermal_{key}_persistence']:>13}"
        )
    print(
        f"{'temperature after 4 h open loop (K)':<34}"
        f"{out['rollout_4h_temperature_mae_k_model']:>10}"
        f"{out['rollout_4h_temperature_mae_k_persistence']:>13}"
    )
    for key, value in out.items():
        if "latency" in key or "diff" in key:
            print(f"  {key}: {value}")
    print(
        f"hotel floor ({out['ac_control_rooms']} rooms, {out['ac_control_days']} day(s) per "
        f"season): predictive {out['ac_predictive_oracle_share_pct']} % of the oracle's savings "
        f"(fuzzy {out['ac_fuzzy_oracle_share_pct']} %), comfort violation "
        f"{out['ac_predictive_comfort_violation_kh']} K·h "
        f"(baseline {out['ac_baseline_comfort_violation_kh']})"
    )
    return out
