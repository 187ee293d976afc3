"""A tariff reads its clock times in its own time zone; the Guangxi presets in China time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.liuzhou_appliances.energy.planner import (
    PlanningContext,
    RunPlanner,
    RunRequest,
)
from custom_components.liuzhou_appliances.energy.tariff import CHINA_TZ
from custom_components.liuzhou_appliances.energy.tariff_presets import (
    custom_time_of_use,
    guangxi_commercial_tou,
)
from custom_components.liuzhou_appliances.link.declaration import Programme

ZONES = ["Europe/Berlin", "America/Los_Angeles"]
NIGHT_CHEAP = [
    {"start": "22:00", "end": "06:00", "price": 0.30},
    {"start": "06:00", "end": "22:00", "price": 0.80},
]


@pytest.mark.parametrize("zone", ZONES)
def test_custom_table_follows_its_zone(zone: str) -> None:
    tz = ZoneInfo(zone)
    tariff = custom_time_of_use(NIGHT_CHEAP, tz=tz)
    assert tariff.price_at(datetime(2026, 1, 14, 10, 0, tzinfo=tz)) == 0.80
    assert tariff.price_at(datetime(2026, 1, 14, 23, 0, tzinfo=tz)) == 0.30
    assert tariff.price_at(datetime(2026, 1, 15, 5, 59, tzinfo=tz)) == 0.30
    assert tariff.period_at(datetime(2026, 1, 14, 23, 0, tzinfo=tz)) == "valley"
    # The same moment in UTC gives the same answer.
    moment = datetime(2026, 1, 14, 23, 0, tzinfo=tz).astimezone(UTC)
    assert tariff.price_at(moment) == 0.30


@pytest.mark.parametrize("zone", ZONES)
def test_guangxi_preset_follows_china_time_whatever_the_zone(zone: str) -> None:
    tariff = guangxi_commercial_tou()
    # 10:00 in the household's zone is a different China hour in each zone.
    moment = datetime(2026, 1, 14, 10, 0, tzinfo=ZoneInfo(zone))
    assert tariff.price_at(moment) == tariff.price_at(moment.astimezone(CHINA_TZ))
    china_hour = moment.astimezone(CHINA_TZ).hour
    expected = "valley" if china_hour >= 23 or china_hour < 7 else None
    if expected is not None:
        assert tariff.period_at(moment) == expected


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        ("Europe/Berlin", datetime(2026, 3, 28, 12, 0)),  # spring forward on the 29th
        ("Europe/Berlin", datetime(2026, 10, 24, 12, 0)),  # fall back on the 25th
        ("America/Los_Angeles", datetime(2026, 3, 7, 12, 0)),
        ("America/Los_Angeles", datetime(2026, 10, 31, 12, 0)),
    ],
)
def test_price_series_is_real_time_across_daylight_saving(zone: str, start: datetime) -> None:
    """Each slot's price is the price at its moment, also on 23- and 25-hour days."""
    tz = ZoneInfo(zone)
    tariff = custom_time_of_use(NIGHT_CHEAP, tz=tz)
    first = start.replace(tzinfo=tz)
    series = tariff.prices(first, 900, 4 * 48)
    expected = [
        tariff.price_at((first.astimezone(UTC) + timedelta(minutes=15 * k)).astimezone(tz))
        for k in range(4 * 48)
    ]
    assert series.tolist() == pytest.approx(expected)
    cheap_hours = sum(1 for price in series if abs(price - 0.30) < 1e-9) / 4
    # Two nights of 8 wall-clock hours; the clock change makes one of them 7 or 9 real hours.
    assert cheap_hours in (15, 17)


@pytest.mark.parametrize("zone", ZONES)
def test_planned_run_starts_in_the_local_cheap_hours(zone: str) -> None:
    tz = ZoneInfo(zone)
    tariff = custom_time_of_use(NIGHT_CHEAP, tz=tz)
    now = datetime(2026, 1, 14, 10, 0, tzinfo=tz)
    programme = Programme("eco", 7200, 1.0, ((7200, 500.0),))
    request = RunRequest("wm", programme, now, datetime(2026, 1, 15, 8, 0, tzinfo=tz))
    result = RunPlanner(PlanningContext(now=now, tariff=tariff)).plan([request])
    assert result.feasible
    plan = result.plans[0]
    start = plan.start.replace(tzinfo=CHINA_TZ).astimezone(tz)
    end = plan.end.replace(tzinfo=CHINA_TZ).astimezone(tz)
    assert start == datetime(2026, 1, 14, 22, 0, tzinfo=tz)  # the first cheap minute
    assert end <= datetime(2026, 1, 15, 6, 0, tzinfo=tz)
    assert plan.cost == pytest.approx(1.0 * 0.30)
