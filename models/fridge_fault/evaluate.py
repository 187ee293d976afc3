"""Choose the fridge fault detector's alarm rule on validation and measure it on held-out runs.

Runs in the test environment on the written ``fridge_fault.tflite`` (numpy
runtime unless told otherwise) and the splits ``dataset.py`` wrote; ./scripts/train
runs it after training and ``benchmarks/_models/fridge.py`` reuses it.

The rule (``AlarmRule``: ``consecutive`` hourly rows with a fault score above
``threshold``) is chosen on the validation split: the highest detection rate
with no false alarm there, ties to the shorter delay. The baseline a hub can
run without a model is the same rule on the 48-hour compressor duty alone
(its threshold chosen the same way); the fault codes the fridge reports catch
none of these faults (they report sensors, fan and heater wiring, not wear).

``python -m models.fridge_fault.evaluate [--data DIR] [--model FILE]`` prints
the rule and the held-out metrics as JSON.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
import json
from pathlib import Path
import statistics
from typing import Any, Final

import numpy as np

from custom_components.liuzhou_appliances.neural import Model, load_model
from custom_components.liuzhou_appliances.neural.fridge_fault import FAULTS, AlarmRule

HERE: Final = Path(__file__).resolve().parent
HOURS_PER_YEAR: Final = 8766.0
THRESHOLDS: Final = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
CONSECUTIVE: Final = (1, 2, 3, 4, 6, 8, 12)
DUTY_THRESHOLDS: Final = tuple(round(0.30 + 0.025 * i, 3) for i in range(27))

type Array = np.ndarray[Any, Any]


def load_split(data: Path, name: str) -> dict[str, Array]:
    """One split written by ``dataset.py``."""
    with np.load(data / f"{name}.npz") as npz:
        return {key: npz[key] for key in npz.files}


def model_scores(model: Model, split: dict[str, Array]) -> Array:
    """The model's outputs (rows, 5) for a split's rows."""
    return model.predict(split["x"])


def duty_scores(split: dict[str, Array]) -> Array:
    """The baseline's 'scores': the 48-hour duty as the score of an unnamed fault."""
    scores = np.zeros((len(split["x"]), 1 + len(FAULTS)))
    scores[:, 1] = split["x"][:, 0]
    return scores


def alarms(scores: Array, runs: Array, rule: Callable[[], AlarmRule]) -> list[str | None]:
    """The suspected fault after each row, the rule restarted for each run (rows in order)."""
    out: list[str | None] = []
    current, alarm = None, rule()
    for row, run in zip(scores, runs, strict=True):
        if run != current:
            current, alarm = run, rule()
        out.append(alarm.update(row).fault)
    return out


@dataclass(frozen=True, slots=True)
class Result:
    """What a rule did on a split."""

    detection_pct: dict[str, float]  # per fault and "all": faulty runs alarmed after onset
    identified_pct: float  # of the detected, the first alarm named the right fault
    false_alarms_per_year: float  # alarm starts on healthy rows per appliance-year observed
    median_delay_h: float  # onset to alarm, detected runs
    median_lead_h: float  # alarm to food above warm_c, runs whose food warmed
    warned_before_warm_pct: float  # of runs whose food warmed, alarmed before it
    warm_runs: int
    healthy_years: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "detection_pct": self.detection_pct,
            "identified_pct": self.identified_pct,
            "false_alarms_per_year": self.false_alarms_per_year,
            "median_delay_h": self.median_delay_h,
            "median_lead_h": self.median_lead_h,
            "warned_before_warm_pct": self.warned_before_warm_pct,
            "warm_runs": self.warm_runs,
            "healthy_years": self.healthy_years,
        }


def measure(split: dict[str, Array], suspected: list[str | None]) -> Result:
    """Detection, identification, false alarms and lead time of ``suspected`` on a split."""
    runs, y, hours = split["run"], split["y"], split["hour"]
    false_starts, healthy_hours = 0, int((y == 0).sum())
    detected: dict[str, list[bool]] = {fault: [] for fault in FAULTS}
    identified, delays, leads, before_warm = [], [], [], []
    for run in np.unique(runs):
        rows = np.flatnonzero(runs == run)
        fault_index = int(split["run_fault"][rows[0]])
        previous: str | None = None
        first: tuple[float, str] | None = None
        for i in rows:
            now = suspected[i]
            if now is not None and previous is None and y[i] == 0:
                false_starts += 1
            if now is not None and y[i] > 0 and first is None:
                first = (float(hours[i]), now)
            previous = now
        if fault_index == 0:
            continue
        kind = FAULTS[fault_index - 1]
        detected[kind].append(first is not None)
        onset, warm = float(split["onset_hour"][rows[0]]), float(split["warm_hour"][rows[0]])
        warmed = np.isfinite(warm) and warm > onset
        if first is not None:
            identified.append(first[1] == kind)
            delays.append(first[0] - onset)
        if warmed:
            alarm_h = first[0] if first is not None else np.inf
            before_warm.append(alarm_h < warm)
            if first is not None:
                leads.append(warm - alarm_h)
    every = [d for values in detected.values() for d in values]
    pct = {k: 100.0 * float(np.mean(v)) if v else float("nan") for k, v in detected.items()}
    pct["all"] = 100.0 * float(np.mean(every))
    return Result(
        detection_pct=pct,
        identified_pct=100.0 * float(np.mean(identified)) if identified else float("nan"),
        false_alarms_per_year=false_starts / (healthy_hours / HOURS_PER_YEAR),
        median_delay_h=statistics.median(delays) if delays else float("nan"),
        median_lead_h=statistics.median(leads) if leads else float("nan"),
        warned_before_warm_pct=100.0 * float(np.mean(before_warm)) if before_warm else 0.0,
        warm_runs=len(before_warm),
        healthy_years=healthy_hours / HOURS_PER_YEAR,
    )


def choose(
    split: dict[str, Array], scores: Array, thresholds: Sequence[float]
) -> tuple[AlarmRule, Result]:
    """The rule with the best detection and no false alarm on ``split`` (validation)."""
    best: tuple[tuple[float, float], AlarmRule, Result] | None = None
    for threshold in thresholds:
        for consecutive in CONSECUTIVE:

            def rule(t: float = threshold, n: int = consecutive) -> AlarmRule:
                return AlarmRule(threshold=t, consecutive=n)

            result = measure(split, alarms(scores, split["run"], rule))
            if result.false_alarms_per_year > 0:
                continue
            key = (result.detection_pct["all"], -result.median_delay_h)
            if best is None or key > best[0]:
                best = (key, rule(), result)
    if best is None:
        raise RuntimeError("no rule is free of false alarms on validation")
    return best[1], best[2]


def evaluate(data: Path, model_path: Path) -> dict[str, Any]:
    """``evaluate_splits`` on the written splits and file (numpy runtime)."""
    model = load_model(model_path, "numpy")
    return evaluate_splits(model, load_split(data, "validation"), load_split(data, "test"))


def evaluate_splits(
    model: Model,
    validation: dict[str, Array],
    test: dict[str, Array],
    shipped: AlarmRule | None = None,
) -> dict[str, Any]:
    """The rules chosen on ``validation`` and their results on ``test``, model and baseline.

    With ``shipped`` the model's rule is that one (the benchmark measures what ships),
    not chosen again; the baseline's is always chosen on ``validation``.
    """
    validation_scores = model_scores(model, validation)
    if shipped is None:
        rule, on_validation = choose(validation, validation_scores, THRESHOLDS)
    else:
        rule = shipped
        on_validation = measure(
            validation,
            alarms(
                validation_scores,
                validation["run"],
                lambda: AlarmRule(shipped.threshold, shipped.consecutive),
            ),
        )
    duty_rule, _ = choose(validation, duty_scores(validation), DUTY_THRESHOLDS)

    def model_rule() -> AlarmRule:
        return AlarmRule(rule.threshold, rule.consecutive)

    def baseline_rule() -> AlarmRule:
        return AlarmRule(duty_rule.threshold, duty_rule.consecutive)

    held_out = measure(test, alarms(model_scores(model, test), test["run"], model_rule))
    baseline = measure(test, alarms(duty_scores(test), test["run"], baseline_rule))
    return {
        "rule": {"threshold": rule.threshold, "consecutive": rule.consecutive},
        "validation": on_validation.as_dict(),
        "test": held_out.as_dict(),
        "baseline_rule": {"duty": duty_rule.threshold, "consecutive": duty_rule.consecutive},
        "baseline_test": baseline.as_dict(),
        "runtime": model.runtime,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Print the evaluation as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--model", type=Path, default=HERE / "fridge_fault.tflite")
    args = parser.parse_args(argv)
    print(json.dumps(evaluate(args.data, args.model), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
