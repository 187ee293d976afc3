"""Tariff validation messages, critical periods, sensor forecasts and a flat signal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

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
)
from custom_components.liuzhou_appliances.energy.tariff_presets import (
    custom_time_of_use,
    guangxi_commercial_tou,
)

NOW = datetime(2026, 7, 15, 12, 0)
WHOLE_DAY = (TouPeriod("00:00", "24:00", "flat"),)


@pytest.mark.parametrize(
    ("tiers", "consumed", "message"),
    [
        ((), 0.0, "at least one tier"),
        ((TierStep(None, 0.5), TierStep(None, 0.6)), 0.0, "tier 1 is unbounded"),
        ((TierStep(100, 0.5), TierStep(100, 0.6), TierStep(None, 0.7)), 0.0, "tier 2 ends at 100"),
        ((TierStep(100, 0.5),), 0.0, "last tier must be unbounded"),
        ((TierStep(None, 0.5),), -1.0, "consumed_kwh must be a non-negative number"),
        ((TierStep(None, 0.5),), float("nan"), "consumed_kwh"),
    ],
)
def test_tiered_tariff_errors_name_the_problem(
    tiers: tuple[TierStep, ...], consumed: float, message: str
) -> None:
    with pytest.raises(TariffError, match=message):
        TieredTariff(tiers, consumed_kwh=consumed)


def test_time_of_use_errors_name_the_problem() -> None:
    with pytest.raises(TariffError, match="level_prices is empty"):
        TimeOfUseTariff(WHOLE_DAY, {})
    with pytest.raises(TariffError, match="at least one period"):
        TimeOfUseTariff((), {"flat": 0.5})
    with pytest.raises(TariffError, match="critical_uplift must be positive"):
        TimeOfUseTariff(WHOLE_DAY, {"flat": 0.5}, critical_uplift=0.0)
    with pytest.raises(TariffError, match=r"critical_levels \['peak'\] are not tariff levels"):
        TimeOfUseTariff(WHOLE_DAY, {"flat": 0.5}, critical_months=frozenset({7}))
    with pytest.raises(TariffError, match="cannot start at 24:00"):
        TimeOfUseTariff((TouPeriod("24:00", "01:00", "flat"),), {"flat": 0.5})
    with pytest.raises(TariffError, match="peak_ratio must be a non-negative number"):
        guangxi_commercial_tou(peak_ratio=float("inf"))
    with pytest.raises(TariffError, match="step_s > 0"):
        TimeOfUseTariff(WHOLE_DAY, {"flat": 0.5}).prices(NOW, 0, 10)


def test_critical_periods_narrow_the_uplift_and_levels_sort_by_price() -> None:
    tariff = guangxi_commercial_tou(1.0, critical_periods=[("20:00", "22:00")])
    assert tariff.levels == ("valley", "flat", "peak")
    july = datetime(2026, 7, 15)
    assert tariff.price_at(july.replace(hour=18)) == pytest.approx(1.5)  # peak, not critical
    assert tariff.price_at(july.replace(hour=21)) == pytest.approx(1.8)  # critical window
    assert tariff.price_at(datetime(2026, 5, 15, 21)) == pytest.approx(1.5)  # not a critical month
    assert tariff.prices(july, 300, 0).size == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("07:00-11:00", "row 1 must be a mapping"),
        ({"start": "00:00", "end": "24:00", "price": 0.5, "level": "x"}, "unknown keys level"),
        ({"start": 0, "end": "24:00", "price": 0.5}, "start and end must be strings"),
    ],
)
def test_custom_table_row_errors(row: object, message: str) -> None:
    with pytest.raises(TariffError, match=message):
        custom_time_of_use([row])  # type: ignore[list-item]


def _sensor(
    price: object,
    forecast: object = None,
) -> SensorPriceTariff:
    return SensorPriceTariff(
        lambda: PriceSample(price, NOW),  # type: ignore[arg-type]
        forecast=forecast,  # type: ignore[arg-type]
    )


def test_sensor_price_that_is_not_a_number_is_unavailable() -> None:
    with pytest.raises(PriceUnavailableError, match="'0.6' is not a number"):
        _sensor("0.6").price_at(NOW)
    with pytest.raises(PriceUnavailableError, match="True is not a number"):
        _sensor(True).price_at(NOW)


def test_sensor_forecast_is_used_and_checked() -> None:
    def forecast(start: datetime, step_s: int, count: int) -> Sequence[float]:
        return [0.3 + 0.1 * (i % 2) for i in range(count)]

    tariff = _sensor(0.4, forecast)
    assert tariff.time_varying
    assert tariff.prices(NOW, 3600, 4).tolist() == pytest.approx([0.3, 0.4, 0.3, 0.4])
    for bad in ([0.3, 0.4], [0.3, float("nan"), 0.3], [0.3, -0.1, 0.3]):
        broken = _sensor(0.4, lambda start, step_s, count, values=bad: values)
        with pytest.raises(PriceUnavailableError, match="forecast is not 3 usable prices"):
            broken.prices(NOW, 3600, 3)
    with pytest.raises(TariffError, match="count >= 0"):
        tariff.prices(NOW, 3600, -1)


def test_time_varying_tariff_with_one_price_all_day_gives_no_signal() -> None:
    same = TimeOfUseTariff(
        (TouPeriod("00:00", "12:00", "a"), TouPeriod("12:00", "00:00", "b")), {"a": 0.5, "b": 0.5}
    )
    assert same.time_varying
    assert price_signal(same, NOW) == 0.0
    flat_forecast = _sensor(0.4, lambda start, step_s, count: np.full(count, 0.4))
    assert price_signal(flat_forecast, NOW + timedelta(minutes=7)) == 0.0


def test_sensor_without_forecast_holds_the_current_price_flat() -> None:
    tariff = _sensor(0.61)
    assert not tariff.time_varying
    assert tariff.prices(NOW, 300, 3).tolist() == [0.61, 0.61, 0.61]
    assert price_signal(tariff, NOW) == 0.0
