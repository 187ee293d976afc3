"""Repair issues for conditions that need a person, and the fix flow for one.

Raised: each active fault code, rinse aid or salt low (dishwashers), an
appliance unreachable for longer than the configured time, and an appliance
that persistently reports values its own declaration does not allow. Each
issue is deleted as soon as its condition clears. Only the unreachable issue
is fixable: its flow retries the connection at once.

"Persistently" is ``INVALID_VALUES_COUNT`` invalid values (each attribute of
each push or read counts) within ``INVALID_VALUES_WINDOW_S``: a single glitch
is only logged. The issue is deleted after ``INVALID_VALUES_QUIET_S`` without
an invalid value, or when the entry is unloaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from homeassistant import data_entry_flow
from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
import voluptuous as vol

from .const import DOMAIN

if TYPE_CHECKING:
    from .coordinator import LiuzhouCoordinator

# Boolean state keys that raise an issue while true.
SUPPLY_ISSUES: Final = ("rinse_aid_low", "salt_low")
UNREACHABLE: Final = "unreachable"
INVALID_VALUES: Final = "invalid_values"
INVALID_VALUES_COUNT: Final = 10
INVALID_VALUES_WINDOW_S: Final = 600.0
INVALID_VALUES_QUIET_S: Final = 3600.0


def fault_issue_id(appliance_id: str, code: str) -> str:
    """Issue id of one active fault code."""
    return f"{appliance_id}_fault_{code}"


def _issue_ids_of(hass: HomeAssistant, appliance_id: str) -> set[str]:
    prefix = f"{appliance_id}_"
    return {
        issue_id
        for (domain, issue_id) in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.startswith(prefix)
    }


@callback
def async_sync_state_issues(hass: HomeAssistant, coordinator: LiuzhouCoordinator) -> None:
    """Create issues for active faults and low supplies; delete those that cleared."""
    appliance_id = coordinator.appliance_id
    state = coordinator.client.state
    title = coordinator.config_entry.title
    type_spec = coordinator.declaration.type_spec
    wanted: dict[str, tuple[str, dict[str, str], ir.IssueSeverity]] = {}
    faults = state.get("faults")
    for code in faults if isinstance(faults, list) else []:
        key = f"fault_{type_spec.type}_{code}" if code in type_spec.fault_codes else "fault_unknown"
        wanted[fault_issue_id(appliance_id, code)] = (
            key,
            {"appliance": title, "code": code},
            ir.IssueSeverity.ERROR,
        )
    for supply in SUPPLY_ISSUES:
        if state.get(supply) is True:
            wanted[f"{appliance_id}_{supply}"] = (
                supply,
                {"appliance": title},
                ir.IssueSeverity.WARNING,
            )
    existing = _issue_ids_of(hass, appliance_id) - {
        f"{appliance_id}_{UNREACHABLE}",
        f"{appliance_id}_{INVALID_VALUES}",
    }
    for issue_id in existing - set(wanted):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    for issue_id, (translation_key, placeholders, severity) in wanted.items():
        if issue_id in existing:
            continue
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=severity,
            translation_key=translation_key,
            translation_placeholders=placeholders,
            data={"entry_id": coordinator.config_entry.entry_id},
        )


@callback
def async_raise_unreachable_issue(
    hass: HomeAssistant, coordinator: LiuzhouCoordinator, *, minutes: int
) -> None:
    """The appliance has been offline longer than the configured time."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{coordinator.appliance_id}_{UNREACHABLE}",
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=UNREACHABLE,
        translation_placeholders={
            "appliance": coordinator.config_entry.title,
            "minutes": str(minutes),
            "host": coordinator.host,
            "port": str(coordinator.port),
        },
        data={"entry_id": coordinator.config_entry.entry_id},
    )


@callback
def async_clear_unreachable_issue(hass: HomeAssistant, appliance_id: str) -> None:
    """The appliance is connected again."""
    ir.async_delete_issue(hass, DOMAIN, f"{appliance_id}_{UNREACHABLE}")


@callback
def async_raise_invalid_values_issue(
    hass: HomeAssistant, coordinator: LiuzhouCoordinator, *, keys: list[str]
) -> None:
    """The appliance keeps reporting values its declaration does not allow."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{coordinator.appliance_id}_{INVALID_VALUES}",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=INVALID_VALUES,
        translation_placeholders={
            "appliance": coordinator.config_entry.title,
            "keys": ", ".join(keys),
            "count": str(INVALID_VALUES_COUNT),
            "minutes": str(round(INVALID_VALUES_WINDOW_S / 60)),
            "quiet_minutes": str(round(INVALID_VALUES_QUIET_S / 60)),
        },
        data={"entry_id": coordinator.config_entry.entry_id},
    )


@callback
def async_clear_invalid_values_issue(hass: HomeAssistant, appliance_id: str) -> None:
    """The appliance has reported only valid values for a while."""
    ir.async_delete_issue(hass, DOMAIN, f"{appliance_id}_{INVALID_VALUES}")


@callback
def async_clear_all_issues(hass: HomeAssistant, appliance_id: str) -> None:
    """Delete every issue of this appliance (its entry was unloaded)."""
    for issue_id in _issue_ids_of(hass, appliance_id):
        ir.async_delete_issue(hass, DOMAIN, issue_id)


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
    if not isinstance(entry_id, str) or not issue_id.endswith(f"_{UNREACHABLE}"):
        raise data_entry_flow.UnknownStep(f"issue {issue_id} has no fix flow")
    return UnreachableRepairFlow(entry_id)
