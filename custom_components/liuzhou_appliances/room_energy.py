"""Energy per room, per floor and for the whole property, from the appliances' own sensors.

``PropertyEnergy`` (the household entry's, started by its sensor platform)
keeps one group per room and per floor (``room_index``) and one for the
property (every paired appliance). It follows the appliances' power, energy,
savings and faults sensors by their state changes, so an appliance entry that
reloads or goes offline needs nothing special: offline, its sensors read
unavailable and it adds nothing until it reports again, then what it used
meanwhile. Energy, cost and savings are totals of the members' increments
(``energy.group_totals``); each energy sensor keeps its group's totals across
restarts. When rooms or floors change, groups, their devices and entities
follow: a new room gets a device in its area and its sensors, a room that no
longer holds an appliance loses its device (and so its entities).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
import logging
from typing import Any, Final, Literal

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import BaseUnitConverter, EnergyConverter, PowerConverter

from .const import DOMAIN, HOUSEHOLD_UNIQUE_ID, MANUFACTURER
from .energy.group_totals import GroupTotals
from .energy_runtime import HouseholdEnergy
from .room_index import (
    Room,
    async_track_rooms,
    floor_device_identifier,
    floors,
    room_device_identifier,
    rooms,
)

_LOGGER = logging.getLogger(__package__)

type GroupKind = Literal["room", "floor", "property"]
PROPERTY: Final = "property"
# Names listed in the faults and offline attributes at most (a hotel has hundreds).
MAX_LISTED_NAMES: Final = 50
_HOUSEHOLD_DEVICE: Final = (DOMAIN, HOUSEHOLD_UNIQUE_ID)
# The sensors followed on every appliance (``Member`` fields; entity keys in energy_entities.py,
# descriptions.py: ``energy_savings`` and ``faults``); an appliance is offline while its
# energy sensor is unavailable.
SENSORS: Final = ("energy", "power", "savings", "faults")


@dataclass(frozen=True, slots=True)
class Member:
    """One paired appliance: its device, name, room, and the entity ids of the sensors read."""

    device_id: str
    name: str
    room: str | None
    energy: str | None
    power: str | None
    savings: str | None
    faults: str | None


@dataclass(slots=True)
class Group:
    """A room, a floor or the property: its members, totals and the entities showing them."""

    kind: GroupKind
    # The area id, the floor id, or "property".
    group_id: str
    name: str
    members: tuple[Member, ...] = ()
    totals: GroupTotals = field(default_factory=GroupTotals)
    # Each entity's update and the members' sensors it shows (None: all of them).
    listeners: list[tuple[CALLBACK_TYPE, frozenset[str] | None]] = field(default_factory=list)

    @property
    def unique_id_prefix(self) -> str:
        """``room_{area_id}``, ``floor_{floor_id}`` or ``property`` (entity unique ids)."""
        return PROPERTY if self.kind == PROPERTY else f"{self.kind}_{self.group_id}"

    @property
    def device_identifier(self) -> tuple[str, str]:
        """The device the group's entities are on (the household's for the property)."""
        return _identifier(self.kind, self.group_id)

    @callback
    def async_add_listener(
        self, update: CALLBACK_TYPE, sensors: frozenset[str] | None = None
    ) -> CALLBACK_TYPE:
        """Call ``update`` when one of the members' ``sensors`` changes (None: any change).

        ``sensors`` are ``SENSORS`` names. Returns the remover.
        """
        listener = (update, sensors)
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    @callback
    def async_notify(self, sensor: str | None = None) -> None:
        """Tell the entities showing a member's ``sensor`` (None: all) to write their state.

        A power reading every few seconds from hundreds of appliances then
        rewrites only the power sensors, not the property's lists of names.
        """
        for update, sensors in list(self.listeners):
            if sensor is None or sensors is None or sensor in sensors:
                update()


def _identifier(kind: GroupKind, group_id: str) -> tuple[str, str]:
    if kind == "room":
        return room_device_identifier(group_id)
    if kind == "floor":
        return floor_device_identifier(group_id)
    return _HOUSEHOLD_DEVICE


def _number(state: State | None) -> float | None:
    """A state's number; None if unavailable, unknown or not a number."""
    if state is None or state.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
        return None
    try:
        return float(state.state)
    except ValueError:
        return None


def _in_unit(state: State | None, converter: type[BaseUnitConverter], unit: str) -> float | None:
    """A state's number in ``unit`` (a person may show the sensor in another); None if unknown."""
    value = _number(state)
    if value is None or state is None:
        return None
    shown = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if shown == unit:
        return value
    if shown not in converter.VALID_UNITS:
        return None
    return converter.convert(value, shown, unit)


class PropertyEnergy:
    """The household entry's room, floor and property groups, kept in step with the registries.

    ``add_group`` is called once for every new group (the sensor platform adds
    its entities); groups that disappear lose their device, which removes their
    entities.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        household: HouseholdEnergy,
        add_group: Callable[[Group], None],
    ) -> None:
        """Nothing is read until ``async_sync``."""
        self.hass = hass
        self.entry = entry
        self.household = household
        self._add_group = add_group
        self.groups: dict[str, Group] = {}
        # Which member and which of its sensors each followed entity id is.
        self._followed: dict[str, tuple[str, str]] = {}
        self._members: dict[str, Member] = {}
        # The groups each member (device id) is in.
        self._groups_of: dict[str, list[Group]] = {}
        self._stop_following: CALLBACK_TYPE | None = None
        self._running = False

    # --- reading ---------------------------------------------------------------------

    def price(self) -> float | None:
        """The electricity price now (currency/kWh), None while the price feed is down."""
        return self.household.price_now(dt_util.utcnow())

    def power_w(self, group: Group) -> float | None:
        """The members' power now (W), the ones that report it; None if none does."""
        values = [
            value
            for member in group.members
            if (value := _in_unit(self._state(member.power), PowerConverter, UnitOfPower.WATT))
            is not None
        ]
        return sum(values) if values else None

    def offline(self, group: Group) -> list[Member]:
        """The members whose energy sensor is unavailable (or missing)."""
        return [
            member
            for member in group.members
            if member.energy is None
            or (state := self.hass.states.get(member.energy)) is None
            or state.state == STATE_UNAVAILABLE
        ]

    def faulty(self, group: Group) -> list[Member]:
        """The members reporting faults now."""
        return [
            member
            for member in group.members
            if member.faults is not None
            and (state := self.hass.states.get(member.faults)) is not None
            and state.state == STATE_ON
        ]

    def _state(self, entity_id: str | None) -> State | None:
        return None if entity_id is None else self.hass.states.get(entity_id)

    # --- following the registries ----------------------------------------------------

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Sync now and after every change of rooms, floors or our appliances' entities.

        Returns the function that stops it all. Appliance entities are created
        after their device (an appliance entry set up after the household's), so
        entity registry changes of this integration's sensors count too.
        """
        pending = False

        @callback
        def _sync_soon(_event: Event[Any] | None = None) -> None:
            nonlocal pending
            if not pending:
                pending = True
                self.hass.loop.call_soon(_sync)

        @callback
        def _sync() -> None:
            nonlocal pending
            pending = False
            if self._running:
                self.async_sync()

        @callback
        def _ours(data: er.EventEntityRegistryUpdatedData) -> bool:
            entry = er.async_get(self.hass).async_get(data["entity_id"])
            return data["action"] != "update" and (entry is None or entry.platform == DOMAIN)

        self._running = True
        self.async_sync()
        removers = [
            async_track_rooms(self.hass, _sync_soon),
            self.hass.bus.async_listen(
                er.EVENT_ENTITY_REGISTRY_UPDATED, _sync_soon, event_filter=_ours
            ),
        ]

        @callback
        def _stop() -> None:
            self._running = False
            for remove in removers:
                remove()
            self.async_stop()

        return _stop

    @callback
    def async_sync(self) -> None:
        """Bring groups, their members, devices and entities in line with the registries."""
        members = self._appliances()
        room_map = rooms(self.hass)
        wanted: dict[str, tuple[GroupKind, str, str, list[str]]] = {
            PROPERTY: ("property", PROPERTY, self.entry.title, list(members))
        }
        for room in room_map.values():
            wanted[f"room_{room.area_id}"] = (
                "room",
                room.area_id,
                room.name,
                list(room.device_ids),
            )
        for floor in floors(self.hass, room_map).values():
            device_ids = [d for area_id in floor.area_ids for d in room_map[area_id].device_ids]
            wanted[f"floor_{floor.floor_id}"] = ("floor", floor.floor_id, floor.name, device_ids)
        for key in list(self.groups):
            if key not in wanted:
                self._remove(self.groups.pop(key))
        self._remove_stale_devices(
            {_identifier(kind, group_id) for kind, group_id, _, _ in wanted.values()}
        )
        self._members = _with_rooms(members, room_map)
        for key, (kind, group_id, name, device_ids) in wanted.items():
            group = self.groups.get(key)
            created = group is None
            if group is None:
                group = self.groups[key] = Group(kind, group_id, name)
            group.name = name
            group.members = tuple(self._members[d] for d in device_ids if d in self._members)
            group.totals.set_members(device_ids)
            self._place_device(group)
            if created:
                self._add_group(group)
        self._groups_of = {}
        for group in self.groups.values():
            for member in group.members:
                self._groups_of.setdefault(member.device_id, []).append(group)
        self._follow()
        for group in self.groups.values():
            for member in group.members:
                self._take_readings(group, member)
            group.async_notify()

    def _appliances(self) -> dict[str, Member]:
        """Every paired appliance's device, by device id."""
        appliance_entries = {
            entry.entry_id
            for entry in self.hass.config_entries.async_entries(DOMAIN)
            if entry.unique_id != HOUSEHOLD_UNIQUE_ID
        }
        entities = er.async_get(self.hass)
        found: dict[str, Member] = {}
        for device in dr.async_get(self.hass).devices.values():
            if device.disabled or not appliance_entries.intersection(device.config_entries):
                continue
            appliance_id = next((i for d, i in device.identifiers if d == DOMAIN), "")
            if not appliance_id:
                continue

            def entity(platform: str, key: str, prefix: str = appliance_id) -> str | None:
                return entities.async_get_entity_id(platform, DOMAIN, f"{prefix}_{key}")

            found[device.id] = Member(
                device_id=device.id,
                name=device.name_by_user or device.name or appliance_id,
                room=None,
                energy=entity("sensor", "energy"),
                power=entity("sensor", "power"),
                savings=entity("sensor", "energy_savings"),
                faults=entity("binary_sensor", "faults"),
            )
        return found

    def _place_device(self, group: Group) -> None:
        """Create the room's or floor's device (via the household's), the room's in its area."""
        if group.kind == PROPERTY:
            return
        devices = dr.async_get(self.hass)
        device = devices.async_get_or_create(
            config_entry_id=self.entry.entry_id,
            identifiers={group.device_identifier},
            name=group.name,
            manufacturer=MANUFACTURER,
            entry_type=DeviceEntryType.SERVICE,
            via_device=_HOUSEHOLD_DEVICE,
        )
        area_id = group.group_id if group.kind == "room" else None
        if device.name != group.name or (area_id is not None and device.area_id != area_id):
            devices.async_update_device(
                device.id, name=group.name, area_id=area_id or device.area_id
            )

    def _remove(self, group: Group) -> None:
        """A room or floor that is gone: its device goes, and its entities with it."""
        devices = dr.async_get(self.hass)
        device = devices.async_get_device({group.device_identifier})
        if device is not None and group.kind != PROPERTY:
            devices.async_update_device(device.id, remove_config_entry_id=self.entry.entry_id)

    def _remove_stale_devices(self, keep: set[tuple[str, str]]) -> None:
        """Room and floor devices of rooms and floors that went (also while stopped)."""
        devices = dr.async_get(self.hass)
        prefixes = (room_device_identifier("")[1], floor_device_identifier("")[1])
        for device in dr.async_entries_for_config_entry(devices, self.entry.entry_id):
            ours = {
                identifier
                for identifier in device.identifiers
                if identifier[0] == DOMAIN and identifier[1].startswith(prefixes)
            }
            if ours and not ours & keep:
                devices.async_update_device(device.id, remove_config_entry_id=self.entry.entry_id)

    # --- following the appliances' sensors -------------------------------------------

    def _follow(self) -> None:
        followed: dict[str, tuple[str, str]] = {}
        for member in self._members.values():
            for sensor in SENSORS:
                entity_id = getattr(member, sensor)
                if entity_id is not None:
                    followed[entity_id] = (member.device_id, sensor)
        if followed == self._followed and self._stop_following is not None:
            return
        self.async_stop()
        self._followed = followed
        self._stop_following = async_track_state_change_event(
            self.hass, list(followed), self._async_state_changed
        )

    @callback
    def _async_state_changed(self, event: Event[EventStateChangedData]) -> None:
        found = self._followed.get(event.data["entity_id"])
        if found is None:
            return
        device_id, sensor = found
        member = self._members.get(device_id)
        if member is None:
            return
        for group in self._groups_of.get(member.device_id, ()):
            self._take_readings(group, member)
            group.async_notify(sensor)

    def _take_readings(self, group: Group, member: Member) -> None:
        kwh = _in_unit(self._state(member.energy), EnergyConverter, UnitOfEnergy.KILO_WATT_HOUR)
        group.totals.read_energy(member.device_id, kwh, self.price())
        group.totals.read_savings(member.device_id, _number(self._state(member.savings)))

    @callback
    def async_stop(self) -> None:
        """Stop following the appliances' sensors (the household entry unloads)."""
        if self._stop_following is not None:
            self._stop_following()
            self._stop_following = None


def _with_rooms(members: dict[str, Member], room_map: dict[str, Room]) -> dict[str, Member]:
    """The members with the name of the room each is in (None: in no room)."""
    room_of = {d: room.name for room in room_map.values() for d in room.device_ids}
    return {
        device_id: Member(
            member.device_id,
            member.name,
            room_of.get(device_id),
            member.energy,
            member.power,
            member.savings,
            member.faults,
        )
        for device_id, member in members.items()
    }


def names_by_room(members: Iterable[Member]) -> dict[str, Any]:
    """The members' names per room for an attribute, at most ``MAX_LISTED_NAMES`` of them.

    Shape: ``{"rooms": {room name: [names]}, "without_room": [names], "not_listed": n}``.
    """
    by_room: dict[str, list[str]] = {}
    without_room: list[str] = []
    listed = not_listed = 0
    for member in sorted(members, key=lambda m: (m.room or "", m.name)):
        if listed >= MAX_LISTED_NAMES:
            not_listed += 1
            continue
        listed += 1
        if member.room is None:
            without_room.append(member.name)
        else:
            by_room.setdefault(member.room, []).append(member.name)
    return {"rooms": by_room, "without_room": without_room, "not_listed": not_listed}
