"""Following an appliance that reconnects with new firmware or another declaration.

After each reconnect the device registry entry takes the firmware version,
model and manufacturer the appliance reports now (one info log line when the
firmware changed); a changed declaration removes the entities of the
capabilities it no longer declares and reloads the entry.
"""

from __future__ import annotations

import logging
from typing import Protocol

from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo

from .const import DOMAIN
from .coordinator_view import CoordinatorView
from .link.codec import HelloInfo
from .link.declaration import Declaration

_LOGGER = logging.getLogger(__package__)


class FollowingCoordinator(CoordinatorView, Protocol):
    """What following the appliance reads of its coordinator."""

    @property
    def device_info(self) -> DeviceInfo:
        """The device registry entry as the appliance describes itself now."""

    @property
    def hello(self) -> HelloInfo:
        """What the appliance said when it connected now."""

    @property
    def declaration(self) -> Declaration:
        """The appliance's declaration now."""


@callback
def async_follow_appliance(
    coordinator: FollowingCoordinator, hello: HelloInfo, declaration: Declaration
) -> None:
    """After a reconnect, show what the appliance says now (it may have new firmware).

    The device takes the firmware version, model and manufacturer it reports.
    A changed declaration rebuilds the entities: those of capabilities it no
    longer declares are removed, and the entry is reloaded so the others
    follow the new declaration (new capabilities, bounds, options).
    ``hello`` and ``declaration`` are what it said before; ``coordinator``
    holds what it says now.
    """
    registry = dr.async_get(coordinator.hass)
    device = registry.async_get_device(identifiers={(DOMAIN, coordinator.appliance_id)})
    if device is not None:
        info = coordinator.device_info
        registry.async_update_device(
            device.id,
            manufacturer=info.get("manufacturer"),
            model=info.get("model"),
            model_id=info.get("model_id"),
            sw_version=info.get("sw_version"),
        )
    if coordinator.declaration.to_dict() == declaration.to_dict():
        if coordinator.hello.firmware != hello.firmware:
            _LOGGER.info(
                "%s now runs firmware %s (was %s)",
                coordinator.config_entry.title,
                coordinator.hello.firmware,
                hello.firmware,
            )
        return
    now, then = set(coordinator.declaration.capabilities), set(declaration.capabilities)
    _LOGGER.info(
        "%s now runs firmware %s (was %s) and declares other capabilities "
        "(added: %s; removed: %s); reloading its entities",
        coordinator.config_entry.title,
        coordinator.hello.firmware,
        hello.firmware,
        ", ".join(sorted(now - then)) or "none",
        ", ".join(sorted(then - now)) or "none",
    )
    gone = {f"{coordinator.appliance_id}_{key}" for key in then - now}
    entities = er.async_get(coordinator.hass)
    for entity in er.async_entries_for_config_entry(entities, coordinator.config_entry.entry_id):
        if entity.unique_id in gone:
            entities.async_remove(entity.entity_id)
    coordinator.hass.config_entries.async_schedule_reload(coordinator.config_entry.entry_id)
