"""Physical faults of the fridge-freezer change the physics the way the real faults do."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from firmware_bridge.simulators.fridge_faults import PhysicalFault, effects_at
from firmware_bridge.simulators.refrigerator import FridgeModel, FridgeParameters

KITCHEN_C = 28.0
DAY_S = 86400.0


@dataclass
class Run:
    """What a day-by-day run measured: duty (0-1), energy (kWh), mean on-power (W) per day."""

    duty: list[float]
    kwh: list[float]
    on_power_w: list[float]
    defrost_power_w: list[float]
    fridge_max_c: float


def _run(*faults: PhysicalFault, days: int = 3) -> Run:
    model = FridgeModel(FridgeParameters(), has_freezer=True, ambient_c=KITCHEN_C)
    model.physical_faults = faults
    result = Run([], [], [], [], -99.0)
    for _ in range(days):
        run0, joules, on_j, on_s, defrost_j, defrost_s = model.run_s, 0.0, 0.0, 0.0, 0.0, 0.0
        for _ in range(round(DAY_S / 10.0)):
            used = model.advance(10.0, ambient_c=KITCHEN_C, door_open_s=0.0, openings=0)
            joules += used
            if model.compressor_on:
                on_j, on_s = on_j + used, on_s + 10.0
            if model.defrosting:
                defrost_j, defrost_s = defrost_j + used, defrost_s + 10.0
            result.fridge_max_c = max(result.fridge_max_c, model.fridge_contents_c)
        result.duty.append((model.run_s - run0) / DAY_S)
        result.kwh.append(joules / 3.6e6)
        result.on_power_w.append(on_j / on_s)
        result.defrost_power_w.append(defrost_j / defrost_s if defrost_s else 0.0)
    return result


@pytest.fixture(scope="module")
def healthy() -> Run:
    return _run()


def test_no_effect_before_onset() -> None:
    fault = PhysicalFault("condenser", 1.0, onset_s=DAY_S)
    assert effects_at([fault], DAY_S - 1).capacity == 1.0
    assert effects_at([fault], DAY_S).capacity < 1.0


def test_bad_faults_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        PhysicalFault("fan", 0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="severity"):
        PhysicalFault("condenser", 1.5)
    with pytest.raises(ValueError, match="onset"):
        PhysicalFault("condenser", 0.5, onset_s=-1.0)


def test_door_seal_leak_runs_the_compressor_longer(healthy: Run) -> None:
    leak = _run(PhysicalFault("door_seal", 0.6))
    assert leak.duty[-1] > healthy.duty[-1] * 1.3
    assert leak.kwh[-1] > healthy.kwh[-1] * 1.3
    # The compressor itself is unchanged: the same power while it runs.
    assert leak.on_power_w[-1] == pytest.approx(healthy.on_power_w[-1], rel=0.02)


def test_a_worse_seal_leaks_more() -> None:
    assert (
        _run(PhysicalFault("door_seal", 1.0), days=1).duty[0]
        > _run(PhysicalFault("door_seal", 0.3), days=1).duty[0]
    )


def test_blocked_condenser_draws_more_power_for_longer(healthy: Run) -> None:
    blocked = _run(PhysicalFault("condenser", 1.0))
    assert blocked.on_power_w[-1] > healthy.on_power_w[-1] * 1.2
    assert blocked.duty[-1] > healthy.duty[-1] * 1.2


def test_weakening_compressor_gets_worse_by_the_day(healthy: Run) -> None:
    weak = _run(PhysicalFault("compressor", 1.0), days=4)
    assert weak.duty[0] < weak.duty[1] < weak.duty[2] < weak.duty[3]
    assert weak.duty[3] > healthy.duty[-1] * 1.4
    assert weak.on_power_w[3] < healthy.on_power_w[-1]  # less gas pumped


def test_failed_defrost_ices_the_evaporator(healthy: Run) -> None:
    iced = _run(PhysicalFault("defrost", 1.0), days=4)
    # Without the heater the defrost draws only the electronics ...
    assert max(iced.defrost_power_w) < 10.0 < min(p for p in healthy.defrost_power_w if p)
    # ... and the frost stays: the compressor needs more of the day, day after day.
    assert iced.duty[1] < iced.duty[2] < iced.duty[3]
    assert iced.duty[3] > max(healthy.duty) * 1.15
