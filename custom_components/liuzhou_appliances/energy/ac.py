"""Fuzzy comfort controller for room air conditioners.

The controller never replaces the appliance's own thermostat: it moves the
target temperature within the comfort band (a setpoint offset) and picks a
fan speed. Temperatures are handled in the *demand direction* so one rule
base serves cooling and heating: "error" is how far the room is on the side
the AC works against (warmer than the setpoint when cooling, colder when
heating), and a positive offset always means "relax" (warmer when cooling,
cooler when heating). The rule base, in words, is in docs/energy.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import logging
import math
import threading
from typing import Final, Literal

from .fuzzy import CompiledRuleBase, Condition, Rule, RuleBase, Term, Variable, compile_rule_base
from .inputs import DecisionStatus, Issue, Reading, fresh_value
from .tariff import PriceUnavailableError, SensorPriceTariff, Tariff, price_signal

_LOGGER = logging.getLogger(__name__)

type AcMode = Literal["cool", "heat"]

# Defaults used when a sensor is missing; each is the cautious choice.
DEFAULT_OUTDOOR_LOAD_K: Final = 10.0  # "hot": relax less, pre-cool harder
DEFAULT_HUMIDITY_PCT: Final = 55.0  # "normal": humidity changes nothing
DEFAULT_OCCUPANCY: Final = 1.0  # assume someone is in: comfort first
NEUTRAL_OFFSET_K: Final = 0.0
NEUTRAL_FAN_PCT: Final = 50.0


def comfort_price_signal(
    tariff: Tariff, now: datetime, *, lookahead: timedelta = timedelta(hours=2)
) -> float:
    """The AC's price input in [-1, 1]: prepare (< 0) before a rise, else the price level.

    Negative exactly as ``price_signal``: a dearer period starts within
    ``lookahead`` (its size is the rise as a share of the next 24 hours'
    price range). Otherwise the current price's position in that range: 0 at
    the day's lowest price (cheap hours: hold the user's setpoint), 1 at the
    top price. Unlike ``price_signal``, mid-priced (flat) hours count too:
    every kWh above the cheapest price is worth saving inside the band.
    """
    signal = price_signal(tariff, now, lookahead=lookahead)
    if signal < 0.0 or not tariff.time_varying:
        return signal
    day = tariff.prices(now, 300, 24 * 3600 // 300)
    low, high = float(day.min()), float(day.max())
    if high - low <= 1e-9 * max(high, 1.0):
        return 0.0
    return float(min(1.0, max(0.0, (day[0] - low) / (high - low))))


def _is(variable: str, term: str) -> Condition:
    """A rule's condition ``variable is term``."""
    return Condition(variable, term)


def _is_not(variable: str, term: str) -> Condition:
    """A rule's condition ``variable is not term``."""
    return Condition(variable, term, negated=True)


def ac_rule_base() -> RuleBase:
    """The comfort controller's rule base (documented in docs/energy.md)."""
    error = Variable(
        "error",
        "K",
        -4.0,
        6.0,
        resolution=0.05,
        grid_step=0.375,
        meaning="room minus setpoint, in the direction the AC works against",
        terms=(
            Term("below", "trap", (-4.0, -4.0, -1.0, 0.0), "already past the setpoint"),
            Term("near", "tri", (-1.0, 0.0, 1.5), "about at the setpoint"),
            Term("above", "tri", (0.0, 1.5, 3.0), "noticeably off"),
            Term("far", "trap", (1.5, 3.0, 6.0, 6.0), "well off the setpoint"),
        ),
    )
    trend = Variable(
        "trend",
        "K/h",
        -3.0,
        3.0,
        resolution=0.05,
        grid_step=0.125,
        meaning="how fast the error grows",
        terms=(
            Term("improving", "trap", (-3.0, -3.0, -1.0, 0.0)),
            Term("steady", "tri", (-1.0, 0.0, 1.0)),
            Term("worsening", "trap", (0.0, 1.0, 3.0, 3.0)),
        ),
    )
    outdoor = Variable(
        "outdoor_load",
        "K",
        -10.0,
        20.0,
        resolution=0.1,
        grid_step=1.25,
        meaning="outdoor minus setpoint, in the direction the AC works against",
        terms=(
            Term("mild", "trap", (-10.0, -10.0, 0.0, 5.0)),
            Term("warm", "tri", (0.0, 5.0, 10.0)),
            Term("hot", "trap", (5.0, 10.0, 20.0, 20.0)),
        ),
    )
    humidity = Variable(
        "humidity",
        "%",
        20.0,
        100.0,
        resolution=0.5,
        grid_step=3.75,
        meaning="indoor relative humidity",
        terms=(
            Term("dry", "trap", (20.0, 20.0, 40.0, 55.0)),
            Term("normal", "tri", (40.0, 55.0, 70.0)),
            Term("humid", "trap", (55.0, 70.0, 100.0, 100.0)),
        ),
    )
    price = Variable(
        "price",
        "",
        -1.0,
        1.0,
        resolution=0.01,
        grid_step=0.0625,
        meaning="tariff: -1 dearer hours coming; else price level, 0 cheapest to 1 dearest",
        terms=(
            Term("prepare", "trap", (-1.0, -1.0, -0.5, 0.0), "a dearer period is coming"),
            Term("neutral", "tri", (-0.5, 0.0, 0.5), "the day's cheapest hours"),
            Term("expensive", "trap", (0.0, 0.5, 1.0, 1.0), "dearer than the cheapest hours"),
        ),
    )
    occupancy = Variable(
        "occupancy",
        "",
        0.0,
        1.0,
        resolution=0.01,
        grid_step=0.1,
        meaning="1 occupied (or arriving soon), 0 empty",
        terms=(
            Term("vacant", "trap", (0.0, 0.0, 0.1, 0.9)),
            Term("occupied", "trap", (0.1, 0.9, 1.0, 1.0)),
        ),
    )
    offset = Variable(
        "offset",
        "K",
        -3.0,
        4.0,
        resolution=0.05,
        meaning="setpoint change, positive = relax",
        terms=(
            Term("precool_strong", "tri", (-3.0, -2.0, -1.0)),
            Term("precool", "tri", (-2.0, -1.0, 0.0)),
            Term("hold", "tri", (-1.0, 0.0, 1.0)),
            Term("relax_small", "tri", (0.0, 1.0, 2.0)),
            Term("relax", "tri", (1.0, 2.0, 3.0)),
            Term("setback", "trap", (2.0, 3.0, 4.0, 4.0)),
        ),
    )
    fan = Variable(
        "fan",
        "%",
        0.0,
        100.0,
        resolution=1.0,
        meaning="fan speed",
        terms=(
            Term("low", "trap", (0.0, 0.0, 25.0, 50.0)),
            Term("medium", "tri", (25.0, 50.0, 75.0)),
            Term("high", "trap", (50.0, 75.0, 100.0, 100.0)),
        ),
    )
    occupied, vacant = _is("occupancy", "occupied"), _is("occupancy", "vacant")
    rules = (
        Rule(
            (occupied, _is("price", "neutral")),
            "offset",
            "hold",
            group="hold",
            text="Someone is in and it is the cheapest time of day: keep the setpoint.",
        ),
        Rule(
            (occupied, _is("price", "expensive")),
            "offset",
            "relax",
            group="relax",
            text="Dearer hours (flat or peak): let the room drift to the edge of the comfort band.",
        ),
        Rule(
            (occupied, _is("price", "expensive"), _is("outdoor_load", "hot")),
            "offset",
            "relax_small",
            group="relax",
            text="Dearer hours on a very hot (or cold) day: drift only half as far, "
            "the room would run away.",
        ),
        Rule(
            (occupied, _is("price", "expensive"), _is("humidity", "humid")),
            "offset",
            "relax_small",
            group="relax",
            text="Dearer hours but humid air (feels warmer): drift only half as far.",
        ),
        Rule(
            (occupied, _is("price", "prepare")),
            "offset",
            "precool",
            group="precool",
            text="A dearer period starts soon: cool (heat) a little ahead, while it is cheap.",
        ),
        Rule(
            (occupied, _is("price", "prepare"), _is("outdoor_load", "hot")),
            "offset",
            "precool_strong",
            group="precool",
            text="A dearer period starts soon on a very hot (cold) day: store more coolness.",
        ),
        Rule(
            (vacant, _is_not("price", "prepare")),
            "offset",
            "setback",
            group="setback",
            text="Nobody in or expected: set back to save energy.",
        ),
        Rule(
            (vacant, _is("price", "prepare")),
            "offset",
            "hold",
            group="hold",
            text="Nobody in, but cheap hours before a dear period: keep the room ready.",
        ),
        Rule((_is("error", "far"),), "fan", "high", text="Room well off the setpoint: fan high."),
        Rule(
            (_is("error", "above"), _is("trend", "worsening")),
            "fan",
            "high",
            text="Room off the setpoint and getting worse: fan high.",
        ),
        Rule(
            (_is("error", "above"), _is_not("trend", "worsening")),
            "fan",
            "medium",
            text="Room off the setpoint but holding or recovering: fan medium.",
        ),
        Rule(
            (_is("error", "near"), _is("trend", "worsening")),
            "fan",
            "medium",
            text="At the setpoint but drifting away: fan medium.",
        ),
        Rule(
            (_is("error", "near"), _is_not("trend", "worsening")),
            "fan",
            "medium",
            text="At the setpoint and steady: fan medium (more air, gentler compressor).",
        ),
        Rule((_is("error", "below"),), "fan", "low", text="Already past the setpoint: fan low."),
        Rule(
            (_is("error", "near"), _is("humidity", "humid")),
            "fan",
            "low",
            text="At the setpoint in humid air: fan low, a slow coil dries the air better.",
        ),
    )
    return RuleBase(
        inputs=(error, trend, outdoor, humidity, price, occupancy),
        outputs=(offset, fan),
        rules=rules,
        neutral={"offset": NEUTRAL_OFFSET_K, "fan": NEUTRAL_FAN_PCT},
    )


class ComfortPreset(StrEnum):
    """How much comfort the controller may trade for cost."""

    COMFORT = "comfort"
    BALANCED = "balanced"
    ECO = "eco"


@dataclass(frozen=True, slots=True)
class PresetSettings:
    """A preset: half-width of the comfort band and rule-weight scaling per rule group."""

    band_half_k: float
    weights: Mapping[str, float]


PRESETS: Final[Mapping[ComfortPreset, PresetSettings]] = {
    ComfortPreset.COMFORT: PresetSettings(1.0, {"relax": 0.5, "setback": 0.5, "hold": 1.0}),
    ComfortPreset.BALANCED: PresetSettings(1.5, {}),
    ComfortPreset.ECO: PresetSettings(2.0, {"hold": 0.6}),
}

_COMPILED: dict[ComfortPreset, CompiledRuleBase] = {}
_COMPILE_LOCK = threading.Lock()


def compiled_for(preset: ComfortPreset) -> CompiledRuleBase:
    """The compiled rule base of ``preset``, compiled once per process."""
    with _COMPILE_LOCK:
        if preset not in _COMPILED:
            _COMPILED[preset] = compile_rule_base(
                ac_rule_base().with_weights(PRESETS[preset].weights)
            )
        return _COMPILED[preset]


@dataclass(frozen=True, slots=True)
class AcInputs:
    """What one decision looks at."""

    now: datetime
    mode: AcMode
    setpoint: float  # the user's setpoint, °C
    room_temperature: Reading | None
    outdoor_temperature: Reading | None = None
    humidity: Reading | None = None
    occupancy: float | None = None  # 0..1, occupied now or expected soon


@dataclass(frozen=True, slots=True)
class AcDecision:
    """What to write to the AC, and why."""

    status: DecisionStatus
    target_temperature: float
    fan_speed: str  # "auto" | "low" | "medium" | "high"
    offset_k: float  # the fuzzy offset before clamping and rounding (relax-positive)
    fuzzy_inputs: Mapping[str, float] = field(default_factory=dict)
    issues: tuple[Issue, ...] = ()


@dataclass(slots=True)
class AcComfortController:
    """One controller per room. ``decide`` never raises."""

    tariff: Tariff | None = None
    preset: ComfortPreset = ComfortPreset.BALANCED
    deadband_k: float = 0.5  # the AC's own thermostat swing around its target
    setpoint_step: float = 0.5
    min_target: float = 16.0
    max_target: float = 30.0
    stale_after: timedelta = timedelta(minutes=15)
    price_lookahead: timedelta = timedelta(hours=1)
    compiled: CompiledRuleBase = field(init=False)
    _last_error: tuple[datetime, float] | None = field(default=None, init=False)
    _trend: float = field(default=0.0, init=False)
    _signal_cache: tuple[int, float] = field(default=(-1, 0.0), init=False)

    def __post_init__(self) -> None:
        self.preset = ComfortPreset(self.preset)
        self.compiled = compiled_for(self.preset)

    @property
    def band_half_k(self) -> float:
        """Half-width of the comfort band around the user's setpoint."""
        return PRESETS[self.preset].band_half_k

    def fallback(self, inputs: AcInputs, issues: tuple[Issue, ...]) -> AcDecision:
        """Hand control back to the appliance: the user's setpoint, fan auto."""
        return AcDecision(
            DecisionStatus.FALLBACK, self._round(inputs.setpoint), "auto", 0.0, issues=issues
        )

    def decide(self, inputs: AcInputs) -> AcDecision:
        """The target temperature and fan speed for now."""
        try:
            return self._decide(inputs)
        except Exception as error:  # a controller must never take the hub down
            _LOGGER.exception("AC controller failed; handing control back to the appliance")
            return self.fallback(inputs, (Issue("internal_error", repr(error)),))

    def _decide(self, inputs: AcInputs) -> AcDecision:
        issues: list[Issue] = []
        if not (isinstance(inputs.setpoint, int | float) and math.isfinite(inputs.setpoint)):
            issue = Issue("setpoint_invalid", f"setpoint is {inputs.setpoint!r}")
            _LOGGER.warning("AC controller: %s; leaving the AC to itself", issue.message)
            return AcDecision(DecisionStatus.FALLBACK, math.nan, "auto", 0.0, issues=(issue,))
        room, room_issue = fresh_value(
            inputs.room_temperature, inputs.now, self.stale_after, "room_temperature"
        )
        if room is None:
            assert room_issue is not None
            _LOGGER.warning(
                "AC controller: %s; leaving the AC to its own control", room_issue.message
            )
            return self.fallback(inputs, (room_issue,))
        direction = 1.0 if inputs.mode == "cool" else -1.0
        error = direction * (room - inputs.setpoint)
        trend = self._update_trend(inputs.now, error)

        outdoor, outdoor_issue = fresh_value(
            inputs.outdoor_temperature, inputs.now, timedelta(hours=2), "outdoor_temperature"
        )
        if outdoor is None:
            assert outdoor_issue is not None
            issues.append(outdoor_issue)
            outdoor_load = DEFAULT_OUTDOOR_LOAD_K
        else:
            outdoor_load = direction * (outdoor - inputs.setpoint)

        humidity = DEFAULT_HUMIDITY_PCT
        if inputs.mode == "cool":  # humidity only tempers cooling
            value, humidity_issue = fresh_value(
                inputs.humidity, inputs.now, timedelta(hours=1), "humidity"
            )
            if value is None:
                assert humidity_issue is not None
                issues.append(humidity_issue)
            else:
                humidity = value

        signal = 0.0
        if self.tariff is not None:
            try:
                signal = self._price_signal(inputs.now)
            except PriceUnavailableError as price_error:
                issues.append(Issue("price_unavailable", str(price_error)))

        occupancy = DEFAULT_OCCUPANCY
        if inputs.occupancy is None or not math.isfinite(inputs.occupancy):
            issues.append(Issue("occupancy_missing", "occupancy unknown, assuming occupied"))
        else:
            occupancy = inputs.occupancy

        fuzzy_inputs = {
            "error": error,
            "trend": trend,
            "outdoor_load": outdoor_load,
            "humidity": humidity,
            "price": signal,
            "occupancy": occupancy,
        }
        outputs, clipped = self.compiled.evaluate(fuzzy_inputs, ("offset",))
        for name, (raw, used) in clipped.items():
            issues.append(
                Issue("input_clipped", f"{name} {raw:.2f} outside its range, used {used}")
            )
        offset = outputs["offset"]
        limit = max(0.0, self.band_half_k - self.deadband_k)
        applied = min(limit, max(-limit, offset))
        target = self._round(inputs.setpoint + direction * applied, toward=inputs.setpoint)
        fan_inputs = fuzzy_inputs
        if inputs.mode == "heat":
            # Heating: moving air feels like a draught, so the fan follows the distance to
            # the target the unit is given, not to the user's setpoint (a room resting at
            # a lowered target is "at the setpoint" for the fan rules). Cooling keeps the
            # user's setpoint: more air makes a relaxed, warmer room feel cooler.
            fan_inputs = {**fuzzy_inputs, "error": direction * (room - target)}
        fan_pct = self.compiled.evaluate(fan_inputs, ("fan",))[0]["fan"]
        fan = "low" if fan_pct < 40 else ("medium" if fan_pct < 70 else "high")
        real_issues = [i for i in issues if i.code != "input_clipped"]
        status = DecisionStatus.DEGRADED if real_issues else DecisionStatus.OK
        if real_issues:
            _LOGGER.info("AC controller degraded: %s", "; ".join(i.message for i in real_issues))
        return AcDecision(status, target, fan, offset, fuzzy_inputs, tuple(issues))

    def _price_signal(self, now: datetime) -> float:
        # The signal only changes on the tariff's 5-minute grid; sensor prices are re-read.
        assert self.tariff is not None
        slot = int(now.timestamp() // 300)
        if isinstance(self.tariff, SensorPriceTariff) or self._signal_cache[0] != slot:
            value = comfort_price_signal(self.tariff, now, lookahead=self.price_lookahead)
            self._signal_cache = (slot, value)
        return self._signal_cache[1]

    def _update_trend(self, now: datetime, error: float) -> float:
        # Exponentially smoothed slope (K/h); the first reading has no trend.
        if self._last_error is not None:
            hours = (now - self._last_error[0]).total_seconds() / 3600
            if 0 < hours < 1:
                slope = (error - self._last_error[1]) / hours
                weight = min(1.0, hours / 0.25)  # ~15 min smoothing
                self._trend += weight * (slope - self._trend)
            elif hours >= 1:
                self._trend = 0.0
        self._last_error = (now, error)
        return self._trend

    def _round(self, value: float, toward: float | None = None) -> float:
        steps = (value - self.min_target) / self.setpoint_step
        if toward is None:
            rounded = round(steps)
        else:  # round towards the user's setpoint, never past the comfort band
            rounded = math.floor(steps + 1e-9) if value > toward else math.ceil(steps - 1e-9)
        result = self.min_target + rounded * self.setpoint_step
        return min(self.max_target, max(self.min_target, result))
