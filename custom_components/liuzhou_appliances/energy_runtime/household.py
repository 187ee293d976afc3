"""The household energy entry's runtime: its tariff, the household's sensors, load shedding.

``HouseholdEnergy`` builds the tariff (or the price feed) from the entry's
options, reads the household's sensors with staleness checks and owns the
``LoadShedding`` of every appliance whose energy optimisation is on. Nothing
here raises into the event loop: bad input becomes a status, a log line and
the appliance's own control (docs/energy.md, "In Home Assistant").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
import logging
import math
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event, async_track_time_interval
from homeassistant.util import dt as dt_util

from custom_components.liuzhou_appliances.const import (
    CONF_GRID_EVENT_ENTITY,
    CONF_HOME_POWER_ENTITY,
    CONF_NEXT_ARRIVAL_ENTITY,
    CONF_OCCUPANCY_ENTITY,
    CONF_OUTDOOR_HUMIDITY_ENTITY,
    CONF_OUTDOOR_TEMPERATURE_ENTITY,
    CONF_POWER_CAP_KW,
    CONF_POWER_LIMIT_KW,
    CONF_SOLAR_SURPLUS_ENTITY,
)
from custom_components.liuzhou_appliances.energy.inputs import Reading, fresh_value
from custom_components.liuzhou_appliances.energy.planner import PlanningContext, SurplusForecast
from custom_components.liuzhou_appliances.energy.tariff import (
    PriceSample,
    PriceUnavailableError,
    Tariff,
    tariff_period,
)
from custom_components.liuzhou_appliances.energy.tariff_options import (
    CONF_PRICE_ENTITY,
    CONF_TARIFF,
    TARIFF_CUSTOM,
    TARIFF_SENSOR,
    build_tariff,
)
from custom_components.liuzhou_appliances.room_occupancy import RoomPresence

from .listeners import EntityListeners
from .shedding import ON_STATES, LoadShedding
from .views import ApplianceView

_LOGGER = logging.getLogger(__package__)

SHED_CHECK_INTERVAL: Final = timedelta(seconds=60)
# Planned runs: a persistence forecast of the present solar surplus for this long.
SURPLUS_PERSISTENCE: Final = timedelta(hours=1)

_OFF_STATES: Final = frozenset({"off", "not_home", "away", "false", "clear"})


def _watts(state_value: float, unit: object) -> float:
    return state_value * 1000.0 if unit == "kW" else state_value


class HouseholdEnergy(EntityListeners):
    """The household's tariff, sensors and load shedding (the household entry's runtime)."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        find_appliances: Callable[[], Iterable[ApplianceView]],
        find_room_presence: Callable[[str, datetime], RoomPresence | None] | None = None,
    ) -> None:
        """Build the tariff from the options; TariffError if they are inconsistent.

        ``find_appliances`` returns the set-up appliances' runtimes
        (``runtime_data.appliance_energies``, given by the set-up so that this
        package does not import the runtime data that holds it).
        ``find_room_presence(entry_id, now)`` is the state of the room an
        appliance entry is in, if that room's state is set
        (``runtime_data.room_presence``); without it no room has one.
        """
        self.hass = hass
        self.entry = entry
        self._find_appliances = find_appliances
        self._find_room_presence = find_room_presence
        self.options: Mapping[str, Any] = dict(entry.options)
        self.tariff = self._build_tariff()
        limit_kw = self.options.get(CONF_POWER_LIMIT_KW)
        cap_kw = self.options.get(CONF_POWER_CAP_KW)
        self.power_cap_w: float | None = float(cap_kw) * 1000.0 if cap_kw else None
        self.power_shedding = bool(limit_kw and self.options.get(CONF_HOME_POWER_ENTITY))
        # Always there: a demand-response event may come without any power limit.
        self.shedding = LoadShedding(
            self, float(limit_kw) * 1000.0 if limit_kw and self.power_shedding else math.inf
        )
        # Whether the appliances find it (runtime_data.household_energy): from set-up
        # until the end of its unload.
        self.attached = False
        self._unsubs: list[CALLBACK_TYPE] = []
        self._arrival_problem: str | None = None
        super().__init__()

    def appliances(self) -> Iterable[ApplianceView]:
        """The runtimes of the appliance entries that are set up."""
        return self._find_appliances()

    def _build_tariff(self) -> Tariff:
        """A custom table follows Home Assistant's time zone; the presets China time."""
        return build_tariff(
            self.options, time_zone=dt_util.get_default_time_zone(), read_price=self._read_price
        )

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

    def outdoor_humidity(self) -> Reading | None:
        """The household's outdoor humidity sensor (%), if one is set (predictive AC control)."""
        return self.reading(self.options.get(CONF_OUTDOOR_HUMIDITY_ENTITY))

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
        if state.state in ON_STATES:
            return 1.0
        if state.state in _OFF_STATES:
            return 0.0
        return None

    def room_presence(self, entry_id: str, now: datetime) -> RoomPresence | None:
        """The state of the room the appliance entry ``entry_id`` is in, if it is set."""
        if self._find_room_presence is None:
            return None
        return self._find_room_presence(entry_id, now)

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

    def tariff_period(self, now: datetime) -> str | None:
        """valley / flat / peak / critical_peak now; None for a price feed (no periods)."""
        return tariff_period(self.tariff, now)

    def planning_context(self, now: datetime, own_power_w: float) -> PlanningContext:
        """Tariff, cap, present base load and a persistence surplus forecast."""
        base_load = 0.0
        home, _ = fresh_value(
            self.reading(self.options.get(CONF_HOME_POWER_ENTITY), power=True),
            now,
            timedelta(minutes=2),
            "home_power",
        )
        if home is not None:
            base_load = max(0.0, home - own_power_w)
        surplus: SurplusForecast | None = None
        value, _ = fresh_value(
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

    # --- lifecycle ----------------------------------------------------------------------

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
            await self.shedding.async_update()

    async def _async_input_changed(self, event: Event[EventStateChangedData]) -> None:
        await self.shedding.async_update()
        self.async_notify()

    async def _async_shed_timer(self, now: datetime) -> None:
        await self.shedding.async_update()
        self.async_notify()

    @callback
    def _async_price_changed(self, event: Event[EventStateChangedData]) -> None:
        self.async_notify()

    @callback
    def _async_core_config_updated(self, event: Event[Any]) -> None:
        if self.options.get(CONF_TARIFF) != TARIFF_CUSTOM:
            return
        self.tariff = self._build_tariff()
        self.async_notify()

    async def async_stop(self, *, hand_back: bool) -> None:
        """Stop watching; with ``hand_back`` hand every shed load back.

        Without it (the entry reloads because its options were saved) what is
        shed stays as it is. The event is kept either way: the next set-up
        restores it (and sheds for it again) while it lasts.
        """
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []
        await self.shedding.async_stop(hand_back=hand_back)

    # --- in-progress state across reloads and restarts ---------------------------------

    def export_runtime(self) -> dict[str, Any]:
        """The event and everything shed, JSON-ready."""
        return self.shedding.export_runtime()

    def restore_runtime(self, kept: Mapping[str, Any] | None) -> bool:
        """Take the kept event and shed actions; True if there was anything to take."""
        return self.shedding.restore_runtime(kept)

    async def async_resume_runtime(self) -> None:
        """After a restore: time the event's end (or end it now) and shed as it holds."""
        await self.shedding.async_resume_runtime()
