"""One appliance's repair issues, as its connection and state raise and clear them.

- unreachable: raised when the appliance stays disconnected for the entry's
  ``offline_repair_minutes``; cleared when it connects again;
- no connection slot: raised when no Bluetooth adapter or proxy in range has
  a free connection; cleared when it connects again;
- faults and supplies (``issues.STATE_ISSUE_KEYS``): synced on each
  connection, and on each push that changed a key they come from.

``LiuzhouCoordinator`` owns one ``ApplianceIssues``; the issues themselves
(their ids, texts and fix flows) are in issues.py and repairs.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_call_later

from .const import CONF_OFFLINE_REPAIR_MINUTES, DEFAULT_OFFLINE_REPAIR_MINUTES
from .coordinator_view import CoordinatorView
from .issues import (
    STATE_ISSUE_KEYS,
    IssueId,
    IssueOwner,
    async_clear_all_issues,
    async_clear_no_connection_slot_issue,
    async_clear_unreachable_issue,
    async_raise_no_connection_slot_issue,
    async_raise_unreachable_issue,
    async_sync_state_issues,
)
from .link.client import ApplianceClient
from .link.declaration import Declaration
from .link.model import Value


class IssuesOwner(CoordinatorView, Protocol):
    """What ``ApplianceIssues`` reads of the coordinator that owns it."""

    @property
    def session_open(self) -> bool:
        """Whether a session with the appliance is open now."""

    @property
    def host(self) -> str | None:
        """The LAN host, if the entry has one."""

    @property
    def port(self) -> int:
        """The LAN port."""

    @property
    def address(self) -> str | None:
        """The Bluetooth address, if the entry has one."""

    @property
    def declaration(self) -> Declaration:
        """The connected appliance's declaration (its type's faults and supplies)."""

    @property
    def client(self) -> ApplianceClient:
        """The client of the current session (its state)."""


class ApplianceIssues:
    """Raises and clears one appliance's repair issues."""

    def __init__(self, coordinator: IssuesOwner, entry: ConfigEntry[Any]) -> None:
        """Wait the ``offline_repair_minutes`` of ``entry`` before saying it is unreachable."""
        self._coordinator = coordinator
        self.offline_repair_s = 60.0 * entry.options.get(
            CONF_OFFLINE_REPAIR_MINUTES, DEFAULT_OFFLINE_REPAIR_MINUTES
        )
        self._cancel_offline_timer: CALLBACK_TYPE | None = None
        # This appliance's fault and supply issues, as the last sync left them.
        self._state_issues: set[IssueId] | None = None

    @property
    def owner(self) -> IssueOwner:
        """This appliance as its repair issues name it."""
        coordinator = self._coordinator
        entry = coordinator.config_entry
        return IssueOwner(entry.entry_id, coordinator.appliance_id, entry.title)

    @callback
    def async_connection_lost(self) -> None:
        """Say the appliance is unreachable if it is still not back after the delay."""
        self._cancel_offline_timer = async_call_later(
            self._coordinator.hass, self.offline_repair_s, self._async_offline_too_long
        )

    @callback
    def _async_offline_too_long(self, _now: Any) -> None:
        self._cancel_offline_timer = None
        coordinator = self._coordinator
        if not coordinator.session_open:
            async_raise_unreachable_issue(
                coordinator.hass,
                self.owner,
                minutes=round(self.offline_repair_s / 60),
                host=coordinator.host,
                port=coordinator.port,
                address=coordinator.address,
            )

    @callback
    def async_no_connection_slot(self) -> None:
        """No Bluetooth adapter or proxy in range has a free connection: only the user can help."""
        coordinator = self._coordinator
        async_raise_no_connection_slot_issue(
            coordinator.hass, self.owner, address=str(coordinator.address)
        )

    @callback
    def async_connection_restored(self) -> None:
        """Connected: clear the connection's issues, sync those of the state."""
        coordinator = self._coordinator
        self.async_cancel()
        async_clear_unreachable_issue(coordinator.hass, coordinator.appliance_id)
        if coordinator.address is not None:
            async_clear_no_connection_slot_issue(coordinator.hass, coordinator.appliance_id)
        self._state_issues = async_sync_state_issues(
            coordinator.hass,
            self.owner,
            coordinator.declaration.type_spec,
            coordinator.client.state,
        )

    @callback
    def async_pushed(self, changed: Mapping[str, Value]) -> None:
        """Sync the fault and supply issues if ``changed`` has a key they come from."""
        if STATE_ISSUE_KEYS.isdisjoint(changed):
            return
        coordinator = self._coordinator
        self._state_issues = async_sync_state_issues(
            coordinator.hass,
            self.owner,
            coordinator.declaration.type_spec,
            coordinator.client.state,
            self._state_issues,
        )

    @callback
    def async_cancel(self) -> None:
        """Stop waiting to say the appliance is unreachable."""
        if self._cancel_offline_timer is not None:
            self._cancel_offline_timer()
            self._cancel_offline_timer = None

    @callback
    def async_remove_all(self) -> None:
        """Delete every repair issue of this appliance (entry removed)."""
        async_clear_all_issues(self._coordinator.hass, self._coordinator.appliance_id)
        self._state_issues = None
