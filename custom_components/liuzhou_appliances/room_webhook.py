"""The property-management system's webhook: it sets a room's state with a token.

``POST /api/webhook/<webhook id>`` with the header ``Authorization: Bearer
<token>`` and a JSON body ``{"room": "<area id or area name>", "state":
"vacant|arriving|occupied|check_out", "arrival": "<ISO 8601, optional>"}``.
Answers (JSON): 200 with what each appliance did (as the
``set_room_state`` action answers), 400 for a body that is not such an
object, an unknown state or a change not allowed (``{"error": code,
"detail": ...}``), 404 for an unknown room, 401 for a missing or wrong
token (logged without the token).

The webhook id and the token are generated once and kept in the household
entry's data (never in its options, so diagnostics do not show them); the
household options form shows both. The token is compared in constant time.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any, Final

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import area_registry as ar
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN
from .room_index import Room, rooms
from .room_occupancy import RoomStateError, parse_state
from .room_runtime import RoomOccupancy

_LOGGER = logging.getLogger(__package__)

CONF_ROOM_WEBHOOK_ID: Final = "room_webhook_id"
CONF_ROOM_WEBHOOK_TOKEN: Final = "room_webhook_token"
_BEARER: Final = "Bearer "

BODY_SCHEMA: Final = vol.Schema(
    {
        vol.Required("room"): vol.All(str, vol.Length(min=1)),
        vol.Required("state"): str,
        vol.Optional("arrival"): vol.Any(None, str),
    }
)


@callback
def async_webhook_credentials(hass: HomeAssistant, entry: ConfigEntry[Any]) -> tuple[str, str]:
    """The entry's webhook id and token, made and kept in its data the first time."""
    webhook_id = entry.data.get(CONF_ROOM_WEBHOOK_ID)
    token = entry.data.get(CONF_ROOM_WEBHOOK_TOKEN)
    if not webhook_id or not token:
        webhook_id = webhook.async_generate_id()
        token = secrets.token_urlsafe(32)
        hass.config_entries.async_update_entry(
            entry,
            data={
                **entry.data,
                CONF_ROOM_WEBHOOK_ID: webhook_id,
                CONF_ROOM_WEBHOOK_TOKEN: token,
            },
        )
    return str(webhook_id), str(token)


@callback
def async_register_room_webhook(
    hass: HomeAssistant, entry: ConfigEntry[Any], occupancy: RoomOccupancy
) -> CALLBACK_TYPE:
    """Register the webhook; returns the function that unregisters it."""
    webhook_id, token = async_webhook_credentials(hass, entry)
    expected = token.encode()

    async def _handle(hass: HomeAssistant, _id: str, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        given = header[len(_BEARER) :].encode() if header.startswith(_BEARER) else b""
        if not hmac.compare_digest(given, expected):
            _LOGGER.warning(
                "Room webhook: request from %s refused (missing or wrong token)", request.remote
            )
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            body = BODY_SCHEMA(await request.json())
        except (ValueError, vol.Invalid) as err:
            return _bad("invalid_request", f"expected {{room, state, arrival?}}: {err}")
        room = find_room(hass, body["room"])
        if room is None:
            return web.json_response(
                {"error": "unknown_room", "detail": f"no room {body['room']!r}"}, status=404
            )
        arrival = None
        if body.get("arrival"):
            arrival = dt_util.parse_datetime(body["arrival"])
            if arrival is None:
                return _bad("invalid_arrival", f"{body['arrival']!r} is not a date and time")
            if arrival.tzinfo is None:
                arrival = arrival.replace(tzinfo=dt_util.get_default_time_zone())
        try:
            answer = await occupancy.async_set_state(room, parse_state(body["state"]), arrival)
        except RoomStateError as err:
            return _bad(err.code, err.detail)
        return web.json_response(answer)

    webhook.async_register(
        hass, DOMAIN, "Liuzhou room occupancy", webhook_id, _handle, allowed_methods=["POST"]
    )
    return lambda: webhook.async_unregister(hass, webhook_id)


def _bad(code: str, detail: str) -> web.Response:
    return web.json_response({"error": code, "detail": detail}, status=400)


def find_room(hass: HomeAssistant, name_or_id: str) -> Room | None:
    """The room with this area id, or else this area name (case as written); None if none."""
    found = rooms(hass)
    if name_or_id in found:
        return found[name_or_id]
    area = ar.async_get(hass).async_get_area_by_name(name_or_id)
    return None if area is None else found.get(area.id)
