"""Repair issues of one appliance: raised where their condition is detected, deleted when it clears.

Raised: each active fault code, rinse aid or salt low (dishwashers), an
appliance unreachable for longer than the configured time, a Bluetooth
appliance that no adapter or proxy in range has a free connection for, and an
appliance that persistently reports values its own declaration does not
allow, and a fault the hub's fridge fault detector suspects (fridge_fault_monitor.py).
Each issue is deleted as soon as its condition clears. Only the
unreachable issue is fixable: its flow (repairs.py) retries the connection at once.

"Persistently" is ``INVALID_VALUES_COUNT`` invalid values (each attribute of
each push or read counts) within ``INVALID_VALUES_WINDOW_S``: a single glitch
is only logged. The issue is deleted after ``INVALID_VALUES_QUIET_S`` without
an invalid value, or when the entry is unloaded.

The functions here take plain values (which appliance, its title, its state),
so whoever detects a condition raises its issue without this module knowing
about connections or coordinators.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .link.model import ApplianceTypeSpec, Value


class IssueKind(StrEnum):
    """What an issue is about; also the translation key of all but faults.

    An unreachable Bluetooth appliance's issue has its own translation key
    (``UNREACHABLE_BLE_KEY``): it names the Bluetooth address, not a host and port.
    """

    FAULT = "fault"
    RINSE_AID_LOW = "rinse_aid_low"
    SALT_LOW = "salt_low"
    UNREACHABLE = "unreachable"
    INVALID_VALUES = "invalid_values"
    BLE_NO_CONNECTION_SLOT = "ble_no_connection_slot"
    SUSPECTED_FAULT = "suspected_fault"


# Boolean state keys that raise an issue of the same name while true.
SUPPLY_ISSUES: Final = (IssueKind.RINSE_AID_LOW, IssueKind.SALT_LOW)
# The state keys issues come from: a push that changes none of them cannot change an issue.
STATE_ISSUE_KEYS: Final = frozenset({"faults", *SUPPLY_ISSUES})
# Issues about the connection or the values, not about what the appliance reports.
_NOT_FROM_STATE: Final = frozenset(
    {
        IssueKind.UNREACHABLE,
        IssueKind.INVALID_VALUES,
        IssueKind.BLE_NO_CONNECTION_SLOT,
        IssueKind.SUSPECTED_FAULT,
    }
)
UNREACHABLE_BLE_KEY: Final = "unreachable_ble"
INVALID_VALUES_COUNT: Final = 10
INVALID_VALUES_WINDOW_S: Final = 600.0
INVALID_VALUES_QUIET_S: Final = 3600.0


@dataclass(frozen=True, slots=True)
class IssueId:
    """The id of one appliance's issue: ``<appliance>_<kind>`` or ``<appliance>_fault_<code>``."""

    appliance_id: str
    kind: IssueKind
    fault_code: str = ""

    def __str__(self) -> str:
        """The issue id in the issue registry."""
        if self.kind is IssueKind.FAULT:
            return f"{self.appliance_id}_{self.kind}_{self.fault_code}"
        return f"{self.appliance_id}_{self.kind}"

    @classmethod
    def parse(cls, issue_id: str, appliance_id: str) -> IssueId | None:
        """The typed id if ``issue_id`` is one of this appliance's issues, else None."""
        prefix = f"{appliance_id}_"
        if not issue_id.startswith(prefix):
            return None
        rest = issue_id.removeprefix(prefix)
        fault_prefix = f"{IssueKind.FAULT}_"
        if rest.startswith(fault_prefix):
            return cls(appliance_id, IssueKind.FAULT, rest.removeprefix(fault_prefix))
        try:
            kind = IssueKind(rest)
        except ValueError:
            return None
        return None if kind is IssueKind.FAULT else cls(appliance_id, kind)


@dataclass(frozen=True, slots=True)
class IssueOwner:
    """The appliance an issue belongs to: its config entry, its id and its name."""

    entry_id: str
    appliance_id: str
    title: str


def _issue_ids_of(hass: HomeAssistant, appliance_id: str) -> set[IssueId]:
    ids = (
        IssueId.parse(issue_id, appliance_id)
        for (domain, issue_id) in ir.async_get(hass).issues
        if domain == DOMAIN
    )
    return {issue for issue in ids if issue is not None}


def _create(
    hass: HomeAssistant,
    owner: IssueOwner,
    issue: IssueId,
    *,
    translation_key: str,
    placeholders: dict[str, str],
    severity: ir.IssueSeverity = ir.IssueSeverity.WARNING,
    fixable: bool = False,
) -> None:
    ir.async_create_issue(
        hass,
        DOMAIN,
        str(issue),
        is_fixable=fixable,
        severity=severity,
        translation_key=translation_key,
        translation_placeholders=placeholders,
        data={"entry_id": owner.entry_id},
    )


@callback
def async_sync_state_issues(
    hass: HomeAssistant,
    owner: IssueOwner,
    type_spec: ApplianceTypeSpec,
    state: Mapping[str, Value],
    known: set[IssueId] | None = None,
) -> set[IssueId]:
    """Create issues for active faults and low supplies; delete those that cleared.

    ``known`` is what the previous call returned: the appliance's state issues
    then. Without it the issue registry is searched (once per connection).
    Returns the state issues that exist now.
    """
    appliance_id = owner.appliance_id
    wanted: dict[IssueId, tuple[str, dict[str, str], ir.IssueSeverity]] = {}
    faults = state.get("faults")
    for code in faults if isinstance(faults, list) else []:
        key = f"fault_{type_spec.type}_{code}" if code in type_spec.fault_codes else "fault_unknown"
        wanted[IssueId(appliance_id, IssueKind.FAULT, code)] = (
            key,
            {"appliance": owner.title, "code": code},
            # A suspected fault (the appliance's own detector) is a likely fault, not a failure.
            ir.IssueSeverity.WARNING if code.startswith("suspected_") else ir.IssueSeverity.ERROR,
        )
    for supply in SUPPLY_ISSUES:
        if state.get(supply) is True:
            wanted[IssueId(appliance_id, supply)] = (
                supply.value,
                {"appliance": owner.title},
                ir.IssueSeverity.WARNING,
            )
    if known is None:
        existing = {
            issue
            for issue in _issue_ids_of(hass, appliance_id)
            if issue.kind not in _NOT_FROM_STATE
        }
    else:
        existing = known
    for issue in existing - set(wanted):
        ir.async_delete_issue(hass, DOMAIN, str(issue))
    for issue, (translation_key, placeholders, severity) in wanted.items():
        if issue in existing:
            continue
        _create(
            hass,
            owner,
            issue,
            translation_key=translation_key,
            placeholders=placeholders,
            severity=severity,
        )
    return set(wanted)


@callback
def async_raise_unreachable_issue(
    hass: HomeAssistant,
    owner: IssueOwner,
    *,
    minutes: int,
    host: str | None = None,
    port: int = 0,
    address: str | None = None,
) -> None:
    """The appliance has been offline longer than the configured time.

    A LAN appliance's text names ``host`` and ``port``; one without a host is
    reached over Bluetooth and its text names ``address`` and what to check there.
    """
    placeholders = {"appliance": owner.title, "minutes": str(minutes)}
    if host is not None:
        translation_key = IssueKind.UNREACHABLE.value
        placeholders |= {"host": host, "port": str(port)}
    else:
        translation_key = UNREACHABLE_BLE_KEY
        placeholders["address"] = str(address)
    _create(
        hass,
        owner,
        IssueId(owner.appliance_id, IssueKind.UNREACHABLE),
        translation_key=translation_key,
        placeholders=placeholders,
        fixable=True,
    )


@callback
def async_clear_unreachable_issue(hass: HomeAssistant, appliance_id: str) -> None:
    """The appliance is connected again."""
    ir.async_delete_issue(hass, DOMAIN, str(IssueId(appliance_id, IssueKind.UNREACHABLE)))


@callback
def async_raise_no_connection_slot_issue(
    hass: HomeAssistant, owner: IssueOwner, *, address: str
) -> None:
    """No Bluetooth adapter or proxy that hears the appliance has a free connection.

    Only the user can change that (free a connection or add a proxy); the
    reconnect keeps trying with its backoff meanwhile.
    """
    _create(
        hass,
        owner,
        IssueId(owner.appliance_id, IssueKind.BLE_NO_CONNECTION_SLOT),
        translation_key=IssueKind.BLE_NO_CONNECTION_SLOT.value,
        placeholders={"appliance": owner.title, "address": address},
    )


@callback
def async_clear_no_connection_slot_issue(hass: HomeAssistant, appliance_id: str) -> None:
    """The appliance got a connection."""
    ir.async_delete_issue(
        hass, DOMAIN, str(IssueId(appliance_id, IssueKind.BLE_NO_CONNECTION_SLOT))
    )


@callback
def async_raise_invalid_values_issue(
    hass: HomeAssistant, owner: IssueOwner, *, keys: list[str]
) -> None:
    """The appliance keeps reporting values its declaration does not allow."""
    _create(
        hass,
        owner,
        IssueId(owner.appliance_id, IssueKind.INVALID_VALUES),
        translation_key=IssueKind.INVALID_VALUES.value,
        placeholders={
            "appliance": owner.title,
            "keys": ", ".join(keys),
            "count": str(INVALID_VALUES_COUNT),
            "minutes": str(round(INVALID_VALUES_WINDOW_S / 60)),
            "quiet_minutes": str(round(INVALID_VALUES_QUIET_S / 60)),
        },
    )


@callback
def async_clear_invalid_values_issue(hass: HomeAssistant, appliance_id: str) -> None:
    """The appliance has reported only valid values for a while."""
    ir.async_delete_issue(hass, DOMAIN, str(IssueId(appliance_id, IssueKind.INVALID_VALUES)))


@callback
def async_raise_suspected_fault_issue(
    hass: HomeAssistant, owner: IssueOwner, *, fault: str
) -> None:
    """The fridge fault detector suspects ``fault`` (door_seal, condenser, compressor,
    defrost); the text says what to check. One issue per appliance: a new suspicion
    replaces the text."""
    _create(
        hass,
        owner,
        IssueId(owner.appliance_id, IssueKind.SUSPECTED_FAULT),
        translation_key=f"{IssueKind.SUSPECTED_FAULT}_{fault}",
        placeholders={"appliance": owner.title},
    )


@callback
def async_clear_suspected_fault_issue(hass: HomeAssistant, appliance_id: str) -> None:
    """The detector no longer suspects a fault."""
    ir.async_delete_issue(hass, DOMAIN, str(IssueId(appliance_id, IssueKind.SUSPECTED_FAULT)))


@callback
def async_clear_all_issues(hass: HomeAssistant, appliance_id: str) -> None:
    """Delete every issue of this appliance (its entry was unloaded)."""
    for issue in _issue_ids_of(hass, appliance_id):
        ir.async_delete_issue(hass, DOMAIN, str(issue))


def is_unreachable_issue(issue_id: str) -> bool:
    """Whether ``issue_id`` is some appliance's unreachable issue (the one with a fix flow)."""
    return issue_id.endswith(f"_{IssueKind.UNREACHABLE}")
