"""Rooms that follow occupancy in Home Assistant: each room's state, kept, sent to its appliances.

``RoomOccupancy`` is part of the household entry's runtime. It keeps every
room's state (``room_occupancy.RoomState``), its arrival time and what is
still owed to an appliance in a Store, so a restart changes nothing. A new
state asks each appliance of the room for its settings
(``room_occupancy.settings_for``) through the appliance's coordinator, like
the other actions. An appliance that cannot take them now (offline, or its
entry not loaded) keeps them as *pending*, and the answer says so: they are
sent as soon as its coordinator is connected again, and an entry loaded
later is found within ``RETRY_INTERVAL``. An arriving
room's AC starts at the arrival minus the energy controllers' pre-conditioning
lead of its comfort preset (``energy.ac_policy.precondition_lead``).
Once a room's state has been set, the energy controllers of its ACs take
their occupancy and next arrival from it (``presence_of``), and decide again
as soon as it changes.

At check-out the settings go back to the house defaults, then
``room_privacy.async_erase_stay`` erases the stay's data, then the room is
vacant. While a room is occupied, the values a guest chooses on its AC and
fridge are recorded as the stay's preferences (exported by ``export_stay``
and erased at check-out).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
import logging
from typing import Any, Final

from homeassistant.components.logbook import async_log_entry
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_time_interval,
)
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .appliance_settings import async_apply_settings
from .const import DOMAIN
from .energy.ac_policy import precondition_lead
from .link.model import ApplianceType, Value
from .room_index import Room, async_track_rooms, floors, rooms, rooms_by_entry
from .room_occupancy import (
    HouseDefaults,
    RoomPresence,
    RoomState,
    Settings,
    check_transition,
    room_presence,
    settings_for,
)
from .room_privacy import MAX_AUDIT, async_erase_stay, audit_line, audit_summary
from .room_record import ApplianceParts, RoomRecord

_LOGGER = logging.getLogger(__package__)

STORAGE_KEY: Final = f"{DOMAIN}.rooms"
STORAGE_VERSION: Final = 1
RETRY_INTERVAL: Final = timedelta(seconds=30)
# What a guest may choose on an appliance, recorded as the stay's preferences.
PREFERENCE_KEYS: Final[Mapping[ApplianceType, tuple[str, ...]]] = {
    ApplianceType.ROOM_AIR_CONDITIONER: (
        "on",
        "mode",
        "target_temperature",
        "fan_speed",
        "swing",
    ),
    ApplianceType.REFRIGERATOR: ("mode", "fridge_target_temperature", "freezer_target_temperature"),
}
# Results per appliance in an answer.
APPLIED: Final = "applied"
PENDING: Final = "pending"
SCHEDULED: Final = "scheduled"
FAILED: Final = "failed"
UNCHANGED: Final = "unchanged"


class RoomOccupancy:
    """Every room's occupancy, the settings it asks for, and the stay's recorded data."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        find_appliance: Callable[[str], ApplianceParts | None],
    ) -> None:
        """Nothing loaded yet; ``async_load`` reads the Store. RoomStateError on bad defaults.

        ``find_appliance(entry_id)`` is a loaded appliance entry's runtime, else None.
        """
        self.hass = hass
        self.entry = entry
        self._find_appliance = find_appliance
        self.defaults = HouseDefaults.from_options(entry.options)
        self.store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self.records: dict[str, RoomRecord] = {}
        # The audit lines of erased stays (room_privacy.py), oldest first; never guest data.
        self.audit: list[dict[str, Any]] = []
        self._listeners: list[Callable[[str], None]] = []
        self._unsubs: list[CALLBACK_TYPE] = []
        # (area id, appliance entry id) -> the timer of an AC's pre-conditioning start
        self._starts: dict[tuple[str, str], CALLBACK_TYPE] = {}
        # appliance entry id -> (its coordinator's listener remover, the values last seen)
        self._watched: dict[str, tuple[CALLBACK_TYPE, dict[str, Value]]] = {}
        # appliance entry id -> (listener remover, coordinator) of appliances owed settings
        self._owed: dict[str, tuple[CALLBACK_TYPE, object]] = {}
        self._retrying = False
        # appliance entry id -> its room's area id, read from the registries on first use
        # and again after they change: every AC's energy controller asks each minute.
        self._area_of_entry: dict[str, str] | None = None

    # --- lifecycle --------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the kept rooms and audit lines."""
        kept = await self.store.async_load() or {}
        self.records = {
            area_id: RoomRecord(raw) for area_id, raw in (kept.get("rooms") or {}).items()
        }
        self.audit = list(kept.get("audit") or [])

    @callback
    def async_start(self) -> None:
        """Retry what is owed and start due pre-conditioning on a timer; watch occupied rooms."""
        self._unsubs.append(async_track_time_interval(self.hass, self._async_timer, RETRY_INTERVAL))
        for area_id, record in self.records.items():
            for entry_id, start in record.scheduled.items():
                if (when := dt_util.parse_datetime(start)) is not None:
                    self._schedule(area_id, entry_id, when)
        self.async_watch_guests()
        self._unsubs.append(async_track_rooms(self.hass, self._rooms_changed))

    @callback
    def _rooms_changed(self) -> None:
        """Appliances moved or areas removed: watch the guests' choices where they now are,
        and erase the stay of a room whose area is gone (nobody could check it out)."""
        self._area_of_entry = None
        areas = ar.async_get(self.hass)
        gone = [area_id for area_id in self.records if areas.async_get_area(area_id) is None]
        for area_id in gone:
            record = self.records.pop(area_id)
            for key in [key for key in self._starts if key[0] == area_id]:
                self._starts.pop(key)()
            erased = async_erase_stay(self.hass, record, [], self.defaults)
            if any(erased.values()):
                self.audit.append(audit_line(dt_util.utcnow(), area_id, erased))
                del self.audit[:-MAX_AUDIT]
                async_log_entry(
                    self.hass,
                    area_id,
                    f"guest data erased, the room's area was removed: {audit_summary(erased)}",
                    DOMAIN,
                )
        if gone:
            self.async_save()
        self.async_watch_guests()

    async def async_stop(self) -> None:
        """Stop the timer and the watchers; save now."""
        for unsub in [*self._unsubs, *self._starts.values()]:
            unsub()
        self._unsubs = []
        self._starts = {}
        for remove, _seen in self._watched.values():
            remove()
        self._watched = {}
        for remove, _coordinator in self._owed.values():
            remove()
        self._owed = {}
        await self.store.async_save(self._data())

    def _data(self) -> dict[str, Any]:
        return {
            "rooms": {area_id: record.to_json() for area_id, record in self.records.items()},
            "audit": self.audit,
        }

    @callback
    def async_save(self) -> None:
        """Save soon (several changes in a moment are written once); follow what is owed."""
        self.store.async_delay_save(self._data, 1)
        self._watch_owed()

    @callback
    def _watch_owed(self) -> None:
        """Listen to each loaded appliance that is owed settings, to send them on its return."""
        owed = {entry_id for record in self.records.values() for entry_id in record.pending}
        for entry_id in list(self._owed):
            runtime = self.appliance_runtime(entry_id)
            # Paid, or its entry reloaded (a new coordinator): stop listening to this one.
            if (
                entry_id not in owed
                or runtime is None
                or runtime.coordinator is not self._owed[entry_id][1]
            ):
                self._owed.pop(entry_id)[0]()
        for entry_id in owed - set(self._owed):
            if (runtime := self.appliance_runtime(entry_id)) is None:
                continue  # not loaded: the timer finds it once it is
            coordinator = runtime.coordinator

            @callback
            def _heard(coordinator: Any = coordinator) -> None:
                if coordinator.connected:
                    self._retry_soon()

            self._owed[entry_id] = (coordinator.async_add_listener(_heard), coordinator)

    @callback
    def _retry_soon(self) -> None:
        """Send what is owed now, once (pushes while it runs do not start another)."""
        if self._retrying:
            return
        self._retrying = True

        async def _run() -> None:
            try:
                await self.async_retry()
            finally:
                self._retrying = False

        self.entry.async_create_background_task(self.hass, _run(), "liuzhou_rooms_owed")

    @callback
    def async_add_listener(self, update: Callable[[str], None]) -> CALLBACK_TYPE:
        """Call ``update(area_id)`` when a room's state changes; returns the remover."""
        self._listeners.append(update)
        return lambda: self._listeners.remove(update)

    def _notify(self, area_id: str) -> None:
        for update in list(self._listeners):
            update(area_id)

    def as_diagnostics(self) -> dict[str, Any]:
        """Each room's occupancy and what it is owed, by room name; never the stay's data.

        Shape: ``{"rooms": [{"room", "floor", "state", "appliances", "owed",
        "preconditioning"}], "audit_lines": int}`` (no arrival, preferences or logs).
        """
        room_map = rooms(self.hass)
        floor_map = floors(self.hass, room_map)
        listed = []
        for room in room_map.values():
            record = self.records.get(room.area_id) or RoomRecord()
            floor = floor_map.get(room.floor_id) if room.floor_id is not None else None
            listed.append(
                {
                    "room": room.name,
                    "floor": floor.name if floor is not None else None,
                    "state": str(record.state),
                    "appliances": len(room.entry_ids),
                    "owed": len(record.pending),
                    "preconditioning": len(record.scheduled),
                }
            )
        return {"rooms": listed, "audit_lines": len(self.audit)}

    # --- state --------------------------------------------------------------------------

    def record(self, area_id: str) -> RoomRecord:
        """The room's kept record (a vacant one if nothing is kept)."""
        return self.records.setdefault(area_id, RoomRecord())

    def presence_of(self, entry_id: str, now: datetime) -> RoomPresence | None:
        """The state of the room an appliance entry is in, for its AC's energy controller.

        None if the appliance is in no room or its room's state was never set
        (select, action or webhook; a room shows vacant until then): the
        household's occupancy entity applies then. The arrival is the one the
        room's AC is scheduled to start before.
        """
        if self._area_of_entry is None:
            by_entry = rooms_by_entry(rooms(self.hass))
            self._area_of_entry = {entry: room.area_id for entry, room in by_entry.items()}
        area_id = self._area_of_entry.get(entry_id)
        record = None if area_id is None else self.records.get(area_id)
        if record is None or record.since is None:
            return None
        arrival = dt_util.parse_datetime(record.arrival) if record.arrival else None
        return room_presence(record.state, arrival, now)

    def state_of(self, area_id: str) -> RoomState:
        """The room's occupancy (vacant until set)."""
        record = self.records.get(area_id)
        return RoomState.VACANT if record is None else record.state

    async def async_set_state(
        self, room: Room, wanted: RoomState, arrival: datetime | None = None
    ) -> dict[str, Any]:
        """Move ``room`` to ``wanted``; what each appliance did (applied, pending, ...).

        RoomStateError (invalid_room_transition) if the change is not allowed;
        nothing is changed then. Check-out resets, erases (the answer's
        ``erased`` counts) and leaves the room vacant.
        """
        record = self.record(room.area_id)
        if not check_transition(record.state, wanted):
            if record.since is None:
                # The first state asked for is the one the room has (vacant): nothing is
                # sent, but from now its ACs' energy controllers follow it.
                record.since = dt_util.utcnow().isoformat(timespec="seconds")
                self.async_save()
                self._notify(room.area_id)
            return self._answer(room, record, [])
        now = dt_util.utcnow()
        erased: dict[str, int] | None = None
        record.state = wanted
        record.since = now.isoformat(timespec="seconds")
        if wanted is RoomState.ARRIVING:
            record.arrival = None if arrival is None else dt_util.as_utc(arrival).isoformat()
        elif wanted is RoomState.VACANT:
            record.arrival = None
        record.scheduled = {}
        for key in [key for key in self._starts if key[0] == room.area_id]:
            self._starts.pop(key)()
        if wanted is RoomState.CHECK_OUT:
            # Erased before the reset: stopping a planned run would forget it uncounted.
            self._unwatch(room)
            erased = async_erase_stay(self.hass, record, self.room_appliances(room), self.defaults)
            self.audit.append(audit_line(now, room.area_id, erased))
            del self.audit[:-MAX_AUDIT]
            async_log_entry(
                self.hass,
                room.name,
                f"guest data erased at check-out: {audit_summary(erased)}",
                DOMAIN,
            )
        results = await self._async_apply_room(room, record, now)
        if wanted is RoomState.CHECK_OUT:
            record.state = RoomState.VACANT
            record.since = dt_util.utcnow().isoformat(timespec="seconds")
            results = _merge(results, await self._async_apply_room(room, record, now))
        self.async_watch_guests()
        self.async_save()
        self._notify(room.area_id)
        answer = self._answer(room, record, results)
        if erased is not None:
            answer["erased"] = erased
        return answer

    def _answer(
        self, room: Room, record: RoomRecord, results: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "area_id": room.area_id,
            "room": room.name,
            "state": str(record.state),
            "arrival": record.arrival,
            "appliances": results,
        }

    # --- sending the settings -----------------------------------------------------------

    async def _async_apply_room(
        self, room: Room, record: RoomRecord, now: datetime
    ) -> list[dict[str, Any]]:
        """Send the room state's settings to each appliance of the room."""
        arrival = dt_util.parse_datetime(record.arrival) if record.arrival else None
        results = []
        for entry_id, device_id in zip(room.entry_ids, room.device_ids, strict=True):
            runtime = self.appliance_runtime(entry_id)
            kind = None if runtime is None else ApplianceType(runtime.coordinator.declaration.type)
            if kind is None:  # not loaded: its type, and so its settings, are not known yet
                _owe(record, entry_id, Settings(), record.state)
                results.append(_result(device_id, PENDING, "not loaded"))
                continue
            lead = timedelta(0)
            if runtime is not None and kind is ApplianceType.ROOM_AIR_CONDITIONER:
                lead = precondition_lead(runtime.energy.preset)
            settings = settings_for(
                record.state, kind, self.defaults, now=now, arrival=arrival, lead=lead
            )
            if settings.empty:
                results.append(_result(device_id, UNCHANGED))
                continue
            if settings.at is not None:
                record.scheduled[entry_id] = settings.at.isoformat()
                self._schedule(room.area_id, entry_id, settings.at)
                results.append(_result(device_id, SCHEDULED, settings.at.isoformat()))
                continue
            results.append(await self._async_send(record, entry_id, device_id, settings))
        return results

    async def _async_send(
        self, record: RoomRecord, entry_id: str, device_id: str, settings: Settings
    ) -> dict[str, Any]:
        """Send now (with anything still owed), or keep as pending if it cannot take it now."""
        runtime = self.appliance_runtime(entry_id)
        if runtime is None or not runtime.coordinator.connected:
            _owe(record, entry_id, settings)
            return _result(device_id, PENDING, "offline")
        if (owed := record.pending.pop(entry_id, None)) is not None:
            kind = ApplianceType(runtime.coordinator.declaration.type)
            earlier = _owed_settings(owed, kind, self.defaults, dt_util.utcnow())
            settings = Settings(
                {**earlier.writes, **settings.writes},
                cancel_delayed_start=earlier.cancel_delayed_start or settings.cancel_delayed_start,
            )
        coordinator = runtime.coordinator
        try:
            await async_apply_settings(coordinator, runtime.energy, settings)
        except HomeAssistantError as err:
            if not coordinator.connected:
                _owe(record, entry_id, settings)
                return _result(device_id, PENDING, "offline")
            _LOGGER.warning("Room settings for %s refused: %s", coordinator.config_entry.title, err)
            return _result(device_id, FAILED, str(err))
        return _result(device_id, APPLIED)

    def room_appliances(self, room: Room) -> list[tuple[str, ApplianceParts]]:
        """(device id, runtime) of the room's loaded appliances."""
        return [
            (device_id, parts)
            for entry_id, device_id in zip(room.entry_ids, room.device_ids, strict=True)
            if (parts := self.appliance_runtime(entry_id)) is not None
        ]

    def appliance_runtime(self, entry_id: str) -> ApplianceParts | None:
        """The runtime of an appliance entry while it is loaded, else None."""
        return self._find_appliance(entry_id)

    def _schedule(self, area_id: str, entry_id: str, when: datetime) -> None:
        """Start an arriving room's AC at ``when`` (at once if it has passed)."""
        if (earlier := self._starts.pop((area_id, entry_id), None)) is not None:
            earlier()

        async def _due(_now: datetime) -> None:
            self._starts.pop((area_id, entry_id), None)
            await self._async_start_ac(area_id, entry_id)

        self._starts[(area_id, entry_id)] = async_track_point_in_utc_time(self.hass, _due, when)

    async def _async_start_ac(self, area_id: str, entry_id: str) -> None:
        """Pre-condition now: the arriving room's settings for its AC."""
        record = self.records.get(area_id)
        room = rooms(self.hass).get(area_id)
        if record is None or record.scheduled.pop(entry_id, None) is None or room is None:
            return
        if entry_id in room.entry_ids:
            device_id = room.device_ids[room.entry_ids.index(entry_id)]
            settings = settings_for(
                record.state,
                ApplianceType.ROOM_AIR_CONDITIONER,
                self.defaults,
                now=dt_util.utcnow(),
            )
            result = await self._async_send(record, entry_id, device_id, settings)
            _LOGGER.debug("Room %s: pre-conditioning started, %s", room.name, result["result"])
        self.async_save()

    async def _async_timer(self, _now: datetime) -> None:
        self._watch_owed()  # entries loaded since
        await self.async_retry()

    async def async_retry(self) -> None:
        """Send what is owed to appliances that are back."""
        changed = False
        for room in rooms(self.hass).values():
            record = self.records.get(room.area_id)
            if record is None or not record.pending:
                continue
            devices = dict(zip(room.entry_ids, room.device_ids, strict=True))
            for entry_id in list(record.pending):
                runtime = self.appliance_runtime(entry_id)
                if entry_id not in devices or runtime is None or not runtime.coordinator.connected:
                    continue
                result = await self._async_send(record, entry_id, devices[entry_id], Settings())
                _LOGGER.info(
                    "Room %s: owed settings for %s %s",
                    room.name,
                    runtime.coordinator.config_entry.title,
                    result["result"],
                )
                changed = True
        if changed:
            self.async_save()

    # --- the guest's choices --------------------------------------------------------------

    @callback
    def async_watch_guests(self) -> None:
        """Record the guest's choices on the appliances of occupied rooms."""
        wanted: set[str] = set()
        for room in rooms(self.hass).values():
            if self.state_of(room.area_id) is not RoomState.OCCUPIED:
                continue
            for entry_id in room.entry_ids:
                runtime = self.appliance_runtime(entry_id)
                if runtime is None:
                    continue
                kind = ApplianceType(runtime.coordinator.declaration.type)
                if kind not in PREFERENCE_KEYS:
                    continue
                wanted.add(entry_id)
                if entry_id not in self._watched:
                    self._watch(room.area_id, entry_id, runtime, kind)
        for entry_id in set(self._watched) - wanted:
            self._watched.pop(entry_id)[0]()

    def _watch(
        self, area_id: str, entry_id: str, runtime: ApplianceParts, kind: ApplianceType
    ) -> None:
        coordinator = runtime.coordinator
        keys = PREFERENCE_KEYS[kind]
        seen: dict[str, Value] = {
            k: v for k in keys if (v := coordinator.values.get(k)) is not None
        }

        @callback
        def _changed() -> None:
            energy = runtime.energy
            chosen = self.record(area_id).preferences.setdefault(coordinator.appliance_id, {})
            for key in keys:
                value = coordinator.values.get(key)
                if value is None or seen.get(key) == value:
                    continue
                seen[key] = value
                # The energy controller's own writes are not the guest's choice.
                if energy.enabled and energy.written.get(key) == value:
                    continue
                chosen[key] = value
                self.async_save()

        self._watched[entry_id] = (coordinator.async_add_listener(_changed), seen)

    def _unwatch(self, room: Room) -> None:
        for entry_id in room.entry_ids:
            if (watched := self._watched.pop(entry_id, None)) is not None:
                watched[0]()


def _owe(
    record: RoomRecord, entry_id: str, settings: Settings, state: RoomState | None = None
) -> None:
    """Add to what an appliance is owed: later writes win, a stop or a state is kept."""
    owed = record.pending.setdefault(entry_id, {"writes": {}, "cancel": False, "states": []})
    owed["writes"] = {**owed["writes"], **settings.writes}
    owed["cancel"] = bool(owed["cancel"] or settings.cancel_delayed_start)
    if state is not None:
        owed["states"] = [*owed["states"], str(state)]


def _owed_settings(
    owed: Mapping[str, Any], kind: ApplianceType, defaults: HouseDefaults, now: datetime
) -> Settings:
    """What an appliance is owed, with the settings of the states it missed (in order)."""
    writes: dict[str, Value] = {}
    cancel = bool(owed.get("cancel"))
    for state in owed.get("states") or ():
        missed = settings_for(RoomState(state), kind, defaults, now=now)
        writes.update(missed.writes)
        cancel = cancel or missed.cancel_delayed_start
    writes.update(owed.get("writes") or {})
    return Settings(writes, cancel_delayed_start=cancel)


def _result(device_id: str, result: str, detail: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"device_id": device_id, "result": result}
    if detail is not None:
        out["detail"] = detail
    return out


_RANK: Final = {UNCHANGED: 0, APPLIED: 1, SCHEDULED: 2, FAILED: 3, PENDING: 4}


def _merge(first: list[dict[str, Any]], then: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check-out's results and the vacant settings' after it: per appliance the one that
    needs attention (pending before failed before applied)."""
    later = {item["device_id"]: item for item in then}
    merged = []
    for item in first:
        follow = later.get(item["device_id"], item)
        merged.append(follow if _RANK[follow["result"]] > _RANK[item["result"]] else item)
    return merged
