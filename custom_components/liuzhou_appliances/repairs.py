"""The fix flow of the one fixable repair issue: an appliance unreachable for too long.

The issues themselves are raised and deleted in issues.py; this module only
lets the user retry the connection at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant import data_entry_flow
from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import voluptuous as vol

from .const import DOMAIN
from .issues import is_unreachable_issue

if TYPE_CHECKING:
    from .coordinator import LiuzhouCoordinator


class UnreachableRepairFlow(RepairsFlow):
    """Lets the user retry the connection now; suggests reconfigure if it still fails."""

    def __init__(self, entry_id: str) -> None:
        """Remember which config entry the issue belongs to."""
        self._entry_id = entry_id

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        """First step: confirm."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        """Retry the connection when the user confirms."""
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        placeholders = dict(issue.translation_placeholders or {}) if issue else {}
        errors: dict[str, str] = {}
        if user_input is not None:
            if await self._async_retry():
                return self.async_create_entry(data={})
            errors["base"] = "still_unreachable"
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_retry(self) -> bool:
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        # Unloading deletes the issue; a flow left open meanwhile has nothing to retry.
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return False
        coordinator: LiuzhouCoordinator = entry.runtime_data.coordinator
        return await coordinator.async_reconnect_now()


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Create the fix flow of a fixable issue (only 'unreachable' is fixable)."""
    entry_id = (data or {}).get("entry_id")
    if not isinstance(entry_id, str) or not is_unreachable_issue(issue_id):
        raise data_entry_flow.UnknownStep(f"issue {issue_id} has no fix flow")
    return UnreachableRepairFlow(entry_id)
