"""The load in a washer or dishwasher changes how long heating takes and what a run uses."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.simulators import DishwasherSimulator, WasherSimulator, create_simulator
from firmware_bridge.simulators.dishwasher import (
    DISHWASHER_MACHINE,
    LOAD_J_PER_K,
    PROGRAMMES_BY_ID as DISHWASHER_RECIPES,
    dishwasher_load_j_per_k,
)
from firmware_bridge.simulators.washer import (
    PROGRAMMES_BY_ID as WASHER_RECIPES,
    WASHER_MACHINE,
    washer_plan,
)
from firmware_bridge.simulators.wet_cycle import simulate_cycle


def _washer_run(load_kg: float | None, inlet_c: float = 15.0) -> tuple[float, float]:
    steps, load = washer_plan(WASHER_RECIPES["cotton"], "60", 1400, "normal", load_kg)
    records = simulate_cycle(steps, WASHER_MACHINE, load, inlet_c=inlet_c, ambient_c=23.0)
    return sum(r.seconds for r in records), sum(r.joules for r in records) / 3.6e6


def test_a_smaller_washer_load_heats_faster_and_uses_less() -> None:
    full_s, full_kwh = _washer_run(None)
    assert (full_s, full_kwh) == _washer_run(8.0)  # the rated load is the declared case
    half_s, half_kwh = _washer_run(4.0)
    assert full_s - half_s > 120  # less water and laundry to heat by 45 K
    assert 0.1 < full_kwh - half_kwh < 0.5


def test_warm_inlet_water_shortens_a_hot_wash() -> None:
    winter_s, winter_kwh = _washer_run(8.0, inlet_c=12.0)
    summer_s, summer_kwh = _washer_run(8.0, inlet_c=28.0)
    # 13 L at 16 K less to heat (the drum starts at room temperature either way).
    assert winter_s - summer_s > 300
    assert winter_kwh - summer_kwh > 0.2


def test_dishwasher_load_fraction() -> None:
    assert dishwasher_load_j_per_k(1.0) == LOAD_J_PER_K
    steps = DISHWASHER_RECIPES["intensive"].steps
    full, light = (
        simulate_cycle(
            steps, DISHWASHER_MACHINE, dishwasher_load_j_per_k(f), inlet_c=15.0, ambient_c=23.0
        )
        for f in (1.0, 0.3)
    )
    assert sum(r.seconds for r in full) - sum(r.seconds for r in light) > 120
    assert sum(r.joules for r in full) > sum(r.joules for r in light)


def test_simulators_take_the_load() -> None:
    washer = create_simulator(ApplianceType.LAUNDRY_WASHER, load_kg=3.0)
    assert isinstance(washer, WasherSimulator)
    assert washer.plan()[1] == washer_plan(washer.recipe, "40", 1400, "normal", 3.0)[1]
    dishwasher = create_simulator(ApplianceType.DISHWASHER, load_fraction=0.5)
    assert isinstance(dishwasher, DishwasherSimulator)
    assert dishwasher.plan()[1] == dishwasher_load_j_per_k(0.5)


@pytest.mark.parametrize(
    ("appliance_type", "option"),
    [
        (ApplianceType.LAUNDRY_WASHER, {"load_kg": 9.0}),
        (ApplianceType.DISHWASHER, {"load_fraction": -0.1}),
    ],
)
def test_impossible_loads_are_refused(
    appliance_type: ApplianceType, option: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="load"):
        create_simulator(appliance_type, **option)
