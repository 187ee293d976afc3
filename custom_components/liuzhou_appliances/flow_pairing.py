"""Pairing for the config flow: pair with a code, identify with a stored key, form errors.

Every failure is a PairingFailed carrying the translated form error key
(config.error in translations/en.json) and its placeholders; the config flow
(config_flow.py) shows it on the form, or aborts with it (the provision step).
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
import math
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import instance_id
import voluptuous as vol

from .bluetooth import NoConnectableAdapter, NotInRange, OutOfConnectionSlots, ble_opener
from .const import CONF_ADDRESS, CONF_APPLIANCE_ID, CONF_HUB_ID, CONF_KEY, CONF_PAIRING_CODE, DOMAIN
from .link.client import ApplianceClient, PairingResult, pair
from .link.codec import HelloInfo
from .link.discovery import DEFAULT_PORT
from .link.errors import (
    BusyError,
    InvalidStateError,
    KeyRejectedError,
    LinkError,
    RateLimitedError,
    TimedOutError,
    TransportError,
    UnsupportedVersionError,
    WrongCodeError,
)
from .link.pairing import PAIRING_WINDOW_S, InvalidPairingCode, normalise_pairing_code

_LOGGER = logging.getLogger(__package__)

# The form that asks for the pairing code (zeroconf, Bluetooth, reauthentication).
CODE_SCHEMA = vol.Schema({vol.Required(CONF_PAIRING_CODE): str})


class PairingFailed(Exception):
    """Pairing or connecting did not work; ``error`` is the translated error key."""

    def __init__(self, error: str, placeholders: Mapping[str, str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.placeholders = dict(placeholders or {})

    def show(self, errors: dict[str, str], placeholders: dict[str, str]) -> None:
        """Put the error on a form asking for the pairing code: a code in the wrong
        format on the code field, anything else on the form as a whole."""
        field = CONF_PAIRING_CODE if self.error == "invalid_code_format" else "base"
        errors[field] = self.error
        placeholders.update(self.placeholders)


def link_error_key(err: LinkError, *, pairing: bool = False) -> tuple[str, dict[str, str]]:
    """Map a protocol error to the form error shown to the user.

    ``pairing``: the error answered a pairing attempt, where INVALID_STATE
    means the appliance is not open for pairing (PROTOCOL.md 5.5).
    """
    if pairing and err.means(InvalidStateError):
        return "pairing_closed", {"minutes": str(round(PAIRING_WINDOW_S / 60))}
    if err.means(WrongCodeError):
        return "wrong_code", {}
    if err.means(RateLimitedError):
        retry_after = err.retry_after or 0
        return "rate_limited", {"retry_after": str(max(1, math.ceil(retry_after)))}
    if err.means(UnsupportedVersionError):
        return "unsupported_version", {}
    if err.means(KeyRejectedError):
        return "key_rejected", {}
    if err.means(BusyError):
        return "busy", {}
    if err.means(TimedOutError):
        return "timed_out", {}
    _LOGGER.warning("Unexpected error from the appliance: %s", err)
    return "unknown", {}


def _unreachable_key(err: TransportError, *, ble: bool) -> str:
    """The form error for a connection that could not be made."""
    if isinstance(err, NoConnectableAdapter):
        return "no_bluetooth_adapter"
    if isinstance(err, NotInRange):
        return "ble_not_in_range"
    if isinstance(err, OutOfConnectionSlots):
        return "ble_no_connection_slot"
    return "ble_cannot_connect" if ble else "cannot_connect"


async def async_get_hub_id(hass: Any) -> str:
    """This Home Assistant's identity towards appliances (stable per installation)."""
    return f"ha-{(await instance_id.async_get(hass))[:16]}"


async def async_pair(
    hass: HomeAssistant, where: Mapping[str, Any], code: str
) -> tuple[PairingResult, str]:
    """Pair with the code over the LAN (host, port) or BLE (address).

    ``where``: CONF_HOST and optional CONF_PORT, or CONF_ADDRESS. Returns the
    pairing result and this installation's hub id. Raises PairingFailed with
    the form error.
    """
    try:
        digits = normalise_pairing_code(code)
    except InvalidPairingCode:
        raise PairingFailed("invalid_code_format") from None
    hub_id = await async_get_hub_id(hass)
    host, port = where.get(CONF_HOST), where.get(CONF_PORT, DEFAULT_PORT)
    address = None if host else where[CONF_ADDRESS]
    try:
        if address is None:
            result = await pair(str(host), port, digits, hub_id=hub_id)
        else:
            result = await pair(
                "",
                0,
                digits,
                hub_id=hub_id,
                open_transport=ble_opener(hass, address, DOMAIN),
            )
    except TransportError as err:
        _LOGGER.debug("Cannot reach %s: %s", address or f"{host}:{port}", err)
        raise PairingFailed(_unreachable_key(err, ble=address is not None)) from err
    except LinkError as err:
        error, placeholders = link_error_key(err, pairing=True)
        raise PairingFailed(error, placeholders) from err
    except Exception as err:
        _LOGGER.exception("Unexpected error pairing with %s", address or f"{host}:{port}")
        raise PairingFailed("unknown") from err
    return result, hub_id


def entry_data(where: Mapping[str, Any], result: PairingResult, hub_id: str) -> dict[str, Any]:
    """A paired appliance's entry data: where it is, its id, the long-term key, the hub id."""
    return {
        **where,
        CONF_APPLIANCE_ID: result.hello.appliance_id,
        CONF_KEY: result.key.hex(),
        CONF_HUB_ID: hub_id,
    }


async def async_identify(host: str, port: int, entry: ConfigEntry) -> HelloInfo:
    """Connect with the entry's key and return who answered.

    Another appliance cannot accept our key; its HELLO still says who it is,
    which the caller reports as a different appliance. Raises PairingFailed
    with the form error.
    """
    client = ApplianceClient(
        host, port, bytes.fromhex(entry.data[CONF_KEY]), hub_id=entry.data[CONF_HUB_ID]
    )
    try:
        await client.connect()
        assert client.hello is not None  # set by connect()
        return client.hello
    except TransportError as err:
        raise PairingFailed("cannot_connect") from err
    except LinkError as err:
        if client.hello is not None and client.hello.appliance_id != entry.unique_id:
            return client.hello
        error, placeholders = link_error_key(err)
        raise PairingFailed(error, placeholders) from err
    except Exception as err:
        _LOGGER.exception("Unexpected error connecting to %s:%s", host, port)
        raise PairingFailed("unknown") from err
    finally:
        await client.disconnect()
