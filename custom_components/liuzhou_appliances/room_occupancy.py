"""A room's occupancy: its states, the allowed changes, and what each state asks of each appliance.

No Home Assistant import: ``room_runtime.py`` keeps the state per room and
sends the settings through the appliances' coordinators. The one error type
is ``RoomStateError`` (a ``ValueError``) with a ``code`` the integration
translates (``invalid_room_state``, ``invalid_room_transition``,
``invalid_house_defaults``).

States and changes::

    vacant    -> arriving (a booking, optionally with its arrival time), occupied (walk-in)
    arriving  -> arriving (a new arrival time), occupied (checked in), vacant (cancelled)
    occupied  -> check_out
    check_out -> vacant (at once, after the reset and the erasure)

Asking for the state a room is already in is accepted and changes nothing
(a property-management system may send the same message twice), except
``arriving`` with a new arrival time.

What a state means to the energy controller of an AC in the room
(``room_presence``): occupied and arriving without a time (or past it) are
occupied; arriving with an arrival time still ahead is empty until the
pre-conditioning lead before it; vacant and check-out are empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from .link.model import ApplianceType, Value


class RoomState(StrEnum):
    """A room's occupancy."""

    VACANT = "vacant"
    ARRIVING = "arriving"
    OCCUPIED = "occupied"
    CHECK_OUT = "check_out"


ROOM_STATES: Final = tuple(str(state) for state in RoomState)

TRANSITIONS: Final[Mapping[RoomState, frozenset[RoomState]]] = {
    RoomState.VACANT: frozenset({RoomState.ARRIVING, RoomState.OCCUPIED}),
    RoomState.ARRIVING: frozenset({RoomState.ARRIVING, RoomState.OCCUPIED, RoomState.VACANT}),
    RoomState.OCCUPIED: frozenset({RoomState.CHECK_OUT}),
    RoomState.CHECK_OUT: frozenset({RoomState.VACANT}),
}


class RoomStateError(ValueError):
    """Bad occupancy input; ``code`` names the translated message, ``detail`` says what."""

    def __init__(self, code: str, detail: str) -> None:
        """``code``: invalid_room_state, invalid_room_transition or invalid_house_defaults."""
        super().__init__(detail)
        self.code = code
        self.detail = detail


def parse_state(text: object) -> RoomState:
    """The state named by ``text``; RoomStateError(invalid_room_state) if it names none."""
    try:
        return RoomState(str(text).strip().lower())
    except ValueError:
        raise RoomStateError(
            "invalid_room_state", f"{text!r} is not a room state ({', '.join(ROOM_STATES)})"
        ) from None


def check_transition(current: RoomState, wanted: RoomState) -> bool:
    """Whether going from ``current`` to ``wanted`` changes anything.

    False for a repeat of the present state (nothing to do); True for an
    allowed change and for ``arriving`` again (a new arrival time).
    RoomStateError(invalid_room_transition) for a change not allowed.
    """
    if wanted is current and wanted is not RoomState.ARRIVING:
        return False
    if wanted not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current]))
        raise RoomStateError(
            "invalid_room_transition",
            f"a room cannot go from {current} to {wanted} (from {current}: {allowed})",
        )
    return True


# House defaults: option keys of the household entry, their defaults and bounds.
OPT_AC_MODE: Final = "house_ac_mode"
OPT_AC_TARGET: Final = "house_ac_target"
OPT_AC_FAN: Final = "house_ac_fan"
OPT_VACANT_AC: Final = "house_vacant_ac"
OPT_SETBACK_TARGET: Final = "house_setback_target"
OPT_FRIDGE_TARGET: Final = "house_fridge_target"
OPT_FREEZER_TARGET: Final = "house_freezer_target"
AC_MODES: Final = ("cool", "heat", "dry", "fan_only", "auto")
AC_FANS: Final = ("auto", "low", "medium", "high")
# A vacant room's AC: off, or held at the setback temperature.
VACANT_AC_CHOICES: Final = ("off", "setback")
AC_TARGET_RANGE: Final = (16.0, 30.0)
FRIDGE_TARGET_RANGE: Final = (1.0, 8.0)
FREEZER_TARGET_RANGE: Final = (-24.0, -16.0)


@dataclass(frozen=True, slots=True)
class HouseDefaults:
    """What every appliance returns to at check-out, and how a vacant room saves energy.

    Temperatures in °C. ``vacant_ac`` is "off" or "setback" (held at
    ``setback_target`` in ``ac_mode``).
    """

    ac_mode: str = "cool"
    ac_target: float = 26.0
    ac_fan: str = "auto"
    vacant_ac: str = "off"
    setback_target: float = 28.0
    fridge_target: float = 4.0
    freezer_target: float = -18.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> HouseDefaults:
        """The defaults in the household entry's options (missing keys: the defaults above).

        RoomStateError(invalid_house_defaults) names the first value out of place.
        """
        base = cls()
        try:
            defaults = cls(
                ac_mode=str(options.get(OPT_AC_MODE, base.ac_mode)),
                ac_target=float(options.get(OPT_AC_TARGET, base.ac_target)),
                ac_fan=str(options.get(OPT_AC_FAN, base.ac_fan)),
                vacant_ac=str(options.get(OPT_VACANT_AC, base.vacant_ac)),
                setback_target=float(options.get(OPT_SETBACK_TARGET, base.setback_target)),
                fridge_target=float(options.get(OPT_FRIDGE_TARGET, base.fridge_target)),
                freezer_target=float(options.get(OPT_FREEZER_TARGET, base.freezer_target)),
            )
        except (TypeError, ValueError) as err:
            raise RoomStateError("invalid_house_defaults", f"not a number: {err}") from None
        defaults.check()
        return defaults

    def check(self) -> None:
        """RoomStateError(invalid_house_defaults) if a value is not allowed."""
        _one_of(OPT_AC_MODE, self.ac_mode, AC_MODES)
        _one_of(OPT_AC_FAN, self.ac_fan, AC_FANS)
        _one_of(OPT_VACANT_AC, self.vacant_ac, VACANT_AC_CHOICES)
        _within(OPT_AC_TARGET, self.ac_target, AC_TARGET_RANGE)
        _within(OPT_SETBACK_TARGET, self.setback_target, AC_TARGET_RANGE)
        _within(OPT_FRIDGE_TARGET, self.fridge_target, FRIDGE_TARGET_RANGE)
        _within(OPT_FREEZER_TARGET, self.freezer_target, FREEZER_TARGET_RANGE)


def _one_of(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise RoomStateError(
            "invalid_house_defaults", f"{key}={value!r} is not one of {', '.join(allowed)}"
        )


def _within(key: str, value: float, bounds: tuple[float, float]) -> None:
    if not bounds[0] <= value <= bounds[1]:
        raise RoomStateError(
            "invalid_house_defaults", f"{key}={value} is outside {bounds[0]}..{bounds[1]}"
        )


@dataclass(frozen=True, slots=True)
class Settings:
    """What one appliance is asked to do for a room state.

    ``writes``: attribute -> value (keys the appliance does not declare are
    skipped by the sender). ``at``: when (None: now; an arriving room's AC
    starts ``lead`` before the arrival). ``cancel_delayed_start``: a washer's
    or dishwasher's waiting start is stopped.
    """

    writes: Mapping[str, Value] = field(default_factory=dict)
    at: datetime | None = None
    cancel_delayed_start: bool = False

    @property
    def empty(self) -> bool:
        """Nothing to do."""
        return not self.writes and not self.cancel_delayed_start


NOTHING: Final = Settings()
_WET: Final = frozenset({ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER})


def settings_for(
    state: RoomState,
    kind: ApplianceType,
    defaults: HouseDefaults,
    *,
    now: datetime,
    arrival: datetime | None = None,
    lead: timedelta = timedelta(0),
) -> Settings:
    """What ``state`` asks of an appliance of ``kind`` (``NOTHING`` if it asks nothing).

    vacant: the AC off or at the setback, the fridge in eco mode. arriving: the
    AC on at the house defaults from ``lead`` before ``arrival`` (at once
    without an arrival time or when it is that close), the fridge normal.
    occupied: the fridge normal; the AC is the guest's. check_out: every
    setting a guest may have changed back to the house defaults, the AC off, a
    waiting washer or dishwasher start stopped.
    """
    if kind is ApplianceType.ROOM_AIR_CONDITIONER:
        return _ac(state, defaults, now, arrival, lead)
    if kind is ApplianceType.REFRIGERATOR:
        if state is RoomState.VACANT:
            return Settings({"mode": "eco"})
        if state is RoomState.CHECK_OUT:
            return Settings(
                {
                    "mode": "normal",
                    "fridge_target_temperature": defaults.fridge_target,
                    "freezer_target_temperature": defaults.freezer_target,
                }
            )
        return Settings({"mode": "normal"})
    if kind in _WET and state is RoomState.CHECK_OUT:
        return Settings(cancel_delayed_start=True)
    return NOTHING


def _ac(
    state: RoomState,
    defaults: HouseDefaults,
    now: datetime,
    arrival: datetime | None,
    lead: timedelta,
) -> Settings:
    comfort: dict[str, Value] = {
        "on": True,
        "mode": defaults.ac_mode,
        "target_temperature": defaults.ac_target,
        "fan_speed": defaults.ac_fan,
    }
    if state is RoomState.VACANT:
        if defaults.vacant_ac == "off":
            return Settings({"on": False})
        return Settings(
            {"on": True, "mode": defaults.ac_mode, "target_temperature": defaults.setback_target}
        )
    if state is RoomState.ARRIVING:
        start = None if arrival is None else arrival - lead
        return Settings(comfort, at=start if start is not None and start > now else None)
    if state is RoomState.CHECK_OUT:
        return Settings({**comfort, "on": False, "swing": "off", "eco": False, "sleep": False})
    return NOTHING


@dataclass(frozen=True, slots=True)
class RoomPresence:
    """A room's state as the energy controller of its AC takes it.

    ``occupied``: someone is in (or due now). ``arrival``: the booked arrival
    still ahead (UTC), else None; the controller pre-conditions from its
    preset's lead before it, the lead ``room_runtime`` starts the AC at.
    """

    state: RoomState
    occupied: bool
    arrival: datetime | None = None

    @property
    def reason(self) -> str:
        """The energy status's reason code naming the state (``room_vacant``, ...)."""
        return f"room_{self.state}"


def room_presence(state: RoomState, arrival: datetime | None, now: datetime) -> RoomPresence:
    """What ``state`` (and its arrival time, if any) means to the room's AC at ``now``."""
    if state is RoomState.OCCUPIED:
        return RoomPresence(state, occupied=True)
    if state is RoomState.ARRIVING:
        # Without a time, or once it has passed, the room's AC was started at once.
        if arrival is None or arrival <= now:
            return RoomPresence(state, occupied=True)
        return RoomPresence(state, occupied=False, arrival=arrival)
    return RoomPresence(state, occupied=False)
