"""Energy features in Home Assistant: the household runtime and each appliance's controllers.

``EnergyManager`` is the runtime of the single "Household energy" config
entry: it owns the tariff (or the price feed), reads the household's sensors
with staleness checks and runs load shedding across every appliance whose
energy optimisation is on. ``ApplianceEnergy`` lives next to each appliance's
coordinator: the enable switch, the AC preset, the AC comfort loop, fridge
pre-cooling, planned washer/dishwasher runs and the savings estimate. Both
find each other through ``hass.data[DATA_ENERGY]``, so an appliance works as
before when no household entry exists (its energy entities then read
"not configured" and nothing acts).

Nothing here raises into the event loop: bad input becomes a status, a log
line and the appliance's own control (docs/energy.md, "In Home Assistant").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
import logging
import math
import re
import time
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import (
    CONF_COMMERCIAL_FLAT_PRICE,
    CONF_CUSTOM_TABLE,
    CONF_GRID_EVENT_ENTITY,
    CONF_GRID_EVENT_LEVEL,
    CONF_HOME_POWER_ENTITY,
    CONF_NEXT_ARRIVAL_ENTITY,
    CONF_OCCUPANCY_ENTITY,
    CONF_OUTDOOR_TEMPERATURE_ENTITY,
    CONF_POWER_CAP_KW,
    CONF_POWER_LIMIT_KW,
    CONF_PRICE_ENTITY,
    CONF_SOLAR_SURPLUS_ENTITY,
    CONF_TARIFF,
    DEFAULT_DEMAND_RESPONSE_LEVEL,
    DOMAIN,
    EVENT_LOAD_SHED,
    TARIFF_COMMERCIAL,
    TARIFF_CUSTOM,
    TARIFF_RESIDENTIAL,
    TARIFF_SENSOR,
)
from .coordinator import LiuzhouCoordinator
from .energy.ac import AcComfortController, AcInputs, ComfortPreset, compiled_for
from .energy.ac_policy import PreconditionPolicy
from .energy.fridge import FridgePrecoolController
from .energy.inputs import DecisionStatus, Issue, Reading, usable
from .energy.planner import (
    PlanningContext,
    PlanResult,
    RunPlan,
    RunPlanner,
    RunRequest,
    SurplusForecast,
)
from .energy.shedding import (
    DEMAND_RESPONSE_LEVELS,
    GRID_EVENT,
    POWER_LIMIT,
    GridEvent,
    LoadShedder,
    LoadState,
    ShedAction,
    ShedReport,
    ShedStep,
)
from .energy.tariff import (
    CHINA_TZ,
    PriceSample,
    PriceUnavailableError,
    SensorPriceTariff,
    Tariff,
    TariffError,
    custom_time_of_use,
    guangxi_commercial_tou,
    guangxi_residential,
    tariff_period,
)
from .link.errors import LinkError
from .link.model import ApplianceType, OperationalState, Programme, Value

_LOGGER = logging.getLogger(__package__)

CONTROL_INTERVAL: Final = timedelta(seconds=60)
# Units dislike frequent changes (and beep on each): at most one change per period,
# except handing control back, which is never delayed.
MIN_WRITE_PERIOD: Final = timedelta(minutes=5)
SHED_CHECK_INTERVAL: Final = timedelta(seconds=60)
# Planned runs: a persistence forecast of the present solar surplus for this long.
SURPLUS_PERSISTENCE: Final = timedelta(hours=1)
# AC savings estimate: below this outdoor-to-target gap the steady-state ratio is meaningless.
MIN_SAVINGS_GAP_K: Final = 1.0
MAX_SAVINGS_STEP: Final = timedelta(minutes=5)

# In-progress state (demand-response events, what is shed, planned runs) is kept in a
# Store so it survives reloading the household entry (saving its options) and restarts.
STORE_KEY: Final = f"{DOMAIN}.energy_runtime"
STORE_VERSION: Final = 1
STORE_SAVE_DELAY: Final = 10  # seconds; Home Assistant also writes it when it stops

_RUN_KINDS: Final = frozenset({ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER})
_ON_STATES: Final = frozenset({"on", "home", "true", "occupied", "detected"})
_OFF_STATES: Final = frozenset({"off", "not_home", "away", "false", "clear"})
_TABLE_ROW: Final = re.compile(r"^\s*(\S+)\s*-\s*(\S+)\s+(\S+)\s*$")


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


def _reason_codes(issues: Iterable[Issue]) -> tuple[str, ...]:
    """The controllers' issue codes as reasons (each once, in order)."""
    codes = (issue.code if issue.code in REASONS else UNEXPECTED_REASON for issue in issues)
    return tuple(dict.fromkeys(codes))


@dataclass
class EnergyData:
    """Shared between the household entry and every appliance entry."""

    manager: EnergyManager | None = None
    appliances: dict[str, ApplianceEnergy] = field(default_factory=dict)  # by entry id
    store: Store[dict[str, Any]] | None = None
    # The runtime state as last kept: {"household": ..., "appliances": {appliance id: ...}}.
    # Entries not loaded now keep theirs here until they are.
    kept: dict[str, Any] = field(default_factory=dict)


DATA_ENERGY: HassKey[EnergyData] = HassKey(f"{DOMAIN}_energy")


def energy_data(hass: HomeAssistant) -> EnergyData:
    """The shared energy data (created on first use)."""
    return hass.data.setdefault(DATA_ENERGY, EnergyData())


async def async_load_energy_data(hass: HomeAssistant) -> EnergyData:
    """The shared energy data with the runtime state kept by the last run (read once)."""
    data = energy_data(hass)
    if data.store is None:
        data.store = Store(hass, STORE_VERSION, STORE_KEY)
        loaded = await data.store.async_load()
        if isinstance(loaded, dict):
            data.kept = loaded
    return data


def _runtime_snapshot(data: EnergyData) -> dict[str, Any]:
    """The runtime state now: loaded entries' own, the others' as kept."""
    appliances = dict(data.kept.get("appliances") or {})
    for energy in data.appliances.values():
        appliances[energy.appliance_id] = energy.export_runtime()
    household = (
        data.manager.export_runtime() if data.manager is not None else data.kept.get("household")
    )
    return {"household": household, "appliances": appliances}


@callback
def async_keep_runtime(hass: HomeAssistant) -> None:
    """Keep the runtime state now and save it soon if it changed (never raises)."""
    data = energy_data(hass)
    try:
        snapshot = _runtime_snapshot(data)
    except Exception:  # the energy features must never take the hub down
        _LOGGER.exception("Energy: cannot keep the runtime state")
        return
    if snapshot == data.kept:
        return
    data.kept = snapshot
    if data.store is not None:
        data.store.async_delay_save(lambda: data.kept, STORE_SAVE_DELAY)


def _action_to_json(action: ShedAction) -> dict[str, Any]:
    return {
        "step": action.step.name.lower(),
        "appliance_id": action.appliance_id,
        "relief_w": action.relief_w,
        "reason": action.reason,
        "cause": action.cause,
    }


def _action_from_json(raw: Any) -> ShedAction | None:
    try:
        return ShedAction(
            ShedStep[str(raw["step"]).upper()],
            str(raw["appliance_id"]),
            float(raw["relief_w"]),
            str(raw["reason"]),
            str(raw["cause"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _time_from_json(raw: Any) -> datetime | None:
    return dt_util.parse_datetime(raw) if isinstance(raw, str) else None


def household_holds(data: EnergyData, appliance_id: str) -> bool:
    """Whether the kept household state holds shed actions on this appliance."""
    household = data.kept.get("household") or {}
    return any(
        isinstance(raw, dict) and raw.get("appliance_id") == appliance_id
        for raw in household.get("shed") or ()
    )


# --- household settings -----------------------------------------------------------


def parse_custom_table(text: str) -> list[dict[str, object]]:
    """Rows "HH:MM-HH:MM price", one a line; raise TariffError naming the bad line."""
    rows: list[dict[str, object]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _TABLE_ROW.match(line)
        if match is None:
            raise TariffError(f"line {number}: write it as HH:MM-HH:MM price, e.g. 22:00-06:00 0.3")
        try:
            price = float(match.group(3))
        except ValueError:
            raise TariffError(f"line {number}: {match.group(3)!r} is not a price") from None
        rows.append({"start": match.group(1), "end": match.group(2), "price": price})
    return rows


def build_tariff(
    options: Mapping[str, Any],
    read_price: Callable[[], PriceSample | None] | None = None,
    time_zone: tzinfo | None = None,
) -> Tariff:
    """The tariff the household settings describe; TariffError if they do not make one.

    A custom table's clock times are Home Assistant's time zone (``time_zone``,
    the configured one by default); the Guangxi presets follow China time.
    """
    kind = options.get(CONF_TARIFF, TARIFF_RESIDENTIAL)
    if kind == TARIFF_COMMERCIAL:
        return guangxi_commercial_tou(float(options.get(CONF_COMMERCIAL_FLAT_PRICE, 0.65)))
    if kind == TARIFF_CUSTOM:
        return custom_time_of_use(
            parse_custom_table(str(options.get(CONF_CUSTOM_TABLE, ""))),
            tz=time_zone or dt_util.get_default_time_zone(),
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


def _watts(state_value: float, unit: object) -> float:
    return state_value * 1000.0 if unit == "kW" else state_value


class _EntityListeners:
    """The entities that show a runtime object's state, told when it may have changed.

    Each change is also kept (and saved) as the runtime state to restore.
    """

    hass: HomeAssistant

    def __init__(self) -> None:
        self._listeners: list[CALLBACK_TYPE] = []

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``update`` at each ``async_notify``; returns the function that stops it."""
        self._listeners.append(update)
        return lambda: self._listeners.remove(update)

    @callback
    def async_notify(self) -> None:
        """Tell the entities to show the present state."""
        for update in list(self._listeners):
            update()
        async_keep_runtime(self.hass)


class EnergyManager(_EntityListeners):
    """The household's tariff, sensors and load shedding (the household entry's runtime)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Build the tariff from the options; TariffError if they are inconsistent."""
        self.hass = hass
        self.entry = entry
        self.options: Mapping[str, Any] = dict(entry.options)
        self.tariff = build_tariff(self.options, self._read_price)
        limit_kw = self.options.get(CONF_POWER_LIMIT_KW)
        cap_kw = self.options.get(CONF_POWER_CAP_KW)
        self.power_cap_w: float | None = float(cap_kw) * 1000.0 if cap_kw else None
        self.power_shedding = bool(limit_kw and self.options.get(CONF_HOME_POWER_ENTITY))
        # Always there: a demand-response event may come without any power limit.
        self.shedder = LoadShedder(
            float(limit_kw) * 1000.0 if limit_kw and self.power_shedding else math.inf
        )
        self.last_report: ShedReport | None = None
        self.demand_response: DemandResponse | None = None  # started by the action
        self._unsubs: list[CALLBACK_TYPE] = []
        self._unsub_response_end: CALLBACK_TYPE | None = None
        self._grid_entity_unusable = False
        self._arrival_problem: str | None = None
        self._shedding = False
        super().__init__()
        # What is shed on appliances that went off the network (the shedder only sees
        # connected ones): held again or restored through the shedder when they return.
        self._away: dict[str, list[ShedAction]] = {}

    # --- sensors ------------------------------------------------------------------------

    def reading(self, entity_id: str | None, *, power: bool = False) -> Reading | None:
        """A sensor's value and when it last reported; NaN if it is not a number."""
        if not entity_id:
            return None
        state = self.hass.states.get(entity_id)
        if state is None or state.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            return None
        try:
            value = float(state.state)
        except ValueError:
            value = math.nan
        if power:
            value = _watts(value, state.attributes.get("unit_of_measurement"))
        return Reading(value, state.last_reported)

    def _read_price(self) -> PriceSample | None:
        reading = self.reading(self.options.get(CONF_PRICE_ENTITY))
        return None if reading is None else PriceSample(reading.value, reading.at)

    def outdoor_temperature(self) -> Reading | None:
        """The household's outdoor temperature sensor, if one is set."""
        return self.reading(self.options.get(CONF_OUTDOOR_TEMPERATURE_ENTITY))

    @property
    def has_outdoor_sensor(self) -> bool:
        """Whether an outdoor temperature sensor is configured (then it must be fresh)."""
        return bool(self.options.get(CONF_OUTDOOR_TEMPERATURE_ENTITY))

    def occupancy(self) -> float | None:
        """1 occupied, 0 empty, None unknown or not configured."""
        entity_id = self.options.get(CONF_OCCUPANCY_ENTITY)
        state = self.hass.states.get(entity_id) if entity_id else None
        if state is None:
            return None
        if state.state in _ON_STATES:
            return 1.0
        if state.state in _OFF_STATES:
            return 0.0
        return None

    def next_arrival(self, now: datetime) -> tuple[datetime | None, str | None]:
        """The upcoming arrival from the next-arrival entity, or None and why it is unusable.

        Unavailable, unparseable or past values count as no arrival (logged once, with
        the details); the reason is one of REASONS' ``next_arrival_*`` codes.
        """
        entity_id = self.options.get(CONF_NEXT_ARRIVAL_ENTITY)
        if not entity_id:
            return None, None
        state = self.hass.states.get(entity_id)
        arrival: datetime | None = None
        problem: str | None
        code = "next_arrival_unavailable"
        if state is None or state.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            problem = "missing" if state is None else state.state
        elif (arrival := dt_util.parse_datetime(state.state)) is None:
            problem, code = f"{state.state!r}, not a date and time", "next_arrival_invalid"
        else:
            if arrival.tzinfo is None:  # input_datetime: local time
                arrival = arrival.replace(tzinfo=dt_util.get_default_time_zone())
            problem = f"in the past ({state.state})" if arrival < now else None
            code = "next_arrival_past"
        if problem is None:
            self._arrival_problem = None
            return arrival, None
        if problem != self._arrival_problem:
            self._arrival_problem = problem
            _LOGGER.warning(
                "Energy: next arrival from %s is %s: no arrival assumed", entity_id, problem
            )
        return None, code

    def price_now(self, now: datetime) -> float | None:
        """The price now, or None if the price feed is unavailable."""
        try:
            return self.tariff.price_at(now)
        except PriceUnavailableError:
            return None

    def planning_context(self, now: datetime, own_power_w: float) -> PlanningContext:
        """Tariff, cap, present base load and a persistence surplus forecast."""
        base_load = 0.0
        home, _ = usable(
            self.reading(self.options.get(CONF_HOME_POWER_ENTITY), power=True),
            now,
            timedelta(minutes=2),
            "home_power",
        )
        if home is not None:
            base_load = max(0.0, home - own_power_w)
        surplus: SurplusForecast | None = None
        value, _ = usable(
            self.reading(self.options.get(CONF_SOLAR_SURPLUS_ENTITY), power=True),
            now,
            timedelta(minutes=15),
            "solar_surplus",
        )
        if value is not None:
            surplus = SurplusForecast(
                now, int(SURPLUS_PERSISTENCE.total_seconds()), (max(0.0, value),)
            )
        return PlanningContext(
            now=now,
            tariff=self.tariff,
            power_cap_w=self.power_cap_w,
            base_load_w=base_load,
            surplus=surplus,
        )

    # --- load shedding and demand response -----------------------------------------------

    async def async_start(self) -> None:
        """Watch the whole-home power sensor, the grid-event entity and the price feed."""
        # A custom table follows Home Assistant's time zone, also when it is changed.
        self._unsubs.append(
            self.hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, self._async_core_config_updated)
        )
        if self.options.get(CONF_TARIFF) == TARIFF_SENSOR:
            self._unsubs.append(
                async_track_state_change_event(
                    self.hass, [self.options[CONF_PRICE_ENTITY]], self._async_price_changed
                )
            )
        watched = [
            self.options[key]
            for key in (CONF_HOME_POWER_ENTITY, CONF_GRID_EVENT_ENTITY)
            if self.options.get(key) and (key != CONF_HOME_POWER_ENTITY or self.power_shedding)
        ]
        if watched:
            self._unsubs.append(
                async_track_state_change_event(self.hass, watched, self._async_input_changed)
            )
        # Also on a timer: a sensor that stops reporting must restore the loads.
        self._unsubs.append(
            async_track_time_interval(self.hass, self._async_shed_timer, SHED_CHECK_INTERVAL)
        )
        if self.options.get(CONF_GRID_EVENT_ENTITY):
            await self.async_update_shedding()

    async def _async_input_changed(self, event: Event[EventStateChangedData]) -> None:
        await self.async_update_shedding()
        self.async_notify()

    async def _async_shed_timer(self, now: datetime) -> None:
        await self.async_update_shedding()
        self.async_notify()

    @callback
    def _async_price_changed(self, event: Event[EventStateChangedData]) -> None:
        self.async_notify()

    @callback
    def _async_core_config_updated(self, event: Event[Any]) -> None:
        if self.options.get(CONF_TARIFF) != TARIFF_CUSTOM:
            return
        self.tariff = build_tariff(self.options, self._read_price)
        self.async_notify()

    # --- what the household's entities show ---------------------------------------------

    def tariff_period(self, now: datetime) -> str | None:
        """valley / flat / peak / critical_peak now; None for a price feed (no periods)."""
        return tariff_period(self.tariff, now)

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
        entity_id = self.options.get(CONF_GRID_EVENT_ENTITY)
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
        if state.state not in _ON_STATES:
            return None
        level = str(self.options.get(CONF_GRID_EVENT_LEVEL, DEFAULT_DEMAND_RESPONSE_LEVEL))
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
        await self.async_update_shedding()
        self.async_notify()

    async def async_stop_demand_response(self) -> None:
        """End the action's event (an event from the grid-event entity goes on while it is on)."""
        self._cancel_response_end()
        if self.demand_response is not None:
            self.demand_response = None
            _LOGGER.info("Demand response stopped by the action")
        await self.async_update_shedding()
        self.async_notify()

    async def _async_demand_response_over(self, now: datetime) -> None:
        self._unsub_response_end = None
        self.demand_response = None
        _LOGGER.info("Demand response: the action's duration is over")
        await self.async_update_shedding()
        self.async_notify()

    def _cancel_response_end(self) -> None:
        if self._unsub_response_end is not None:
            self._unsub_response_end()
            self._unsub_response_end = None

    async def async_update_shedding(self) -> ShedReport | None:
        """Shed or restore once for the present home power and grid event; never raises."""
        if self._shedding:
            return None
        now = dt_util.utcnow()
        event = self.grid_event(now)
        if not (self.power_shedding or event or self.shedder.active or self._away):
            return None  # nothing asks for shedding and nothing is shed
        self._shedding = True
        try:
            appliances = {
                energy.appliance_id: energy
                for energy in energy_data(self.hass).appliances.values()
                if energy.enabled
            }
            loads = [
                load for energy in appliances.values() if (load := energy.load_state()) is not None
            ]
            returned = self._track_away(appliances, {load.appliance_id for load in loads})
            if self.power_shedding:
                power = self.reading(self.options[CONF_HOME_POWER_ENTITY], power=True)
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
                await appliances[action.appliance_id].async_shed(action.step, action.cause)
            for action in report.restored:
                if (energy := self._appliance(action.appliance_id)) is not None:
                    await energy.async_restore(action.step)
            for action in returned:
                # Still held: write it again (a power-cycled unit may have reset it).
                if action in report.active:
                    await appliances[action.appliance_id].async_shed(action.step, action.cause)
            if report.shed or report.restored:
                self._report(report, event)
            async_keep_runtime(self.hass)
            return report
        finally:
            self._shedding = False

    def _track_away(
        self, appliances: Mapping[str, ApplianceEnergy], present: set[str]
    ) -> list[ShedAction]:
        """Park the shed actions of appliances gone away; hand back those of returned ones."""
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

    def release(self, appliance_id: str) -> None:
        """Forget what is shed on one appliance (its switch is off; it writes its own back)."""
        self.shedder.active = [a for a in self.shedder.active if a.appliance_id != appliance_id]
        self._away.pop(appliance_id, None)

    def awaits(self, appliance_id: str) -> bool:
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

    def _appliance(self, appliance_id: str) -> ApplianceEnergy | None:
        return next(
            (
                energy
                for energy in energy_data(self.hass).appliances.values()
                if energy.appliance_id == appliance_id
            ),
            None,
        )

    async def async_stop(self, *, hand_back: bool) -> None:
        """Stop watching; with ``hand_back`` hand every shed load back.

        Without it (the entry reloads because its options were saved) what is
        shed stays as it is. The event is kept either way: the next set-up
        restores it (and sheds for it again) while it lasts.
        """
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []
        self._cancel_response_end()
        if not hand_back:
            return
        away = [action for actions in self._away.values() for action in actions]
        self._away.clear()
        for action in reversed([*away, *self.shedder.active]):
            if (energy := self._appliance(action.appliance_id)) is not None:
                await energy.async_restore(action.step)
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
            "shed": [_action_to_json(action) for action in [*self.shedder.active, *away]],
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
            start = _time_from_json(raw.get("start"))
            end = _time_from_json(raw.get("end"))
            if start is not None and (end is not None or raw.get("end") is None):
                self.demand_response = DemandResponse(start, end, str(raw["level"]))
        for item in kept.get("shed") or ():
            if (action := _action_from_json(item)) is not None:
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
        await self.async_update_shedding()
        self.async_notify()


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


# --- one appliance ----------------------------------------------------------------


@dataclass
class PlannedRun:
    """A run planned through the plan_run action."""

    programme: str
    start: datetime
    delay_s: int
    cost: float  # CNY at the planned time
    cost_at_once: float  # CNY if started at the earliest allowed moment
    started: bool = False

    @property
    def savings(self) -> float:
        """Cost at once minus cost as planned (negative if the plan costs more)."""
        return self.cost_at_once - self.cost

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, for the kept runtime state."""
        return {
            "programme": self.programme,
            "start": self.start.isoformat(),
            "delay_s": self.delay_s,
            "cost": self.cost,
            "cost_at_once": self.cost_at_once,
            "started": self.started,
        }

    @classmethod
    def from_json(cls, raw: Any) -> PlannedRun | None:
        """The kept plan, or None if it is not one."""
        try:
            start = _time_from_json(raw["start"])
            if start is None:
                return None
            return cls(
                str(raw["programme"]),
                start,
                int(raw["delay_s"]),
                float(raw["cost"]),
                float(raw["cost_at_once"]),
                bool(raw["started"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


class ApplianceEnergy(_EntityListeners):
    """The energy features of one appliance; created with its coordinator."""

    def __init__(self, hass: HomeAssistant, coordinator: LiuzhouCoordinator) -> None:
        """Nothing acts until the switch is turned on (restored by the switch entity)."""
        self.hass = hass
        self.coordinator = coordinator
        self.appliance_id = coordinator.appliance_id
        self.kind = ApplianceType(coordinator.declaration.type)
        self.enabled = False
        self.preset = ComfortPreset.BALANCED
        self.savings = 0.0
        self.plan: PlannedRun | None = None
        self._reasons: tuple[str, ...] = ()
        self._shed_cause = POWER_LIMIT
        self.last_decision_ms: float | None = None
        self._status = EnergyStatus.OFF
        super().__init__()
        self._unsubs: list[CALLBACK_TYPE] = []
        self._ac: AcComfortController | None = None
        self._policy = PreconditionPolicy.for_preset(self.preset)
        self._fridge = FridgePrecoolController()
        self._preparing = False
        # What the user had set before we changed anything (restored when handing back).
        self.user_settings: dict[str, Value] = {}
        self._written: dict[str, Value] = {}
        self._last_write: datetime | None = None
        self._last_tick: datetime | None = None
        self._shed_steps: set[ShedStep] = set()
        self._pre_shed: dict[str, Value] = {}
        # Released from shedding while off the network: written when it is back.
        self._pending_release: dict[str, Value] = {}
        self._pending_resume = False
        # The user's settings came from the kept runtime state: enabling keeps them.
        self._settings_restored = False

    # --- state shown by the entities ------------------------------------------------------

    @property
    def manager(self) -> EnergyManager | None:
        """The household runtime, if a household energy entry is loaded."""
        return energy_data(self.hass).manager

    @property
    def status(self) -> EnergyStatus:
        """The present status (not configured wins over everything)."""
        if self.manager is None:
            return EnergyStatus.NOT_CONFIGURED
        if not self.enabled:
            return EnergyStatus.OFF
        if self._shed_steps:
            return EnergyStatus.SHED
        if self.kind in _RUN_KINDS:
            return EnergyStatus.ACTIVE if self._run_planned() else EnergyStatus.NOTHING_PLANNED
        return self._status

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the status is what it is: codes from REASONS (none when off or not set up)."""
        status = self.status
        if status in (EnergyStatus.NOT_CONFIGURED, EnergyStatus.OFF):
            return ()
        if status is EnergyStatus.SHED:
            return (f"shed_{max(self._shed_steps).name.lower()}", self._shed_cause)
        if status is EnergyStatus.NOTHING_PLANNED:
            return ()
        return self._reasons

    def _run_planned(self) -> bool:
        """A planned run is waiting or under way (not once it has finished)."""
        if self.plan is None:
            return False
        finished = (self.coordinator.data or {}).get("operational_state") == (
            OperationalState.FINISHED
        )
        return not (self.plan.started and finished)

    def _set_status(
        self, status: EnergyStatus, reasons: tuple[str, ...] = (), detail: str | None = None
    ) -> None:
        """Change status and reasons; falling back is logged with ``detail``."""
        if (status, reasons) != (self._status, self._reasons):
            if status is EnergyStatus.FALLBACK:
                _LOGGER.warning(
                    "%s: %s; leaving it to its own control",
                    self.coordinator.config_entry.title,
                    detail or ", ".join(reasons),
                )
            self._status, self._reasons = status, reasons
            self.async_notify()

    # --- lifecycle ------------------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Run the control loop every minute and follow the appliance's state."""
        if self.kind in (ApplianceType.ROOM_AIR_CONDITIONER, ApplianceType.REFRIGERATOR):
            self._unsubs.append(
                async_track_time_interval(self.hass, self._async_timer, CONTROL_INTERVAL)
            )
        self._unsubs.append(self.coordinator.async_add_listener(self._async_state_changed))

    @callback
    def async_stop(self) -> None:
        """Stop the loop (the appliance keeps what it has; the entry is going away)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []

    async def async_set_enabled(self, enabled: bool) -> None:
        """The switch: on starts the controllers, off hands the appliance back."""
        if enabled == self.enabled:
            return
        self.enabled = enabled
        if enabled:
            if not self._settings_restored:
                self._remember_user_settings()
            self._settings_restored = False
            self._status, self._reasons = EnergyStatus.IDLE, ()
            self.async_notify()
            await self.async_tick()
            if (manager := self.manager) is not None:
                await manager.async_update_shedding()  # shedding considers it afresh
        else:
            await self.async_release_shedding()
            await self._async_hand_back()
            self._status, self._reasons = EnergyStatus.OFF, ()
            self.async_notify()

    async def async_release_shedding(self) -> None:
        """Switched off while shed: out of the shedder, and the user's settings back."""
        if (manager := self.manager) is not None:
            manager.release(self.appliance_id)
        steps, self._shed_steps = self._shed_steps, set()
        if not steps:
            return
        values, resume = self._release_of(steps)
        if not self.coordinator.connected:
            self._pending_release.update(values)
            self._pending_resume = self._pending_resume or resume
            return
        await self._async_write_release(values, resume=resume)

    def _release_of(self, steps: set[ShedStep]) -> tuple[dict[str, Value], bool]:
        """What undoes ``steps``: the values to write back, and whether to resume a run."""
        before = self._pre_shed
        values: dict[str, Value] = {}
        if ShedStep.AC_VACANT_OFF in steps:
            values["on"] = before.get("on", True)
        if ShedStep.AC_FAN_ONLY in steps:
            values["mode"] = before.get("mode", "cool")
        if steps & {ShedStep.AC_RELAX_1K, ShedStep.AC_RELAX_2K}:
            target = self.user_settings.get("target_temperature", before.get("target_temperature"))
            if isinstance(target, int | float):
                values["target_temperature"] = target
        return values, bool(steps & {ShedStep.DEFER_RUN, ShedStep.PAUSE_RUN})

    # --- in-progress state across reloads and restarts ---------------------------------

    def export_runtime(self) -> dict[str, Any]:
        """What is shed and planned here, and the user's own settings, JSON-ready."""
        return {
            "shed_steps": sorted(step.name.lower() for step in self._shed_steps),
            "shed_cause": self._shed_cause,
            "pre_shed": dict(self._pre_shed),
            "user_settings": dict(self.user_settings),
            "written": dict(self._written),
            "pending_release": dict(self._pending_release),
            "pending_resume": self._pending_resume,
            "plan": None if self.plan is None else self.plan.to_json(),
        }

    def restore_runtime(self, kept: Mapping[str, Any] | None, *, held: bool) -> None:
        """Take the kept state of this appliance (before its entities are added).

        ``held``: the kept household state still holds shed actions on it. If it
        does not (the household entry was removed meanwhile), the shed steps are
        handed back instead, as soon as the appliance is connected.
        """
        if not isinstance(kept, Mapping):
            return
        self.plan = PlannedRun.from_json(kept.get("plan")) if kept.get("plan") else None

        def values(key: str) -> dict[str, Value]:
            raw = kept.get(key)
            return dict(raw) if isinstance(raw, Mapping) else {}

        self._pre_shed = values("pre_shed")
        self.user_settings = values("user_settings")
        self._written = values("written")
        self._settings_restored = bool(self._written)
        self._pending_release = values("pending_release")
        self._pending_resume = kept.get("pending_resume") is True
        steps = {
            ShedStep[name.upper()]
            for name in kept.get("shed_steps") or ()
            if isinstance(name, str) and name.upper() in ShedStep.__members__
        }
        if held:
            self._shed_steps = steps
            cause = kept.get("shed_cause")
            self._shed_cause = cause if cause in (POWER_LIMIT, GRID_EVENT) else POWER_LIMIT
        elif steps:
            release, resume = self._release_of(steps)
            self._pending_release.update(release)
            self._pending_resume = self._pending_resume or resume

    async def _async_write_release(self, values: Mapping[str, Value], *, resume: bool) -> None:
        try:
            if values:
                await self.coordinator.async_write(values)
            if resume:
                await self.coordinator.async_command("resume")
        except HomeAssistantError as err:
            _LOGGER.warning(
                "%s: could not hand back from load shedding: %s",
                self.coordinator.config_entry.title,
                err,
            )

    async def _async_write_pending_release(self) -> None:
        values, self._pending_release = self._pending_release, {}
        resume, self._pending_resume = self._pending_resume, False
        await self._async_write_release(values, resume=resume)

    async def async_set_preset(self, preset: ComfortPreset) -> None:
        """The preset select: a new controller (compiled once per preset, in the executor)."""
        self.preset = ComfortPreset(preset)
        self._ac = None
        self.async_notify()
        if self.enabled:
            await self.async_tick()

    def _remember_user_settings(self) -> None:
        data = self.coordinator.data or {}
        keys = {
            ApplianceType.ROOM_AIR_CONDITIONER: ("target_temperature", "fan_speed"),
            ApplianceType.REFRIGERATOR: (
                "fridge_target_temperature",
                "freezer_target_temperature",
            ),
        }.get(self.kind, ())
        self.user_settings = {key: data[key] for key in keys if data.get(key) is not None}
        self._written = {}

    async def _async_hand_back(self) -> None:
        """Write back what the user had wherever we changed it."""
        data = self.coordinator.data or {}
        restore = {
            key: value
            for key, value in self.user_settings.items()
            if key in self._written and data.get(key) != value
        }
        self._written = {}
        if restore:
            await self._async_write(restore, force=True)

    async def _async_write(self, values: Mapping[str, Value], *, force: bool = False) -> bool:
        """Write with the minimum period between changes; False if skipped or rejected."""
        now = dt_util.utcnow()
        if not force and self._last_write is not None and now - self._last_write < MIN_WRITE_PERIOD:
            return False
        try:
            await self.coordinator.async_write(values)
        except HomeAssistantError as err:
            _LOGGER.warning(
                "%s: could not write %s: %s", self.coordinator.config_entry.title, values, err
            )
            return False
        self._last_write = now
        self._written.update(values)
        return True

    # --- the control loop -----------------------------------------------------------------

    async def _async_timer(self, now: datetime) -> None:
        await self.async_tick()

    async def async_tick(self) -> None:
        """One decision; never raises (washers and dishwashers have none: see ``status``)."""
        try:
            if self.kind is ApplianceType.ROOM_AIR_CONDITIONER:
                await self._async_ac_tick()
            elif self.kind is ApplianceType.REFRIGERATOR:
                await self._async_fridge_tick()
        except Exception:  # a controller must never take the hub down
            _LOGGER.exception("%s: energy control failed", self.coordinator.config_entry.title)

    def _ready(self) -> EnergyManager | None:
        """The manager if the loop may act now."""
        manager = self.manager
        if manager is None or not self.enabled or self._shed_steps:
            return None
        if not self.coordinator.connected or not self.coordinator.data:
            return None
        return manager

    async def _async_prepare_ac(self) -> None:
        """Compile the preset's surface in the executor (seconds; never in the event loop)."""
        preset = self.preset
        try:
            await self.hass.async_add_executor_job(compiled_for, preset)
            if self._ac is None and preset is self.preset:
                self._ac = AcComfortController(preset=preset)
                # The lead is the preset's too (it matters once arrival times are known).
                self._policy = PreconditionPolicy.for_preset(preset)
        finally:
            self._preparing = False
        await self.async_tick()

    async def _async_ac_tick(self) -> None:
        manager = self._ready()
        if manager is None:
            return
        data = self.coordinator.data
        mode = data.get("mode")
        if not data.get("on") or mode not in ("cool", "heat"):
            self._last_tick = None
            self._set_status(EnergyStatus.IDLE, ("ac_not_conditioning",))
            return
        if self._ac is None:
            self._set_status(EnergyStatus.STARTING)
            if not self._preparing:
                self._preparing = True
                self.coordinator.config_entry.async_create_task(
                    self.hass, self._async_prepare_ac(), f"{DOMAIN} compile {self.preset}"
                )
            return
        self._follow_user_changes(data)
        setpoint = self.user_settings.get("target_temperature", data.get("target_temperature"))
        now = dt_util.utcnow()
        outdoor = manager.outdoor_temperature()
        if not manager.has_outdoor_sensor:
            outdoor = _reading(data.get("outdoor_temperature"), now)
        humidity = data.get("humidity")
        occupancy = manager.occupancy()
        arrival, arrival_problem = manager.next_arrival(now)
        on = self._policy.should_run(now, occupancy != 0.0, arrival)
        self._ac.tariff = manager.tariff
        started = time.perf_counter()
        decision = self._ac.decide(
            AcInputs(
                now=now,
                mode=mode,  # type: ignore[arg-type]
                setpoint=float(setpoint),  # type: ignore[arg-type]
                room_temperature=_reading(data.get("temperature"), now),
                outdoor_temperature=outdoor,
                humidity=_reading(humidity, now),
                occupancy=None if occupancy is None else (1.0 if on else 0.0),
            )
        )
        self.last_decision_ms = (time.perf_counter() - started) * 1000.0
        # In Home Assistant a configured outdoor sensor or price feed that fails is a
        # reason to stop acting, not to guess (the issue's "fall back" rule).
        blocking = [
            issue
            for issue in decision.issues
            if issue.code == "price_unavailable"
            or (manager.has_outdoor_sensor and issue.code.startswith("outdoor_temperature"))
        ]
        if decision.status is DecisionStatus.FALLBACK or blocking:
            causes = blocking or list(decision.issues)
            self._last_tick = None
            self._set_status(
                EnergyStatus.FALLBACK,
                _reason_codes(causes),
                "; ".join(issue.message for issue in causes),
            )
            await self._async_hand_back()
            return
        self._accrue_ac_savings(manager, now, data, outdoor, float(setpoint))  # type: ignore[arg-type]
        wanted: dict[str, Value] = {
            "target_temperature": decision.target_temperature,
            "fan_speed": decision.fan_speed,
        }
        changes = {key: value for key, value in wanted.items() if data.get(key) != value}
        if changes:
            await self._async_write(changes)
        # An input nobody set up (no occupancy entity; a unit that does not measure
        # humidity or outdoor temperature, and no household sensor for it) is a normal
        # set-up with a documented default, not a degradation: only inputs that are
        # configured or declared but missing or stale degrade the decision.
        unconfigured = self._unconfigured_inputs(manager)
        degraded = list(
            _reason_codes(
                issue
                for issue in decision.issues
                if issue.code != "input_clipped" and issue.code not in unconfigured
            )
        )
        if arrival_problem is not None:
            degraded.append(arrival_problem)
        defaults = [
            unconfigured[issue.code] for issue in decision.issues if issue.code in unconfigured
        ]
        if degraded:
            status = EnergyStatus.DEGRADED
        elif "occupancy_missing" in unconfigured:
            status = EnergyStatus.ACTIVE_NO_OCCUPANCY
        else:
            status = EnergyStatus.ACTIVE
        self._set_status(status, (*degraded, *defaults))

    def _unconfigured_inputs(self, manager: EnergyManager) -> dict[str, str]:
        """Issue codes of the AC controller's inputs nobody set up, and the reason shown.

        No occupancy entity: the room counts as occupied. No humidity on the AC:
        DEFAULT_HUMIDITY_PCT. No outdoor temperature (household or AC):
        DEFAULT_OUTDOOR_LOAD_K (the translated reasons name both numbers).
        """
        capabilities = self.coordinator.declaration.capabilities
        out: dict[str, str] = {}
        if not manager.options.get(CONF_OCCUPANCY_ENTITY):
            out["occupancy_missing"] = "no_occupancy_entity"
        if "humidity" not in capabilities:
            out["humidity_missing"] = "no_humidity_sensor"
        if not manager.has_outdoor_sensor and "outdoor_temperature" not in capabilities:
            out["outdoor_temperature_missing"] = "no_outdoor_sensor"
        return out

    def _follow_user_changes(self, data: Mapping[str, Value]) -> None:
        """A value we did not write is the user's new choice: control around that."""
        for key in ("target_temperature", "fan_speed"):
            value = data.get(key)
            if value is not None and key in self._written and value != self._written[key]:
                self.user_settings[key] = value
                del self._written[key]
            elif value is not None and key not in self._written:
                self.user_settings[key] = value

    def _accrue_ac_savings(
        self,
        manager: EnergyManager,
        now: datetime,
        data: Mapping[str, Value],
        outdoor: Reading | None,
        setpoint: float,
    ) -> None:
        """Steady-state estimate: power scales with the outdoor-to-target gap (docs)."""
        last, self._last_tick = self._last_tick, now
        if last is None:
            return
        step = min(now - last, MAX_SAVINGS_STEP).total_seconds()
        outside, _ = usable(outdoor, now, timedelta(hours=2), "outdoor_temperature")
        power, target = data.get("power"), data.get("target_temperature")
        price = manager.price_now(now)
        if outside is None or price is None:
            return
        if not isinstance(power, int | float) or not isinstance(target, int | float) or power <= 0:
            return
        direction = 1.0 if data.get("mode") == "cool" else -1.0
        gap_setpoint = direction * (outside - setpoint)
        gap_target = direction * (outside - float(target))
        if gap_target < MIN_SAVINGS_GAP_K or gap_setpoint <= 0:
            return
        baseline_w = float(power) * gap_setpoint / gap_target
        delta = (baseline_w - float(power)) * step / 3.6e6 * price
        if delta:
            self.savings += delta
            self.async_notify()

    async def _async_fridge_tick(self) -> None:
        manager = self._ready()
        if manager is None:
            return
        data = self.coordinator.data
        now = dt_util.utcnow()
        has_freezer = "freezer_target_temperature" in self.coordinator.declaration.capabilities
        self._fridge.tariff = manager.tariff
        decision = self._fridge.decide(
            now,
            _reading(data.get("fridge_temperature"), now),
            _reading(data.get("freezer_temperature"), now),
            has_freezer=has_freezer,
        )
        wanted: dict[str, Value] = {"fridge_target_temperature": decision.fridge_target}
        if decision.freezer_target is not None:
            wanted["freezer_target_temperature"] = decision.freezer_target
        changes = {key: value for key, value in wanted.items() if data.get(key) != value}
        colder = all(
            isinstance(data.get(key), int | float) and float(value) < float(data[key])  # type: ignore[arg-type]
            for key, value in changes.items()
        )
        if changes:
            # Colder is always food-safe and may be a recovery: not held by the period.
            await self._async_write(changes, force=colder)
        self._set_status(
            EnergyStatus.DEGRADED
            if decision.status is DecisionStatus.DEGRADED
            else EnergyStatus.ACTIVE,
            _reason_codes(decision.issues),
        )

    # --- washer / dishwasher runs -----------------------------------------------------------

    @callback
    def _async_state_changed(self) -> None:
        """Credit a planned run's savings when it starts; forget it when it is stopped."""
        manager = self.manager
        if self.coordinator.connected and (self._pending_release or self._pending_resume):
            self.coordinator.config_entry.async_create_task(
                self.hass, self._async_write_pending_release(), f"{DOMAIN} hand back"
            )
            self._pending_release, self._pending_resume = {}, False
        if self.coordinator.connected and manager is not None and manager.awaits(self.appliance_id):
            # Back on the network while shed: hold it again or restore it now.
            self.coordinator.config_entry.async_create_task(
                self.hass, manager.async_update_shedding(), f"{DOMAIN} shed {self.appliance_id}"
            )
        if self.plan is None or not self.coordinator.data:
            return
        data = self.coordinator.data
        state = data.get("operational_state")
        delay = data.get("delay_remaining") or 0
        if state == OperationalState.RUNNING and not delay and not self.plan.started:
            self.plan.started = True
            self.savings += self.plan.savings
            self.async_notify()
        elif state in (OperationalState.STOPPED, OperationalState.FINISHED) and not (
            self.plan.started and state == OperationalState.FINISHED
        ):
            if not self.plan.started:
                _LOGGER.info("%s: planned run cancelled", self.coordinator.config_entry.title)
            self.plan = None
            self.async_notify()

    def programme(self, programme_id: str | None) -> Programme:
        """The declared programme (the selected one by default); LinkError if unknown."""
        wanted = programme_id or str(self.coordinator.data.get("programme"))
        return self.coordinator.declaration.programme(wanted)

    def plan_run(
        self,
        programme: Programme,
        earliest_start: datetime,
        finish_by: datetime,
        *,
        only_cheap: bool,
        only_surplus: bool,
    ) -> tuple[PlanResult, RunPlan | None]:
        """The plan and the run as it would be if started at once (for the savings)."""
        manager = self.manager
        assert manager is not None
        now = dt_util.utcnow()
        power = self.coordinator.data.get("power")
        context = manager.planning_context(
            now, float(power) if isinstance(power, int | float) else 0.0
        )
        max_delay = self.coordinator.declaration.max_delay_s
        request = RunRequest(
            self.appliance_id,
            programme,
            earliest_start,
            finish_by,
            only_cheap=only_cheap,
            only_surplus=only_surplus,
            max_delay_s=max_delay,
        )
        result = RunPlanner(context).plan([request])
        earliest = max(now, earliest_start)
        at_once = RunPlanner(context).plan(
            [
                RunRequest(
                    self.appliance_id,
                    programme,
                    earliest,
                    earliest + timedelta(seconds=programme.duration_s + context.step_s),
                    max_delay_s=max_delay,
                )
            ]
        )
        return result, at_once.plan_for(self.appliance_id) if at_once.feasible else None

    def record_plan(self, programme: str, plan: RunPlan, at_once: RunPlan | None) -> None:
        """Remember the executed plan for the sensors."""
        cost = plan.cost if math.isfinite(plan.cost) else 0.0
        cost_at_once = at_once.cost if at_once is not None else cost
        self.plan = PlannedRun(programme, china_aware(plan.start), plan.delay_s, cost, cost_at_once)
        self._set_status(EnergyStatus.ACTIVE)
        self.async_notify()

    def forget_plan(self) -> None:
        """The run was cancelled."""
        self.plan = None
        self.async_notify()

    # --- load shedding ----------------------------------------------------------------------

    def load_state(self) -> LoadState | None:
        """How the shedder sees this appliance (fridges are never shed: None)."""
        data = self.coordinator.data or {}
        if not self.coordinator.connected:
            return None
        power = data.get("power")
        watts = float(power) if isinstance(power, int | float) else 0.0
        if self.kind is ApplianceType.ROOM_AIR_CONDITIONER:
            manager = self.manager
            occupancy = manager.occupancy() if manager is not None else None
            return LoadState(self.appliance_id, "ac", watts, occupied=occupancy != 0.0)
        if self.kind in (ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER):
            state = data.get("operational_state")
            delay = data.get("delay_remaining") or 0
            shed_paused = ShedStep.PAUSE_RUN in self._shed_steps
            running = (state == OperationalState.RUNNING or shed_paused) and not delay
            pending = state in (OperationalState.RUNNING, OperationalState.PAUSED) and bool(delay)
            expected = 0.0
            with contextlib.suppress(LinkError):
                expected = max(w for _, w in self.programme(None).profile)
            return LoadState(
                self.appliance_id,
                "washer" if self.kind is ApplianceType.LAUNDRY_WASHER else "dishwasher",
                watts,
                running=running,
                pending_start=pending,
                expected_w=expected,
            )
        return None

    async def async_shed(self, step: ShedStep, cause: str) -> None:
        """Apply one shedding step (logged by the shedder); ``cause``: POWER_LIMIT or GRID_EVENT."""
        data = self.coordinator.data or {}
        if not self._shed_steps:
            self._pre_shed = {
                key: data[key] for key in ("on", "mode", "target_temperature") if key in data
            }
        self._shed_steps.add(step)
        self._shed_cause = cause
        await self._async_apply_shedding(step, restoring=False)
        self.async_notify()

    async def async_restore(self, step: ShedStep) -> None:
        """Undo one shedding step."""
        if step not in self._shed_steps:
            return
        self._shed_steps.discard(step)
        await self._async_apply_shedding(step, restoring=True)
        self.async_notify()

    async def _async_apply_shedding(self, step: ShedStep, *, restoring: bool) -> None:
        values: dict[str, Value] = {}
        try:
            if step in (ShedStep.DEFER_RUN, ShedStep.PAUSE_RUN):
                paused = (self.coordinator.data or {}).get("operational_state")
                if restoring or paused != OperationalState.PAUSED:  # held again on return
                    await self.coordinator.async_command("resume" if restoring else "pause")
                return
            before = self._pre_shed
            if step is ShedStep.AC_VACANT_OFF:
                values["on"] = before.get("on", True) if restoring else False
            elif step is ShedStep.AC_FAN_ONLY:
                values["mode"] = before.get("mode", "cool") if restoring else "fan_only"
            else:
                target = before.get("target_temperature")
                if isinstance(target, int | float):
                    direction = 1.0 if before.get("mode") != "heat" else -1.0
                    kelvin = sum(
                        1.0
                        for relax in (ShedStep.AC_RELAX_1K, ShedStep.AC_RELAX_2K)
                        if relax in self._shed_steps
                    )
                    values["target_temperature"] = float(target) + direction * kelvin
            if values:
                await self.coordinator.async_write(values)
        except HomeAssistantError as err:
            if restoring:
                # Not delivered (typically: the connection just dropped): tried again
                # once it is connected, so a load is never left shed by a blip.
                self._pending_release.update(values)
                if step in (ShedStep.DEFER_RUN, ShedStep.PAUSE_RUN):
                    self._pending_resume = True
                _LOGGER.info(
                    "%s: undoing %s failed (%s); trying again when it reports",
                    self.coordinator.config_entry.title,
                    step.name.lower(),
                    err,
                )
                return
            _LOGGER.warning(
                "%s: load shedding step %s failed: %s",
                self.coordinator.config_entry.title,
                step.name.lower(),
                err,
            )


def china_aware(when: datetime) -> datetime:
    """The planner works in naive China Standard Time; Home Assistant needs aware times."""
    return when.replace(tzinfo=CHINA_TZ) if when.tzinfo is None else when


def _reading(value: Value | None, now: datetime) -> Reading | None:
    """A pushed appliance value: current while the appliance is connected."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Reading(float(value), now)
