"""The fridge fault detector's input window and alarm rule (no Home Assistant import).

The dataset, the hub and the appliance feed the same ``FridgeObserver`` with
what the fridge reports (``FridgeSample``: compressor, power, compartment
temperatures and targets, door, defrost), in time order, whenever it changes
or on a timer. The observer integrates the reports as piecewise constant
(each holds until the next) into hourly bins and ``features`` turns the last
``WINDOW_H`` hours into one model row (``FEATURES``: names and units). A gap
between reports longer than ``MAX_GAP_S`` counts as unobserved; a window less
than ``MIN_COVERAGE`` observed gives no row.

The kitchen temperature is not an input: the fridge does not report it and a
hub may have no sensor next to it. The network reads the season from the
rates the fridge shows (how fast it warms while the compressor is off).

``AlarmRule`` turns the model's per-fault scores, one row an hour, into an
alarm: ``consecutive`` rows in a row whose highest fault score is above
``threshold``. Its defaults were chosen on the validation split (CARD.md).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field, fields
import math
from typing import Any, Final

import numpy as np

HOUR_S: Final = 3600.0
WINDOW_H: Final = 48
RECENT_H: Final = 12
MAX_GAP_S: Final = 900.0
MIN_COVERAGE: Final = 0.9

FEATURES: Final[tuple[tuple[str, str], ...]] = (
    ("duty", "fraction"),
    ("duty_recent", "fraction"),
    ("duty_trend", "fraction"),
    ("on_power", "W"),
    ("on_power_trend", "W"),
    ("defrost_hours", "h"),
    ("defrost_power", "W"),
    ("fridge_above_target", "K"),
    ("fridge_above_target_recent", "K"),
    ("freezer_above_target", "K"),
    ("freezer_above_target_recent", "K"),
    ("fridge_off_warming", "K/h"),
    ("freezer_on_cooling", "K/h"),
    ("starts", "1/day"),
    ("longest_run", "h"),
    ("door_openings", "1/day"),
    ("door_open", "min/day"),
)
FAULTS: Final = ("door_seal", "condenser", "compressor", "defrost")
OUTPUTS: Final[tuple[tuple[str, str], ...]] = (
    ("healthy", "score"),
    *((fault, "score") for fault in FAULTS),
)


@dataclass(frozen=True, slots=True)
class FridgeSample:
    """One report: time (s, any monotonic origin), compressor on, power (W), fridge and
    freezer temperatures and targets (°C; freezer ``None`` without one), door open,
    defrost running."""

    time_s: float
    compressor_on: bool
    power_w: float
    fridge_c: float
    fridge_target_c: float
    freezer_c: float | None
    freezer_target_c: float | None
    door_open: bool
    defrost_active: bool


@dataclass(slots=True)
class _Bin:
    seen_s: float = 0.0
    on_s: float = 0.0
    on_j: float = 0.0
    defrost_s: float = 0.0
    defrost_j: float = 0.0
    fridge_ks: float = 0.0  # (temperature - target) x seconds
    freezer_ks: float = 0.0
    door_s: float = 0.0
    openings: int = 0
    starts: int = 0
    longest_run_s: float = 0.0
    off_warm_k: float = 0.0  # fridge temperature change while off, door closed
    off_warm_s: float = 0.0
    on_cool_k: float = 0.0  # freezer temperature change while running
    on_cool_s: float = 0.0


@dataclass(slots=True)
class FridgeObserver:
    """Hourly bins of one fridge's reports; ``features`` gives the model row of the last
    ``WINDOW_H`` hours (or ``None`` while too little is known)."""

    _bins: deque[tuple[int, _Bin]] = field(default_factory=lambda: deque(maxlen=WINDOW_H + 1))
    _last: FridgeSample | None = None
    _run_start_s: float | None = None
    _defrost_power_w: float | None = None  # of the last complete defrost seen
    _defrost_j: float = 0.0
    _defrost_s: float = 0.0

    def add(self, sample: FridgeSample) -> None:
        """Take a report. Reports must come in time order; an older one is ignored
        (``ValueError`` for non-finite numbers)."""
        _check(sample)
        last = self._last
        if last is not None and sample.time_s < last.time_s:
            return
        if last is not None and 0.0 < sample.time_s - last.time_s <= MAX_GAP_S:
            self._integrate(last, sample)
        elif last is not None and sample.time_s - last.time_s > MAX_GAP_S:
            self._run_start_s = None  # the run seen across a gap has an unknown length
        self._edges(last, sample)
        self._last = sample

    def to_json(self) -> dict[str, Any]:
        """The window as JSON-ready data, so that a restart keeps what was observed:
        ``{"bins": [[hour, {field: number}]], "last": {FridgeSample fields} | None,
        "run_start_s", "defrost_power_w", "defrost_j", "defrost_s"}``."""
        return {
            "bins": [[hour, asdict(item)] for hour, item in self._bins],
            "last": None if self._last is None else asdict(self._last),
            "run_start_s": self._run_start_s,
            "defrost_power_w": self._defrost_power_w,
            "defrost_j": self._defrost_j,
            "defrost_s": self._defrost_s,
        }

    @classmethod
    def from_json(cls, data: Any) -> FridgeObserver:
        """The observer ``to_json`` gave; ``ValueError`` naming the problem for anything
        else (a wrong shape, a missing field, a non-finite number)."""
        try:
            observer = cls()
            for hour, raw in data["bins"]:
                if not isinstance(hour, int) or isinstance(hour, bool):
                    raise ValueError(f"hour {hour!r} is not an integer")
                numbers = {f.name: _finite(raw[f.name], f.name) for f in fields(_Bin)}
                item = _Bin(
                    **{k: int(v) if k in _COUNTS else v for k, v in numbers.items()}  # type: ignore[arg-type]
                )
                observer._bins.append((hour, item))
            if (last := data["last"]) is not None:
                sample = FridgeSample(**{f.name: last[f.name] for f in fields(FridgeSample)})
                flags = (sample.compressor_on, sample.door_open, sample.defrost_active)
                if not all(isinstance(flag, bool) for flag in flags):
                    raise ValueError(f"a flag of the last report is not true or false: {last}")
                _check(sample)
                observer._last = sample
            observer._run_start_s = _optional_finite(data["run_start_s"], "run_start_s")
            observer._defrost_power_w = _optional_finite(data["defrost_power_w"], "defrost_power_w")
            observer._defrost_j = _finite(data["defrost_j"], "defrost_j")
            observer._defrost_s = _finite(data["defrost_s"], "defrost_s")
        except (TypeError, KeyError, AttributeError) as err:
            raise ValueError(f"not a saved fridge window: {err!r}") from None
        return observer

    def _bin(self, hour: int) -> _Bin:
        if self._bins and self._bins[-1][0] == hour:
            return self._bins[-1][1]
        new = _Bin()
        self._bins.append((hour, new))
        return new

    def _integrate(self, a: FridgeSample, b: FridgeSample) -> None:
        t = a.time_s
        while t < b.time_s:
            hour = math.floor(t / HOUR_S)
            end = min(b.time_s, (hour + 1) * HOUR_S)
            dt = end - t
            item = self._bin(hour)
            item.seen_s += dt
            running = a.compressor_on and not a.defrost_active
            if running:
                item.on_s += dt
                item.on_j += a.power_w * dt
            if a.defrost_active:
                item.defrost_s += dt
                item.defrost_j += a.power_w * dt
            item.fridge_ks += (a.fridge_c - a.fridge_target_c) * dt
            if a.freezer_c is not None and a.freezer_target_c is not None:
                item.freezer_ks += (a.freezer_c - a.freezer_target_c) * dt
            if a.door_open:
                item.door_s += dt
            t = end
        span = b.time_s - a.time_s
        item = self._bin(math.floor((b.time_s - 1e-9) / HOUR_S))
        if not a.compressor_on and not a.door_open and not a.defrost_active:
            item.off_warm_k += b.fridge_c - a.fridge_c
            item.off_warm_s += span
        if a.compressor_on and a.freezer_c is not None and b.freezer_c is not None:
            item.on_cool_k += b.freezer_c - a.freezer_c
            item.on_cool_s += span

    def _edges(self, last: FridgeSample | None, sample: FridgeSample) -> None:
        item = self._bin(math.floor(sample.time_s / HOUR_S))
        was_on = last is not None and last.compressor_on
        if sample.compressor_on and not was_on:
            item.starts += 1
            self._run_start_s = sample.time_s if last is not None else None
        elif not sample.compressor_on and was_on:
            if self._run_start_s is not None:
                run = sample.time_s - self._run_start_s
                item.longest_run_s = max(item.longest_run_s, run)
            self._run_start_s = None
        if sample.door_open and last is not None and not last.door_open:
            item.openings += 1
        if last is not None and last.defrost_active:
            self._defrost_j += last.power_w * (sample.time_s - last.time_s)
            self._defrost_s += sample.time_s - last.time_s
            if not sample.defrost_active and self._defrost_s > 0:
                self._defrost_power_w = self._defrost_j / self._defrost_s
        if not sample.defrost_active:
            self._defrost_j = self._defrost_s = 0.0

    def features(self, now_s: float | None = None) -> np.ndarray[Any, Any] | None:
        """The row (float64, ``len(FEATURES)``) of the ``WINDOW_H`` whole hours before
        ``now_s`` (default: the last report's time), or ``None`` if less than
        ``MIN_COVERAGE`` of them was observed."""
        if self._last is None:
            return None
        now = self._last.time_s if now_s is None else now_s
        end = math.floor(now / HOUR_S)  # the hour under way is not complete
        by_hour = dict(self._bins)
        window = [by_hour.get(h) or _Bin() for h in range(end - WINDOW_H, end)]
        seen = sum(b.seen_s for b in window)
        if seen < MIN_COVERAGE * WINDOW_H * HOUR_S:
            return None
        recent = window[-RECENT_H:]
        half = WINDOW_H // 2
        days = seen / 86400.0
        if self._run_start_s is not None and self._last.compressor_on:
            ongoing = now - self._run_start_s
        else:
            ongoing = 0.0

        def duty(bins: list[_Bin]) -> float:
            return _ratio(sum(b.on_s for b in bins), sum(b.seen_s for b in bins))

        def on_power(bins: list[_Bin]) -> float:
            return _ratio(sum(b.on_j for b in bins), sum(b.on_s for b in bins))

        def above(bins: list[_Bin], freezer: bool) -> float:
            total = sum(b.freezer_ks if freezer else b.fridge_ks for b in bins)
            return _ratio(total, sum(b.seen_s for b in bins))

        defrost_s = sum(b.defrost_s for b in window)
        if defrost_s > 0:
            defrost_power = _ratio(sum(b.defrost_j for b in window), defrost_s)
        else:
            defrost_power = self._defrost_power_w or 0.0
        row = [
            duty(window),
            duty(recent),
            duty(window[half:]) - duty(window[:half]),
            on_power(window),
            on_power(window[half:]) - on_power(window[:half]),
            defrost_s / HOUR_S,
            defrost_power,
            above(window, False),
            above(recent, False),
            above(window, True),
            above(recent, True),
            _ratio(sum(b.off_warm_k for b in window), sum(b.off_warm_s for b in window) / HOUR_S),
            _ratio(sum(b.on_cool_k for b in window), sum(b.on_cool_s for b in window) / HOUR_S),
            sum(b.starts for b in window) / days,
            max(ongoing, *(b.longest_run_s for b in window)) / HOUR_S,
            sum(b.openings for b in window) / days,
            sum(b.door_s for b in window) / 60.0 / days,
        ]
        return np.array(row, dtype=np.float64)


_COUNTS: Final = frozenset({"openings", "starts"})  # the _Bin fields that count


def _check(sample: FridgeSample) -> None:
    """ValueError unless every number of the report is a finite number."""
    numbers = (sample.time_s, sample.power_w, sample.fridge_c, sample.fridge_target_c)
    optional = (sample.freezer_c, sample.freezer_target_c)
    if not all(
        not isinstance(n, bool) and isinstance(n, int | float) and math.isfinite(n)
        for n in (*numbers, *(v for v in optional if v is not None))
    ):
        raise ValueError(f"report with a non-finite number: {sample}")


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}: {value!r} is not a finite number")
    return float(value)


def _optional_finite(value: Any, name: str) -> float | None:
    return None if value is None else _finite(value, name)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Suspicion:
    """What the alarm rule says after a row: ``fault`` (one of ``FAULTS``) or ``None``,
    and the highest fault score of the row (0-1)."""

    fault: str | None
    score: float


@dataclass(slots=True)
class AlarmRule:
    """``consecutive`` hourly rows whose highest fault score exceeds ``threshold`` raise
    the alarm; one row below it clears it. The suspected fault is the one with the
    highest summed score over those rows."""

    threshold: float = 0.9  # chosen on validation by models/fridge_fault/evaluate.py
    consecutive: int = 1
    _run: list[np.ndarray[Any, Any]] = field(default_factory=list)

    def update(self, scores: np.ndarray[Any, Any]) -> Suspicion:
        """Take one row's outputs (``OUTPUTS`` order: healthy first) and decide."""
        faults = np.asarray(scores, dtype=np.float64).reshape(-1)[1:]
        top = float(faults.max())
        if top <= self.threshold:
            self._run.clear()
            return Suspicion(None, top)
        self._run.append(faults)
        if len(self._run) > self.consecutive:
            del self._run[0]
        if len(self._run) < self.consecutive:
            return Suspicion(None, top)
        return Suspicion(FAULTS[int(np.sum(self._run, axis=0).argmax())], top)

    def reset(self) -> None:
        """Forget the rows seen (after a gap in the reports)."""
        self._run.clear()
