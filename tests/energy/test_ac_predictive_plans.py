"""Candidate AC plans: the family's shape, and that each plan's fan speed reaches the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from custom_components.liuzhou_appliances.energy.ac_plans import (
    EMPTY_STEPS,
    PRE_RISE_STEPS,
    PRE_RISE_STEPS_COOLING,
    Calibration,
    Horizon,
    candidate_plans,
    evaluate_plans,
    horizon_from,
)
from custom_components.liuzhou_appliances.neural import Model, load_model
from custom_components.liuzhou_appliances.neural.room_thermal import HISTORY_STEPS, RoomHistory

MODEL = Path(__file__).resolve().parents[2] / "models" / "room_thermal" / "room_thermal.tflite"
STEPS = 16  # four hours


@pytest.fixture(scope="module")
def model() -> Model:
    """The shipped room thermal model on the numpy runtime."""
    return load_model(MODEL, "numpy")


def _horizon() -> Horizon:
    # Occupied throughout, cheap for two hours then three times dearer.
    return horizon_from(
        occupied=[True] * STEPS,
        price=[0.4] * 8 + [1.2] * 8,
        outdoor=[33.0] * STEPS,
        outdoor_humidity=[65.0] * STEPS,
        seconds_of_day=[14 * 3600.0 + 900.0 * k for k in range(STEPS)],
    )


def test_each_fan_speed_gets_the_whole_family() -> None:
    horizon = _horizon()
    one = candidate_plans(horizon, setpoint=26.0, direction=1.0, allowed_k=1.0)
    two = candidate_plans(
        horizon, setpoint=26.0, direction=1.0, allowed_k=1.0, fans=("auto", "high")
    )
    assert one.fan == ("auto",) * one.count
    assert two.count == 2 * one.count
    assert two.fan == ("auto",) * one.count + ("high",) * one.count
    for half in (slice(0, one.count), slice(one.count, None)):
        np.testing.assert_array_equal(two.on[half], one.on)
        np.testing.assert_array_equal(two.setpoint[half], one.setpoint)
    # Setpoints stay inside the band less the swing, on the 0.5 K grid.
    assert one.setpoint.min() >= 25.0
    assert one.setpoint.max() <= 27.0
    np.testing.assert_array_equal(one.setpoint * 2, np.round(one.setpoint * 2))


def test_the_fan_speed_changes_the_predicted_power(model: Model) -> None:
    horizon = _horizon()
    plans = candidate_plans(
        horizon, setpoint=26.0, direction=1.0, allowed_k=1.0, fans=("low", "high")
    )
    history = RoomHistory(
        temperatures=(27.0,) * (HISTORY_STEPS + 1),
        humidities=(60.0,) * (HISTORY_STEPS + 1),
        powers=(0.5,) * HISTORY_STEPS,
    )
    costs = evaluate_plans(
        plans,
        horizon,
        history,
        lambda rows: model.infer(rows),
        mode="cool",
        setpoint=26.0,
        band_half_k=1.5,
        calibration=Calibration(),
    )
    half = plans.count // 2
    low, high = costs.energy_cost[:half], costs.energy_cost[half:]
    assert np.all(np.isfinite(costs.total))
    # Same on/setpoint schedule, different fan: the model is told, so the costs differ.
    assert np.abs(low - high).max() > 1e-3


def test_the_off_peak_fan_runs_below_the_dearest_price_and_reaches_the_model() -> None:
    horizon = _horizon()  # 0.4 for two hours, then 1.2
    plans = candidate_plans(
        horizon, setpoint=26.0, direction=1.0, allowed_k=1.0, fans=("medium",), off_peak_fan="auto"
    )
    assert plans.fan_at(0, 0) == plans.fan_at(0, 7) == "auto"
    assert plans.fan_at(0, 8) == plans.fan_at(0, STEPS - 1) == "medium"
    np.testing.assert_array_equal(plans.fan_levels()[:, 7], np.zeros(plans.count))
    np.testing.assert_array_equal(plans.fan_levels()[:, 8], np.full(plans.count, 2.0))
    # The model is told each step's fan: the off-peak steps' rows differ from medium's.
    seen: list[np.ndarray] = []  # type: ignore[type-arg]

    def record(rows: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        seen.append(rows[:, 7].copy())
        return np.tile(np.array([0.0, 0.0, 0.3], dtype=np.float32), (len(rows), 1))

    history = RoomHistory(
        temperatures=(26.0,) * (HISTORY_STEPS + 1),
        humidities=(60.0,) * (HISTORY_STEPS + 1),
        powers=(0.3,) * HISTORY_STEPS,
    )
    evaluate_plans(
        plans,
        horizon,
        history,
        record,
        mode="cool",
        setpoint=26.0,
        band_half_k=1.5,
        calibration=Calibration(),
    )
    on = plans.on[:, 0]
    assert on.all()
    assert {float(v) for step in seen[:8] for v in step} == {0.0}
    assert {float(v) for step in seen[8:] for v in step} == {2.0}
    # A flat price has no off-peak step; an unknown fan is refused.
    flat = horizon_from(
        occupied=[True] * 4,
        price=[0.6] * 4,
        outdoor=[33.0] * 4,
        outdoor_humidity=[65.0] * 4,
        seconds_of_day=[900.0 * k for k in range(4)],
    )
    same = candidate_plans(
        flat, setpoint=26.0, direction=1.0, allowed_k=1.0, fans=("medium",), off_peak_fan="auto"
    )
    assert {same.fan_at(0, k) for k in range(4)} == {"medium"}
    with pytest.raises(ValueError, match="'turbo' is not one of"):
        candidate_plans(horizon, setpoint=26.0, direction=1.0, allowed_k=1.0, off_peak_fan="turbo")


def test_the_dear_hours_are_never_cooler_than_the_cheap_ones() -> None:
    # Occupied throughout, cheap for three hours then three times dearer for two.
    horizon = horizon_from(
        occupied=[True] * 20,
        price=[0.4] * 12 + [1.2] * 8,
        outdoor=[33.0] * 20,
        outdoor_humidity=[65.0] * 20,
        seconds_of_day=[14 * 3600.0 + 900.0 * k for k in range(20)],
    )
    dear = horizon.price > 1.0
    for direction, setpoint, pre_rise in (
        (1.0, 26.0, PRE_RISE_STEPS_COOLING),
        (-1.0, 20.0, PRE_RISE_STEPS),
    ):
        # The last cheap steps before the rise are pre-conditioning at the band's tight edge
        # in every plan (see test_every_plan_pre_conditions_before_an_occupied_price_rise).
        cheap = horizon.price < 1.0
        cheap[12 - pre_rise : 12] = False
        plans = candidate_plans(horizon, setpoint=setpoint, direction=direction, allowed_k=1.0)
        assert np.all(plans.setpoint[:, 12 - pre_rise : 12] == setpoint - direction)
        assert len(set(plans.setpoint[:, 11 - pre_rise])) > 1  # before them: each plan's own
        relax_cheap = direction * (plans.setpoint[:, cheap] - setpoint)
        relax_dear = direction * (plans.setpoint[:, dear] - setpoint)
        # One setpoint per price level within a plan; relaxed at least as far when dear.
        assert np.all(relax_cheap == relax_cheap[:, :1])
        assert np.all(relax_dear == relax_dear[:, :1])
        assert np.all(relax_dear[:, 0] >= relax_cheap[:, 0])
        # Pre-cooling (or pre-heating) in the cheap hours is still among the plans, with
        # the dear hours relaxed to the edge.
        pairs = set(zip(relax_cheap[:, 0], relax_dear[:, 0], strict=True))
        assert (-1.0, 1.0) in pairs
        assert (0.0, 0.0) in pairs
        assert (1.0, 0.0) not in pairs


def test_three_price_levels_get_their_own_setpoints_in_price_order() -> None:
    # Valley, flat, then peak, three hours each, occupied throughout (each block's first
    # steps: its last PRE_RISE_STEPS_COOLING pre-condition for the next).
    horizon = horizon_from(
        occupied=[True] * 36,
        price=[0.3] * 12 + [0.6] * 12 + [1.2] * 12,
        outdoor=[33.0] * 36,
        outdoor_humidity=[65.0] * 36,
        seconds_of_day=[3 * 3600.0 + 900.0 * k for k in range(36)],
    )
    plans = candidate_plans(horizon, setpoint=26.0, direction=1.0, allowed_k=1.0)
    relax = plans.setpoint - 26.0
    valley, flat, peak = relax[:, 0], relax[:, 12], relax[:, 24]
    assert np.all(valley <= flat)
    assert np.all(flat <= peak)
    levels = set(zip(valley, flat, peak, strict=True))
    assert (-1.0, 0.0, 1.0) in levels  # pre-cool in the valley, coast, relax at the peak
    assert (0.0, 0.0, 0.0) in levels
    assert len(levels) == plans.count  # no duplicates


def test_every_plan_pre_conditions_before_an_occupied_price_rise() -> None:
    # Valley, flat, peak, occupied throughout (as test_three_price_levels...), then empty.
    occupied = [True] * 20 + [False] * 4
    horizon = horizon_from(
        occupied=occupied,
        price=[0.3] * 10 + [0.6] * 3 + [1.2] * 11,
        outdoor=[33.0] * 24,
        outdoor_humidity=[65.0] * 24,
        seconds_of_day=[3 * 3600.0 + 900.0 * k for k in range(24)],
    )
    assert (PRE_RISE_STEPS, PRE_RISE_STEPS_COOLING) == (4, 8)
    for direction, setpoint, pre_rise in (
        (1.0, 26.0, PRE_RISE_STEPS_COOLING),
        (-1.0, 20.0, PRE_RISE_STEPS),
    ):
        plans = candidate_plans(horizon, setpoint=setpoint, direction=direction, allowed_k=1.0)
        edge = setpoint - direction * 1.0
        # The last steps before each rise (at 10 and at 13) are at the tight edge: cooling
        # 8, heating 4 (the flat block is shorter: all of it).
        before = [*range(10 - pre_rise, 13)]
        assert np.all(plans.setpoint[:, before] == edge)
        # The rest of the valley keeps each plan's level: still several candidates there.
        assert len(set(plans.setpoint[:, 0])) > 1
        assert len(set(plans.setpoint[:, 9 - pre_rise])) > 1
        assert np.all(direction * (plans.setpoint[:, 13] - setpoint) >= 0.0)  # the peak
        # A fall of the price (none here) or the departure does not pre-condition.
        assert not plans.on[:, 20:].any()


def test_plans_are_not_rolled_past_a_departure_into_an_empty_room(model: Model) -> None:
    steps = 24
    history = RoomHistory(
        temperatures=(27.0,) * (HISTORY_STEPS + 1),
        humidities=(60.0,) * (HISTORY_STEPS + 1),
        powers=(0.5,) * HISTORY_STEPS,
    )

    def costs(occupied: list[bool]) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
        horizon = horizon_from(
            occupied=occupied,
            price=[0.6] * steps,
            outdoor=[33.0] * steps,
            outdoor_humidity=[65.0] * steps,
            seconds_of_day=[6 * 3600.0 + 900.0 * k for k in range(steps)],
        )
        plans = candidate_plans(horizon, setpoint=26.0, direction=1.0, allowed_k=1.0)
        result = evaluate_plans(
            plans,
            horizon,
            history,
            lambda rows: model.infer(rows),
            mode="cool",
            setpoint=26.0,
            band_half_k=1.5,
            calibration=Calibration(),
        )
        return result.total, result.temperature

    # Leaves after 4 steps and stays away: only the 4 occupied steps are rolled.
    total, temperature = costs([True] * 4 + [False] * 20)
    assert np.all(np.isfinite(total))
    assert np.all(np.isfinite(temperature[:, :4]))
    assert np.all(np.isnan(temperature[:, 4:]))
    # Out for less than EMPTY_STEPS and back: the whole horizon is rolled.
    away = EMPTY_STEPS - 1
    _, temperature = costs([True] * 4 + [False] * away + [True] * (20 - away))
    assert np.all(np.isfinite(temperature))
    # Empty now, arriving later: rolled to the end (the arrival's pull-down is priced).
    _, temperature = costs([False] * 4 + [True] * 20)
    assert np.all(np.isfinite(temperature))
