"""What the energy features of one appliance are doing, and the reason codes that say why."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final

from custom_components.liuzhou_appliances.energy.inputs import Issue
from custom_components.liuzhou_appliances.energy.shedding import GRID_EVENT, POWER_LIMIT, ShedStep
from custom_components.liuzhou_appliances.room_occupancy import RoomState


class EnergyStatus(StrEnum):
    """What the energy features of one appliance are doing."""

    NOT_CONFIGURED = "not_configured"  # no household energy entry
    OFF = "off"  # the switch is off
    STARTING = "starting"  # compiling the controller (once, in the executor)
    IDLE = "idle"  # nothing to control now (AC off or not cooling/heating)
    NOTHING_PLANNED = "nothing_planned"  # washer/dishwasher: no run planned
    ACTIVE = "active"
    # The AC loop acts and no occupancy entity is set: a normal set-up, the room
    # counts as occupied (comfort first) all the time.
    ACTIVE_NO_OCCUPANCY = "active_no_occupancy"
    # The AC loop acts on the state of the room the AC is in (room_runtime.py): the
    # reason ``room_<state>`` names it.
    ACTIVE_ROOM = "active_room"
    DEGRADED = "degraded"  # a configured or declared input is missing or stale: defaults used
    FALLBACK = "fallback"  # inputs unusable: the appliance runs on its own control
    SHED = "shed"  # load shedding holds it


# Why the status is what it is: codes in the status sensor's ``reason`` attribute,
# which Home Assistant shows translated (translations: entity.sensor.energy_status.
# state_attributes.reason.state). Details with numbers and entity ids go to the log.
_READINGS: Final = (
    "room_temperature",
    "outdoor_temperature",
    "humidity",
    "fridge_temperature",
    "freezer_temperature",
)
UNEXPECTED_REASON: Final = "unexpected"
REASONS: Final = frozenset(
    {
        *(f"{name}_{problem}" for name in _READINGS for problem in ("missing", "invalid", "stale")),
        "setpoint_invalid",  # the AC reports no usable setpoint
        "price_unavailable",  # the price sensor of the tariff
        "occupancy_missing",  # the occupancy entity is set but unknown: occupied assumed
        "ac_not_conditioning",  # the AC is off or neither cooling nor heating
        "no_occupancy_entity",  # none set: the room counts as occupied
        "no_humidity_sensor",  # the AC measures none: DEFAULT_HUMIDITY_PCT assumed
        "no_outdoor_sensor",  # neither household nor AC: DEFAULT_OUTDOOR_LOAD_K assumed
        # The AC follows its room's state (vacant, arriving, occupied, check-out).
        *(f"room_{state}" for state in RoomState),
        "next_arrival_unavailable",
        "next_arrival_invalid",
        "next_arrival_past",
        *(f"shed_{step.name.lower()}" for step in ShedStep),
        POWER_LIMIT,
        GRID_EVENT,
        "internal_error",
        UNEXPECTED_REASON,
    }
)


def reason_codes(issues: Iterable[Issue]) -> tuple[str, ...]:
    """The controllers' issue codes as reasons (each once, in order)."""
    codes = (issue.code if issue.code in REASONS else UNEXPECTED_REASON for issue in issues)
    return tuple(dict.fromkeys(codes))
