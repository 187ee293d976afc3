"""The energy benchmark's weather forecast: what the predictive controller is told."""

from __future__ import annotations

from datetime import datetime, timedelta
import statistics

from benchmarks._energy.ac import WeatherForecast
from firmware_bridge.simulators.climate import LiuzhouClimate

START = datetime(2026, 7, 15)


def _errors(lead: timedelta, issues: int = 200) -> list[float]:
    climate = LiuzhouClimate(seed=7)
    weather = WeatherForecast(climate, START)
    origin = LiuzhouClimate.seconds_of_year(START)
    out = []
    for k in range(issues):
        now = START + timedelta(hours=k, minutes=20)
        when = now + lead
        truth = climate.outdoor(origin + (when - START).total_seconds()).temperature_c
        out.append(weather.issued(now)(when)[0] - truth)
    return out


def test_the_forecast_is_not_the_simulated_weather_and_worsens_with_the_lead() -> None:
    near = _errors(timedelta(hours=1))
    far = _errors(timedelta(hours=12))
    # Never the simulator's future: off at every issue, by about 0.4 K an hour ahead and
    # about 0.85 K twelve hours ahead (standard deviations of 200 hourly issues).
    assert min(abs(e) for e in near) > 0.0
    assert 0.25 < statistics.pstdev(near) < 0.6
    assert 0.6 < statistics.pstdev(far) < 1.1
    assert statistics.pstdev(far) > statistics.pstdev(near)


def test_one_issue_per_hour_the_same_for_every_room() -> None:
    climate = LiuzhouClimate(seed=7)
    first = WeatherForecast(climate, START)
    second = WeatherForecast(LiuzhouClimate(seed=7), START)
    when = START + timedelta(hours=9)
    at_20 = first.issued(START + timedelta(minutes=20))(when)
    # Issued at 00:00: the same forecast at 00:20 and 00:55, and for another room.
    assert first.issued(START + timedelta(minutes=55))(when) == at_20
    assert second.issued(START + timedelta(minutes=20))(when) == at_20
    # The next hour's issue differs.
    assert first.issued(START + timedelta(hours=1, minutes=5))(when) != at_20
    temperature, humidity = at_20
    assert 5.0 <= humidity <= 100.0
    assert 15.0 < temperature < 45.0
