"""Electricity tariffs: tiers, time-of-use tables and sensor price feeds.

Every tariff answers two questions the controllers ask: the price at one
moment (``price_at``) and a price series on a time grid (``prices``). A
time-of-use table reads its clock times in its own time zone (``tz``): the
Guangxi presets follow China Standard Time (UTC+8, no daylight saving), a
custom table whatever zone its author typed it in (Home Assistant passes its
configured zone). Aware datetimes are converted to that zone; naive ones are
taken as already in it. ``to_local`` is the planner's axis: naive China time.

The Guangxi presets and custom tables are built in ``tariff_presets.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
import math
from typing import Final, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

CHINA_TZ: Final = timezone(timedelta(hours=8), "CST")
MINUTES_PER_DAY: Final = 1440
_EPOCH: Final = date(1970, 1, 1)

type FloatArray = NDArray[np.float64]


class TariffError(ValueError):
    """A tariff definition that cannot be used; the message says what to fix.

    ``problem`` names the kind of mistake in a table a person typed (``format``,
    ``not_a_price``, ``price_invalid``, ``clock_invalid``, ``same_time``,
    ``starts_at_24``, ``overlap``, ``gap``) and ``details`` its language-neutral
    parts (line, period, value, time …), so the integration can say it in the
    person's language; None for mistakes only code can make.
    """

    def __init__(self, message: str, problem: str | None = None, **details: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.details = details


class PriceUnavailableError(RuntimeError):
    """No usable price right now (sensor missing, stale or not a number)."""


def to_local(when: datetime) -> datetime:
    """``when`` as naive local China time (naive input is already local)."""
    if when.tzinfo is None:
        return when
    return when.astimezone(CHINA_TZ).replace(tzinfo=None)


@runtime_checkable
class Tariff(Protocol):
    """What the controllers need from a tariff."""

    @property
    def name(self) -> str:
        """Human-readable name."""

    @property
    def time_varying(self) -> bool:
        """False when the price does not depend on the time of day (shifting saves nothing)."""

    def price_at(self, when: datetime) -> float:
        """Marginal price in CNY/kWh at ``when``; may raise PriceUnavailableError."""

    def prices(self, start: datetime, step_s: int, count: int) -> FloatArray:
        """Mean price of each of ``count`` slots of ``step_s`` seconds from ``start``."""


# --- residential: yearly tiers, flat in time ----------------------------------


@dataclass(frozen=True, slots=True)
class TierStep:
    """Price up to ``up_to_kwh`` of yearly consumption (``None``: no upper bound)."""

    up_to_kwh: float | None
    price: float


@dataclass(slots=True)
class TieredTariff:
    """Yearly consumption tiers with one price per kWh at any time of day.

    ``consumed_kwh`` is this year's consumption so far; the marginal price is
    the price of the tier it falls in. Time does not change the price, so
    ``time_varying`` is False and moving a run in time saves nothing.
    """

    tiers: tuple[TierStep, ...]
    consumed_kwh: float = 0.0
    name: str = "tiered"
    time_varying: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if not self.tiers:
            raise TariffError("a tiered tariff needs at least one tier")
        previous = 0.0
        for index, tier in enumerate(self.tiers):
            check_price(tier.price, f"tier {index + 1}")
            last = index == len(self.tiers) - 1
            if tier.up_to_kwh is None:
                if not last:
                    raise TariffError(f"tier {index + 1} is unbounded but is not the last tier")
                continue
            if not math.isfinite(tier.up_to_kwh) or tier.up_to_kwh <= previous:
                raise TariffError(
                    f"tier {index + 1} ends at {tier.up_to_kwh} kWh, which must be above "
                    f"the previous tier's end ({previous} kWh)"
                )
            previous = tier.up_to_kwh
        if self.tiers[-1].up_to_kwh is not None:
            raise TariffError("the last tier must be unbounded (up_to_kwh=None)")
        if not math.isfinite(self.consumed_kwh) or self.consumed_kwh < 0:
            raise TariffError(
                f"consumed_kwh must be a non-negative number, got {self.consumed_kwh}"
            )

    def marginal_price(self, consumed_kwh: float) -> float:
        """The price of the next kWh after ``consumed_kwh`` this year."""
        for tier in self.tiers:
            if tier.up_to_kwh is None or consumed_kwh < tier.up_to_kwh:
                return tier.price
        return self.tiers[-1].price  # unreachable: the last tier is unbounded

    def cost(self, energy_kwh: float, consumed_kwh: float | None = None) -> float:
        """Cost of ``energy_kwh`` more this year, splitting it across tiers."""
        used = self.consumed_kwh if consumed_kwh is None else consumed_kwh
        remaining, total, lower = energy_kwh, 0.0, 0.0
        for tier in self.tiers:
            upper = math.inf if tier.up_to_kwh is None else tier.up_to_kwh
            if used < upper:
                take = min(remaining, upper - max(used, lower))
                total += take * tier.price
                remaining -= take
                used += take
            lower = upper
            if remaining <= 0:
                break
        return total

    def price_at(self, when: datetime) -> float:
        """The marginal price; the same at every time of day."""
        return self.marginal_price(self.consumed_kwh)

    def prices(self, start: datetime, step_s: int, count: int) -> FloatArray:
        """A flat series at the marginal price."""
        _check_grid(step_s, count)
        return np.full(count, self.marginal_price(self.consumed_kwh))


# --- time of use ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TouPeriod:
    """One period of the day: ``start``-``end`` as "HH:MM"; end may wrap past midnight."""

    start: str
    end: str
    level: str


def _parse_clock(text: str, where: str, period: str = "") -> int:
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise TariffError(
            f"{where}: {text!r} is not a clock time HH:MM",
            "clock_invalid",
            period=period,
            value=text,
        )
    hours, minutes = int(parts[0]), int(parts[1])
    if hours == 24 and minutes == 0:
        return MINUTES_PER_DAY
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise TariffError(
            f"{where}: {text!r} is not a clock time between 00:00 and 24:00",
            "clock_invalid",
            period=period,
            value=text,
        )
    return hours * 60 + minutes


def check_price(price: object, where: str, period: str = "") -> None:
    """Raise TariffError unless ``price`` is a finite, non-negative number of CNY/kWh."""
    if isinstance(price, bool) or not isinstance(price, int | float) or not math.isfinite(price):
        raise TariffError(
            f"{where}: price must be a finite number, got {price!r}", "price_invalid", period=period
        )
    if price < 0:
        raise TariffError(
            f"{where}: price must not be negative, got {price}", "price_invalid", period=period
        )


def _check_grid(step_s: int, count: int) -> None:
    if step_s <= 0 or count < 0:
        raise TariffError(f"a price series needs step_s > 0 and count >= 0 (got {step_s}, {count})")


def _minute_of_day(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(slots=True)
class TimeOfUseTariff:
    """Prices by time of day, with an optional critical-peak uplift in some months.

    ``periods`` must cover the whole day exactly once (gaps and overlaps are
    errors naming the minutes affected). ``level_prices`` gives CNY/kWh per
    level name. In ``critical_months`` the levels in ``critical_levels``
    (during ``critical_periods`` if given, otherwise whenever those levels
    apply) cost ``critical_uplift`` times more. Clock times and months are
    read in ``tz`` (daylight-saving changes included).
    """

    periods: tuple[TouPeriod, ...]
    level_prices: Mapping[str, float]
    critical_months: frozenset[int] = frozenset()
    critical_uplift: float = 1.0
    critical_levels: frozenset[str] = frozenset({"peak"})
    critical_periods: tuple[tuple[str, str], ...] = ()
    name: str = "time-of-use"
    tz: tzinfo = CHINA_TZ  # the zone the clock times (and months) are read in
    time_varying: bool = field(default=True, init=False)
    _normal_minutes: FloatArray = field(init=False, repr=False)
    _critical_minutes: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.level_prices:
            raise TariffError("level_prices is empty")
        for level, price in self.level_prices.items():
            check_price(price, f"level {level!r}")
        if not self.periods:
            raise TariffError("a time-of-use table needs at least one period")
        owner = np.full(MINUTES_PER_DAY, -1, dtype=np.int64)
        for index, period in enumerate(self.periods):
            where = f"period {index + 1} ({period.start}-{period.end} {period.level})"
            if period.level not in self.level_prices:
                raise TariffError(
                    f"{where}: level {period.level!r} has no price "
                    f"(known: {', '.join(sorted(self.level_prices))})"
                )
            minutes = _period_minutes(period.start, period.end, where)
            taken = minutes[owner[minutes] >= 0]
            if taken.size:
                other = self.periods[int(owner[taken[0]])]
                raise TariffError(
                    f"{where} overlaps period {other.start}-{other.end} from "
                    f"{_minute_of_day(int(taken[0]))}",
                    "overlap",
                    period=f"{period.start}-{period.end}",
                    other=f"{other.start}-{other.end}",
                    time=_minute_of_day(int(taken[0])),
                )
            owner[minutes] = index
        missing = np.flatnonzero(owner < 0)
        if missing.size:
            raise TariffError(
                f"the periods leave {missing.size} minutes of the day without a price, "
                f"first at {_minute_of_day(int(missing[0]))}",
                "gap",
                minutes=str(missing.size),
                time=_minute_of_day(int(missing[0])),
            )
        if not all(isinstance(m, int) and 1 <= m <= 12 for m in self.critical_months):
            raise TariffError(f"critical_months must be month numbers 1-12: {self.critical_months}")
        if not math.isfinite(self.critical_uplift) or self.critical_uplift <= 0:
            raise TariffError(f"critical_uplift must be positive, got {self.critical_uplift}")
        unknown = set(self.critical_levels) - set(self.level_prices)
        if unknown and self.critical_months:
            raise TariffError(f"critical_levels {sorted(unknown)} are not tariff levels")
        prices = np.array([self.level_prices[p.level] for p in self.periods])
        self._normal_minutes = prices[owner]
        uplift_mask = np.isin(
            np.array([p.level for p in self.periods])[owner], list(self.critical_levels)
        )
        if self.critical_periods:
            in_window = np.zeros(MINUTES_PER_DAY, dtype=bool)
            for start, end in self.critical_periods:
                in_window[_period_minutes(start, end, f"critical period {start}-{end}")] = True
            uplift_mask &= in_window
        self._critical_minutes = np.where(
            uplift_mask, self._normal_minutes * self.critical_uplift, self._normal_minutes
        )

    @property
    def levels(self) -> tuple[str, ...]:
        """Level names, cheapest first."""
        return tuple(sorted(self.level_prices, key=lambda level: self.level_prices[level]))

    def _minute_table(self, day: date) -> FloatArray:
        return self._critical_minutes if day.month in self.critical_months else self._normal_minutes

    def _local(self, when: datetime) -> datetime:
        """``when`` as naive wall-clock time in ``tz`` (naive input already is)."""
        return when if when.tzinfo is None else when.astimezone(self.tz).replace(tzinfo=None)

    def price_at(self, when: datetime) -> float:
        """The price in force at ``when``."""
        local = self._local(when)
        return float(self._minute_table(local.date())[local.hour * 60 + local.minute])

    def period_at(self, when: datetime) -> str:
        """The period ``when`` falls in: one of ``TARIFF_PERIODS``.

        The cheapest price of the table is the valley, the dearest the peak and
        any price between them flat (a table with one price is flat all day);
        the critical-peak uplift in force makes it critical_peak.
        """
        local = self._local(when)
        minute = local.hour * 60 + local.minute
        normal = float(self._normal_minutes[minute])
        if float(self._minute_table(local.date())[minute]) > normal:
            return "critical_peak"
        used = {self.level_prices[period.level] for period in self.periods}
        if len(used) == 1:
            return "flat"
        if normal <= min(used):
            return "valley"
        return "peak" if normal >= max(used) else "flat"

    def prices(self, start: datetime, step_s: int, count: int) -> FloatArray:
        """Mean price of each slot (exact for slots on whole minutes).

        The slots are real time: across a daylight-saving change in ``tz``
        a day has 23 or 25 hours of prices.
        """
        _check_grid(step_s, count)
        if count == 0:
            return np.zeros(0)
        aware = start if start.tzinfo is not None else start.replace(tzinfo=self.tz)
        total_s = step_s * count
        # Per-second sampling would be exact but big; whole minutes are exact for
        # tariffs (periods start on whole minutes) and for grids on whole minutes.
        timestamp = aware.timestamp()
        first_minute = math.floor(timestamp / 60)
        second0 = timestamp - first_minute * 60
        n_minutes = math.ceil((second0 + total_s) / 60) + 1
        local_minute = first_minute + np.arange(n_minutes) + self._offsets(first_minute, n_minutes)
        days = local_minute // MINUTES_PER_DAY
        per_minute = self._normal_minutes[local_minute % MINUTES_PER_DAY]
        if self.critical_months:
            for day in np.unique(days):
                if (_EPOCH + timedelta(days=int(day))).month in self.critical_months:
                    mask = days == day
                    per_minute[mask] = self._critical_minutes[local_minute[mask] % MINUTES_PER_DAY]
        # Integrate the piecewise-constant minute prices over each slot.
        edges = second0 + step_s * np.arange(count + 1)
        cumulative = np.concatenate(([0.0], np.cumsum(per_minute) * 60.0))
        whole = np.floor(edges / 60).astype(np.int64)
        integral = cumulative[whole] + (edges - whole * 60.0) * per_minute[whole]
        return np.asarray(np.diff(integral) / step_s, dtype=np.float64)

    def _offset_at(self, epoch_minute: int) -> int:
        """The UTC offset of ``tz`` in whole minutes at a moment (minutes since 1970)."""
        moment = datetime.fromtimestamp(epoch_minute * 60, UTC).astimezone(self.tz)
        offset = moment.utcoffset()
        return 0 if offset is None else int(offset.total_seconds() // 60)

    def _offsets(self, first_minute: int, count: int) -> NDArray[np.int64]:
        """The offset of each of ``count`` minutes from ``first_minute``.

        Sampled on the hour and bisected to the minute where it changes (zones
        change their offset at most once within an hour).
        """
        if isinstance(self.tz, timezone):  # fixed offset: China time, UTC
            return np.full(count, self._offset_at(first_minute), dtype=np.int64)
        out = np.empty(count, dtype=np.int64)
        for begin in range(0, count, 60):
            end = min(begin + 60, count)
            before = self._offset_at(first_minute + begin)
            after = self._offset_at(first_minute + end - 1)
            if before == after:
                out[begin:end] = before
                continue
            low, high = begin, end - 1  # offset(low) == before, offset(high) == after
            while high - low > 1:
                middle = (low + high) // 2
                if self._offset_at(first_minute + middle) == before:
                    low = middle
                else:
                    high = middle
            out[begin:high] = before
            out[high:end] = after
        return out


def _period_minutes(start: str, end: str, where: str) -> NDArray[np.int64]:
    period = f"{start}-{end}"
    first = _parse_clock(start, where, period)
    last = _parse_clock(end, where, period)
    if first == last:
        raise TariffError(f"{where}: start and end are the same time", "same_time", period=period)
    if first == MINUTES_PER_DAY:
        raise TariffError(f"{where}: a period cannot start at 24:00", "starts_at_24", period=period)
    if last > first:
        return np.arange(first, last, dtype=np.int64)
    wrapped = np.concatenate((np.arange(first, MINUTES_PER_DAY), np.arange(0, last)))
    return np.asarray(wrapped, dtype=np.int64)


# --- prices from a sensor -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceSample:
    """A price reading and when it was taken."""

    price: float
    at: datetime


@dataclass(slots=True)
class SensorPriceTariff:
    """A price read from any source (phase 2 binds it to a Home Assistant sensor).

    ``read`` returns the latest sample or None. Samples older than
    ``max_age`` or not finite/negative raise PriceUnavailableError, which the
    controllers turn into a degraded decision. Without ``forecast`` the
    future price is unknown, so the tariff counts as not time-varying and
    the planner does not shift runs on price alone.
    """

    read: Callable[[], PriceSample | None]
    max_age: timedelta = timedelta(hours=2)
    forecast: Callable[[datetime, int, int], Sequence[float]] | None = None
    name: str = "sensor price"

    @property
    def time_varying(self) -> bool:
        """Only a forecast makes shifting in time meaningful."""
        return self.forecast is not None

    def price_at(self, when: datetime) -> float:
        """The latest sensor price, if fresh enough."""
        sample = self.read()
        if sample is None:
            raise PriceUnavailableError(f"{self.name}: no price reading")
        if isinstance(sample.price, bool) or not isinstance(sample.price, int | float):
            raise PriceUnavailableError(f"{self.name}: price {sample.price!r} is not a number")
        if not math.isfinite(sample.price) or sample.price < 0:
            raise PriceUnavailableError(f"{self.name}: price {sample.price} is not usable")
        age = _as_utc(when) - _as_utc(sample.at)
        if age > self.max_age:
            raise PriceUnavailableError(
                f"{self.name}: price reading is {age.total_seconds() / 60:.0f} min old "
                f"(limit {self.max_age.total_seconds() / 60:.0f} min)"
            )
        return float(sample.price)

    def prices(self, start: datetime, step_s: int, count: int) -> FloatArray:
        """The forecast if there is one, else the current price held flat."""
        _check_grid(step_s, count)
        if self.forecast is None:
            return np.full(count, self.price_at(start))
        values = np.asarray(self.forecast(start, step_s, count), dtype=np.float64)
        if values.shape != (count,) or not np.all(np.isfinite(values)) or np.any(values < 0):
            raise PriceUnavailableError(f"{self.name}: forecast is not {count} usable prices")
        return values


def _as_utc(when: datetime) -> datetime:
    return when.replace(tzinfo=CHINA_TZ) if when.tzinfo is None else when.astimezone(UTC)


# --- the period of the day ---------------------------------------------------------

# What a household sees on its bill: 谷 valley, 平 flat, 峰 peak, 尖峰 critical peak.
TARIFF_PERIODS: Final = ("valley", "flat", "peak", "critical_peak")


def tariff_period(tariff: Tariff, when: datetime) -> str | None:
    """The tariff period at ``when`` (one of ``TARIFF_PERIODS``), or None if it has none.

    A tiered tariff costs the same at every hour: flat all day. A time-of-use
    table: see ``TimeOfUseTariff.period_at``. A price feed has no periods: None.
    """
    if isinstance(tariff, TimeOfUseTariff):
        return tariff.period_at(when)
    if isinstance(tariff, TieredTariff):
        return "flat"
    return None


# --- the price signal the AC controller reads -------------------------------------


def price_signal(
    tariff: Tariff, now: datetime, *, lookahead: timedelta = timedelta(hours=2)
) -> float:
    """A number in [-1, 1] telling the AC controller what the tariff asks for now.

    Negative: a dearer period starts within ``lookahead`` (pre-cool/pre-heat
    now, its size is the coming rise as a share of the day's price range).
    Positive: now is in the upper half of the next 24 hours' price range
    (relax; 1 at the day's top price). Zero: no reason to act on price,
    always the case for a tariff that is not time-varying.
    """
    if not tariff.time_varying:
        return 0.0
    step_s = 300
    day = tariff.prices(now, step_s, 24 * 3600 // step_s)
    low, high = float(day.min()), float(day.max())
    if high - low <= 1e-9 * max(high, 1.0):
        return 0.0
    level = (day - low) / (high - low)
    ahead = max(1, int(lookahead.total_seconds() // step_s))
    rise = float(level[1 : ahead + 1].max() - level[0]) if ahead < level.size else 0.0
    if rise > 1e-9:
        return -min(1.0, rise)
    return float(max(0.0, 2.0 * level[0] - 1.0))
