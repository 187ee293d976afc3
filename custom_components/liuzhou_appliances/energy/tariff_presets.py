"""Tariff presets: Guangxi residential tiers, Guangxi commercial time-of-use, custom tables.

Sources and the reasoning behind the presets are in docs/energy.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
import math
from typing import Final

from .tariff import (
    CHINA_TZ,
    TariffError,
    TieredTariff,
    TierStep,
    TimeOfUseTariff,
    TouPeriod,
    check_price,
)

GUANGXI_RESIDENTIAL_TIERS: Final = (
    TierStep(3120.0, 0.5283),
    TierStep(4440.0, 0.5783),
    TierStep(None, 0.8283),
)

# Illustrative base (flat) price for Guangxi general commercial supply: the real
# flat price is the monthly grid-agency purchase price plus transmission and
# fees, which changes every month. See docs/energy.md.
GUANGXI_COMMERCIAL_FLAT_CNY: Final = 0.65

GUANGXI_COMMERCIAL_PERIODS_2023: Final = (
    TouPeriod("23:00", "07:00", "valley"),
    TouPeriod("07:00", "11:00", "flat"),
    TouPeriod("11:00", "13:00", "peak"),
    TouPeriod("13:00", "17:00", "flat"),
    TouPeriod("17:00", "23:00", "peak"),
)


def guangxi_residential(consumed_kwh: float = 0.0) -> TieredTariff:
    """Guangxi residential tiered pricing (price bureau 〔2021〕16号)."""
    return TieredTariff(
        GUANGXI_RESIDENTIAL_TIERS, consumed_kwh=consumed_kwh, name="Guangxi residential (tiered)"
    )


def guangxi_commercial_tou(
    flat_price: float = GUANGXI_COMMERCIAL_FLAT_CNY,
    *,
    peak_ratio: float = 1.5,
    valley_ratio: float = 0.5,
    critical_months: Sequence[int] = (7, 8, 9, 12),
    critical_uplift: float = 1.2,
    critical_periods: Sequence[tuple[str, str]] = (),
    periods: Sequence[TouPeriod] = GUANGXI_COMMERCIAL_PERIODS_2023,
) -> TimeOfUseTariff:
    """Guangxi commercial time-of-use (〔2023〕609号 schedule, 〔2021〕1029号 critical peak).

    Its hours are China Standard Time wherever the household's clock is set.
    Ratios peak : flat : valley = 1.5 : 1 : 0.5 around ``flat_price``. The
    critical-peak hours differ between sources, so by default the uplift
    applies to all peak hours in the critical months; pass
    ``critical_periods`` to narrow it.
    """
    check_price(flat_price, "flat price")
    for label, ratio in (("peak_ratio", peak_ratio), ("valley_ratio", valley_ratio)):
        if not math.isfinite(ratio) or ratio < 0:
            raise TariffError(f"{label} must be a non-negative number, got {ratio}")
    return TimeOfUseTariff(
        periods=tuple(periods),
        level_prices={
            "valley": flat_price * valley_ratio,
            "flat": flat_price,
            "peak": flat_price * peak_ratio,
        },
        critical_months=frozenset(critical_months),
        critical_uplift=critical_uplift,
        critical_periods=tuple(critical_periods),
        name="Guangxi commercial time-of-use",
        tz=CHINA_TZ,
    )


def custom_time_of_use(
    table: Sequence[Mapping[str, object]],
    *,
    name: str = "custom time-of-use",
    tz: tzinfo = CHINA_TZ,
) -> TimeOfUseTariff:
    """A time-of-use tariff from rows like ``{"start": "07:00", "end": "11:00", "price": 0.6}``.

    The clock times are read in ``tz``: the zone the table's author lives in.
    """
    if not isinstance(table, Sequence) or not table:
        raise TariffError("a custom time-of-use table is a non-empty list of rows")
    periods: list[TouPeriod] = []
    prices: dict[str, float] = {}
    for index, row in enumerate(table):
        where = f"row {index + 1}"
        if not isinstance(row, Mapping):
            raise TariffError(f"{where} must be a mapping with start, end and price")
        missing = {"start", "end", "price"} - set(row)
        if missing:
            raise TariffError(f"{where} is missing {', '.join(sorted(missing))}")
        unknown = set(row) - {"start", "end", "price"}
        if unknown:
            raise TariffError(f"{where} has unknown keys {', '.join(sorted(unknown))}")
        price = row["price"]
        check_price(price, where, f"{row['start']}-{row['end']}")
        assert isinstance(price, int | float)
        start, end = row["start"], row["end"]
        if not isinstance(start, str) or not isinstance(end, str):
            raise TariffError(f"{where}: start and end must be strings HH:MM")
        level = f"p{index + 1}"
        prices[level] = float(price)
        periods.append(TouPeriod(start, end, level))
    return TimeOfUseTariff(tuple(periods), prices, name=name, tz=tz)
