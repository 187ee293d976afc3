"""A run the hub joined half way (a new hub, or a restart too long for the kept run): the
hub's model answers from the declared countdown at the join, closer to the physics than
the countdown; a countdown that cannot tell the elapsed time falls back, never raises."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.declaration import Programme
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural import Model, load_model
from custom_components.liuzhou_appliances.neural.wet_cycle import (
    RunObservation,
    joined_observation,
    profile_so_far,
)
from custom_components.liuzhou_appliances.sensor import estimate_attributes
from custom_components.liuzhou_appliances.wet_cycle_prediction import WetCyclePredictor
from firmware_bridge.models import WET_CYCLE, model_path
from firmware_bridge.simulators import create_simulator
from firmware_bridge.simulators.wet_cycle import WetApplianceSimulator

JANUARY = datetime(2026, 1, 20, 9, 0)
JULY = datetime(2026, 7, 15, 10, 0)


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(model_path(WET_CYCLE), "numpy")


def _machine(
    kind: ApplianceType, start: datetime, settings: dict[str, str], **options: Any
) -> WetApplianceSimulator:
    """Firmware without the model: it counts down its declared profile."""
    sim = create_simulator(kind, seed=5, start=start, remaining="declared", **options)
    assert isinstance(sim, WetApplianceSimulator)
    for key, value in settings.items():
        sim.write(key, value)
    return sim


def _follow(sim: WetApplianceSimulator, predictor: WetCyclePredictor, minutes: int) -> None:
    start = sim.start
    for _ in range(minutes * 2):
        sim.step(30)
        predictor.update(sim.values(), sim.elapsed_s, start)


# A cold winter wash with options and a full drum, a small summer one, a few dishes.
RUNS = [
    (
        ApplianceType.LAUNDRY_WASHER,
        JANUARY,
        {"programme": "cotton", "water_temperature": "60", "rinses": "extra"},
        {"load_kg": 7.5},
    ),
    (
        ApplianceType.LAUNDRY_WASHER,
        JULY,
        {"programme": "cotton", "water_temperature": "40", "spin_speed": "800"},
        {"load_kg": 3.0},
    ),
    (ApplianceType.DISHWASHER, JULY, {"programme": "auto"}, {"load_fraction": 0.3}),
]


@pytest.mark.parametrize(("kind", "start", "settings", "options"), RUNS)
@pytest.mark.parametrize("join_min", [10, 30, 60])
def test_a_joined_run_is_closer_to_the_physics_than_the_countdown(
    model: Model,
    kind: ApplianceType,
    start: datetime,
    settings: dict[str, str],
    options: dict[str, Any],
    join_min: int,
) -> None:
    sim = _machine(kind, start, settings, **options)
    sim.command("start", {})
    sim.step(join_min * 60)
    predictor = WetCyclePredictor(sim.declaration, dishwasher=kind is ApplianceType.DISHWASHER)
    predictor.set_model(model)
    errors: list[tuple[float, float]] = []
    for _ in range(4):  # at the join, then 5, 10 and 15 minutes on
        predictor.update(sim.values(), sim.elapsed_s, start)
        estimate = predictor.estimate
        assert estimate is not None
        assert (estimate.source, estimate.joined) == ("model", True)
        assert (predictor.status, predictor.reason) == ("ok", "joined_run")
        truth = sim.physical_remaining_s()
        countdown = float(sim.values()["remaining_time"])  # type: ignore[arg-type]
        errors.append((abs(estimate.remaining_s - truth), abs(countdown - truth)))
        _follow(sim, predictor, 5)
    joined_error = sum(e for e, _ in errors) / len(errors)
    countdown_error = sum(c for _, c in errors) / len(errors)
    assert countdown_error > 240  # the options, water and load the declared profile ignores
    assert joined_error < countdown_error / 2
    assert predictor.diagnostics()["reason"] == "joined_run"
    assert estimate_attributes(predictor.estimate) == {"source": "model", "run": "joined"}
    assert predictor.kept_run(start) is None  # only a run followed from its start is kept


def test_a_run_followed_from_its_start_says_so(model: Model) -> None:
    sim = _machine(ApplianceType.LAUNDRY_WASHER, JULY, {"programme": "cotton"})
    predictor = WetCyclePredictor(sim.declaration, dishwasher=False)
    predictor.set_model(model)
    predictor.update(sim.values(), 0.0, JULY)
    sim.command("start", {})
    _follow(sim, predictor, 10)
    assert predictor.estimate is not None
    assert not predictor.estimate.joined
    assert predictor.reason is None
    assert estimate_attributes(predictor.estimate) == {"source": "model", "run": "followed"}


@pytest.mark.parametrize(
    ("countdown", "shown"),
    [
        (0, 0),  # the run went past its declared end: elapsed unknown
        (10**6, 10**6),  # more than declared: not a declared countdown
        (-60, -60),
        (True, None),
        ("soon", None),
        (None, None),
        (1234.5, None),
    ],
)
def test_a_countdown_that_does_not_tell_the_elapsed_time_falls_back(
    model: Model, countdown: object, shown: int | None
) -> None:
    sim = _machine(ApplianceType.LAUNDRY_WASHER, JULY, {"programme": "cotton"})
    sim.command("start", {})
    sim.step(1200)
    predictor = WetCyclePredictor(sim.declaration, dishwasher=False)
    predictor.set_model(model)
    predictor.update({**sim.values(), "remaining_time": countdown}, sim.elapsed_s, JULY)
    sim.step(60)
    predictor.update({**sim.values(), "remaining_time": countdown}, sim.elapsed_s, JULY)
    assert (predictor.status, predictor.reason) == ("fallback", "run_started_before_hub")
    estimate = predictor.estimate
    if shown is None:
        assert estimate is None  # nothing to show: the countdown is no whole number
    else:
        assert estimate is not None
        assert (estimate.source, estimate.remaining_s, estimate.joined) == (
            "appliance",
            shown,
            True,
        )
        assert estimate_attributes(estimate) == {"source": "appliance", "run": "joined"}


def test_odd_power_at_the_join_never_raises(model: Model) -> None:
    sim = _machine(ApplianceType.LAUNDRY_WASHER, JULY, {"programme": "cotton"})
    sim.command("start", {})
    sim.step(1200)
    predictor = WetCyclePredictor(sim.declaration, dishwasher=False)
    predictor.set_model(model)
    for power in ("x", None, float("nan"), 10**9):
        predictor.update({**sim.values(), "power": power}, sim.elapsed_s, JULY)
        predictor.refresh(sim.elapsed_s, JULY)
        assert predictor.estimate is not None


def _programme() -> Programme:
    # 10 min at 200 W, 20 min heating at 2 kW, 30 min at 300 W
    return Programme("p", 3600, 1.0, ((600, 200.0), (1200, 2000.0), (1800, 300.0)))


def test_the_profile_so_far_counts_energy_and_heating() -> None:
    assert profile_so_far(_programme(), 0) == (0.0, 0.0, 0.0)
    kwh, heater_s, heater_j = profile_so_far(_programme(), 1200)
    assert (heater_s, heater_j) == (600.0, 1.2e6)
    assert kwh == pytest.approx((600 * 200 + 600 * 2000) / 3.6e6)
    assert profile_so_far(_programme(), 10**5)[1] == 1200.0


def test_a_joined_observation_adds_what_was_seen_to_the_expected_profile() -> None:
    since = RunObservation(False, 40.0, 800.0, "normal", 20.0, 300.0, 0.05, 120.0, 2100.0, True)
    joined = joined_observation(_programme(), _programme(), 1200.0, since, heater_on_now=False)
    assert joined.elapsed_s == 1500.0
    assert joined.heater_s == 720.0
    assert joined.heater_mean_w == 2100.0  # the heater as seen, not as declared
    assert joined.energy_kwh == pytest.approx(profile_so_far(_programme(), 1200)[0] + 0.05)
    assert joined.heater_on
    nothing_seen = RunObservation(False, 40.0, 800.0, "normal", 20.0, 0.0, 0.0, 0.0, 0.0, False)
    at_join = joined_observation(
        _programme(), _programme(), 1200.0, nothing_seen, heater_on_now=True
    )
    assert (at_join.heater_mean_w, at_join.heater_on) == (2000.0, True)
    with pytest.raises(ValueError, match="joined"):
        joined_observation(_programme(), _programme(), -1.0, since, heater_on_now=False)
