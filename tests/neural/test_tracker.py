"""RunTracker follows a simulated washer's reported values; the model then beats the profile."""

from __future__ import annotations

from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural import load_model_bytes
from custom_components.liuzhou_appliances.neural.wet_cycle import (
    RunTracker,
    declared_remaining,
    run_features,
)
from firmware_bridge.simulators import WasherSimulator, create_simulator

TICK_S = 30.0


def _values(washer: WasherSimulator) -> dict[str, Any]:
    return dict(washer.values())


def test_tracker_then_model_on_a_hot_half_load_wash(model_bytes: bytes) -> None:
    washer = create_simulator(
        ApplianceType.LAUNDRY_WASHER, inlet_water_c=14.0, ambient_c=22.0, load_kg=4.0
    )
    assert isinstance(washer, WasherSimulator)
    washer.write("water_temperature", "60")
    tracker = RunTracker(dishwasher=False)
    now = 0.0
    tracker.update(now, _values(washer))
    assert not tracker.under_way
    washer.command("start", {})
    tracker.update(now, _values(washer))
    assert tracker.under_way
    while now < 40 * 60:  # heating is over by then (while it lasts the load is unknown)
        washer.step(TICK_S)
        now += TICK_S
        tracker.update(now, _values(washer))
    run = tracker.observation(
        water_temperature="60", spin_rpm=1400, rinses="normal", inlet_water_c=14.0
    )
    assert run is not None
    assert run.elapsed_s == 40 * 60
    assert 0 < run.heater_s < run.elapsed_s
    assert 2000 < run.heater_mean_w < 2200  # heater, drum motor, electronics
    assert run.energy_kwh > 0.6
    assert not run.heater_on

    seen_at = now
    while _values(washer)["operational_state"] != "finished":
        washer.step(TICK_S)
        now += TICK_S
        tracker.update(now, _values(washer))
    assert not tracker.under_way
    actual_left_min = (now - seen_at) / 60

    programme = washer.declaration.programme("cotton")
    declared_left_min = declared_remaining(programme, run.elapsed_s)[0] / 60
    model = load_model_bytes(model_bytes, "numpy")
    predicted_left_min = float(model.predict(run_features(programme, run))[0, 0]) * 60
    # Within a couple of ticks of the run's 30 s sampling; the declared profile is far off.
    assert abs(predicted_left_min - actual_left_min) < 1.5
    assert abs(declared_left_min - actual_left_min) > 5.0


def test_a_paused_run_keeps_its_programme_clock() -> None:
    tracker = RunTracker(dishwasher=True)
    running = {"operational_state": "running", "phase": "washing", "power": 2000.0, "energy": 1.0}
    tracker.update(0.0, running)
    tracker.update(60.0, running)
    tracker.update(600.0, {**running, "operational_state": "paused", "power": 3.0})
    tracker.update(660.0, {**running, "energy": 1.1})
    run = tracker.observation(
        water_temperature="cold", spin_rpm=0, rinses="normal", inlet_water_c=20.0
    )
    assert run is not None
    assert run.elapsed_s == 120.0
    assert run.heater_s == 120.0
    assert run.energy_kwh == pytest.approx(0.1)
    tracker.update(700.0, {**running, "operational_state": "stopped"})
    assert (
        tracker.observation(
            water_temperature="cold", spin_rpm=0, rinses="normal", inlet_water_c=20.0
        )
        is None
    )


@given(
    st.one_of(
        st.none(),
        st.lists(st.integers()),
        st.dictionaries(
            st.sampled_from(
                [
                    "elapsed_s",
                    "energy_start",
                    "energy_kwh",
                    "heater_s",
                    "heater_j",
                    "heater_on",
                    "x",
                ]
            ),
            st.one_of(
                st.none(), st.booleans(), st.floats(allow_nan=True), st.integers(), st.text()
            ),
        ),
    )
)
def test_a_kept_run_reads_or_raises_value_error(data: object) -> None:
    """Whatever a Store holds: a tracker, or ValueError naming what is wrong."""
    try:
        tracker = RunTracker.from_json(data, dishwasher=False, now_s=0.0)
    except ValueError:
        return
    assert tracker.under_way
    assert RunTracker.from_json(tracker.to_json(), dishwasher=False, now_s=0.0).to_json() == (
        tracker.to_json()
    )


def test_a_run_round_trips_through_json() -> None:
    tracker = RunTracker(dishwasher=True)
    assert tracker.to_json() == {}
    tracker.update(0.0, {"operational_state": "running", "phase": "wash", "power": 10, "energy": 1})
    tracker.update(
        60.0, {"operational_state": "running", "phase": "wash", "power": 2000, "energy": 1.03}
    )
    again = RunTracker.from_json(tracker.to_json(), dishwasher=True, now_s=60.0)
    settings = {
        "water_temperature": "60",
        "spin_rpm": 0.0,
        "rinses": "normal",
        "inlet_water_c": 18.0,
    }
    assert again.observation(**settings) == tracker.observation(**settings)  # type: ignore[arg-type]
