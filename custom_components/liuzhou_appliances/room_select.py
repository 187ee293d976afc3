"""Each room's occupancy select, on the room's device of the household entry.

The entity (unique id ``room_<area id>_occupancy``) shows and sets the room's
state (``room_runtime.RoomOccupancy``). It appears when an area becomes a
room and goes, with the room's device, when it stops being one
(``room_index.async_track_rooms``).
"""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, HOUSEHOLD_UNIQUE_ID, MANUFACTURER
from .room_index import Room, async_track_rooms, room_device_identifier, rooms
from .room_occupancy import ROOM_STATES, RoomStateError, parse_state
from .room_runtime import RoomOccupancy
from .runtime_data import HouseholdConfigEntry

OCCUPANCY_KEY = "occupancy"


def room_device_info(room: Room) -> DeviceInfo:
    """The household's device for one room (named after the area)."""
    return DeviceInfo(
        identifiers={room_device_identifier(room.area_id)},
        manufacturer=MANUFACTURER,
        name=room.name,
        via_device=(DOMAIN, HOUSEHOLD_UNIQUE_ID),
        suggested_area=room.name,
    )


@callback
def async_setup_room_selects(
    hass: HomeAssistant,
    entry: HouseholdConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a select per room now and whenever a room appears; remove it when one goes."""
    occupancy = entry.runtime_data.rooms
    if occupancy is None:
        return
    added: set[str] = set()

    @callback
    def _sync() -> None:
        present = rooms(hass)
        new = [room for area_id, room in present.items() if area_id not in added]
        added.update(room.area_id for room in new)
        if new:
            async_add_entities(RoomOccupancySelect(occupancy, room) for room in new)
        for area_id in added - set(present):
            added.discard(area_id)
            _async_remove_room(hass, area_id)

    _sync()
    entry.async_on_unload(async_track_rooms(hass, _sync))


@callback
def _async_remove_room(hass: HomeAssistant, area_id: str) -> None:
    """A room that went: its select, and its device once nothing else is on it."""
    entities = er.async_get(hass)
    if entity_id := entities.async_get_entity_id(
        "select", DOMAIN, f"room_{area_id}_{OCCUPANCY_KEY}"
    ):
        entities.async_remove(entity_id)
    devices = dr.async_get(hass)
    device = devices.async_get_device({room_device_identifier(area_id)})
    if device is not None and not er.async_entries_for_device(entities, device.id):
        devices.async_remove_device(device.id)


class RoomOccupancySelect(SelectEntity):
    """A room's occupancy: vacant, arriving, occupied (check-out passes to vacant)."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_translation_key = "room_occupancy"

    def __init__(self, occupancy: RoomOccupancy, room: Room) -> None:
        """The select of ``room``."""
        self.occupancy = occupancy
        self.area_id = room.area_id
        self._attr_options = list(ROOM_STATES)
        self._attr_unique_id = f"room_{room.area_id}_{OCCUPANCY_KEY}"
        self._attr_device_info = room_device_info(room)

    async def async_added_to_hass(self) -> None:
        """Follow the room's state; put the room's device in the room's area."""
        await super().async_added_to_hass()
        self.async_on_remove(self.occupancy.async_add_listener(self._async_changed))
        devices = dr.async_get(self.hass)
        device = devices.async_get_device({room_device_identifier(self.area_id)})
        if device is not None and device.area_id != self.area_id:
            devices.async_update_device(device.id, area_id=self.area_id)

    @callback
    def _async_changed(self, area_id: str) -> None:
        if area_id == self.area_id:
            self.async_write_ha_state()

    @property
    def current_option(self) -> str:
        """The room's state."""
        return str(self.occupancy.state_of(self.area_id))

    @property
    def extra_state_attributes(self) -> dict[str, str | None]:
        """The expected arrival of an arriving room (ISO 8601, UTC), else None."""
        return {"arrival": self.occupancy.record(self.area_id).arrival}

    async def async_select_option(self, option: str) -> None:
        """Set the room's state; a change not allowed is a translated error."""
        room = rooms(self.hass).get(self.area_id)
        if room is None:
            return
        try:
            await self.occupancy.async_set_state(room, parse_state(option))
        except RoomStateError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=err.code,
                translation_placeholders={"detail": err.detail},
            ) from None
