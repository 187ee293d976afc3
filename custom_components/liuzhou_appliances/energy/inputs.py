"""Sensor readings, their freshness, and the issues a decision reports instead of raising."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
import math

from .tariff import CHINA_TZ


class DecisionStatus(StrEnum):
    """How much a decision could rely on its inputs."""

    OK = "ok"  # every input present and fresh
    DEGRADED = "degraded"  # some inputs replaced by documented defaults
    FALLBACK = "fallback"  # not enough to decide: hand control back to the appliance


@dataclass(frozen=True, slots=True)
class Issue:
    """Something wrong with the inputs, and what was done about it."""

    code: str  # e.g. "room_temperature_stale", "price_unavailable", "input_clipped"
    message: str


@dataclass(frozen=True, slots=True)
class Reading:
    """A sensor value and when it was measured."""

    value: float
    at: datetime


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=CHINA_TZ) if when.tzinfo is None else when


def fresh_value(
    reading: Reading | None, now: datetime, max_age: timedelta, name: str
) -> tuple[float | None, Issue | None]:
    """The reading's value if present, finite and fresh; otherwise None and why."""
    if reading is None:
        return None, Issue(f"{name}_missing", f"{name.replace('_', ' ')} is not available")
    value = reading.value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None, Issue(f"{name}_invalid", f"{name.replace('_', ' ')} is {value!r}")
    age = _aware(now) - _aware(reading.at)
    if age > max_age:
        return None, Issue(
            f"{name}_stale",
            f"{name.replace('_', ' ')} is {age.total_seconds() / 60:.0f} min old "
            f"(limit {max_age.total_seconds() / 60:.0f} min)",
        )
    return float(value), None
