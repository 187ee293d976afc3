"""The Liuzhou climate: monthly normals, diurnal shape, noise, water temperature."""

from __future__ import annotations

from datetime import datetime
import statistics

import pytest

from firmware_bridge.simulators.climate import (
    LiuzhouClimate,
    humidity_ratio,
    relative_humidity,
)


def _month(climate: LiuzhouClimate, month: int) -> tuple[float, float, float]:
    """Mean daily low, mean daily high and mean humidity over 28 days of ``month``."""
    t0 = climate.seconds_of_year(datetime(2026, month, 1))
    lows, highs, humidity = [], [], []
    for day in range(28):
        hours = [climate.outdoor(t0 + day * 86400 + minute * 600) for minute in range(144)]
        lows.append(min(o.temperature_c for o in hours))
        highs.append(max(o.temperature_c for o in hours))
        humidity.append(statistics.fmean(o.humidity_pct for o in hours))
    return statistics.fmean(lows), statistics.fmean(highs), statistics.fmean(humidity)


@pytest.mark.parametrize("seed", [0, 1])
def test_july_is_hot_and_humid(seed: int) -> None:
    low, high, humidity = _month(LiuzhouClimate(seed=seed), 7)
    assert 31.5 <= high <= 35.5
    assert 23.5 <= low <= 27.0
    assert 74.0 <= humidity <= 86.0


@pytest.mark.parametrize("seed", [0, 1])
def test_january_is_mild_and_damp(seed: int) -> None:
    low, high, humidity = _month(LiuzhouClimate(seed=seed), 1)
    assert 11.0 <= high <= 16.0
    assert 5.5 <= low <= 10.0
    assert 66.0 <= humidity <= 80.0


def test_diurnal_cycle_without_noise() -> None:
    climate = LiuzhouClimate(noise=False)
    t0 = climate.seconds_of_year(datetime(2026, 7, 15))
    by_hour = [climate.outdoor(t0 + hour * 3600) for hour in range(24)]
    temperatures = [o.temperature_c for o in by_hour]
    assert temperatures.index(min(temperatures)) == 6
    assert temperatures.index(max(temperatures)) == 15
    # Humidity runs opposite: near-saturated at dawn, lowest in the afternoon.
    assert by_hour[6].humidity_pct > 88
    assert by_hour[15].humidity_pct < 70
    assert all(o.solar == 0 for o in by_hour[:5] + by_hour[21:])
    assert max(o.solar for o in by_hour) == by_hour[13].solar


def test_noise_is_seeded_and_continuous() -> None:
    a, b, c = LiuzhouClimate(seed=4), LiuzhouClimate(seed=4), LiuzhouClimate(seed=5)
    t0 = a.seconds_of_year(datetime(2026, 7, 1))
    times = [t0 + n * 977.0 for n in range(500)]
    assert [a.temperature(t) for t in times] == [b.temperature(t) for t in times]
    assert [a.temperature(t) for t in times] != [c.temperature(t) for t in times]
    # No jumps: within ten seconds the air never changes by more than 0.05 K.
    for t in times:
        assert abs(a.temperature(t + 10.0) - a.temperature(t)) < 0.05
        assert abs(a.dew_point(t + 10.0) - a.dew_point(t)) < 0.05


def test_mains_water_follows_the_season() -> None:
    climate = LiuzhouClimate()
    july = climate.mains_water(climate.seconds_of_year(datetime(2026, 7, 15)))
    january = climate.mains_water(climate.seconds_of_year(datetime(2026, 1, 15)))
    assert 25.0 <= july <= 29.0
    assert 13.0 <= january <= 17.0


def test_kitchen_is_damped_and_warm_in_july() -> None:
    climate = LiuzhouClimate()
    t0 = climate.seconds_of_year(datetime(2026, 7, 15))
    kitchen = [climate.indoor_unconditioned(t0 + h * 3600) for h in range(24)]
    outdoor = [climate.temperature(t0 + h * 3600) for h in range(24)]
    assert 28.0 <= statistics.fmean(kitchen) <= 33.0
    assert max(kitchen) - min(kitchen) < max(outdoor) - min(outdoor)


def test_psychrometrics_round_trip() -> None:
    for temperature in (5.0, 20.0, 33.0):
        for humidity in (30.0, 60.0, 95.0):
            ratio = humidity_ratio(temperature, humidity)
            assert relative_humidity(temperature, ratio) == pytest.approx(humidity, rel=1e-9)
    # 26 °C, 50 %: ~10.5 g/kg (psychrometric chart).
    assert humidity_ratio(26.0, 50.0) == pytest.approx(0.0105, abs=0.0003)
