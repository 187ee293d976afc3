"""Liuzhou weather for the simulators: outdoor temperature, humidity, sun, tap water.

Liuzhou (24.3° N, 109.4° E, 90 m) has a humid subtropical monsoon climate
(Köppen Cfa): long, hot, very humid summers and mild, damp winters.

Monthly normals (``LIUZHOU_NORMALS``): mean daily high, mean daily low and
mean relative humidity, rounded from the China Meteorological Administration
1991-2020 station normals for Liuzhou (as tabulated on Wikipedia's "Liuzhou"
climate box). July: highs ~33.5 °C, nights ~25.5 °C, RH ~79 %; January: highs
~13 °C, lows ~8 °C, RH ~73 %. Values between mid-months are interpolated.

Diurnal cycle: the temperature is lowest around 06:00 and highest around
15:00 local time (China Standard Time, UTC+8; Liuzhou lies 10.6° west of the
zone meridian, so solar noon is ~12:45), rising along a half cosine over 9 h
and falling over 15 h, the classic asymmetric shape of clear humid-subtropical
days. The moisture content (dew point) is nearly constant over a day, so the
relative humidity runs opposite to the temperature: ~90-95 % at dawn and
~60-65 % in a July afternoon; the daily dew point is chosen so the day's mean
relative humidity equals the monthly normal (plus noise).

Weather noise (seeded, a pure function of time so step sizes never matter):
a day-to-day offset of the daily mean (AR(1), σ ≈ 1.2 K, r = 0.7, i.e.
multi-day warm and cool spells), a day-to-day change of the diurnal range
(cloudy days have a smaller range), an hourly wobble (σ ≈ 0.3 K, smoothly
interpolated), ±4 % on the day's mean humidity and a daily cloudiness.

Tap water: mains water in southern China follows the ground temperature,
i.e. the air temperature of about a month earlier, damped:
``T_water = 21 + 0.75 · (T_mean(a month ago) − 21)`` (21 °C ≈ Liuzhou's annual
mean), giving ~27 °C in July and ~15 °C in January.

Indoor rooms without air conditioning (kitchen, balcony laundry corner): the
building's mass damps the outdoor swing: ``T = daily mean + 1.5 K + 0.3 ·
(T_out − daily mean)`` (the +1.5 K is internal gains). A Liuzhou kitchen in
July is ~30-31 °C.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
import math
import random
from typing import Final

SECONDS_PER_DAY: Final = 86400.0
DAYS_PER_YEAR: Final = 365
ANNUAL_MEAN_C: Final = 21.0
ATMOSPHERIC_PRESSURE_PA: Final = 101_325.0


@dataclass(frozen=True, slots=True)
class MonthNormal:
    """Mean daily high and low (°C) and mean relative humidity (%) of one month."""

    high_c: float
    low_c: float
    humidity_pct: float


# January ... December (see the module docstring for the source).
LIUZHOU_NORMALS: Final = (
    MonthNormal(13.3, 7.8, 73),
    MonthNormal(15.9, 10.3, 76),
    MonthNormal(19.2, 13.9, 80),
    MonthNormal(25.0, 19.2, 80),
    MonthNormal(29.3, 22.9, 79),
    MonthNormal(31.7, 24.9, 81),
    MonthNormal(33.5, 25.6, 79),
    MonthNormal(33.4, 25.3, 78),
    MonthNormal(31.6, 23.5, 74),
    MonthNormal(27.5, 19.3, 70),
    MonthNormal(21.9, 14.0, 70),
    MonthNormal(16.0, 9.3, 68),
)

_MONTH_MID_DAY: Final = (15, 45, 74, 105, 135, 166, 196, 227, 258, 288, 319, 349)
# Mid-month anchors, wrapped so every day of the year lies between two of them.
_ANCHORS: Final = (
    (_MONTH_MID_DAY[-1] - DAYS_PER_YEAR, LIUZHOU_NORMALS[-1]),
    *zip(_MONTH_MID_DAY, LIUZHOU_NORMALS, strict=True),
    (_MONTH_MID_DAY[0] + DAYS_PER_YEAR, LIUZHOU_NORMALS[0]),
)


class Season(StrEnum):
    """Shortcut start dates: mid-July and mid-January."""

    SUMMER = "summer"
    WINTER = "winter"

    def default_start(self) -> datetime:
        """Midnight on the 15th of the season's typical month (2026)."""
        return datetime(2026, 7 if self is Season.SUMMER else 1, 15)


@dataclass(frozen=True, slots=True)
class Outdoor:
    """Outdoor conditions at one moment."""

    temperature_c: float
    humidity_pct: float
    solar: float  # 0..1, global irradiance relative to a clear summer noon


def saturation_pressure_pa(temperature_c: float) -> float:
    """Water vapour saturation pressure over water (Magnus, Alduchov-Eskridge 1996)."""
    return 611.2 * math.exp(17.62 * temperature_c / (243.12 + temperature_c))


def humidity_ratio(temperature_c: float, humidity_pct: float) -> float:
    """kg of water vapour per kg of dry air."""
    vapour = saturation_pressure_pa(temperature_c) * humidity_pct / 100.0
    return 0.622 * vapour / (ATMOSPHERIC_PRESSURE_PA - vapour)


def relative_humidity(temperature_c: float, ratio: float) -> float:
    """Relative humidity (%) of air at ``temperature_c`` holding ``ratio`` kg/kg."""
    vapour = ratio * ATMOSPHERIC_PRESSURE_PA / (0.622 + ratio)
    return 100.0 * vapour / saturation_pressure_pa(temperature_c)


def _diurnal_fraction(hour: float) -> float:
    """0 at the 06:00 minimum, 1 at the 15:00 maximum (within one day's cycle)."""
    if 6.0 <= hour < 15.0:
        return 0.5 - 0.5 * math.cos(math.pi * (hour - 6.0) / 9.0)
    since_peak = (hour - 15.0) % 24.0
    return 0.5 + 0.5 * math.cos(math.pi * since_peak / 15.0)


_DAY_SAMPLES: Final = tuple(_diurnal_fraction(h + 0.5) for h in range(24))


@dataclass(frozen=True, slots=True)
class _Day:
    low_c: float
    high_c: float
    dew_point_c: float
    cloudiness: float  # 0 clear .. 1 overcast


class LiuzhouClimate:
    """Outdoor weather of Liuzhou as a deterministic function of time and seed.

    The time axis is seconds since 1 January 00:00 local time of some year
    (``seconds_of_year``); days beyond 365 continue into the next year.
    Simulators in one simulated home share a seed and so the same weather.
    """

    def __init__(self, *, seed: int = 0, noise: bool = True) -> None:
        self.seed = seed
        self.noise = noise
        self._days: dict[int, _Day] = {}
        self._anomalies: dict[int, float] = {}
        self._hourly: dict[int, float] = {}

    @staticmethod
    def seconds_of_year(moment: datetime) -> float:
        """Seconds from 1 January 00:00 of ``moment``'s year to ``moment``."""
        return (moment.replace(tzinfo=None) - datetime(moment.year, 1, 1)).total_seconds()

    # --- normals ------------------------------------------------------------------

    @staticmethod
    def normal(day_of_year: float) -> MonthNormal:
        """Normals interpolated between mid-months for a (fractional) day of the year."""
        day = day_of_year % DAYS_PER_YEAR
        for (start, a), (end, b) in pairwise(_ANCHORS):
            if start <= day < end:
                weight = (day - start) / (end - start)
                return MonthNormal(
                    a.high_c + weight * (b.high_c - a.high_c),
                    a.low_c + weight * (b.low_c - a.low_c),
                    a.humidity_pct + weight * (b.humidity_pct - a.humidity_pct),
                )
        raise AssertionError("the anchors cover the whole year")

    # --- seeded noise ---------------------------------------------------------------

    def _rng(self, kind: str, number: int) -> random.Random:
        return random.Random(f"liuzhou-climate:{self.seed}:{kind}:{number}")

    def _anomaly(self, day: int) -> float:
        """Day-to-day offset of the daily mean: AR(1) built from a 10-day history."""
        cached = self._anomalies.get(day)
        if cached is None:
            cached = 0.0
            if self.noise:
                # Sum of decaying innovations: stationary σ ≈ 1.2 K, r = 0.7 day to day.
                for back in range(10):
                    cached += 0.86 * (0.7**back) * self._rng("anomaly", day - back).gauss(0, 1)
            self._anomalies[day] = cached
        return cached

    def _day(self, day: int) -> _Day:
        cached = self._days.get(day)
        if cached is not None:
            return cached
        normal = self.normal(day + 0.5)
        rng = self._rng("day", day)
        cloudiness = rng.betavariate(2.0, 2.5) if self.noise else 0.4
        mean = (normal.high_c + normal.low_c) / 2.0 + self._anomaly(day)
        # Cloudy days have a smaller range; normals correspond to average cloudiness 0.44.
        half_range = (normal.high_c - normal.low_c) / 2.0 * (1.25 - 0.55 * cloudiness)
        target_rh = normal.humidity_pct + (rng.uniform(-4.0, 4.0) if self.noise else 0.0)
        target_rh += 6.0 * (cloudiness - 0.44)
        low, high = mean - half_range, mean + half_range
        cached = _Day(low, high, self._dew_point_for(low, high, target_rh), cloudiness)
        if len(self._days) > 4096:
            self._days.clear()
        self._days[day] = cached
        return cached

    @staticmethod
    def _dew_point_for(low: float, high: float, mean_rh: float) -> float:
        """The dew point whose day-mean relative humidity is ``mean_rh`` (bisection)."""
        temperatures = [low + (high - low) * f for f in _DAY_SAMPLES]
        lo, hi = low - 25.0, high
        for _ in range(30):
            mid = (lo + hi) / 2.0
            vapour = saturation_pressure_pa(mid)
            rh = sum(min(100.0, 100.0 * vapour / saturation_pressure_pa(t)) for t in temperatures)
            if rh / len(temperatures) < mean_rh:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2.0

    def _wobble(self, t_s: float) -> float:
        """Hourly temperature wobble, cosine-interpolated between seeded hourly knots."""
        if not self.noise:
            return 0.0
        hour = math.floor(t_s / 3600.0)
        weight = 0.5 - 0.5 * math.cos(math.pi * (t_s / 3600.0 - hour))
        return (1.0 - weight) * self._knot(hour) + weight * self._knot(hour + 1)

    def _knot(self, hour: int) -> float:
        cached = self._hourly.get(hour)
        if cached is None:
            if len(self._hourly) > 8192:
                self._hourly.clear()
            cached = self._hourly[hour] = self._rng("hour", hour).gauss(0.0, 0.3)
        return cached

    # --- public --------------------------------------------------------------------

    def temperature(self, t_s: float) -> float:
        """Outdoor air temperature (°C) at ``t_s`` seconds on the climate's time axis."""
        day = math.floor(t_s / SECONDS_PER_DAY)
        hour = (t_s - day * SECONDS_PER_DAY) / 3600.0
        today = self._day(day)
        if 6.0 <= hour < 15.0:
            low, high = today.low_c, today.high_c
        elif hour >= 15.0:
            low, high = self._day(day + 1).low_c, today.high_c
        else:
            low, high = today.low_c, self._day(day - 1).high_c
        return low + (high - low) * _diurnal_fraction(hour) + self._wobble(t_s)

    def dew_point(self, t_s: float) -> float:
        """Dew point (°C), drifting linearly from one day's value to the next."""
        position = t_s / SECONDS_PER_DAY - 0.5
        day = math.floor(position)
        weight = position - day
        return (1.0 - weight) * self._day(day).dew_point_c + weight * self._day(day + 1).dew_point_c

    def outdoor(self, t_s: float) -> Outdoor:
        """Temperature, relative humidity and relative sunshine at ``t_s``."""
        temperature = self.temperature(t_s)
        dew_point = min(self.dew_point(t_s), temperature)
        humidity = 100.0 * saturation_pressure_pa(dew_point) / saturation_pressure_pa(temperature)
        return Outdoor(temperature, humidity, self.solar(t_s))

    def solar(self, t_s: float) -> float:
        """Global irradiance relative to a clear midsummer noon (0..1).

        Day length at 24.3° N varies from ~10.7 h (December) to ~13.4 h (June)
        around solar noon at 12:45 local time; clouds cut up to 75 %.
        """
        day = math.floor(t_s / SECONDS_PER_DAY)
        hour = (t_s - day * SECONDS_PER_DAY) / 3600.0
        day_of_year = day % DAYS_PER_YEAR
        season = math.sin(2.0 * math.pi * (day_of_year - 80) / DAYS_PER_YEAR)
        length = 12.05 + 1.35 * season
        since_sunrise = hour - (12.75 - length / 2.0)
        if not 0.0 < since_sunrise < length:
            return 0.0
        peak = 0.82 + 0.18 * season  # lower sun in winter
        clear = peak * math.pow(math.sin(math.pi * since_sunrise / length), 1.3)
        return clear * (1.0 - 0.75 * self._day(day).cloudiness)

    def daily_mean(self, t_s: float) -> float:
        """Mean temperature of the day containing ``t_s`` (noise included)."""
        today = self._day(math.floor(t_s / SECONDS_PER_DAY))
        return (today.low_c + today.high_c) / 2.0

    def indoor_unconditioned(self, t_s: float) -> float:
        """A room without air conditioning (kitchen, laundry corner): damped outdoor."""
        mean = self.daily_mean(t_s)
        return mean + 1.5 + 0.3 * (self.temperature(t_s) - mean)

    def mains_water(self, t_s: float) -> float:
        """Cold tap water temperature (°C): last month's air, damped toward the annual mean."""
        normal = self.normal((t_s / SECONDS_PER_DAY - 30.0) % DAYS_PER_YEAR)
        month_mean = (normal.high_c + normal.low_c) / 2.0
        return ANNUAL_MEAN_C + 0.75 * (month_mean - ANNUAL_MEAN_C)
