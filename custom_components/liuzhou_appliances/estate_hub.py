"""This building's hub on the estate's broker, through Home Assistant's MQTT integration.

Started by the household entry when its options name an estate and a building
(docs/estate.md). It publishes each appliance's retained state, the building's
summary and ``online``; fault events and command acks go through the persisted
outbox (estate_store.py) and leave it only when the broker delivers them back
to this hub. When the broker returns (the MQTT integration reconnects on its
own) everything retained is published again and the outbox is sent. Nothing
here raises into Home Assistant: a broker that is away is a log line, and the
appliances work locally as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
import logging
from typing import Any, Final
import uuid

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from . import room_index
from .energy_runtime import ApplianceEnergy, HouseholdEnergy
from .estate_commands import async_execute, async_finish
from .estate_store import EstateStore, PendingCommand
from .estate_topics import (
    STATUS_OFFLINE,
    STATUS_ONLINE,
    Ack,
    ApplianceEvent,
    ApplianceState,
    BuildingSummary,
    EstateTopicError,
    FloorSummary,
    ack_topic,
    decode_ack,
    decode_command,
    decode_event,
    encode,
    event_topic,
    hub_command_filters,
    now_iso,
    parse_topic,
    state_topic,
    status_topic,
    summary_topic,
)
from .room_occupancy import HouseDefaults, RoomStateError

_LOGGER = logging.getLogger(__package__)

# Retained state is republished at least this often (new appliances, cost, the summary),
# and the outbox is sent again while the broker has not delivered it back.
REFRESH_INTERVAL: Final = timedelta(seconds=30)
# Events and acks not yet delivered back are sent again this often (a subscription made
# just before, or a message lost with the connection, is covered within seconds).
OUTBOX_RETRY: Final = timedelta(seconds=5)
QOS: Final = 1


def main_state(energy: ApplianceEnergy) -> str | None:
    """A washer's or dishwasher's operational state, on/off, else running (None: unknown)."""
    values = energy.coordinator.values
    if not values:
        return None
    if (operational := values.get("operational_state")) is not None:
        return str(operational)
    if isinstance(on := values.get("on"), bool):
        return "on" if on else "off"
    return "running"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class EstateHub:
    """One building's hub: publishes its appliances, answers the estate's commands."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        estate: str,
        building: str,
        find_appliances: Callable[[], Iterable[ApplianceEnergy]],
        find_household: Callable[[], HouseholdEnergy | None],
    ) -> None:
        """``estate`` and ``building`` are checked topic segments (the options flow's).

        ``find_appliances`` and ``find_household`` are runtime_data's
        ``appliance_energies`` and ``household_energy`` (given by the set-up, so that
        the runtime data that holds this hub is not imported back).
        """
        self.hass = hass
        self._appliances = find_appliances
        self._household = find_household
        self.entry = entry
        self.estate = estate
        self.building = building
        self.store = EstateStore(hass)
        self.connected = False
        self._published: dict[str, bytes] = {}  # topic -> retained payload last sent
        self._faults: dict[str, frozenset[str]] = {}
        self._states: dict[str, ApplianceState] = {}
        self._watched: dict[str, CALLBACK_TYPE] = {}
        self._unsubs: list[CALLBACK_TYPE] = []
        self._lock = asyncio.Lock()
        self._refresh_soon: asyncio.TimerHandle | None = None
        # What the next refresh looks at: every appliance, or only those that pushed
        # (async_start looks at every appliance itself).
        self._refresh_all = False
        self._changed: set[str] = set()
        # (floor name, room name) by appliance entry id; None: read the registries again.
        self._places: dict[str, tuple[str | None, str]] | None = None
        # The summary's content (no time) and what was published for it.
        self._summary_sent: tuple[BuildingSummary, BuildingSummary] | None = None

    # --- lifecycle ---------------------------------------------------------------------

    async def async_start(self) -> None:
        """Load the outbox and, once the MQTT integration is up, start publishing."""
        await self.store.async_load()
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            _LOGGER.warning(
                "Estate %s/%s: Home Assistant's MQTT integration is not set up; "
                "nothing is published (the appliances work as before)",
                self.estate,
                self.building,
            )
            return
        for topic_filter in hub_command_filters(self.estate, self.building):
            self._unsubs.append(
                await mqtt.async_subscribe(
                    self.hass, topic_filter, self._async_command, QOS, encoding=None
                )
            )
        # Our own events and acks come back from the broker: the proof that it has them.
        own = f"liuzhou/{self.estate}/{self.building}"
        for topic_filter in (f"{own}/appliance/+/event", f"{own}/ack/+"):
            self._unsubs.append(
                await mqtt.async_subscribe(
                    self.hass, topic_filter, self._async_echo, QOS, encoding=None
                )
            )
        self._unsubs += [
            mqtt.async_subscribe_connection_status(self.hass, self._connection_changed),
            room_index.async_track_rooms(self.hass, self._rooms_changed),
            async_track_time_interval(self.hass, self._async_timer, REFRESH_INTERVAL),
            async_track_time_interval(self.hass, self._async_retry, OUTBOX_RETRY),
        ]
        self.connected = mqtt.is_connected(self.hass)
        await self.async_refresh()

    async def async_stop(self) -> None:
        """Say ``offline`` (if the broker is there) and stop listening."""
        for remove in (*self._unsubs, *self._watched.values()):
            remove()
        self._unsubs, self._watched = [], {}
        if self._refresh_soon is not None:
            self._refresh_soon.cancel()
        if self.connected:
            await self._async_publish(status_topic(self.estate, self.building), STATUS_OFFLINE)

    def as_diagnostics(self) -> dict[str, Any]:
        """The hub's estate link: ids, broker connection, what waits to be delivered.

        Shape: ``{"estate", "building", "connected", "appliances", "outbox",
        "pending_commands"}``; counts, no payloads.
        """
        return {
            "estate": self.estate,
            "building": self.building,
            "connected": self.connected,
            "appliances": len(self._states),
            "outbox": len(self.store.outbox),
            "pending_commands": len(self.store.pending),
        }

    # --- what the hub publishes --------------------------------------------------------

    @callback
    def _connection_changed(self, connected: bool) -> None:
        self.connected = connected
        if connected:
            _LOGGER.info("Estate %s/%s: broker back, catching up", self.estate, self.building)
            self._published.clear()  # the broker may have lost its retained copies
            self.entry.async_create_background_task(
                self.hass, self.async_refresh(), "liuzhou_estate_catch_up"
            )

    @callback
    def _rooms_changed(self) -> None:
        self._places = None
        self._schedule_refresh()

    @callback
    def _schedule_refresh(self) -> None:
        """Look at every appliance soon (rooms, a command)."""
        self._refresh_all = True
        self._refresh_later()

    @callback
    def _appliance_changed(self, appliance_id: str) -> None:
        """One appliance pushed: look at it (and whatever else pushed) soon."""
        self._changed.add(appliance_id)
        self._refresh_later()

    @callback
    def _refresh_later(self) -> None:
        # Pushes within 0.2 s make one refresh.
        if self._refresh_soon is None:
            self._refresh_soon = self.hass.loop.call_later(0.2, self._start_refresh)

    @callback
    def _start_refresh(self) -> None:
        self._refresh_soon = None
        only = None if self._refresh_all else self._changed
        self._refresh_all, self._changed = False, set()
        self.entry.async_create_background_task(
            self.hass, self.async_refresh(only), "liuzhou_estate_refresh"
        )

    async def _async_timer(self, _now: datetime) -> None:
        await self.async_refresh()

    async def _async_retry(self, _now: datetime) -> None:
        if self.store.outbox and not self._lock.locked():
            await self._async_flush()

    async def _async_flush(self) -> None:
        """Send the outbox in order; stop at the first message the client refuses."""
        for topic, payload in list(self.store.outbox.values()):
            if not await self._async_publish(topic, payload):
                return

    async def async_refresh(self, only: set[str] | None = None) -> None:
        """Publish what changed: status, states, summary; then send the outbox.

        ``only``: the appliance ids to look at (those that pushed); None looks at
        every appliance. A push costs its own appliance, not the building's.
        """
        async with self._lock:
            energies = sorted(self._appliances(), key=lambda e: e.appliance_id)
            self._watch(energies)
            places = self._room_places()
            # Those that pushed, and any appliance not seen yet (set up since).
            looked_at = [
                e
                for e in energies
                if only is None or e.appliance_id in only or e.appliance_id not in self._states
            ]
            for energy in looked_at:
                place = places.get(energy.coordinator.config_entry.entry_id)
                await self._async_state(energy, place)
            if self.store.pending:
                await self.async_appliances_returned()
            if not self.connected:
                return
            await self._async_retain(status_topic(self.estate, self.building), STATUS_ONLINE)
            for energy in looked_at:
                state = self._states[energy.appliance_id]
                topic = state_topic(self.estate, self.building, state.appliance_id)
                await self._async_retain(topic, encode(state))
            states = [self._states[e.appliance_id] for e in energies]
            await self._async_retain(
                summary_topic(self.estate, self.building), encode(self._summary(states))
            )
            await self._async_flush()

    def _room_places(self) -> dict[str, tuple[str | None, str]]:
        """(floor name or None, room name) of each appliance entry in a room."""
        if self._places is None:
            room_map = room_index.rooms(self.hass)
            floor_map = room_index.floors(self.hass, room_map)
            self._places = {}
            for entry_id, room in room_index.rooms_by_entry(room_map).items():
                floor = floor_map.get(room.floor_id) if room.floor_id is not None else None
                self._places[entry_id] = (floor.name if floor is not None else None, room.name)
        return self._places

    def _watch(self, energies: list[ApplianceEnergy]) -> None:
        """Listen to every appliance's coordinator (new ones as they are set up)."""
        present = {energy.appliance_id for energy in energies}
        for appliance_id in set(self._watched) - present:
            self._watched.pop(appliance_id)()
        for energy in energies:
            if energy.appliance_id not in self._watched:
                self._watched[energy.appliance_id] = energy.coordinator.async_add_listener(
                    partial(self._appliance_changed, energy.appliance_id)
                )

    async def _async_state(
        self, energy: ApplianceEnergy, place: tuple[str | None, str] | None
    ) -> ApplianceState:
        """The appliance's state in ``place`` (floor, room); queues fault events, counts cost."""
        coordinator = energy.coordinator
        values = coordinator.values
        faults = tuple(str(code) for code in values.get("faults") or ())  # type: ignore[union-attr]
        await self._async_fault_events(energy.appliance_id, frozenset(faults))
        floor_name, room_name = place if place is not None else (None, None)
        energy_kwh = _number(values.get("energy"))
        state = ApplianceState(
            appliance_id=energy.appliance_id,
            type=str(energy.kind),
            name=coordinator.config_entry.title,
            floor=floor_name,
            room=room_name,
            online=coordinator.connected,
            state=main_state(energy),
            power_w=_number(values.get("power")),
            energy_kwh=energy_kwh,
            cost=self._cost(energy.appliance_id, energy_kwh),
            faults=faults,
            updated="",
        )
        # "updated" is when the state last changed, so an unchanged one is not sent again.
        known = self._states.get(energy.appliance_id)
        if known is not None and replace(known, updated="") == state:
            return known
        state = replace(state, updated=now_iso())
        self._states[energy.appliance_id] = state
        return state

    def _cost(self, appliance_id: str, energy_kwh: float | None) -> float | None:
        """Cost so far: each increase of the meter at the price when the hub saw it."""
        household = self._household()
        counter = self.store.cost.get(appliance_id)
        if energy_kwh is None or household is None:
            return round(counter[1], 4) if counter is not None else None
        if counter is None:
            counter = self.store.cost[appliance_id] = [energy_kwh, 0.0]
        elif energy_kwh > counter[0]:
            price = household.price_now(dt_util.utcnow())
            if price is not None:
                counter[1] += (energy_kwh - counter[0]) * price
            counter[0] = energy_kwh
            self.store.save_later()
        else:
            counter[0] = energy_kwh  # a meter reset: count on from here
        return round(counter[1], 4)

    async def _async_fault_events(self, appliance_id: str, faults: frozenset[str]) -> None:
        before = self._faults.get(appliance_id)
        self._faults[appliance_id] = faults
        if before is None:
            return  # the first look: the state carries the faults already active
        changes = [("fault_raised", f) for f in sorted(faults - before)]
        changes += [("fault_cleared", f) for f in sorted(before - faults)]
        for kind, fault in changes:
            event = ApplianceEvent(uuid.uuid4().hex, appliance_id, kind, fault, now_iso())  # type: ignore[arg-type]
            await self._async_deliver(
                f"event:{event.event_id}",
                event_topic(self.estate, self.building, appliance_id),
                encode(event),
            )

    def _summary(self, states: list[ApplianceState]) -> BuildingSummary:
        """The building's summary; ``updated`` is when its content last changed."""
        content = self._summary_content(states)
        if self._summary_sent is None or self._summary_sent[0] != content:
            self._summary_sent = (content, replace(content, updated=now_iso()))
        return self._summary_sent[1]

    @staticmethod
    def _summary_content(states: list[ApplianceState]) -> BuildingSummary:
        floors: dict[str | None, list[ApplianceState]] = {}
        for state in states:
            floors.setdefault(state.floor, []).append(state)
        summaries = tuple(
            FloorSummary(
                floor,
                len(members),
                round(sum(s.energy_kwh or 0.0 for s in members), 3),
                round(sum(s.cost or 0.0 for s in members), 4),
            )
            for floor, members in sorted(floors.items(), key=lambda item: item[0] or "")
        )
        return BuildingSummary(
            summaries,
            round(sum(f.energy_kwh for f in summaries), 3),
            round(sum(f.cost for f in summaries), 4),
            "",
        )

    async def _async_retain(self, topic: str, payload: str | bytes) -> None:
        raw = payload.encode() if isinstance(payload, str) else payload
        if self._published.get(topic) == raw:
            return
        if await self._async_publish(topic, raw, retain=True):
            self._published[topic] = raw

    async def _async_publish(self, topic: str, payload: str | bytes, retain: bool = False) -> bool:
        """Publish at QoS 1; False (and the broker marked away) if the client refuses."""
        if not self.connected:
            return False
        try:
            raw = payload.encode() if isinstance(payload, str) else payload
            await mqtt.async_publish(self.hass, topic, raw, QOS, retain, encoding=None)
        except HomeAssistantError as err:
            _LOGGER.debug("Estate: publishing %s failed: %s", topic, err)
            return False
        return True

    async def _async_deliver(self, key: str, topic: str, payload: bytes) -> None:
        """Keep a message that must be delivered, then send it (again until confirmed)."""
        await self.store.async_add(key, topic, payload.decode())
        await self._async_publish(topic, payload)

    # --- what the hub receives ---------------------------------------------------------

    async def _async_echo(self, message: mqtt.ReceiveMessage) -> None:
        """Our own event or ack delivered back by the broker: it has it."""
        raw = message.payload if isinstance(message.payload, bytes) else str(message.payload)
        try:
            if parse_topic(message.topic).kind == "event":
                key = f"event:{decode_event(raw).event_id}"
            else:
                ack = decode_ack(raw)
                key = f"ack:{ack.command_id}:{ack.seq}"
        except EstateTopicError:
            return
        self.store.confirm(key)

    async def _async_command(self, message: mqtt.ReceiveMessage) -> None:
        """Carry out a command and acknowledge it per appliance; a bad one gets an error."""
        raw = message.payload if isinstance(message.payload, bytes) else str(message.payload)
        try:
            topic = parse_topic(message.topic)
        except EstateTopicError as err:
            _LOGGER.warning("Estate: command on an undocumented topic skipped: %s", err)
            return
        command_id = str(topic.command_id)
        reply = ack_topic(self.estate, self.building, command_id)
        try:
            command = decode_command(raw)
        except EstateTopicError as err:
            _LOGGER.warning("Estate: command %s refused: %s", command_id, err)
            await self._async_ack(Ack(command_id, self.building, (), now_iso(), str(err)[:200]))
            return
        results, error = await async_execute(
            self.hass,
            command,
            self._appliances(),
            self._household(),
            self._defaults(),
            estate_wide=topic.building is None,
        )
        waiting = [r.appliance_id for r in results if r.result == "pending"]
        if waiting:
            self.store.pending[command_id] = PendingCommand(reply, raw_text(raw), waiting)
        await self._async_ack(Ack(command_id, self.building, tuple(results), now_iso(), error))
        self._schedule_refresh()

    def _defaults(self) -> HouseDefaults | None:
        """The household options' house defaults; None (logged) if they do not read."""
        try:
            return HouseDefaults.from_options(self.entry.options)
        except RoomStateError as err:
            _LOGGER.warning("Estate: house defaults not usable: %s", err)
            return None

    async def _async_ack(self, ack: Ack) -> None:
        topic = ack_topic(self.estate, self.building, ack.command_id)
        await self._async_deliver(f"ack:{ack.command_id}:{ack.seq}", topic, encode(ack))

    async def async_appliances_returned(self) -> None:
        """Finish pending commands for appliances that are back; ack each again."""
        energies = {energy.appliance_id: energy for energy in self._appliances()}
        for command_id, pending in list(self.store.pending.items()):
            back = [
                energies[a]
                for a in pending.appliance_ids
                if a in energies and energies[a].coordinator.connected
            ]
            if not back:
                continue
            command = decode_command(pending.command)
            defaults = self._defaults()
            results = [await async_finish(command, energy, defaults) for energy in back]
            pending.appliance_ids = [
                a for a in pending.appliance_ids if a not in {r.appliance_id for r in results}
            ]
            pending.appliance_ids += [r.appliance_id for r in results if r.result == "pending"]
            pending.seq += 1
            if not pending.appliance_ids:
                del self.store.pending[command_id]
            await self._async_ack(
                Ack(command_id, self.building, tuple(results), now_iso(), seq=pending.seq)
            )


def raw_text(raw: bytes | str) -> str:
    """A payload as text (commands are UTF-8 JSON, checked before this)."""
    return raw.decode() if isinstance(raw, bytes) else raw
