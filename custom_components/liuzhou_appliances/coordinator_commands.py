"""Requests to one appliance (values, commands, voice panel requests) and their errors.

Each request is checked against the appliance's declaration first, then sent
on the open session (a parked on-demand BLE one is opened for it). What the
appliance or the link refuses becomes a translated ``HomeAssistantError``;
the appliance's own English words go to the log at info level.
``LiuzhouCoordinator`` owns one ``ApplianceRequests`` and passes its
``async_write``, ``async_command`` and ``async_panel_request`` on to it.
A failed refresh is translated here too (``refresh_error``,
``async_connect_error``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
import logging
from typing import Protocol

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.update_coordinator import UpdateFailed

from .bluetooth import OutOfConnectionSlots
from .connection_stats import ConnectionStats
from .const import DOMAIN
from .coordinator_view import CoordinatorView
from .link.client import ApplianceClient
from .link.declaration import Declaration
from .link.errors import KeyRejectedError, LinkError, TransportError, ValueRejectedError
from .link.model import Value
from .naming import async_error_reason

_LOGGER = logging.getLogger(__package__)


def unavailable_error(title: str) -> HomeAssistantError:
    """The error of a request the appliance named ``title`` cannot be reached for."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="appliance_unavailable",
        translation_placeholders={"appliance": title},
    )


def refresh_error(title: str) -> UpdateFailed:
    """The error of a refresh of the appliance named ``title`` that the link failed."""
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="appliance_unavailable",
        translation_placeholders={"appliance": title},
    )


async def async_connect_error(
    hass: HomeAssistant, title: str, err: LinkError
) -> UpdateFailed | ConfigEntryAuthFailed:
    """The error of the first refresh, whose connection failed with ``err``.

    ``ConfigEntryAuthFailed`` (reauthentication) when the appliance rejected
    the key; else ``UpdateFailed``: no free Bluetooth connection, unreachable,
    or refused (with the reason in the user's language).
    """
    if isinstance(err, OutOfConnectionSlots):
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="ble_no_connection_slot",
            translation_placeholders={"appliance": title},
        )
    if isinstance(err, TransportError):
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="appliance_unavailable",
            translation_placeholders={"appliance": title},
        )
    if err.means(KeyRejectedError):
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="key_rejected",
            translation_placeholders={"appliance": title},
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="connect_failed",
        translation_placeholders={
            "appliance": title,
            "error": err.code.name,
            "reason": await async_error_reason(hass, err.code),
        },
    )


class RequestsOwner(CoordinatorView, Protocol):
    """What requests read of the coordinator that owns them."""

    @property
    def declaration(self) -> Declaration:
        """The appliance's declaration, which requests are checked against."""

    @property
    def stats(self) -> ConnectionStats:
        """The counters of writes, commands and refusals."""


class ApplianceRequests:
    """Sends one appliance's writes, commands and panel requests; counts them in its stats.

    ``open_session`` returns the client of the open session, opening a parked
    one first; it raises the translated ``HomeAssistantError`` when there is none.
    """

    def __init__(
        self,
        coordinator: RequestsOwner,
        open_session: Callable[[], Awaitable[ApplianceClient]],
    ) -> None:
        """Send through ``open_session``'s client; read the declaration from ``coordinator``."""
        self._coordinator = coordinator
        self._open_session = open_session

    @property
    def _title(self) -> str:
        return self._coordinator.config_entry.title

    async def async_write(self, values: Mapping[str, Value]) -> None:
        """Write values; raise a translated HomeAssistantError if it cannot be done."""
        coordinator = self._coordinator
        stats = coordinator.stats
        validated: dict[str, Value] = {}
        for key, value in values.items():
            try:
                validated[key] = coordinator.declaration.validate_write(key, value)
            except LinkError as err:
                stats.rejected += 1
                raise await self._value_error(key, value, err) from err
        client = await self._open_session()
        stats.writes += 1
        try:
            await client.write(validated)
        except TransportError as err:
            raise unavailable_error(self._title) from err
        except ValueRejectedError as err:
            stats.rejected += 1
            key = err.key or next(iter(validated))
            raise await self._value_error(key, validated.get(key), err) from err
        except LinkError as err:
            stats.rejected += 1
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="write_rejected",
                translation_placeholders={
                    "keys": ", ".join(validated),
                    "error": err.code.name,
                    "reason": await self._refusal(f"the change of {', '.join(validated)}", err),
                    "detail": err.message,
                },
            ) from err

    async def async_command(self, name: str, args: Mapping[str, int] | None = None) -> None:
        """Send a command; raise a translated HomeAssistantError if it is not accepted."""
        coordinator = self._coordinator
        try:
            normalised = coordinator.declaration.validate_command(name, args or {})
        except LinkError as err:
            coordinator.stats.rejected += 1
            raise await self._command_error(name, err) from err
        client = await self._open_session()
        coordinator.stats.commands += 1
        try:
            await client.command(name, normalised)
        except TransportError as err:
            raise unavailable_error(self._title) from err
        except LinkError as err:
            coordinator.stats.rejected += 1
            raise await self._command_error(name, err) from err

    async def async_panel_request(self, send: Callable[[ApplianceClient], Awaitable[None]]) -> None:
        """Send a voice panel request (PROTOCOL.md 7.5) on the current connection.

        Raises a translated HomeAssistantError when the appliance is unreachable
        or refuses it.
        """
        client = await self._open_session()
        try:
            await send(client)
        except TransportError as err:
            raise unavailable_error(self._title) from err
        except LinkError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="panel_rejected",
                translation_placeholders={
                    "appliance": self._title,
                    "detail": str(err),
                },
            ) from err

    async def _refusal(self, what: str, err: LinkError) -> str:
        """Log the appliance's own (English) words; return the reason a person reads."""
        _LOGGER.info("%s refused %s: %s", self._title, what, err)
        return await async_error_reason(self._coordinator.hass, err.code)

    async def _value_error(self, key: str, value: object, err: LinkError) -> HomeAssistantError:
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="value_out_of_range",
            translation_placeholders={
                "key": key,
                "value": str(value),
                "reason": await self._refusal(f"{value} for {key}", err),
                "detail": err.message,
            },
        )

    async def _command_error(self, name: str, err: LinkError) -> HomeAssistantError:
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_rejected",
            translation_placeholders={
                "command": name,
                "error": err.code.name,
                "reason": await self._refusal(name, err),
                "detail": err.message,
            },
        )
