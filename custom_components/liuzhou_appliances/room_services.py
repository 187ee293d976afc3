"""Room actions: set_room_state (occupancy) and export_stay (what the hub holds about a stay).

Both target areas. Every failure is a translated ServiceValidationError: no
household entry, an area that is no room (holds no paired appliance), a
state that does not exist, a change not allowed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN
from .room_index import Room, rooms
from .room_occupancy import RoomStateError, check_transition, parse_state
from .room_privacy import stay_export
from .room_runtime import RoomOccupancy
from .runtime_data import household_rooms
from .service_error import service_error

SERVICE_SET_ROOM_STATE: Final = "set_room_state"
SERVICE_EXPORT_STAY: Final = "export_stay"
ATTR_AREA_ID: Final = "area_id"
ATTR_STATE: Final = "state"
ATTR_ARRIVAL: Final = "arrival"

_AREAS: Final = vol.All(cv.ensure_list, [cv.string], vol.Length(min=1))
# The state is checked by the handler, so a wrong one gets the translated error.
SET_ROOM_STATE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_AREA_ID): _AREAS,
        vol.Required(ATTR_STATE): cv.string,
        vol.Optional(ATTR_ARRIVAL): cv.datetime,
    }
)
EXPORT_STAY_SCHEMA: Final = vol.Schema({vol.Required(ATTR_AREA_ID): _AREAS})


def async_setup_room_services(hass: HomeAssistant) -> None:
    """Register set_room_state and export_stay."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_SET_ROOM_STATE,
        _async_set_room_state,
        schema=SET_ROOM_STATE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXPORT_STAY,
        _async_export_stay,
        schema=EXPORT_STAY_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )


def _targets(call: ServiceCall) -> tuple[RoomOccupancy, list[Room]]:
    """The occupancy runtime and the rooms the call names (all checked before any change)."""
    occupancy = household_rooms(call.hass)
    if occupancy is None:
        raise service_error("household_not_configured")
    known = rooms(call.hass)
    targets = []
    for area_id in call.data[ATTR_AREA_ID]:
        if area_id not in known:
            raise service_error("unknown_room", area=area_id)
        targets.append(known[area_id])
    return occupancy, targets


async def _async_set_room_state(call: ServiceCall) -> ServiceResponse:
    """Set each named room's state; answers what each appliance did."""
    occupancy, targets = _targets(call)
    try:
        state = parse_state(call.data[ATTR_STATE])
    except RoomStateError as err:
        raise service_error(err.code, detail=err.detail) from None
    arrival: datetime | None = call.data.get(ATTR_ARRIVAL)
    if arrival is not None and arrival.tzinfo is None:
        arrival = arrival.replace(tzinfo=dt_util.get_default_time_zone())
    try:
        for room in targets:  # every room checked before any changes
            check_transition(occupancy.state_of(room.area_id), state)
    except RoomStateError as err:
        raise service_error(err.code, detail=err.detail) from None
    answers: list[Any] = []
    for room in targets:
        try:
            answers.append(await occupancy.async_set_state(room, state, arrival))
        except RoomStateError as err:
            raise service_error(err.code, detail=err.detail) from None
    return {"rooms": answers}


async def _async_export_stay(call: ServiceCall) -> ServiceResponse:
    """What the hub holds about each named room's current stay."""
    occupancy, targets = _targets(call)
    exported: list[Any] = [
        stay_export(
            room.area_id,
            room.name,
            occupancy.record(room.area_id),
            occupancy.room_appliances(room),
        )
        for room in targets
    ]
    return {"rooms": exported}
