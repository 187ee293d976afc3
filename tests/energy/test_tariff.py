"""Tariff presets, validation and the price signal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest

from custom_components.liuzhou_appliances.energy.tariff import (
    PriceSample,
    PriceUnavailableError,
    SensorPriceTariff,
    TariffError,
    TieredTariff,
    TierStep,
    TimeOfUseTariff,
    TouPeriod,
    price_signal,
    tariff_period,
)
from custom_components.liuzhou_appliances.energy.tariff_presets import (
    custom_time_of_use,
    guangxi_commercial_tou,
    guangxi_residential,
)


def test_residential_preset_is_tiered_and_flat_in_time() -> None:
    tariff = guangxi_residential()
    assert not tariff.time_varying
    assert tariff.price_at(datetime(2026, 7, 15, 12)) == 0.5283
    assert tariff.marginal_price(3500) == 0.5783
    assert tariff.marginal_price(5000) == 0.8283
    # 100 kWh straddling the first tier boundary: 20 at tier 1, 80 at tier 2.
    assert tariff.cost(100, consumed_kwh=3100) == pytest.approx(20 * 0.5283 + 80 * 0.5783)
    assert np.all(tariff.prices(datetime(2026, 7, 15), 300, 10) == 0.5283)
    assert price_signal(tariff, datetime(2026, 7, 15, 16)) == 0.0


def test_commercial_preset_schedule_and_critical_peak() -> None:
    tariff = guangxi_commercial_tou(1.0)
    july, may = datetime(2026, 7, 15), datetime(2026, 5, 15)
    expected = {
        0: 0.5,
        6: 0.5,
        7: 1.0,
        10: 1.0,
        11: 1.2 * 1.5,
        12: 1.8,
        13: 1.0,
        16: 1.0,
        17: 1.8,
        22: 1.8,
        23: 0.5,
    }
    for hour, price in expected.items():
        assert tariff.price_at(july.replace(hour=hour, minute=30)) == pytest.approx(price)
    assert tariff.price_at(may.replace(hour=18)) == pytest.approx(1.5)  # no uplift in May
    assert tariff.price_at(datetime(2026, 12, 1, 18)) == pytest.approx(1.8)


def test_tariff_periods() -> None:
    """Valley, flat, peak and critical peak as on the bill; tiered is flat; a feed has none."""
    commercial = guangxi_commercial_tou(0.65)
    july, may = datetime(2026, 7, 15), datetime(2026, 5, 15)
    for hour, period in {
        0: "valley",
        7: "flat",
        11: "peak",
        14: "flat",
        18: "peak",
        23: "valley",
    }.items():
        assert tariff_period(commercial, may.replace(hour=hour)) == period
    assert tariff_period(commercial, july.replace(hour=18)) == "critical_peak"
    assert tariff_period(commercial, july.replace(hour=14)) == "flat"
    # 10:30 UTC is 18:30 in Liuzhou.
    assert tariff_period(commercial, datetime(2026, 5, 1, 10, 30, tzinfo=UTC)) == "peak"
    assert tariff_period(guangxi_residential(), july) == "flat"
    two_prices = custom_time_of_use(
        [
            {"start": "22:00", "end": "06:00", "price": 0.3},
            {"start": "06:00", "end": "22:00", "price": 0.6},
        ]
    )
    assert tariff_period(two_prices, july.replace(hour=23)) == "valley"
    assert tariff_period(two_prices, july.replace(hour=12)) == "peak"
    one_price = custom_time_of_use([{"start": "00:00", "end": "24:00", "price": 0.5}])
    assert tariff_period(one_price, july) == "flat"
    feed = SensorPriceTariff(lambda: PriceSample(0.5, july))
    assert tariff_period(feed, july) is None


def test_aware_datetimes_are_converted_to_china_time() -> None:
    tariff = guangxi_commercial_tou(1.0, critical_months=())
    # 10:30 UTC is 18:30 in Liuzhou: peak.
    assert tariff.price_at(datetime(2026, 5, 1, 10, 30, tzinfo=UTC)) == pytest.approx(1.5)


def test_slot_prices_are_time_averages_across_boundaries() -> None:
    tariff = guangxi_commercial_tou(1.0, critical_months=())
    # 10:30-11:30 is half flat, half peak.
    series = tariff.prices(datetime(2026, 5, 1, 10, 30), 3600, 2)
    assert series[0] == pytest.approx(1.25)
    assert series[1] == pytest.approx(1.5)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 1439), st.sampled_from([60, 300, 900]), st.integers(1, 30))
def test_series_matches_price_at(minute: int, step: int, count: int) -> None:
    tariff = guangxi_commercial_tou(0.7)
    start = datetime(2026, 8, 31) + timedelta(minutes=minute)
    series = tariff.prices(start, step, count)
    for k in range(count):
        slot = start + timedelta(seconds=k * step)
        samples = [tariff.price_at(slot + timedelta(seconds=s)) for s in range(0, step, 60)]
        assert series[k] == pytest.approx(np.mean(samples))


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        ((TouPeriod("00:00", "12:00", "a"), TouPeriod("11:00", "00:00", "a")), "overlaps"),
        ((TouPeriod("00:00", "12:00", "a"), TouPeriod("13:00", "00:00", "a")), "without a price"),
        ((TouPeriod("00:00", "25:00", "a"),), "clock time"),
        ((TouPeriod("7am", "00:00", "a"),), "HH:MM"),
        ((TouPeriod("00:00", "00:00", "a"),), "same time"),
        ((TouPeriod("00:00", "12:00", "a"), TouPeriod("12:00", "00:00", "b")), "no price"),
    ],
)
def test_bad_time_of_use_tables_are_rejected(periods: tuple[TouPeriod, ...], message: str) -> None:
    with pytest.raises(TariffError, match=message):
        TimeOfUseTariff(periods, {"a": 1.0})


def test_negative_and_non_numeric_prices_are_rejected() -> None:
    with pytest.raises(TariffError, match="negative"):
        TimeOfUseTariff((TouPeriod("00:00", "24:00", "a"),), {"a": -0.1})
    with pytest.raises(TariffError, match="finite"):
        TimeOfUseTariff((TouPeriod("00:00", "24:00", "a"),), {"a": float("nan")})
    with pytest.raises(TariffError, match="negative"):
        custom_time_of_use([{"start": "00:00", "end": "24:00", "price": -1}])
    with pytest.raises(TariffError, match="missing"):
        custom_time_of_use([{"start": "00:00", "price": 1}])
    with pytest.raises(TariffError, match="non-empty"):
        custom_time_of_use([])
    with pytest.raises(TariffError, match="above"):
        TieredTariff((TierStep(100, 0.5), TierStep(50, 0.6), TierStep(None, 0.7)))
    with pytest.raises(TariffError, match="unbounded"):
        TieredTariff((TierStep(100, 0.5),))
    with pytest.raises(TariffError, match="critical_months"):
        guangxi_commercial_tou(critical_months=(13,))


def test_custom_table_wraps_midnight() -> None:
    tariff = custom_time_of_use(
        [
            {"start": "22:00", "end": "06:00", "price": 0.3},
            {"start": "06:00", "end": "22:00", "price": 0.9},
        ]
    )
    assert tariff.price_at(datetime(2026, 1, 1, 23)) == 0.3
    assert tariff.price_at(datetime(2026, 1, 1, 5, 59)) == 0.3
    assert tariff.price_at(datetime(2026, 1, 1, 6)) == 0.9


def test_sensor_tariff_reports_missing_stale_and_bad_prices() -> None:
    now = datetime(2026, 7, 15, 12)
    sample: list[PriceSample | None] = [None]
    tariff = SensorPriceTariff(lambda: sample[0], max_age=timedelta(minutes=30))
    assert not tariff.time_varying
    with pytest.raises(PriceUnavailableError, match="no price"):
        tariff.price_at(now)
    sample[0] = PriceSample(0.8, now - timedelta(hours=1))
    with pytest.raises(PriceUnavailableError, match="old"):
        tariff.price_at(now)
    sample[0] = PriceSample(-0.2, now)
    with pytest.raises(PriceUnavailableError, match="not usable"):
        tariff.price_at(now)
    sample[0] = PriceSample(0.8, now)
    assert tariff.price_at(now) == 0.8
    assert price_signal(tariff, now) == 0.0  # no forecast: shifting is pointless


def test_price_signal_asks_to_prepare_before_and_relax_during_peak() -> None:
    tariff = guangxi_commercial_tou()
    day = datetime(2026, 7, 15)
    assert price_signal(tariff, day.replace(hour=16)) < -0.2  # peak at 17:00
    assert price_signal(tariff, day.replace(hour=19)) == pytest.approx(1.0)
    assert price_signal(tariff, day.replace(hour=8)) == 0.0  # flat, nothing dearer soon
