"""What appliances used and cost over a calendar period, read from Home Assistant's statistics.

Energy is the change of each appliance's ``energy`` sensor (kWh, a meter) in the
recorder's long-term statistics, the same figures the Energy dashboard shows;
``statistic_during_period`` adds the not yet compiled part of the hour. The cost
prices each hour's change at the household tariff's price at that hour
(``Tariff.price_at``), and the part of the present hour at the price now. A
tiered tariff's blocks (monthly consumption) are not applied: the answer is the
time-of-use cost, which is what the tariff's hourly price says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from homeassistant.components.recorder.statistics import (
    statistic_during_period,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from custom_components.liuzhou_appliances.const import CONF_APPLIANCE_ID, DOMAIN
from custom_components.liuzhou_appliances.energy.tariff import Tariff

from .targets import Appliance

type Period = Literal["today", "week"]
PERIODS: Final = ("today", "week")


@dataclass(frozen=True, slots=True)
class Usage:
    """Energy (kWh) and its cost (CNY, None without a tariff) over a period."""

    kwh: float
    cost: float | None


def period_start(period: Period, now: datetime) -> datetime:
    """Local midnight today, or of this week's Monday (``now`` is local)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return midnight - timedelta(days=midnight.weekday())
    return midnight


def energy_entity_id(hass: HomeAssistant, appliance: Appliance) -> str | None:
    """The entity id of the appliance's energy meter sensor, if it has one."""
    appliance_id = appliance.entry.data.get(CONF_APPLIANCE_ID)
    return er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{appliance_id}_energy")


def recorder_running(hass: HomeAssistant) -> bool:
    """Whether the recorder (and so the statistics) is there to ask."""
    return "recorder" in hass.config.components


def _usage(
    hass: HomeAssistant, statistic_id: str, start: datetime, now: datetime, tariff: Tariff | None
) -> Usage:
    """One meter's change and cost (recorder thread)."""
    total = statistic_during_period(hass, start, now, statistic_id, {"change"}, None)
    kwh = float(total.get("change") or 0.0)
    if tariff is None:
        return Usage(kwh, None)
    rows = statistics_during_period(hass, start, now, {statistic_id}, "hour", None, {"change"}).get(
        statistic_id, []
    )
    cost = 0.0
    hourly = 0.0
    for row in rows:
        change = float(row.get("change") or 0.0)
        hour = dt_util.utc_from_timestamp(row["start"])
        cost += change * tariff.price_at(hour)
        hourly += change
    # The part not yet in an hourly row (the hour under way): at the price now.
    cost += max(kwh - hourly, 0.0) * tariff.price_at(now)
    return Usage(kwh, cost)


async def async_usage(
    hass: HomeAssistant,
    statistic_ids: Iterable[str],
    period: Period,
    tariff: Tariff | None,
) -> Usage:
    """Energy and cost of the meters ``statistic_ids`` since the period's start, summed."""
    now = dt_util.now()
    start = period_start(period, now)
    kwh, cost = 0.0, 0.0
    for statistic_id in statistic_ids:
        usage = await get_instance(hass).async_add_executor_job(
            _usage, hass, statistic_id, start, now, tariff
        )
        kwh += usage.kwh
        cost += usage.cost or 0.0
    return Usage(kwh, cost if tariff is not None else None)
