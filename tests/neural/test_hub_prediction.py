"""The hub's wet-cycle predictor without Home Assistant: which remaining time wins, fallbacks,
and the programme profile the planner is given."""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.declaration import Programme
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural import Model, load_model
from custom_components.liuzhou_appliances.neural.wet_cycle import HEATER_ON_W
from custom_components.liuzhou_appliances.wet_cycle_prediction import (
    WetCyclePredictor,
    declared_models,
    predicted_programme,
)
from firmware_bridge.simulators import create_simulator
from firmware_bridge.simulators.wet_cycle import WetApplianceSimulator

MODEL = Path(__file__).resolve().parents[2] / "models" / "wet_cycle" / "wet_cycle.tflite"
JULY = datetime(2026, 7, 15, 10, 0)


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(MODEL, "numpy")


def _washer() -> WetApplianceSimulator:
    # Firmware without the model (declared countdown): the hub's model is the one to answer.
    sim = create_simulator(ApplianceType.LAUNDRY_WASHER, seed=3, start=JULY, remaining="declared")
    assert isinstance(sim, WetApplianceSimulator)
    return sim


def _run(sim: WetApplianceSimulator, predictor: WetCyclePredictor, minutes: int) -> None:
    """Step the simulator a minute at a time, the predictor seeing each minute."""
    for _ in range(minutes):
        sim.step(60)
        predictor.update(sim.values(), sim.elapsed_s, JULY)


def test_a_run_seen_from_its_start_is_predicted_by_the_model(model: Model) -> None:
    sim = _washer()
    predictor = WetCyclePredictor(sim.declaration, dishwasher=False)
    predictor.set_model(model)
    predictor.update(sim.values(), sim.elapsed_s, JULY)
    assert predictor.estimate is None  # nothing under way
    sim.command("start", {})
    _run(sim, predictor, 40)
    estimate = predictor.estimate
    assert estimate is not None
    assert estimate.source == "model"
    truth = sim.physical_remaining_s()
    assert abs(estimate.remaining_s - truth) < 120
    assert predictor.diagnostics()["status"] == "ok"


@pytest.mark.parametrize(("module", "version"), [("linux", "1"), ("mcu", "1-int8")])
def test_an_appliance_running_the_model_itself_is_trusted(
    model: Model, module: str, version: str
) -> None:
    # The default simulated firmware runs the model and declares it; an MCU-class network
    # module runs the int8 file and declares its version, trusted the same.
    sim = create_simulator(ApplianceType.LAUNDRY_WASHER, seed=3, start=JULY, module=module)
    assert isinstance(sim, WetApplianceSimulator)
    declaration = sim.declaration
    assert declared_models(declaration) == {"wet_cycle": version}
    predictor = WetCyclePredictor(declaration, dishwasher=False)
    predictor.set_model(model)
    predictor.update(sim.values(), sim.elapsed_s, JULY)
    sim.command("start", {})
    _run(sim, predictor, 10)
    estimate = predictor.estimate
    assert estimate is not None
    assert (estimate.source, estimate.remaining_s) == ("appliance", sim.values()["remaining_time"])
    diagnostics = predictor.diagnostics()
    assert (diagnostics["reason"], diagnostics["appliance_runs_model"]) == (
        "appliance_runs_model",
        version,
    )


def test_a_run_joined_half_way_is_predicted_from_the_countdown(model: Model) -> None:
    """Joined during a run with nothing kept (a new hub, or away too long): the declared
    countdown tells the time elapsed, the model answers (tests/neural/test_joined_run.py)."""
    sim = _washer()
    sim.command("start", {})
    sim.step(1200)
    predictor = WetCyclePredictor(sim.declaration, dishwasher=False)
    predictor.set_model(model)
    _run(sim, predictor, 3)
    estimate = predictor.estimate
    assert estimate is not None
    assert (estimate.source, estimate.joined) == ("model", True)
    assert (predictor.status, predictor.reason) == ("ok", "joined_run")


def test_a_run_kept_across_a_restart_goes_on_with_the_model(model: Model) -> None:
    """The hub restarts 2 minutes into a gap: the new predictor takes the kept run up."""
    sim = _washer()
    before = WetCyclePredictor(sim.declaration, dishwasher=False)
    before.set_model(model)
    before.update(sim.values(), sim.elapsed_s, JULY)
    sim.command("start", {})
    _run(sim, before, 20)
    kept = json.loads(json.dumps(before.kept_run(JULY)))  # as the Store keeps it
    sim.step(120)  # the hub is away two minutes
    after = WetCyclePredictor(sim.declaration, dishwasher=False)
    after.set_model(model)
    back = JULY + timedelta(minutes=2)
    assert after.resume(kept, sim.values(), 10_000.0, back) is None
    after.update(sim.values(), 10_000.0, back)
    for minute in range(1, 21):
        sim.step(60)
        after.update(sim.values(), 10_000.0 + 60 * minute, back)
    estimate = after.estimate
    assert estimate is not None
    assert estimate.source == "model"
    assert abs(estimate.remaining_s - sim.physical_remaining_s()) < 180
    assert after.reason is None


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"gap_min": 20}, "the hub was away 1200 s"),
        ({"gap_min": -1}, "the hub was away -60 s"),
        ({"programme": "quick"}, "another programme or other options"),
        ({"tracker": {"elapsed_s": "x"}}, "unreadable: elapsed_s is not a number"),
        ({"tracker": []}, "unreadable: a kept run is not an object"),
        ({"at": "yesterday"}, "no time kept"),
    ],
)
def test_a_kept_run_that_does_not_fit_is_left(
    model: Model, change: dict[str, Any], why: str
) -> None:
    sim = _washer()
    before = WetCyclePredictor(sim.declaration, dishwasher=False)
    before.set_model(model)
    before.update(sim.values(), sim.elapsed_s, JULY)
    sim.command("start", {})
    _run(sim, before, 10)
    kept = before.kept_run(JULY)
    assert kept is not None
    if "programme" in change:
        kept["settings"][2] = change["programme"]
    if "tracker" in change:
        kept["tracker"] = (
            change["tracker"]
            if isinstance(change["tracker"], list)
            else {
                **kept["tracker"],
                **change["tracker"],
            }
        )
    if "at" in change:
        kept["at"] = change["at"]
    back = JULY + timedelta(minutes=change.get("gap_min", 1))
    after = WetCyclePredictor(sim.declaration, dishwasher=False)
    after.set_model(model)
    assert after.resume(kept, sim.values(), 500.0, back) == why
    _run(sim, after, 2)
    assert after.reason == "joined_run"  # as with nothing kept


def test_nothing_is_kept_without_a_run_seen_from_its_start(model: Model) -> None:
    sim = _washer()
    sim.command("start", {})
    sim.step(600)
    predictor = WetCyclePredictor(sim.declaration, dishwasher=False)
    predictor.set_model(model)
    _run(sim, predictor, 2)
    assert predictor.kept_run(JULY) is None


def test_inputs_the_model_refuses_fall_back_with_the_reason(model: Model) -> None:
    """An inlet-water guess is always in range; an elapsed time beyond the trained 8 h is
    not: the model refuses the row and the appliance's countdown is shown."""
    sim = _washer()
    predictor = WetCyclePredictor(sim.declaration, dishwasher=False)
    predictor.set_model(model)
    predictor.update(sim.values(), 0.0, JULY)
    sim.command("start", {})
    predictor.update(sim.values(), 0.0, JULY)
    sim.command("pause", {})
    predictor.update(sim.values(), 0.0, JULY)
    sim.command("resume", {})
    predictor.update(sim.values(), 9 * 3600.0, JULY)  # nine hours without a push, running
    estimate = predictor.estimate
    assert estimate is not None
    assert estimate.source == "appliance"
    assert (predictor.status, predictor.reason) == ("fallback", "input_rejected")
    assert predictor.detail is not None
    assert "elapsed" in predictor.detail


def test_without_a_model_the_appliance_and_the_declared_energy() -> None:
    sim = _washer()
    predictor = WetCyclePredictor(sim.declaration, dishwasher=False)
    predictor.set_model(None)
    predictor.update(sim.values(), 0.0, JULY)
    sim.command("start", {})
    _run(sim, predictor, 5)
    estimate = predictor.estimate
    assert estimate is not None
    assert estimate.source == "appliance"
    assert estimate.remaining_kwh is not None
    assert 0 < estimate.remaining_kwh < 0.838
    programme = sim.declaration.programme("cotton")
    assert predictor.planning_programme(programme, sim.values(), JULY) == (programme, "declared")


def test_the_model_profile_keeps_the_declared_shape_with_the_model_totals() -> None:
    programme = _washer().declaration.programme("cotton")
    shaped = predicted_programme(programme, 6000.0, 0.6)
    assert shaped.id == programme.id
    assert abs(shaped.duration_s - 6000) <= len(programme.profile)
    assert shaped.energy_kwh == pytest.approx(0.6, abs=0.002)
    assert sum(s for s, _ in shaped.profile) == shaped.duration_s
    # Only the heater's segments changed.
    unheated = [seg for seg in programme.profile if seg[1] < HEATER_ON_W]
    assert [seg for seg in shaped.profile if seg[1] < HEATER_ON_W] == unheated
    with pytest.raises(ValueError, match="no run"):
        predicted_programme(programme, 0.0, 0.5)


def test_a_cold_programme_is_stretched_whole() -> None:
    cold = Programme("rinse", 600, 0.05, ((300, 200.0), (300, 400.0)))
    shaped = predicted_programme(cold, 900.0, 0.1)
    assert shaped.duration_s == 900
    assert shaped.energy_kwh == pytest.approx(0.1, abs=1e-4)
    assert [s for s, _ in shaped.profile] == [450, 450]
