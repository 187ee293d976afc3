"""Compiled fuzzy surfaces against scikit-fuzzy, and the traps scikit-fuzzy leaves open."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray
import pytest
from skfuzzy import control as fuzzy_control

from custom_components.liuzhou_appliances.energy.ac import (
    AcComfortController,
    AcDecision,
    AcInputs,
    ComfortPreset,
    comfort_price_signal,
    compiled_for,
)
from custom_components.liuzhou_appliances.energy.fuzzy import (
    Condition,
    Rule,
    RuleBase,
    RuleBaseError,
    Term,
    Variable,
    build_control_system,
    compile_rule_base,
    reference_outputs,
)
from custom_components.liuzhou_appliances.energy.inputs import DecisionStatus, Reading
from custom_components.liuzhou_appliances.energy.tariff_presets import (
    guangxi_commercial_tou,
    guangxi_residential,
)


@pytest.fixture(scope="module")
def compiled():  # type: ignore[no-untyped-def]
    return compiled_for(ComfortPreset.BALANCED)


@pytest.mark.parametrize("output", ["offset", "fan"])
def test_surface_matches_skfuzzy_on_dense_random_points(compiled, output: str) -> None:  # type: ignore[no-untyped-def]
    rule_base = compiled.rule_base
    rng = np.random.default_rng(2026)
    count = 1500
    # Sample a little beyond the universes too: both sides must clip the same way.
    points = {v.name: rng.uniform(v.low - 1, v.high + 1, count) for v in rule_base.inputs}
    reference = reference_outputs(rule_base, points, output, dedupe=False)
    assert not np.isnan(reference).any()
    surface = compiled.surfaces[output]
    ours = np.array(
        [
            compiled.evaluate({n: float(points[n][i]) for n in points})[0][output]
            for i in range(count)
        ]
    )
    tolerance = 0.1 if output == "offset" else 2.5  # K for the offset, % for the fan
    assert np.abs(ours - reference).max() <= tolerance
    assert surface.inputs == rule_base.inputs_of(output)


def test_surface_grid_values_are_skfuzzy_answers(compiled) -> None:  # type: ignore[no-untyped-def]
    surface = compiled.surfaces["offset"]
    system = build_control_system(compiled.rule_base, ["offset"])
    rng = np.random.default_rng(1)
    for _ in range(5):
        index = tuple(int(rng.integers(len(axis))) for axis in surface.axes)
        simulation = fuzzy_control.ControlSystemSimulation(system)
        for name, axis, i in zip(surface.inputs, surface.axes, index, strict=True):
            simulation.input[name] = float(axis[i])
        simulation.compute()
        assert surface.values[index] == pytest.approx(simulation.output["offset"], abs=1e-9)


def test_out_of_universe_inputs_are_clipped_and_reported(compiled) -> None:  # type: ignore[no-untyped-def]
    inputs = {
        "error": 9.0,
        "trend": 0.0,
        "outdoor_load": -30.0,
        "humidity": 50.0,
        "price": 0.0,
        "occupancy": 1.0,
    }
    outputs, clipped = compiled.evaluate(inputs)
    assert clipped == {"error": (9.0, 6.0), "outdoor_load": (-30.0, -10.0)}
    inside, none_clipped = compiled.evaluate({**inputs, "error": 6.0, "outdoor_load": -10.0})
    assert none_clipped == {}
    assert outputs == inside


def test_evaluating_one_output_reads_only_its_inputs(compiled) -> None:  # type: ignore[no-untyped-def]
    point = {
        "error": 1.2,
        "trend": 0.4,
        "outdoor_load": 7.0,
        "humidity": 66.0,
        "price": 0.3,
        "occupancy": 1.0,
    }
    both, _ = compiled.evaluate(point)
    fan_inputs = {name: point[name] for name in ("error", "trend", "humidity")}
    fan, _ = compiled.evaluate({**fan_inputs, "error": 9.0}, ("fan",))
    assert set(fan) == {"fan"}
    assert fan["fan"] == compiled.evaluate({**point, "error": 6.0})[0]["fan"]
    assert compiled.evaluate(point, ("offset",))[0] == {"offset": both["offset"]}
    assert compiled.evaluate(fan_inputs, ("fan",))[1] == {}
    assert compiled.evaluate({**fan_inputs, "error": 9.0}, ("fan",))[1] == {"error": (9.0, 6.0)}
    with pytest.raises(KeyError):
        compiled.evaluate(fan_inputs, ("offset",))  # the offset reads the price, not given


def _incomplete_rule_base() -> RuleBase:
    level = Variable(
        "level",
        "",
        0.0,
        10.0,
        resolution=0.1,
        grid_step=1.0,
        terms=(
            Term("low", "trap", (0.0, 0.0, 2.0, 4.0)),
            Term("high", "trap", (6.0, 8.0, 10.0, 10.0)),
        ),
    )
    action = Variable(
        "action",
        "",
        -1.0,
        1.0,
        resolution=0.01,
        terms=(
            Term("down", "tri", (-1.0, -0.5, 0.0)),
            Term("up", "tri", (0.0, 0.5, 1.0)),
        ),
    )
    rules = (
        Rule((Condition("level", "low"),), "action", "up"),
        Rule((Condition("level", "high"),), "action", "down"),
    )
    return RuleBase((level,), (action,), rules, neutral={"action": 0.0})


def test_empty_output_trap_is_detected_at_compile_time() -> None:
    rule_base = _incomplete_rule_base()
    # The trap: scikit-fuzzy leaves the output out, reading it raises KeyError.
    simulation = fuzzy_control.ControlSystemSimulation(build_control_system(rule_base))
    simulation.input["level"] = 5.0
    simulation.compute()
    with pytest.raises(KeyError):
        simulation.output["action"]
    compiled = compile_rule_base(rule_base)
    report = compiled.reports["action"]
    assert report.holes > 0
    assert all(4.0 <= example["level"] <= 6.0 for example in report.hole_examples)
    outputs, _ = compiled.evaluate({"level": 5.0})
    assert outputs["action"] == 0.0  # the documented neutral value
    assert compiled.evaluate({"level": 1.0})[0]["action"] == pytest.approx(0.5, abs=0.01)


def test_rule_base_errors_name_the_problem() -> None:
    base = _incomplete_rule_base()
    with pytest.raises(RuleBaseError, match="no term 'medium'"):
        RuleBase(
            base.inputs,
            base.outputs,
            (Rule((Condition("level", "medium"),), "action", "up"),),
            base.neutral,
        )
    with pytest.raises(RuleBaseError, match="neutral"):
        RuleBase(base.inputs, base.outputs, base.rules, {})
    bad = Variable("x", "", 0, 1, (Term("t", "tri", (1.0, 0.0, 0.5)),), resolution=0.1)
    with pytest.raises(RuleBaseError, match="ascending"):
        RuleBase((bad,), base.outputs, (), base.neutral)


def test_presets_change_the_surface() -> None:
    peak = {
        "error": 0.5,
        "trend": 0.0,
        "outdoor_load": 3.0,
        "humidity": 50.0,
        "price": 1.0,
        "occupancy": 1.0,
    }
    comfort = compiled_for(ComfortPreset.COMFORT).evaluate(peak)[0]["offset"]
    balanced = compiled_for(ComfortPreset.BALANCED).evaluate(peak)[0]["offset"]
    eco = compiled_for(ComfortPreset.ECO).evaluate(peak)[0]["offset"]
    assert comfort < balanced <= eco
    assert balanced > 1.0  # dearest hours: relax


NOW = datetime(2026, 7, 15, 19, 0)


def _inputs(**changes: object) -> AcInputs:
    base = {
        "now": NOW,
        "mode": "cool",
        "setpoint": 26.0,
        "room_temperature": Reading(26.2, NOW),
        "outdoor_temperature": Reading(31.0, NOW),
        "humidity": Reading(60.0, NOW),
        "occupancy": 1.0,
    }
    base.update(changes)
    return AcInputs(**base)  # type: ignore[arg-type]


def test_controller_relaxes_in_peak_within_the_band() -> None:
    controller = AcComfortController(tariff=guangxi_commercial_tou())
    decision = controller.decide(_inputs())
    assert decision.status is DecisionStatus.OK
    assert 26.0 < decision.target_temperature <= 26.0 + controller.band_half_k - 0.5
    assert decision.fan_speed in ("low", "medium", "high")
    heating = controller.decide(
        _inputs(
            mode="heat",
            setpoint=20.0,
            room_temperature=Reading(19.9, NOW),
            outdoor_temperature=Reading(9.0, NOW),
        )
    )
    assert 20.0 - controller.band_half_k + 0.5 <= heating.target_temperature < 20.0


def test_controller_precools_before_peak_and_holds_on_flat_tariff() -> None:
    before_peak = NOW.replace(hour=16)
    tou = AcComfortController(tariff=guangxi_commercial_tou())
    decision = tou.decide(
        _inputs(
            now=before_peak,
            room_temperature=Reading(26.0, before_peak),
            outdoor_temperature=Reading(34.0, before_peak),
            humidity=Reading(60.0, before_peak),
        )
    )
    assert decision.target_temperature < 26.0
    flat = AcComfortController(tariff=guangxi_residential())
    for hour in (8, 16, 19, 23):
        when = NOW.replace(hour=hour)
        result = flat.decide(
            _inputs(
                now=when,
                room_temperature=Reading(26.0, when),
                outdoor_temperature=Reading(31.0, when),
                humidity=Reading(60.0, when),
            )
        )
        assert result.target_temperature == 26.0
        assert result.fuzzy_inputs["price"] == 0.0


def test_comfort_price_signal_is_the_level_unless_a_rise_is_coming() -> None:
    tou = guangxi_commercial_tou()  # July: valley 0.5, flat 1.0, peak 1.5 x 1.2 (x 0.65 CNY)
    day = datetime(2026, 7, 15)
    flat_level = (1.0 - 0.5) / (1.8 - 0.5)
    valley = comfort_price_signal(tou, day.replace(hour=2))  # no rise within 2 h
    assert valley == pytest.approx(0.0, abs=1e-9)
    assert comfort_price_signal(tou, day.replace(hour=7, minute=30)) == pytest.approx(flat_level)
    assert comfort_price_signal(tou, day.replace(hour=19)) == pytest.approx(1.0)
    # A rise within the look-ahead wins: valley -> flat at 07:00, flat -> peak at 17:00.
    assert comfort_price_signal(tou, day.replace(hour=6)) == pytest.approx(-flat_level)
    assert comfort_price_signal(tou, day.replace(hour=16)) == pytest.approx(-(1 - flat_level))
    hour = timedelta(hours=1)
    assert comfort_price_signal(tou, day.replace(hour=15, minute=30), lookahead=hour) > 0
    assert comfort_price_signal(guangxi_residential(), day.replace(hour=19)) == 0.0


def test_controller_relaxes_in_flat_hours_and_holds_in_the_cheapest() -> None:
    controller = AcComfortController(tariff=guangxi_commercial_tou())
    for hour, expected in ((8, 27.0), (14, 27.0), (19, 27.0), (1, 26.0), (23, 26.0)):
        when = NOW.replace(hour=hour, minute=30)
        decision = controller.decide(
            _inputs(
                now=when,
                room_temperature=Reading(26.3, when),
                outdoor_temperature=Reading(31.0, when),
                humidity=Reading(60.0, when),
            )
        )
        assert decision.target_temperature == expected, hour


def test_controller_relaxes_in_peak_even_while_pulling_down() -> None:
    # Arriving guest, room far too warm in the evening peak: the unit runs flat out either
    # way; aiming at the band's edge stops the pull-down there instead of overshooting.
    controller = AcComfortController(tariff=guangxi_commercial_tou())
    decision = controller.decide(_inputs(room_temperature=Reading(31.0, NOW)))
    assert decision.target_temperature == 27.0
    assert decision.fan_speed == "high"


def _drift_to(
    controller: AcComfortController, mode: str, setpoint: float, rooms: tuple[float, float]
) -> AcDecision:
    """Two decisions 10 min apart in the evening peak: the room drifts from rooms[0] to rooms[1]."""
    first = datetime(2026, 1, 14, 19, 0) if mode == "heat" else NOW
    outdoor = 9.0 if mode == "heat" else 31.0
    decision = None
    for when, room in zip((first, first + timedelta(minutes=10)), rooms, strict=True):
        decision = controller.decide(
            _inputs(
                now=when,
                mode=mode,
                setpoint=setpoint,
                room_temperature=Reading(room, when),
                outdoor_temperature=Reading(outdoor, when),
                humidity=Reading(50.0, when),
            )
        )
    assert decision is not None
    return decision


def test_fan_in_heating_follows_the_target_cooling_the_setpoint() -> None:
    # Evening peak, room drifting 0.3 K onto the relaxed target (1 K off the user's setpoint).
    heating = _drift_to(
        AcComfortController(tariff=guangxi_commercial_tou()), "heat", 20.0, (19.3, 19.0)
    )
    assert heating.target_temperature == 19.0
    assert heating.fuzzy_inputs["trend"] > 1.0  # worsening
    # At the target and drifting: medium, not the "off the setpoint and worsening" high.
    assert heating.fan_speed == "medium"
    cooling = _drift_to(
        AcComfortController(tariff=guangxi_commercial_tou()), "cool", 26.0, (26.7, 27.0)
    )
    assert cooling.target_temperature == 27.0
    # Warmer than the user asked and getting warmer: more air (it feels cooler).
    assert cooling.fan_speed == "high"
    recovering = AcComfortController(tariff=guangxi_commercial_tou())
    colder = _drift_to(recovering, "heat", 20.0, (16.0, 16.0))
    assert colder.fan_speed == "high"  # three kelvin below the target: recover


def test_stale_or_missing_room_temperature_hands_back_control(
    caplog: pytest.LogCaptureFixture,
) -> None:
    controller = AcComfortController(tariff=guangxi_commercial_tou())
    stale = controller.decide(_inputs(room_temperature=Reading(26.0, NOW - timedelta(hours=1))))
    assert stale.status is DecisionStatus.FALLBACK
    assert (stale.target_temperature, stale.fan_speed) == (26.0, "auto")
    assert stale.issues[0].code == "room_temperature_stale"
    missing = controller.decide(_inputs(room_temperature=None))
    assert missing.status is DecisionStatus.FALLBACK
    assert "room temperature" in caplog.text


def test_missing_outdoor_humidity_price_degrade_with_defaults() -> None:
    broken_price = AcComfortController(tariff=_BrokenTariff())
    decision = broken_price.decide(_inputs(outdoor_temperature=None, humidity=None, occupancy=None))
    assert decision.status is DecisionStatus.DEGRADED
    codes = {issue.code for issue in decision.issues}
    assert codes == {
        "outdoor_temperature_missing",
        "humidity_missing",
        "price_unavailable",
        "occupancy_missing",
    }
    assert decision.fuzzy_inputs["price"] == 0.0
    assert decision.target_temperature == 26.0


class _BrokenTariff:
    name = "broken"
    time_varying = True

    def price_at(self, when: datetime) -> float:
        from custom_components.liuzhou_appliances.energy.tariff import PriceUnavailableError

        raise PriceUnavailableError("sensor offline")

    def prices(self, start: datetime, step_s: int, count: int) -> NDArray[np.float64]:
        return np.full(count, self.price_at(start))
