"""Rule base validation, reference fallbacks and the compiled surface's helpers."""

from __future__ import annotations

from dataclasses import replace
import logging

import numpy as np
import pytest

from custom_components.liuzhou_appliances.energy.fuzzy import (
    Condition,
    Rule,
    RuleBase,
    RuleBaseError,
    Term,
    Variable,
    build_control_system,
    compile_rule_base,
    output_activations,
    reference_outputs,
    reference_simulation,
)

LEVEL = Variable(
    "level",
    "",
    0.0,
    10.0,
    (Term("low", "trap", (0.0, 0.0, 4.0, 6.0)), Term("high", "trap", (4.0, 6.0, 10.0, 10.0))),
    resolution=0.1,
    grid_step=1.0,
)
ACTION = Variable(
    "action",
    "",
    -1.0,
    1.0,
    (Term("down", "tri", (-1.0, -0.5, 0.0)), Term("up", "tri", (0.0, 0.5, 1.0))),
    resolution=0.01,
)
RULES = (
    Rule((Condition("level", "low"),), "action", "up"),
    Rule((Condition("level", "high"),), "action", "down"),
)


def _base(**changes: object) -> RuleBase:
    fields: dict[str, object] = {
        "inputs": (LEVEL,),
        "outputs": (ACTION,),
        "rules": RULES,
        "neutral": {"action": 0.0},
    }
    fields.update(changes)
    return RuleBase(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"and_method": "max"}, "and_method must be 'min' or 'product', not 'max'"),
        ({"accumulation": "sum"}, "accumulation must be 'max' or 'probor', not 'sum'"),
        ({"outputs": (replace(ACTION, name="level"),)}, "variable names repeat"),
        ({"inputs": (replace(LEVEL, high=0.0),)}, "'level' has an empty universe"),
        ({"inputs": (replace(LEVEL, resolution=0.0),)}, "'level' has an empty universe"),
        ({"outputs": (replace(ACTION, terms=()),)}, "'action' has no terms"),
        ({"neutral": {"action": 2.0}}, "neutral value of 'action' is outside its universe"),
        ({"rules": (Rule((), "action", "up"),)}, "rule 1 has no conditions"),
        (
            {"rules": (RULES[0], Rule((Condition("heat", "low"),), "action", "up"))},
            "rule 2: 'heat' is not an input",
        ),
        ({"rules": (Rule((Condition("level", "low"),), "fan", "up"),)}, "'fan' is not an output"),
        ({"rules": (replace(RULES[0], weight=1.5),)}, "weight must be within 0-1, got 1.5"),
    ],
)
def test_rule_base_errors_name_the_offending_part(changes: dict[str, object], message: str) -> None:
    with pytest.raises(RuleBaseError, match=message):
        _base(**changes)


def test_unknown_input_and_outputs_without_rules_are_errors() -> None:
    base = _base()
    with pytest.raises(RuleBaseError, match="no input 'heat'"):
        base.input("heat")
    with pytest.raises(RuleBaseError, match=r"no rules conclude \['fan'\]"):
        build_control_system(base, ["fan"])
    fan = Variable("fan", "%", 0.0, 100.0, (Term("low", "tri", (0.0, 0.0, 50.0)),), 1.0)
    unused = _base(outputs=(ACTION, fan), neutral={"action": 0.0, "fan": 50.0})
    with pytest.raises(RuleBaseError, match="no rules conclude 'fan'"):
        compile_rule_base(unused)
    # No rule concludes "fan": no activation columns, one row per point.
    assert output_activations(unused, {"level": np.array([1.0, 2.0])}, "fan").shape == (2, 0)


def test_conclusion_without_area_is_a_hole_not_a_crash(caplog: pytest.LogCaptureFixture) -> None:
    # "far" lies outside the action universe: scikit-fuzzy cannot defuzzify it and
    # raises for the whole batch; each point is then asked alone, and the ones
    # concluding only "far" become holes filled with the neutral value.
    action = replace(ACTION, terms=(*ACTION.terms, Term("far", "tri", (2.0, 3.0, 4.0))))
    rules = (
        Rule((Condition("level", "low"),), "action", "up"),
        Rule((Condition("level", "high"),), "action", "far"),
    )
    base = _base(outputs=(action,), rules=rules)
    values = reference_outputs(base, {"level": np.array([1.0, 9.0])}, "action")
    assert values[0] == pytest.approx(0.5, abs=0.01)
    assert np.isnan(values[1])
    with caplog.at_level(logging.WARNING):
        compiled = compile_rule_base(base)
    assert compiled.reports["action"].holes > 0
    assert "no rule fires" in caplog.text
    assert compiled.evaluate({"level": 9.0})[0]["action"] == 0.0  # neutral
    assert compiled.evaluate({"level": 1.0})[0]["action"] == pytest.approx(0.5, abs=0.01)


def test_vectorised_evaluation_and_reports_agree_with_single_points() -> None:
    compiled = compile_rule_base(_base())
    surface = compiled.surfaces["action"]
    points = np.array([[-3.0], [0.0], [4.5], [5.0], [7.25], [10.0], [42.0]])
    many = surface.evaluate_many(points)
    single = [surface.evaluate([float(p[0])]) for p in points]
    assert many == pytest.approx(single)
    assert many[0] == many[1]  # clipped to the universe
    assert many[-1] == many[-2]
    report = compiled.reports["action"]
    assert report.points == len(surface.axes[0]) == report.grid_shape[0]
    assert compiled.compile_seconds == pytest.approx(report.seconds)
    assert compiled.compile_seconds > 0


def test_reference_simulation_matches_the_compiled_surface() -> None:
    base = _base()
    compiled = compile_rule_base(base)
    _, simulation = reference_simulation(base)
    levels = np.array([1.0, 4.5, 5.0, 8.0])
    reference = reference_outputs(base, {"level": levels}, "action")
    for level, expected in zip(levels, reference, strict=True):
        simulation.input["level"] = level
        simulation.compute()
        assert simulation.output["action"] == pytest.approx(expected)
        if level in (1.0, 5.0, 8.0):  # grid nodes: the surface is exact there
            assert compiled.evaluate({"level": level})[0]["action"] == pytest.approx(expected)


def test_output_term_no_rule_concludes_does_not_break_the_reference() -> None:
    # scikit-fuzzy's array path fails with TypeError on an output term that no
    # rule concludes; such a term must not change the answer, only be ignored.
    spare = replace(ACTION, terms=(*ACTION.terms, Term("zero", "tri", (-0.2, 0.0, 0.2))))
    with_spare = compile_rule_base(_base(outputs=(spare,)))
    plain = compile_rule_base(_base())
    for level in (1.0, 4.5, 5.0, 9.0):
        assert with_spare.evaluate({"level": level})[0]["action"] == pytest.approx(
            plain.evaluate({"level": level})[0]["action"]
        )
    assert with_spare.reports["action"].holes == 0
