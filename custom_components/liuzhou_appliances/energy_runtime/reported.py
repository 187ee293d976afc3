"""Typed views of what an appliance reports: numbers, readings and the AC's state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from custom_components.liuzhou_appliances.energy.ac import AcMode
from custom_components.liuzhou_appliances.energy.inputs import Reading
from custom_components.liuzhou_appliances.link.model import Value


def number(value: Value | None) -> float | None:
    """A reported number as a float; None for anything else (a bool is no number here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def reported_reading(value: Value | None, now: datetime) -> Reading | None:
    """A pushed appliance value: current while the appliance is connected."""
    reported = number(value)
    return None if reported is None else Reading(reported, now)


@dataclass(frozen=True, slots=True)
class AcState:
    """What the AC comfort loop reads from the AC's reported values."""

    mode: AcMode | None  # cooling or heating; None: off, or in another mode
    target_temperature: float | None
    power_w: float | None
    room_temperature: float | None
    humidity: float | None
    outdoor_temperature: float | None

    @classmethod
    def read(cls, data: Mapping[str, Value]) -> AcState:
        """The AC's state from its coordinator's data."""
        mode: AcMode | None = None
        if data.get("on"):
            reported = data.get("mode")
            if reported == "cool":
                mode = "cool"
            elif reported == "heat":
                mode = "heat"
        return cls(
            mode=mode,
            target_temperature=number(data.get("target_temperature")),
            power_w=number(data.get("power")),
            room_temperature=number(data.get("temperature")),
            humidity=number(data.get("humidity")),
            outdoor_temperature=number(data.get("outdoor_temperature")),
        )
