"""What every part of an appliance's coordinator reads of it (``CoordinatorView``).

The parts (requests, BLE on-demand links, repair issues, following the
appliance's firmware) each extend this protocol with what else they need; the
coordinator satisfies all of them, and mypy checks that it does.
"""

from __future__ import annotations

from typing import Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant


class CoordinatorView(Protocol):
    """Home Assistant, the appliance's entry and its id."""

    @property
    def hass(self) -> HomeAssistant:
        """The Home Assistant instance."""

    @property
    def config_entry(self) -> ConfigEntry[Any]:
        """The appliance's entry: background tasks, and its title in errors, issues and the log."""

    @property
    def appliance_id(self) -> str:
        """The appliance's id: the device's identifier, in issue ids."""
