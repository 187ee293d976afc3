"""Demand response and load shedding in a fixed, documented priority order.

When whole-home power passes the limit (or a grid event lowers it), loads
are shed step by step, least felt first, until the expected relief covers
the excess:

1. ``ac_vacant_off``  – air conditioners in rooms nobody is in: off
2. ``ac_relax_1k``    – occupied rooms: setpoint 1 K towards outdoors
3. ``ac_relax_2k``    – occupied rooms: 2 K
4. ``defer_run``      – washer/dishwasher runs not yet started: hold them
5. ``pause_run``      – running washer/dishwasher: pause (if it allows)
6. ``ac_fan_only``    – occupied rooms: compressor off, fan only

Fridges and freezers are never shed (food safety). Within a step the loads
giving the most relief go first. Restoring runs in the reverse order, one
action per update, and only when the load it brings back fits under the
limit minus a margin, so shedding does not oscillate.

A grid event with a ``depth`` (demand response) sheds every step up to that
one whatever the power, holds them while it lasts and, with a power reading,
keeps the limit for the steps after it; ``DEMAND_RESPONSE_LEVELS`` names the
depths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
import logging
from typing import Final, Literal

from .inputs import Issue, Reading, fresh_value

_LOGGER = logging.getLogger(__name__)

type LoadKind = Literal["ac", "washer", "dishwasher", "fridge", "other"]


class ShedStep(IntEnum):
    """Shedding steps; lower numbers are shed first and restored last."""

    AC_VACANT_OFF = 1
    AC_RELAX_1K = 2
    AC_RELAX_2K = 3
    DEFER_RUN = 4
    PAUSE_RUN = 5
    AC_FAN_ONLY = 6


# Expected relief as a share of the load's present power (AC) or its peak (runs).
_AC_RELIEF = {
    ShedStep.AC_VACANT_OFF: 1.0,
    ShedStep.AC_RELAX_1K: 0.15,
    ShedStep.AC_RELAX_2K: 0.15,  # a further 15 % on top of the first kelvin
    ShedStep.AC_FAN_ONLY: 0.6,  # what is left after two kelvin, minus the fan
}


@dataclass(frozen=True, slots=True)
class LoadState:
    """One controllable load as the shedder sees it."""

    appliance_id: str
    kind: LoadKind
    power_w: float
    occupied: bool = True  # ACs: someone in the room
    running: bool = False  # washers/dishwashers: a programme is running
    pending_start: bool = False  # a delayed start is waiting
    can_pause: bool = True
    expected_w: float = 0.0  # runs: the power the pending run will draw


# Demand-response levels: how far down the order an event sheds, whatever the power.
# Moderate never interrupts a running programme nor stops an occupied room's compressor.
DEMAND_RESPONSE_LEVELS: dict[str, ShedStep] = {
    "moderate": ShedStep.DEFER_RUN,
    "critical": ShedStep.AC_FAN_ONLY,
}


@dataclass(frozen=True, slots=True)
class GridEvent:
    """A demand-response request from ``start`` to ``end``.

    It keeps the home under ``limit_w`` and, with a ``depth``, sheds every step
    up to that one regardless of power (held until the event ends).
    """

    start: datetime
    end: datetime
    limit_w: float
    reason: str = "grid demand response"
    depth: ShedStep | None = None


# Why something is shed: the home's power limit, or a grid (demand-response) event.
POWER_LIMIT: Final = "power_limit"
GRID_EVENT: Final = "grid_event"


@dataclass(frozen=True, slots=True)
class ShedAction:
    """One thing shed (or restored); ``reason`` in words, ``cause`` as a code."""

    step: ShedStep
    appliance_id: str
    relief_w: float
    reason: str
    cause: str = POWER_LIMIT

    @property
    def action(self) -> str:
        """The step's name, e.g. ``ac_relax_1k``."""
        return self.step.name.lower()


@dataclass(frozen=True, slots=True)
class ShedReport:
    """What changed in this update and what is shed now."""

    limit_w: float
    power_w: float | None
    shed: tuple[ShedAction, ...]
    restored: tuple[ShedAction, ...]
    active: tuple[ShedAction, ...]
    issues: tuple[Issue, ...] = ()

    def level(self, appliance_id: str) -> ShedStep | None:
        """The highest step applied to one appliance, if any."""
        steps = [a.step for a in self.active if a.appliance_id == appliance_id]
        return max(steps) if steps else None


@dataclass(slots=True)
class LoadShedder:
    """Keeps whole-home power under a limit; ``update`` never raises."""

    limit_w: float
    restore_margin_w: float = 300.0
    stale_after: timedelta = timedelta(minutes=2)
    active: list[ShedAction] = field(default_factory=list)

    def update(
        self,
        now: datetime,
        power: Reading | None,
        loads: Sequence[LoadState],
        event: GridEvent | None = None,
    ) -> ShedReport:
        """Shed or restore for the present power reading (and grid event)."""
        limit = self.limit_w
        reason, cause = f"home power above the {limit:.0f} W limit", POWER_LIMIT
        active_event = event if event is not None and event.start <= now < event.end else None
        if active_event is not None and active_event.limit_w < limit:
            limit = active_event.limit_w
            reason = f"{active_event.reason}: limit {active_event.limit_w:.0f} W"
            cause = GRID_EVENT
        depth = active_event.depth if active_event is not None else None
        value, issue = fresh_value(power, now, self.stale_after, "home_power")
        if value is None and depth is None:
            # Without a power reading nothing can be judged: hand everything back.
            assert issue is not None
            handed_back = tuple(reversed(self.active))
            self.active = []
            _LOGGER.warning("load shedding: %s; restoring all shed loads", issue.message)
            return ShedReport(limit, None, (), handed_back, (), (issue,))
        present = {load.appliance_id: load for load in loads}
        # Loads that went away (unplugged, finished) are no longer shed.
        self.active = [a for a in self.active if a.appliance_id in present]
        shed: list[ShedAction] = []
        restored: list[ShedAction] = []
        if active_event is not None and depth is not None:
            for action in self._candidates(loads):
                if action.step <= depth:
                    shed.append(
                        ShedAction(
                            action.step,
                            action.appliance_id,
                            action.relief_w,
                            active_event.reason,
                            GRID_EVENT,
                        )
                    )
            self.active.extend(shed)
        # Steps the event holds are not the power limit's to restore.
        releasable = [a for a in self.active if depth is None or a.step > depth]
        if value is None:
            # An event without a power reading: hold its steps, hand back the others.
            restored = list(reversed(releasable))
            self.active = [a for a in self.active if a not in releasable]
        elif (excess := value - limit - sum(a.relief_w for a in shed)) > 0:
            for action in self._candidates(loads):
                if excess <= 0:
                    break
                shed.append(
                    ShedAction(action.step, action.appliance_id, action.relief_w, reason, cause)
                )
                self.active.append(shed[-1])
                excess -= action.relief_w
            if excess > 0:
                _LOGGER.warning(
                    "load shedding: %.0f W still above the limit with everything sheddable shed",
                    excess,
                )
        elif releasable and not shed:
            headroom = limit - self.restore_margin_w - value
            last = max(releasable, key=lambda a: (a.step, self.active.index(a)))
            if last.relief_w <= headroom:
                self.active.remove(last)
                restored.append(last)
        for action in shed:
            _LOGGER.info(
                "load shedding: %s %s (~%.0f W): %s",
                action.action,
                action.appliance_id,
                action.relief_w,
                action.reason,
            )
        for action in restored:
            _LOGGER.info("load shedding: restored %s %s", action.action, action.appliance_id)
        issues = (issue,) if issue is not None and value is None else ()
        return ShedReport(limit, value, tuple(shed), tuple(restored), tuple(self.active), issues)

    def _candidates(self, loads: Sequence[LoadState]) -> list[ShedAction]:
        """Further actions in priority order (each load at most once per step)."""
        done = {(a.step, a.appliance_id) for a in self.active}
        out: list[ShedAction] = []
        for step in ShedStep:
            options: list[ShedAction] = []
            for load in loads:
                if (step, load.appliance_id) in done or load.kind == "fridge":
                    continue
                relief = _relief(step, load, done)
                if relief > 0:
                    options.append(ShedAction(step, load.appliance_id, relief, ""))
            options.sort(key=lambda a: -a.relief_w)
            out.extend(options)
            # Later steps may build on this one (2 K after 1 K) within the same pass.
            done |= {(a.step, a.appliance_id) for a in options}
        return out


def _relief(step: ShedStep, load: LoadState, done: set[tuple[ShedStep, str]]) -> float:
    appliance = load.appliance_id
    if load.kind == "ac":
        if (ShedStep.AC_VACANT_OFF, appliance) in done or load.power_w <= 0:
            return 0.0
        if step is ShedStep.AC_VACANT_OFF:
            return load.power_w if not load.occupied else 0.0
        if not load.occupied:
            return 0.0
        if step is ShedStep.AC_RELAX_2K and (ShedStep.AC_RELAX_1K, appliance) not in done:
            return 0.0  # the first kelvin comes first
        if step in _AC_RELIEF:
            return load.power_w * _AC_RELIEF[step]
        return 0.0
    if load.kind in ("washer", "dishwasher"):
        if step is ShedStep.DEFER_RUN and load.pending_start and not load.running:
            return max(load.expected_w, 0.0)
        if step is ShedStep.PAUSE_RUN and load.running and load.can_pause:
            return max(load.power_w, 0.0)
    return 0.0
