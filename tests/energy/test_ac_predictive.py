"""Predictive AC control: who is in charge and why, and that it pre-conditions for a dear period."""

from __future__ import annotations

from datetime import datetime, timedelta
import math
from pathlib import Path

import numpy as np
import pytest

from custom_components.liuzhou_appliances.energy.ac import ComfortPreset
from custom_components.liuzhou_appliances.energy.ac_plans import OFF_PEAK_FAN, PLAN_FAN
from custom_components.liuzhou_appliances.energy.ac_policy import precondition_lead
from custom_components.liuzhou_appliances.energy.ac_predictive import (
    ARRIVAL_LEADS,
    MIN_RESIDUALS,
    PULL_DOWN_FAN,
    PredictiveAcController,
    PredictiveDecision,
    PredictiveInputs,
)
from custom_components.liuzhou_appliances.energy.ac_predictive_status import (
    ControlMode,
    FallbackReason,
)
from custom_components.liuzhou_appliances.energy.inputs import Reading
from custom_components.liuzhou_appliances.energy.tariff_presets import custom_time_of_use
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural import Model, ModelError, load_model
from firmware_bridge.simulators import RoomAirConditionerSimulator, create_simulator
from firmware_bridge.simulators.climate import LiuzhouClimate

MODEL = Path(__file__).resolve().parents[2] / "models" / "room_thermal" / "room_thermal.tflite"
START = datetime(2026, 7, 20, 7, 0)
SETPOINT = 26.0
# Cheap until 15:00, four times dearer from 15:00 to 21:00.
TARIFF = custom_time_of_use(
    [
        {"start": "21:00", "end": "15:00", "price": 0.4},
        {"start": "15:00", "end": "21:00", "price": 1.6},
    ]
)


@pytest.fixture(scope="module")
def model() -> Model:
    """The shipped room thermal model on the numpy runtime."""
    return load_model(MODEL, "numpy")


def _inputs(
    now: datetime, temperature: float, energy: float, **changes: object
) -> PredictiveInputs:
    values: dict[str, object] = {
        "now": now,
        "mode": "cool",
        "setpoint": SETPOINT,
        "room_temperature": Reading(temperature, now),
        "humidity": Reading(60.0, now),
        "outdoor_temperature": Reading(33.0, now),
        "outdoor_humidity": Reading(60.0, now),
        "energy_kwh": Reading(energy, now),
        "occupied": True,
    }
    values.update(changes)
    return PredictiveInputs(**values)  # type: ignore[arg-type]


def _drive(
    controller: PredictiveAcController,
    hours: float,
    stays: list[tuple[datetime, datetime]] | None = None,
) -> tuple[list[tuple[datetime, PredictiveDecision]], float]:
    """Run the room simulator under ``controller`` for ``hours``, occupied throughout
    unless ``stays`` are given: the decisions and the AC's energy meter at the end (kWh)."""
    climate = LiuzhouClimate(seed=21)
    sim = create_simulator(
        ApplianceType.ROOM_AIR_CONDITIONER, seed=21, start=START, climate=climate
    )
    assert isinstance(sim, RoomAirConditionerSimulator)
    sim.write("mode", "cool")
    origin = LiuzhouClimate.seconds_of_year(START)

    def forecast(when: datetime) -> tuple[float, float]:
        outdoor = climate.outdoor(origin + (when - START).total_seconds())
        return outdoor.temperature_c, outdoor.humidity_pct

    out = []
    for k in range(int(hours * 12)):
        now = START + timedelta(minutes=5 * k)
        values = sim.values()
        decision = controller.decide(
            PredictiveInputs(
                now=now,
                mode="cool",
                setpoint=SETPOINT,
                room_temperature=Reading(float(values["temperature"]), now),  # type: ignore[arg-type]
                humidity=Reading(float(values["humidity"]), now),  # type: ignore[arg-type]
                outdoor_temperature=Reading(forecast(now)[0], now),
                outdoor_humidity=Reading(forecast(now)[1], now),
                energy_kwh=Reading(sim.energy_kwh, now),
                occupied=stays is None or any(a <= now < d for a, d in stays),
                stays=stays,
                outdoor_forecast=forecast,
            )
        )
        out.append((now, decision))
        if values["on"] != decision.on:
            sim.write("on", decision.on)
        if decision.on and values["target_temperature"] != decision.target_temperature:
            sim.write("target_temperature", decision.target_temperature)
        if decision.on and values["fan_speed"] != decision.fan_speed:
            sim.write("fan_speed", decision.fan_speed)
        sim.step(300)
    return out, sim.energy_kwh


def test_fuzzy_decides_while_history_is_short(model: Model) -> None:
    controller = PredictiveAcController(model, TARIFF)
    decision = controller.decide(_inputs(START, 28.0, 1.0))
    assert decision.status.controller is ControlMode.FUZZY
    assert decision.status.reason is FallbackReason.WARMING_UP
    assert decision.fuzzy is not None
    assert decision.on  # occupied: the fuzzy controller runs the AC
    assert decision.target_temperature == decision.fuzzy.target_temperature
    # Empty with no arrival ahead: off, and the fuzzy target is its vacant one (the room at
    # 28 °C, past the band: occupied it cools below the setpoint's edge, vacant it does not).
    empty = PredictiveAcController(model, TARIFF).decide(_inputs(START, 28.0, 1.0, occupied=False))
    assert empty.fuzzy is not None
    assert not empty.on
    assert empty.fuzzy.target_temperature > decision.fuzzy.target_temperature


def test_no_model_and_nan_reading_fall_back_with_their_reason(model: Model) -> None:
    without = PredictiveAcController(None, TARIFF).decide(_inputs(START, 28.0, 1.0))
    assert (without.status.controller, without.status.reason) == (
        ControlMode.FUZZY,
        FallbackReason.NO_MODEL,
    )
    nan = PredictiveAcController(model, TARIFF).decide(_inputs(START, math.nan, 1.0))
    assert nan.status.reason is FallbackReason.INPUTS_MISSING
    assert "room temperature" in nan.status.detail
    assert nan.status.controller is ControlMode.FUZZY


def test_takes_charge_then_hands_back_on_drift(model: Model) -> None:
    controller = PredictiveAcController(model, TARIFF)
    decisions, energy = _drive(controller, 6.0)
    reasons = [d.status.reason for _, d in decisions]
    assert reasons[0] is FallbackReason.WARMING_UP
    assert reasons[-1] is FallbackReason.PREDICTING
    assert decisions[-1][1].status.history_steps >= MIN_RESIDUALS
    # Three hours of history, then an hour of calibrated steps: in charge four hours in.
    first = next(t for t, d in decisions if d.status.reason is FallbackReason.PREDICTING)
    assert first - START == timedelta(hours=4)
    # The room now jumps a kelvin each step against what the model predicts.
    now, temperature = decisions[-1][0], 27.0
    status = controller.status
    for _ in range(12):
        now += timedelta(minutes=15)
        temperature += 1.0
        energy += 0.2
        status = controller.decide(_inputs(now, temperature, energy)).status
        if status.reason is FallbackReason.DRIFT:
            break
    assert status.controller is ControlMode.FUZZY
    assert status.reason is FallbackReason.DRIFT
    assert status.drift_k is not None
    assert status.drift_k > 0.3


def test_model_error_falls_back_and_never_raises(
    model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller = PredictiveAcController(model, TARIFF)
    decisions, energy = _drive(controller, 5.5)
    assert decisions[-1][1].status.reason is FallbackReason.PREDICTING

    def broken(batch: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        raise ModelError("room_thermal failed on the numpy runtime: truncated tensor")

    monkeypatch.setattr(model, "infer", broken)
    now = decisions[-1][0] + timedelta(minutes=15)
    decision = controller.decide(_inputs(now, 27.0, energy + 0.1))
    assert decision.status.controller is ControlMode.FUZZY
    assert decision.status.reason is FallbackReason.MODEL_ERROR
    assert "truncated" in decision.status.detail
    assert decision.fuzzy is not None


def test_pre_cools_before_the_dear_period(model: Model) -> None:
    controller = PredictiveAcController(model, TARIFF)
    decisions, _ = _drive(controller, 10.0)  # 07:00 to 17:00
    predicted = [(t, d) for t, d in decisions if d.status.controller is ControlMode.PREDICTIVE]
    before = [d.target_temperature for t, d in predicted if 13 <= t.hour < 15]
    during = [d.target_temperature for t, d in predicted if 15 <= t.hour < 17]
    assert before
    assert during
    # Cheap hours: cooled below the setpoint, storing coolth; dear hours: relaxed to the
    # top of the band (26 + 1.5 K less the thermostat's 0.5 K swing).
    assert min(before) < SETPOINT
    assert np.mean(during) > np.mean(before) + 0.5
    assert max(during) == SETPOINT + 1.0
    # Cooling plans run the fan at medium in the dear hours, the unit's auto (low near the
    # setpoint) in the cheaper ones.
    assert {d.fan_speed for t, d in predicted if 15 <= t.hour < 17} == {PLAN_FAN["cool"]}
    assert {d.fan_speed for t, d in predicted if 13 <= t.hour < 15} == {OFF_PEAK_FAN["cool"]}
    assert (PLAN_FAN["cool"], OFF_PEAK_FAN["cool"]) == ("medium", "auto")


def test_stops_when_guests_leave_and_starts_for_an_arrival_between_steps(model: Model) -> None:
    # Guests leave at 11:05 and the next arrive at 11:50; the plan's steps start at :00, :15...
    leave, arrive = START.replace(hour=11, minute=5), START.replace(hour=11, minute=50)
    stays = [(START - timedelta(days=1), leave), (arrive, arrive + timedelta(hours=14))]
    controller = PredictiveAcController(model, TARIFF)
    decisions, _ = _drive(controller, 5.0, stays)  # 07:00 to 11:55
    at = {t.strftime("%H:%M"): d for t, d in decisions}
    for time in ("11:00", "11:05", "11:30", "11:40"):
        assert at[time].status.controller is ControlMode.PREDICTIVE, time
    assert at["11:00"].on
    # Between steps: off once the guests have gone, without waiting for 11:15.
    assert not at["11:05"].on
    assert not at["11:30"].on  # a step boundary, 20 minutes before the arrival
    # Off, it names the fuzzy controller's target for a vacant room, which a unit the hub
    # may not switch off (Home Assistant's loop writes setpoints only) is held at: relaxed
    # from the user's setpoint (it was the setpoint itself), as in fuzzy control.
    for time in ("11:05", "11:30", "11:40"):
        assert at[time].target_temperature > SETPOINT, time
        assert at[time].status.controller is ControlMode.PREDICTIVE, time
    # 10 minutes before: inside the fuzzy balanced preset's lead (15), not the model's (7).
    assert not at["11:40"].on
    # 5 minutes before the arrival, inside the model's balanced lead: pulling down, the
    # indoor fan at high.
    assert at["11:45"].on
    assert at["11:45"].fan_speed == PULL_DOWN_FAN == "high"
    assert SETPOINT - 1.0 <= at["11:45"].target_temperature <= SETPOINT + 1.0
    # The guests are in from 11:50, inside a step planned (at 11:45) with the room empty: the
    # AC stays on, at the plan's target for the arrival, rather than waiting for 12:00 and
    # the unit's restart delay.
    for time in ("11:45", "11:50", "11:55"):
        assert at[time].on, time
        assert at[time].target_temperature == at["11:45"].target_temperature, time
    assert SETPOINT - 1.0 <= at["11:45"].target_temperature <= SETPOINT + 1.0


def test_arrival_lead_per_preset_or_given() -> None:
    tariff = TARIFF
    assert PredictiveAcController(None, tariff).arrival.lead == timedelta(minutes=7)
    assert ARRIVAL_LEADS[ComfortPreset.BALANCED] == timedelta(minutes=7)
    comfort = PredictiveAcController(None, tariff, preset=ComfortPreset.COMFORT)
    assert comfort.arrival.lead == precondition_lead(ComfortPreset.COMFORT)
    given = PredictiveAcController(None, tariff, arrival_lead=timedelta(minutes=20))
    assert given.arrival.lead == timedelta(minutes=20)
    # The fuzzy controller in charge keeps its preset's own lead.
    assert given.policy.lead == precondition_lead(ComfortPreset.BALANCED)
    with pytest.raises(ValueError, match="must not be negative"):
        PredictiveAcController(None, tariff, arrival_lead=timedelta(minutes=-1))
