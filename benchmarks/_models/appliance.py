"""The appliance's own remaining time: what a simulated washer or dishwasher reports.

Each run draws its setting from a seed (appliance, programme, washer options
and load, dishwasher rack load, season and day), then runs the same programme
four times, with ``remaining_time`` from the wet_cycle model on the run the
appliance observed (the float file of a Linux-class network module, and the
int8 file of an MCU-class one), from the declared profile (a firmware without
a model), and from the exact physics (the oracle). Every five simulated minutes of the
run the reported value is compared with the time the run really took from
there. Runs use other seeds than any training split (the simulators' own
climate, not the dataset's weather years).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np

from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.models import ModuleClass, RemainingSource
from firmware_bridge.simulators import create_simulator
from firmware_bridge.simulators.dishwasher import DISHWASHER_PROGRAMMES
from firmware_bridge.simulators.washer import WASHER_PROGRAMMES
from firmware_bridge.simulators.wet_cycle import WetApplianceSimulator

# What answers, as (column, remaining source, network module class).
VARIANTS: Final = (
    ("model", RemainingSource.MODEL, ModuleClass.LINUX),
    ("model_mcu", RemainingSource.MODEL, ModuleClass.MCU),
    ("declared", RemainingSource.DECLARED, ModuleClass.LINUX),
    ("physics", RemainingSource.PHYSICS, ModuleClass.LINUX),
)
SAMPLE_S: Final = 300.0
STEP_S: Final = 10.0
SEED_BASE: Final = 700_000


def _setting(seed: int) -> tuple[ApplianceType, dict[str, Any], dict[str, str]]:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1, 8) + timedelta(days=float(rng.uniform(0, 365)))
    if rng.random() < 0.5:
        recipe = DISHWASHER_PROGRAMMES[int(rng.integers(len(DISHWASHER_PROGRAMMES)))]
        options = {"start": start, "load_fraction": float(rng.uniform(0.3, 1.0))}
        return ApplianceType.DISHWASHER, options, {"programme": recipe.id}
    washer = WASHER_PROGRAMMES[int(rng.integers(len(WASHER_PROGRAMMES)))]
    spins = [rpm for rpm in (0, 400, 800, 1000, 1200, 1400) if rpm <= washer.max_spin]
    settings = {
        "programme": washer.id,
        "water_temperature": str(rng.choice(washer.temperatures)),
        "spin_speed": str(rng.choice(spins)),
        "rinses": str(rng.choice(["none", "normal", "extra", "max"], p=[0.1, 0.6, 0.2, 0.1])),
    }
    options = {"start": start, "load_kg": float(rng.uniform(0.3, 1.0) * washer.load_kg)}
    return ApplianceType.LAUNDRY_WASHER, options, settings


def _errors_min(
    kind: ApplianceType,
    options: dict[str, Any],
    settings: dict[str, str],
    source: RemainingSource,
    module: ModuleClass,
    seed: int,
) -> list[float]:
    machine = create_simulator(kind, seed=seed, remaining=source, module=module, **options)
    assert isinstance(machine, WetApplianceSimulator)
    for key, value in settings.items():
        machine.write(key, value)
    machine.command("start", {})
    samples: list[tuple[float, float]] = []
    next_sample = 0.0
    while machine.operational_state == "running":
        if machine.elapsed_s >= next_sample:
            samples.append((machine.elapsed_s, float(machine.values()["remaining_time"])))  # type: ignore[arg-type]
            next_sample += SAMPLE_S
        machine.step(STEP_S)
    end = machine.elapsed_s
    return [abs(reported - (end - at)) / 60.0 for at, reported in samples]


def measure(runs: int) -> dict[str, float]:
    """Mean absolute remaining-time error (min) per appliance and variant over ``runs`` runs."""
    errors: dict[tuple[str, str], list[float]] = {}
    for n in range(runs):
        seed = SEED_BASE + n
        kind, options, settings = _setting(seed)
        name = "washer" if kind is ApplianceType.LAUNDRY_WASHER else "dishwasher"
        for label, source, module in VARIANTS:
            errors.setdefault((name, label), []).extend(
                _errors_min(kind, options, settings, source, module, seed)
            )
    print(f"\nremaining_time reported by the simulated appliances ({runs} runs, every 5 min):")
    labels = [label for label, _, _ in VARIANTS]
    print(f"  {'appliance':<12}{'samples':>8}" + "".join(f"{s + ' min':>16}" for s in labels))
    out: dict[str, float] = {}
    for name in ("washer", "dishwasher"):
        if (name, "model") not in errors:
            continue
        row = [float(np.mean(errors[name, label])) for label in labels]
        count = len(errors[name, "model"])
        print(f"  {name:<12}{count:>8}" + "".join(f"{value:>16.2f}" for value in row))
        for label, value in zip(labels, row, strict=True):
            out[f"appliance_{name}_remaining_mae_min_{label}"] = round(value, 3)
    return out
