"""Fuzzy rule bases as data, scikit-fuzzy as the reference engine, compiled lookup surfaces.

A rule base is plain data (variables, terms, rules with a sentence each) so
it can be documented, configured and checked. ``build_control_system`` turns
it into a scikit-fuzzy ``ControlSystem`` (the reference answer).
``compile_rule_base`` evaluates that reference on a grid once and keeps one
lookup surface per output; a decision then costs a multilinear interpolation
(microseconds) instead of scikit-fuzzy's inference (milliseconds).

scikit-fuzzy has two silent traps, handled here explicitly:

* inputs outside a variable's universe are clipped without a word: surfaces
  clip too, and ``Surface.evaluate`` reports which inputs were clipped;
* a point where no rule fires leaves the output empty, and reading it later
  raises KeyError: the compiler finds such "holes" across the whole grid,
  reports them, and fills them with the output's documented neutral value.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
import itertools
import logging
import math
import time
from typing import Any, Final, Literal

import numpy as np
from numpy.typing import NDArray
import skfuzzy
from skfuzzy import control as fuzzy_control

_LOGGER = logging.getLogger(__name__)

type FloatArray = NDArray[np.float64]
type Shape = Literal["tri", "trap"]

_CHUNK: Final = 2048  # grid points per scikit-fuzzy array evaluation


class RuleBaseError(ValueError):
    """A rule base that cannot be built; the message names the offending part."""


@dataclass(frozen=True, slots=True)
class Term:
    """A linguistic term: triangle (a, b, c) or trapezoid (a, b, c, d) on its variable."""

    name: str
    shape: Shape
    points: tuple[float, ...]
    meaning: str = ""

    def membership(self, universe: FloatArray) -> FloatArray:
        """The membership function sampled on ``universe``."""
        shape = skfuzzy.trimf if self.shape == "tri" else skfuzzy.trapmf
        values: FloatArray = np.asarray(shape(universe, list(self.points)), dtype=np.float64)
        return values


@dataclass(frozen=True, slots=True)
class Variable:
    """An input or output variable.

    ``resolution`` is scikit-fuzzy's universe step; ``grid_step`` the largest
    spacing of the compiled surface's nodes along this input (every term
    breakpoint is a node as well).
    """

    name: str
    unit: str
    low: float
    high: float
    terms: tuple[Term, ...]
    resolution: float
    grid_step: float = 0.0
    meaning: str = ""

    @property
    def universe(self) -> FloatArray:
        """The sampled universe scikit-fuzzy works on."""
        count = round((self.high - self.low) / self.resolution) + 1
        return np.asarray(np.linspace(self.low, self.high, count), dtype=np.float64)

    def term(self, name: str) -> Term:
        """The term called ``name``."""
        for term in self.terms:
            if term.name == name:
                return term
        raise RuleBaseError(
            f"variable {self.name!r} has no term {name!r} "
            f"(terms: {', '.join(t.name for t in self.terms)})"
        )

    def grid_nodes(
        self, used_terms: Iterable[str] | None = None, step: float | None = None
    ) -> FloatArray:
        """Surface nodes along this input.

        Breakpoints of the terms in ``used_terms`` (default: all) are nodes;
        intervals where one of those terms changes are refined to ``step``
        (default ``grid_step``). Where every used membership is constant the
        output is constant along this axis, so no nodes are needed there.
        """
        names = set(used_terms) if used_terms is not None else {t.name for t in self.terms}
        terms = [t for t in self.terms if t.name in names]
        spacing = self.grid_step if step is None else step
        breakpoints = {self.low, self.high}
        for term in terms:
            breakpoints.update(p for p in term.points if self.low < p < self.high)
        nodes = sorted(breakpoints)
        refined: list[float] = [nodes[0]]
        for left, right in itertools.pairwise(nodes):
            middle = np.array([(left + right) / 2, left + (right - left) / 3])
            varies = any(
                np.ptp(term.membership(np.array([left, *middle, right]))) > 0 for term in terms
            )
            pieces = 1
            if varies and spacing > 0:
                pieces = max(1, math.ceil((right - left) / spacing - 1e-9))
            refined.extend(left + (right - left) * k / pieces for k in range(1, pieces + 1))
        return np.array(refined)


@dataclass(frozen=True, slots=True)
class Condition:
    """``variable is term`` (or ``is not`` when ``negated``)."""

    variable: str
    term: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """IF all ``when`` conditions hold THEN ``output`` is ``term``, with a weight."""

    when: tuple[Condition, ...]
    output: str
    term: str
    weight: float = 1.0
    text: str = ""
    group: str = ""  # presets scale rule weights by group


@dataclass(frozen=True, slots=True)
class RuleBase:
    """Inputs, outputs, rules and each output's neutral value (used where no rule fires)."""

    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    rules: tuple[Rule, ...]
    neutral: Mapping[str, float]
    # "product" makes rule strength smooth in the inputs (no min() creases), so
    # the compiled surface needs far fewer grid nodes for the same accuracy.
    and_method: Literal["min", "product"] = "product"
    # Likewise "probor" (a + b - ab) accumulates rules on one output term without
    # the creases max() leaves where two rules cross.
    accumulation: Literal["max", "probor"] = "probor"

    def __post_init__(self) -> None:
        if self.and_method not in ("min", "product"):
            raise RuleBaseError(f"and_method must be 'min' or 'product', not {self.and_method!r}")
        if self.accumulation not in ("max", "probor"):
            raise RuleBaseError(
                f"accumulation must be 'max' or 'probor', not {self.accumulation!r}"
            )
        names = [v.name for v in (*self.inputs, *self.outputs)]
        if len(set(names)) != len(names):
            raise RuleBaseError(f"variable names repeat: {names}")
        for variable in (*self.inputs, *self.outputs):
            if not (variable.low < variable.high) or variable.resolution <= 0:
                raise RuleBaseError(f"variable {variable.name!r} has an empty universe")
            if not variable.terms:
                raise RuleBaseError(f"variable {variable.name!r} has no terms")
            for term in variable.terms:
                expected = 3 if term.shape == "tri" else 4
                if len(term.points) != expected or list(term.points) != sorted(term.points):
                    raise RuleBaseError(
                        f"{variable.name}.{term.name}: {term.shape} needs {expected} "
                        f"ascending points, got {term.points}"
                    )
        inputs = {v.name: v for v in self.inputs}
        outputs = {v.name: v for v in self.outputs}
        for output, variable in outputs.items():
            if output not in self.neutral:
                raise RuleBaseError(f"output {output!r} has no neutral value")
            if not variable.low <= self.neutral[output] <= variable.high:
                raise RuleBaseError(f"neutral value of {output!r} is outside its universe")
        for index, rule in enumerate(self.rules):
            where = f"rule {index + 1}"
            if not rule.when:
                raise RuleBaseError(f"{where} has no conditions")
            for condition in rule.when:
                if condition.variable not in inputs:
                    raise RuleBaseError(f"{where}: {condition.variable!r} is not an input")
                inputs[condition.variable].term(condition.term)
            if rule.output not in outputs:
                raise RuleBaseError(f"{where}: {rule.output!r} is not an output")
            outputs[rule.output].term(rule.term)
            if not (0.0 <= rule.weight <= 1.0):
                raise RuleBaseError(f"{where}: weight must be within 0-1, got {rule.weight}")

    def input(self, name: str) -> Variable:
        """The input variable called ``name``."""
        for variable in self.inputs:
            if variable.name == name:
                return variable
        raise RuleBaseError(f"no input {name!r}")

    def inputs_of(self, output: str) -> tuple[str, ...]:
        """The inputs that the rules for ``output`` read, in declaration order."""
        used = {c.variable for rule in self.rules if rule.output == output for c in rule.when}
        return tuple(v.name for v in self.inputs if v.name in used)

    def terms_used(self, output: str, variable: str) -> tuple[str, ...]:
        """The terms of input ``variable`` that the rules for ``output`` read."""
        return tuple(
            {
                c.term: None
                for r in self.rules
                if r.output == output
                for c in r.when
                if c.variable == variable
            }
        )

    def with_weights(self, scale: Mapping[str, float]) -> RuleBase:
        """A copy with each rule's weight multiplied by ``scale[rule.group]`` (capped at 1)."""
        rules = tuple(
            Rule(
                r.when,
                r.output,
                r.term,
                min(1.0, r.weight * scale.get(r.group, 1.0)),
                r.text,
                r.group,
            )
            for r in self.rules
        )
        return RuleBase(
            self.inputs, self.outputs, rules, self.neutral, self.and_method, self.accumulation
        )


# --- scikit-fuzzy, the reference -------------------------------------------------


def _probabilistic_or(new: Any, previous: Any) -> Any:
    return new + previous - new * previous


def _accumulate_function(name: str) -> Any:
    return _probabilistic_or if name == "probor" else np.fmax


def build_control_system(rule_base: RuleBase, outputs: Iterable[str] | None = None) -> Any:
    """The scikit-fuzzy ControlSystem for ``outputs`` (default: all)."""
    wanted = set(outputs) if outputs is not None else {v.name for v in rule_base.outputs}
    rules = [r for r in rule_base.rules if r.output in wanted]
    if not rules:
        raise RuleBaseError(f"no rules conclude {sorted(wanted)}")
    used_inputs = {c.variable for r in rules for c in r.when}
    antecedents: dict[str, Any] = {}
    for variable in rule_base.inputs:
        if variable.name in used_inputs:
            antecedent = fuzzy_control.Antecedent(variable.universe, variable.name)
            for term in variable.terms:
                antecedent[term.name] = term.membership(variable.universe)
            antecedents[variable.name] = antecedent
    # Only terms some rule concludes: scikit-fuzzy's array path fails with a
    # TypeError on a term no rule sets; leaving it out does not change the answer.
    concluded = {(r.output, r.term) for r in rules}
    consequents: dict[str, Any] = {}
    for variable in rule_base.outputs:
        if variable.name in wanted:
            consequent = fuzzy_control.Consequent(variable.universe, variable.name)
            consequent.accumulation_method = _accumulate_function(rule_base.accumulation)
            for term in variable.terms:
                if (variable.name, term.name) in concluded:
                    consequent[term.name] = term.membership(variable.universe)
            consequents[variable.name] = consequent
    and_func = np.multiply if rule_base.and_method == "product" else np.fmin
    sk_rules = []
    for rule in rules:
        antecedent_expr: Any = None
        for condition in rule.when:
            term_expr = antecedents[condition.variable][condition.term]
            if condition.negated:
                term_expr = ~term_expr
            antecedent_expr = term_expr if antecedent_expr is None else antecedent_expr & term_expr
        consequent_term = consequents[rule.output][rule.term]
        if rule.weight != 1.0:
            consequent_term = consequent_term % rule.weight
        sk_rules.append(fuzzy_control.Rule(antecedent_expr, consequent_term, and_func=and_func))
    return fuzzy_control.ControlSystem(sk_rules)


def reference_outputs(
    rule_base: RuleBase, points: Mapping[str, FloatArray], output: str, *, dedupe: bool = True
) -> FloatArray:
    """scikit-fuzzy's answer for ``output`` at many points; NaN where its output is empty.

    Inputs are clipped to their universe first (what scikit-fuzzy does
    silently). The output of a Mamdani system depends on the inputs only
    through the activation of each output term, so with ``dedupe`` the
    activations are computed first (with scikit-fuzzy's own membership
    interpolation) and scikit-fuzzy is asked once per distinct activation
    pattern; points where nothing fires are holes and are not asked at all.
    """
    names = rule_base.inputs_of(output)
    count = len(next(iter(points.values()))) if points else 0
    clipped = {
        name: np.clip(
            np.asarray(points[name], dtype=np.float64),
            rule_base.input(name).low,
            rule_base.input(name).high,
        )
        for name in names
    }
    result = np.full(count, np.nan)
    activations = output_activations(rule_base, clipped, output)
    covered = np.flatnonzero(activations.max(axis=1) > 0)
    if dedupe:
        _, first, inverse = np.unique(
            activations[covered], axis=0, return_index=True, return_inverse=True
        )
        asked = covered[first]
    else:
        asked = covered
    answers = np.full(asked.size, np.nan)
    system = build_control_system(rule_base, [output])
    for start in range(0, asked.size, _CHUNK):
        chunk = asked[start : start + _CHUNK]
        simulation = fuzzy_control.ControlSystemSimulation(system, cache=False)
        try:
            simulation.inputs({name: clipped[name][chunk] for name in names})
            simulation.compute()
            answers[start : start + chunk.size] = np.asarray(
                simulation.output[output], dtype=np.float64
            )
        except (AssertionError, ValueError, KeyError, ArithmeticError):
            for offset, point in enumerate(chunk):
                answers[start + offset] = _reference_one(
                    system, {n: clipped[n][point] for n in names}, output
                )
    if dedupe:
        result[covered] = answers[inverse.ravel()]
    else:
        result[covered] = answers
    return result


def _reference_one(system: Any, values: Mapping[str, float], output: str) -> float:
    simulation = fuzzy_control.ControlSystemSimulation(system)
    for name, value in values.items():
        simulation.input[name] = float(value)
    try:
        simulation.compute()
        return float(simulation.output[output])
    except (AssertionError, ValueError, KeyError, ArithmeticError):
        return math.nan


def output_activations(
    rule_base: RuleBase, points: Mapping[str, FloatArray], output: str
) -> FloatArray:
    """Activation of each output term read by some rule, as scikit-fuzzy computes it.

    Rule strength combines its conditions' memberships ("is not" is one
    minus the membership) by minimum or product, times the rule weight; each output term
    accumulates its rules by maximum or probabilistic sum. One column per term, in rule order.
    """
    count = len(next(iter(points.values())))
    and_func = np.multiply if rule_base.and_method == "product" else np.fmin
    accumulate = _accumulate_function(rule_base.accumulation)
    columns: dict[str, FloatArray] = {}
    memberships: dict[tuple[str, str], FloatArray] = {}
    for rule in rule_base.rules:
        if rule.output != output:
            continue
        strength: FloatArray = np.ones(count)
        for condition in rule.when:
            key = (condition.variable, condition.term)
            if key not in memberships:
                variable = rule_base.input(condition.variable)
                memberships[key] = np.asarray(
                    skfuzzy.interp_membership(
                        variable.universe,
                        variable.term(condition.term).membership(variable.universe),
                        points[condition.variable],
                    ),
                    dtype=np.float64,
                )
            degree = memberships[key]
            strength = np.asarray(
                and_func(strength, 1.0 - degree if condition.negated else degree),
                dtype=np.float64,
            )
        activation = strength * rule.weight
        previous = columns.get(rule.term)
        columns[rule.term] = activation if previous is None else accumulate(activation, previous)
    if not columns:
        return np.zeros((count, 0))
    return np.column_stack(list(columns.values()))


# --- compiled surfaces ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompileReport:
    """What compiling one output's surface found."""

    output: str
    inputs: tuple[str, ...]
    grid_shape: tuple[int, ...]
    holes: int
    hole_examples: tuple[Mapping[str, float], ...]
    seconds: float

    @property
    def points(self) -> int:
        """Number of grid points evaluated."""
        return math.prod(self.grid_shape)


@dataclass(slots=True)
class Surface:
    """One output as a function of its inputs, by multilinear interpolation on a grid."""

    output: str
    inputs: tuple[str, ...]
    axes: tuple[FloatArray, ...]
    values: FloatArray
    _axes_lists: tuple[list[float], ...] = field(init=False, repr=False)
    _flat: list[float] = field(init=False, repr=False)
    _strides: tuple[int, ...] = field(init=False, repr=False)
    _offsets: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._axes_lists = tuple([float(x) for x in axis] for axis in self.axes)
        self._flat = [float(v) for v in self.values.ravel()]
        strides = []
        stride = 1
        for axis in reversed(self.axes):
            strides.append(stride)
            stride *= len(axis)
        self._strides = tuple(reversed(strides))
        self._offsets = tuple(
            sum(b * s for b, s in zip(bits, self._strides, strict=True))
            for bits in itertools.product((0, 1), repeat=len(self.axes))
        )

    def evaluate(self, point: Sequence[float]) -> float:
        """The output at ``point`` (inputs in ``self.inputs`` order).

        Plain Python on purpose: for one point it is several times faster
        than any numpy or scipy call, whose fixed overhead dominates here.
        """
        base = 0
        fractions: list[float] = []
        for value, nodes, stride in zip(point, self._axes_lists, self._strides, strict=True):
            last = len(nodes) - 2
            cell = bisect_right(nodes, value) - 1
            cell = 0 if cell < 0 else (last if cell > last else cell)
            left = nodes[cell]
            fraction = (value - left) / (nodes[cell + 1] - left)
            fractions.append(0.0 if fraction < 0.0 else (1.0 if fraction > 1.0 else fraction))
            base += cell * stride
        flat = self._flat
        corners = [flat[base + offset] for offset in self._offsets]
        # Corners are ordered with the last axis varying fastest: reduce it pairwise first.
        for fraction in reversed(fractions):
            corners = [
                low + fraction * (high - low)
                for low, high in zip(corners[0::2], corners[1::2], strict=True)
            ]
        return corners[0]

    def evaluate_many(self, points: FloatArray) -> FloatArray:
        """Vectorised evaluation of an (n, inputs) array."""
        from scipy.interpolate import RegularGridInterpolator

        clipped = np.column_stack(
            [np.clip(points[:, i], axis[0], axis[-1]) for i, axis in enumerate(self.axes)]
        )
        interpolator = RegularGridInterpolator(self.axes, self.values, method="linear")
        return np.asarray(interpolator(clipped), dtype=np.float64)


@dataclass(slots=True)
class CompiledRuleBase:
    """All outputs of a rule base as surfaces, with the compile reports."""

    rule_base: RuleBase
    surfaces: dict[str, Surface]
    reports: dict[str, CompileReport]
    _bounds: dict[str, tuple[float, float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._bounds = {v.name: (v.low, v.high) for v in self.rule_base.inputs}

    @property
    def compile_seconds(self) -> float:
        """Total compile time."""
        return sum(report.seconds for report in self.reports.values())

    def evaluate(
        self, inputs: Mapping[str, float], outputs: Iterable[str] | None = None
    ) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
        """The outputs at ``inputs``, and the inputs that had to be clipped (raw, used).

        ``outputs`` picks some outputs (default: all); only the inputs those
        read must then be given. Every input read must be finite (callers
        substitute documented defaults for missing sensors before this).
        """
        if outputs is None:
            surfaces, bounds = self.surfaces, self._bounds
        else:
            surfaces = {name: self.surfaces[name] for name in outputs}
            read = {i for surface in surfaces.values() for i in surface.inputs}
            bounds = {name: limits for name, limits in self._bounds.items() if name in read}
        clipped: dict[str, tuple[float, float]] = {}
        values: dict[str, float] = {}
        for name, (low, high) in bounds.items():
            raw = inputs[name]
            used = low if raw < low else (high if raw > high else raw)
            if used != raw:
                clipped[name] = (raw, used)
            values[name] = used
        results = {
            name: surface.evaluate([values[i] for i in surface.inputs])
            for name, surface in surfaces.items()
        }
        return results, clipped


def compile_rule_base(rule_base: RuleBase) -> CompiledRuleBase:
    """Evaluate scikit-fuzzy on each output's grid and keep the surfaces."""
    surfaces: dict[str, Surface] = {}
    reports: dict[str, CompileReport] = {}
    for output in rule_base.outputs:
        started = time.perf_counter()
        names = rule_base.inputs_of(output.name)
        if not names:
            raise RuleBaseError(f"no rules conclude {output.name!r}")
        axes = tuple(
            rule_base.input(name).grid_nodes(rule_base.terms_used(output.name, name))
            for name in names
        )
        mesh = np.meshgrid(*axes, indexing="ij")
        points = {name: grid.ravel() for name, grid in zip(names, mesh, strict=True)}
        values = reference_outputs(rule_base, points, output.name)
        holes = np.flatnonzero(np.isnan(values))
        examples = tuple({name: float(points[name][i]) for name in names} for i in holes[:5])
        if holes.size:
            _LOGGER.warning(
                "fuzzy output %s: no rule fires at %d of %d grid points (e.g. %s); "
                "using its neutral value %s there",
                output.name,
                holes.size,
                values.size,
                examples[0],
                rule_base.neutral[output.name],
            )
        values[holes] = rule_base.neutral[output.name]
        shape = tuple(len(axis) for axis in axes)
        surfaces[output.name] = Surface(output.name, names, axes, values.reshape(shape))
        reports[output.name] = CompileReport(
            output.name,
            names,
            shape,
            int(holes.size),
            examples,
            time.perf_counter() - started,
        )
    return CompiledRuleBase(rule_base, surfaces, reports)


def reference_simulation(rule_base: RuleBase) -> tuple[Any, Any]:
    """A scikit-fuzzy ControlSystemSimulation of the whole rule base (for comparisons)."""
    system = build_control_system(rule_base)
    return system, fuzzy_control.ControlSystemSimulation(system)
