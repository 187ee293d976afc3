"""The tariff a household's settings describe: option keys, custom tables, ``build_tariff``.

The household energy entry stores its tariff as options (the keys below,
re-exported by the integration's ``const.py``). The config flow checks them
with ``build_tariff`` and the household runtime builds its tariff with it, so
both read the settings the same way. No Home Assistant import: the caller
passes the time zone a custom table's clock times are in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import tzinfo
import re
from typing import Any, Final

from .tariff import PriceSample, SensorPriceTariff, Tariff, TariffError
from .tariff_presets import custom_time_of_use, guangxi_commercial_tou, guangxi_residential

CONF_TARIFF: Final = "tariff"
TARIFF_RESIDENTIAL: Final = "residential_tiered"
TARIFF_COMMERCIAL: Final = "commercial_tou"
TARIFF_CUSTOM: Final = "custom_tou"
TARIFF_SENSOR: Final = "sensor"
TARIFF_KINDS: Final = (TARIFF_RESIDENTIAL, TARIFF_COMMERCIAL, TARIFF_CUSTOM, TARIFF_SENSOR)
CONF_COMMERCIAL_FLAT_PRICE: Final = "commercial_flat_price"
CONF_CUSTOM_TABLE: Final = "custom_table"
CONF_PRICE_ENTITY: Final = "price_entity"

_TABLE_ROW: Final = re.compile(r"^\s*(\S+)\s*-\s*(\S+)\s+(\S+)\s*$")


def parse_custom_table(text: str) -> list[dict[str, object]]:
    """Rows "HH:MM-HH:MM price", one a line; raise TariffError naming the bad line."""
    rows: list[dict[str, object]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _TABLE_ROW.match(line)
        if match is None:
            raise TariffError(
                f"line {number}: write it as HH:MM-HH:MM price, e.g. 22:00-06:00 0.3",
                "format",
                line=str(number),
            )
        try:
            price = float(match.group(3))
        except ValueError:
            raise TariffError(
                f"line {number}: {match.group(3)!r} is not a price",
                "not_a_price",
                line=str(number),
                value=match.group(3),
            ) from None
        rows.append({"start": match.group(1), "end": match.group(2), "price": price})
    return rows


def build_tariff(
    options: Mapping[str, Any],
    *,
    time_zone: tzinfo,
    read_price: Callable[[], PriceSample | None] | None = None,
) -> Tariff:
    """The tariff the household settings describe; TariffError if they do not make one.

    A custom table's clock times are in ``time_zone`` (Home Assistant's); the
    Guangxi presets follow China time. ``read_price`` reads the price sensor of
    the sensor tariff.
    """
    kind = options.get(CONF_TARIFF, TARIFF_RESIDENTIAL)
    if kind == TARIFF_COMMERCIAL:
        return guangxi_commercial_tou(float(options.get(CONF_COMMERCIAL_FLAT_PRICE, 0.65)))
    if kind == TARIFF_CUSTOM:
        return custom_time_of_use(
            parse_custom_table(str(options.get(CONF_CUSTOM_TABLE, ""))), tz=time_zone
        )
    if kind == TARIFF_SENSOR:
        if not options.get(CONF_PRICE_ENTITY):
            raise TariffError("a price sensor is needed for the sensor tariff")
        return SensorPriceTariff(
            read_price or (lambda: None), name=f"price from {options[CONF_PRICE_ENTITY]}"
        )
    # This year's consumption is unknown here: the first tier's price (moving runs
    # saves nothing under a tiered tariff anyway).
    return guangxi_residential()
