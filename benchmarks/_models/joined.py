"""A run the hub joined half way: the hub's remaining time and energy against the countdown.

Each run (the settings of ``appliance._setting``: appliance, programme,
options, load, day of the year) runs on a simulated washer or dishwasher
whose firmware has no model (``remaining="declared"``: it counts down the
declared profile). Hub predictors (``WetCyclePredictor`` with the shipped
float file on the numpy interpreter) see its values every 30 simulated
seconds: one from the start (the run followed) and one per join moment (10,
30 and 60 minutes in; a new hub, or a restart too long for the kept run),
seeing nothing before it. From each join on, every five minutes, the
remaining time and energy of (a) the appliance's countdown with the declared
profile's energy (what the hub showed before it answered joined runs),
(b) the joined predictor and (c) the predictor that followed the run from its
start are compared with what the run really took and used from there. A
simpler estimate is measured next to them: (whole) the model's answer for the
whole run at its settings (``planning_programme``), less the time elapsed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np

from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural import Model
from custom_components.liuzhou_appliances.neural.wet_cycle import declared_remaining
from custom_components.liuzhou_appliances.wet_cycle_prediction import WetCyclePredictor
from firmware_bridge.simulators import create_simulator
from firmware_bridge.simulators.wet_cycle import WetApplianceSimulator

from .appliance import _setting

JOIN_MIN: Final = (10, 30, 60)
TICK_S: Final = 30.0
SAMPLE_S: Final = 300.0
SEED_BASE: Final = 710_000
LABELS: Final = ("declared", "joined", "whole", "followed")


def _run(seed: int, model: Model) -> tuple[str, list[tuple[int, str, float, float]]]:
    """One run: (appliance, [(join minute, label, |time error| min, |energy error| kWh)])."""
    kind, options, settings = _setting(seed)
    dishwasher = kind is ApplianceType.DISHWASHER
    sim = create_simulator(kind, seed=seed, remaining="declared", **options)
    assert isinstance(sim, WetApplianceSimulator)
    for key, value in settings.items():
        sim.write(key, value)
    start: datetime = options["start"]
    followed = WetCyclePredictor(sim.declaration, dishwasher=dishwasher)
    followed.set_model(model)
    followed.update(sim.values(), 0.0, start)
    sim.command("start", {})
    joined: dict[int, WetCyclePredictor] = {}
    # (join minute, elapsed s, kWh so far, estimates by label)
    samples: list[tuple[int, float, float, dict[str, tuple[float, float | None]]]] = []
    next_sample = {minutes: minutes * 60.0 for minutes in JOIN_MIN}
    while sim.operational_state == "running":
        sim.step(TICK_S)
        now, values = sim.elapsed_s, sim.values()
        moment = start + timedelta(seconds=now)
        followed.update(values, now, moment)
        for minutes in JOIN_MIN:
            if now >= minutes * 60.0 and minutes not in joined:
                joined[minutes] = WetCyclePredictor(sim.declaration, dishwasher=dishwasher)
                joined[minutes].set_model(model)
            if minutes in joined:
                joined[minutes].update(values, now, moment)
            if minutes in joined and now >= next_sample[minutes] and values["phase"] != "idle":
                next_sample[minutes] += SAMPLE_S
                programme = sim.declaration.programme(str(values["programme"]))
                countdown = float(values["remaining_time"])  # type: ignore[arg-type]
                elapsed = max(programme.duration_s - countdown, 0.0)
                whole, _ = followed.planning_programme(programme, values, moment)
                estimates: dict[str, tuple[float, float | None]] = {
                    "declared": (countdown, declared_remaining(programme, elapsed)[1]),
                    "whole": declared_remaining(whole, elapsed),
                }
                for label, predictor in (("joined", joined[minutes]), ("followed", followed)):
                    estimate = predictor.estimate
                    assert estimate is not None
                    estimates[label] = (estimate.remaining_s, estimate.remaining_kwh)
                samples.append((minutes, now, sim.energy_kwh, estimates))
    end_s, end_kwh = sim.elapsed_s, sim.energy_kwh
    out = []
    for minutes, at, kwh, estimates in samples:
        for label, (seconds, left_kwh) in estimates.items():
            energy_error = abs((left_kwh or 0.0) - (end_kwh - kwh))
            out.append((minutes, label, abs(seconds - (end_s - at)) / 60.0, energy_error))
    return ("dishwasher" if dishwasher else "washer"), out


def measure(runs: int, model: Model) -> dict[str, Any]:
    """Mean absolute remaining-time (min) and energy (kWh) errors of runs joined 10, 30
    and 60 minutes in, per appliance and join moment, over ``runs`` simulated runs."""
    errors: dict[tuple[str, int, str], list[tuple[float, float]]] = {}
    for n in range(runs):
        name, rows = _run(SEED_BASE + n, model)
        for minutes, label, minute_error, kwh_error in rows:
            errors.setdefault((name, minutes, label), []).append((minute_error, kwh_error))
    print(f"\na run joined half way ({runs} runs, every 5 min from the join; min | kWh):")
    print(f"  {'appliance':<11}{'join':>5}{'samples':>8}" + "".join(f"{s:>18}" for s in LABELS))
    out: dict[str, Any] = {}
    for name in ("washer", "dishwasher"):
        for minutes in JOIN_MIN:
            if (name, minutes, "joined") not in errors:
                continue
            means = {label: np.mean(errors[name, minutes, label], axis=0) for label in LABELS}
            count = len(errors[name, minutes, "joined"])
            print(
                f"  {name:<11}{minutes:>4}m{count:>8}"
                + "".join(f"{means[s][0]:>9.2f} |{means[s][1]:>6.3f}" for s in LABELS)
            )
            for label in LABELS:
                key = f"joined_{minutes}min_{name}"
                out[f"{key}_remaining_mae_min_{label}"] = round(float(means[label][0]), 3)
                out[f"{key}_energy_mae_kwh_{label}"] = round(float(means[label][1]), 4)
    return out
