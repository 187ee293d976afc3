"""Compiled fuzzy surfaces against scikit-fuzzy, and the traps scikit-fuzzy leaves open."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from skfuzzy import control as fuzzy_control

from custom_components.liuzhou_appliances.energy.ac import (
    AcComfortController,
    AcInputs,
    ComfortPreset,
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
from custom_components.liuzhou_appliances.energy.tariff import (
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

    def prices(self, start: datetime, step_s: int, count: int) -> np.ndarray:
        return np.full(count, self.price_at(start))
