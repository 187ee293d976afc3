"""Demand response and load shedding across the household's appliances.

``LoadShedding`` belongs to the household runtime. It holds the
demand-response event started by the action (the grid-event entity is the
other source), runs the ``LoadShedder`` for the present home power and event,
asks each appliance (``ApplianceShedding``) to shed or restore a step, parks
what is shed on appliances gone off the network until they return, and
reports every change on the bus.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
import math
from typing import Any, Final

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CALLBACK_TYPE
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from custom_components.liuzhou_appliances.const import (
    CONF_GRID_EVENT_ENTITY,
    CONF_GRID_EVENT_LEVEL,
    CONF_HOME_POWER_ENTITY,
    DEFAULT_DEMAND_RESPONSE_LEVEL,
    EVENT_LOAD_SHED,
)
from custom_components.liuzhou_appliances.energy.shedding import (
    DEMAND_RESPONSE_LEVELS,
    GridEvent,
    LoadShedder,
    ShedAction,
    ShedReport,
)

from .runtime_state import action_from_json, action_to_json, async_keep_runtime, time_from_json
from .views import ApplianceView, HouseholdView

_LOGGER = logging.getLogger(__package__)

# States of a binary entity (occupancy, grid event) that mean "on".
ON_STATES: Final = frozenset({"on", "home", "true", "occupied", "detected"})


@dataclass(frozen=True, slots=True)
class DemandResponseNow:
    """What the household's demand-response sensor shows."""

    level: str  # moderate / critical
    source: str  # grid_event_entity / action
    end: datetime | None  # None: until the entity turns off or the action stops it


@dataclass(frozen=True, slots=True)
class DemandResponse:
    """A demand-response event started by the action (``end`` None: until stopped)."""

    start: datetime
    end: datetime | None
    level: str


def _grid_event(start: datetime, end: datetime | None, level: str, reason: str) -> GridEvent:
    """A demand-response event at ``level`` (no power limit of its own)."""
    return GridEvent(
        start=start,
        end=end or datetime.max.replace(tzinfo=dt_util.UTC),
        limit_w=math.inf,
        reason=reason,
        depth=DEMAND_RESPONSE_LEVELS.get(
            level, DEMAND_RESPONSE_LEVELS[DEFAULT_DEMAND_RESPONSE_LEVEL]
        ),
    )


class LoadShedding:
    """The household's demand-response events and load shedding over its appliances."""

    def __init__(self, household: HouseholdView, limit_w: float) -> None:
        """Shed above ``limit_w`` (infinite: only for demand-response events)."""
        self.household = household
        self.hass = household.hass
        self.shedder = LoadShedder(limit_w)
        self.last_report: ShedReport | None = None
        self.demand_response: DemandResponse | None = None  # started by the action
        self._unsub_response_end: CALLBACK_TYPE | None = None
        self._grid_entity_unusable = False
        self._running = False
        # What is shed on appliances that went off the network (the shedder only sees
        # connected ones): held again or restored through the shedder when they return.
        self._away: dict[str, list[ShedAction]] = {}

    # --- demand-response events ---------------------------------------------------------

    def demand_response_now(self, now: datetime) -> DemandResponseNow | None:
        """The deepest demand-response event in force now, or None."""
        deepest = self._deepest_grid_event(now)
        if deepest is None:
            return None
        source, event = deepest
        level = next(
            (name for name, depth in DEMAND_RESPONSE_LEVELS.items() if depth == event.depth),
            DEFAULT_DEMAND_RESPONSE_LEVEL,
        )
        end = None if event.end.year == datetime.max.year else event.end
        return DemandResponseNow(level, source, end)

    def grid_event_from_entity(self) -> GridEvent | None:
        """The grid-event entity's event while on; unavailable counts as none (logged once)."""
        options = self.household.options
        entity_id = options.get(CONF_GRID_EVENT_ENTITY)
        if not entity_id:
            return None
        state = self.hass.states.get(entity_id)
        if state is None or state.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            if not self._grid_entity_unusable:
                self._grid_entity_unusable = True
                _LOGGER.warning(
                    "Demand response: %s is %s; treated as no grid event until it reports again",
                    entity_id,
                    "missing" if state is None else state.state,
                )
            return None
        self._grid_entity_unusable = False
        if state.state not in ON_STATES:
            return None
        level = str(options.get(CONF_GRID_EVENT_LEVEL, DEFAULT_DEMAND_RESPONSE_LEVEL))
        return _grid_event(
            state.last_changed, None, level, f"grid event from {entity_id} ({level})"
        )

    def grid_event(self, now: datetime) -> GridEvent | None:
        """The deepest active event: the grid-event entity's or the action's."""
        deepest = self._deepest_grid_event(now)
        return None if deepest is None else deepest[1]

    def _deepest_grid_event(self, now: datetime) -> tuple[str, GridEvent] | None:
        """The deepest active event and its source: ``grid_event_entity`` or ``action``."""
        events = {"grid_event_entity": self.grid_event_from_entity()}
        if self.demand_response is not None:
            response = self.demand_response
            until = f", until {dt_util.as_local(response.end):%H:%M}" if response.end else ""
            events["action"] = _grid_event(
                response.start,
                response.end,
                response.level,
                f"demand response action ({response.level}{until})",
            )
        active = [
            (source, event)
            for source, event in events.items()
            if event is not None and event.start <= now < event.end
        ]
        return max(active, key=lambda item: item[1].depth or 0) if active else None

    async def async_start_demand_response(self, level: str, duration: timedelta | None) -> None:
        """Start (or replace) the action's event; it ends after ``duration`` if one is given."""
        now = dt_util.utcnow()
        self._cancel_response_end()
        end = now + duration if duration is not None else None
        self.demand_response = DemandResponse(now, end, level)
        if end is not None:
            self._unsub_response_end = async_track_point_in_utc_time(
                self.hass, self._async_demand_response_over, end
            )
        _LOGGER.info(
            "Demand response started by the action: level %s%s",
            level,
            f" for {duration}" if duration is not None else "",
        )
        await self.async_update()
        self.household.async_notify()

    async def async_stop_demand_response(self) -> None:
        """End the action's event (an event from the grid-event entity goes on while it is on)."""
        self._cancel_response_end()
        if self.demand_response is not None:
            self.demand_response = None
            _LOGGER.info("Demand response stopped by the action")
        await self.async_update()
        self.household.async_notify()

    async def _async_demand_response_over(self, now: datetime) -> None:
        self._unsub_response_end = None
        self.demand_response = None
        _LOGGER.info("Demand response: the action's duration is over")
        await self.async_update()
        self.household.async_notify()

    def _cancel_response_end(self) -> None:
        if self._unsub_response_end is not None:
            self._unsub_response_end()
            self._unsub_response_end = None

    # --- shedding -----------------------------------------------------------------------

    async def async_update(self) -> ShedReport | None:
        """Shed or restore once for the present home power and grid event; never raises."""
        if self._running:
            return None
        now = dt_util.utcnow()
        event = self.grid_event(now)
        household = self.household
        if not (household.power_shedding or event or self.shedder.active or self._away):
            return None  # nothing asks for shedding and nothing is shed
        self._running = True
        try:
            appliances = {
                energy.appliance_id: energy
                for energy in self.household.appliances()
                if energy.enabled
            }
            loads = [
                load
                for energy in appliances.values()
                if (load := energy.shedding.load_state()) is not None
            ]
            returned = self._track_away(appliances, {load.appliance_id for load in loads})
            if household.power_shedding:
                power = household.reading(household.options[CONF_HOME_POWER_ENTITY], power=True)
                report = self.shedder.update(now, power, loads, event)
            elif event is not None:
                report = self.shedder.update(now, None, loads, event)
            else:
                # No power limit and the event is over: everything back, last shed first.
                restored = tuple(reversed(self.shedder.active))
                self.shedder.active = []
                report = ShedReport(math.inf, None, (), restored, ())
            self.last_report = report
            for action in report.shed:
                await appliances[action.appliance_id].shedding.async_shed(action.step, action.cause)
            for action in report.restored:
                if (energy := self._appliance(action.appliance_id)) is not None:
                    await energy.shedding.async_restore(action.step)
            for action in returned:
                # Still held: write it again (a power-cycled unit may have reset it).
                if action in report.active:
                    await appliances[action.appliance_id].shedding.async_shed(
                        action.step, action.cause
                    )
            if report.shed or report.restored:
                self._report(report, event)
            async_keep_runtime(self.hass)
            return report
        finally:
            self._running = False

    def _track_away(self, appliances: Collection[str], present: set[str]) -> list[ShedAction]:
        """Park the shed actions of appliances gone away; hand back those of returned ones.

        ``appliances``: the ids of the switched-on appliances; ``present``: those connected.
        """
        for action in list(self.shedder.active):
            if action.appliance_id in appliances and action.appliance_id not in present:
                self.shedder.active.remove(action)
                self._away.setdefault(action.appliance_id, []).append(action)
        returned = [
            action
            for appliance_id in present & self._away.keys()
            for action in self._away.pop(appliance_id)
        ]
        self.shedder.active.extend(returned)
        return returned

    def forget_appliance(self, appliance_id: str) -> None:
        """Forget what is shed on one appliance (its switch is off; it writes its own back)."""
        self.shedder.active = [a for a in self.shedder.active if a.appliance_id != appliance_id]
        self._away.pop(appliance_id, None)

    def waits_for(self, appliance_id: str) -> bool:
        """Whether shed actions wait for this appliance to come back."""
        return appliance_id in self._away

    def _report(self, report: ShedReport, event: GridEvent | None) -> None:
        """One log line and one bus event listing what was shed and restored, and why."""

        def described(actions: tuple[ShedAction, ...]) -> list[dict[str, Any]]:
            return [
                {
                    "appliance_id": action.appliance_id,
                    "name": self._title(action.appliance_id),
                    "action": action.action,
                    "relief_w": round(action.relief_w),
                    "reason": action.reason,
                }
                for action in actions
            ]

        shed, restored = described(report.shed), described(report.restored)
        _LOGGER.info(
            "Load shedding: shed [%s], restored [%s]; %s",
            ", ".join(f"{item['action']} on {item['name']}" for item in shed),
            ", ".join(f"{item['action']} on {item['name']}" for item in restored),
            "; ".join(sorted({str(item["reason"]) for item in shed}))
            or "back under the limit or the event is over",
        )
        self.hass.bus.async_fire(
            EVENT_LOAD_SHED,
            {
                "trigger": "grid_event" if event is not None else "power_limit",
                "grid_event": event.reason if event is not None else None,
                "limit_w": round(report.limit_w) if math.isfinite(report.limit_w) else None,
                "power_w": None if report.power_w is None else round(report.power_w),
                "shed": shed,
                "restored": restored,
                "active": described(report.active),
            },
        )

    def _title(self, appliance_id: str) -> str:
        energy = self._appliance(appliance_id)
        return energy.coordinator.config_entry.title if energy is not None else appliance_id

    def _appliance(self, appliance_id: str) -> ApplianceView | None:
        return next(
            (
                energy
                for energy in self.household.appliances()
                if energy.appliance_id == appliance_id
            ),
            None,
        )

    async def async_stop(self, *, hand_back: bool) -> None:
        """Stop timing the event's end; with ``hand_back`` hand every shed load back."""
        self._cancel_response_end()
        if not hand_back:
            return
        away = [action for actions in self._away.values() for action in actions]
        self._away.clear()
        for action in reversed([*away, *self.shedder.active]):
            if (energy := self._appliance(action.appliance_id)) is not None:
                await energy.shedding.async_restore(action.step)
        self.shedder.active.clear()

    # --- in-progress state across reloads and restarts ---------------------------------

    def export_runtime(self) -> dict[str, Any]:
        """The event and everything shed, JSON-ready."""
        response = self.demand_response
        away = [action for actions in self._away.values() for action in actions]
        return {
            "demand_response": None
            if response is None
            else {
                "start": response.start.isoformat(),
                "end": None if response.end is None else response.end.isoformat(),
                "level": response.level,
            },
            "shed": [action_to_json(action) for action in [*self.shedder.active, *away]],
        }

    def restore_runtime(self, kept: Mapping[str, Any] | None) -> bool:
        """Take the kept event and shed actions; True if there was anything to take.

        The shed actions wait as if their appliances were away: each goes back to
        the shedder (and is held again) when its appliance is there, so nothing is
        resumed by the restore itself.
        """
        if not isinstance(kept, Mapping):
            return False
        raw = kept.get("demand_response")
        if isinstance(raw, Mapping) and raw.get("level") in DEMAND_RESPONSE_LEVELS:
            start = time_from_json(raw.get("start"))
            end = time_from_json(raw.get("end"))
            if start is not None and (end is not None or raw.get("end") is None):
                self.demand_response = DemandResponse(start, end, str(raw["level"]))
        for item in kept.get("shed") or ():
            if (action := action_from_json(item)) is not None:
                self._away.setdefault(action.appliance_id, []).append(action)
        return self.demand_response is not None or bool(self._away)

    async def async_resume_runtime(self) -> None:
        """After a restore: time the event's end (or end it now) and shed as it holds."""
        response = self.demand_response
        if response is not None and response.end is not None:
            if response.end <= dt_util.utcnow():
                self.demand_response = None
                _LOGGER.info("Demand response: the action's duration ended meanwhile")
            else:
                self._unsub_response_end = async_track_point_in_utc_time(
                    self.hass, self._async_demand_response_over, response.end
                )
        if self.demand_response is not None:
            _LOGGER.info(
                "Demand response goes on: level %s%s",
                self.demand_response.level,
                ""
                if self.demand_response.end is None
                else f" until {dt_util.as_local(self.demand_response.end):%H:%M}",
            )
        await self.async_update()
        self.household.async_notify()
