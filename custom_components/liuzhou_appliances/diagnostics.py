"""Diagnostics: declaration, state and connection statistics, with secrets redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant

from .const import (
    CONF_ADDRESS,
    CONF_APPLIANCE_ID,
    CONF_HUB_ID,
    CONF_KEY,
    CONF_PAIRING_CODE,
)
from .coordinator import LiuzhouCoordinator
from .energy.ac_predictive_status import ControlMode
from .link.model import ApplianceType
from .runtime_data import AnyLiuzhouConfigEntry, ApplianceRuntimeData, HouseholdRuntimeData

# Keys, codes, addresses and ids: nothing that pairs with or locates the appliance.
TO_REDACT = {
    CONF_KEY,
    CONF_PAIRING_CODE,
    CONF_HOST,
    CONF_PORT,
    CONF_ADDRESS,
    CONF_APPLIANCE_ID,
    CONF_HUB_ID,
    "unique_id",
    "title",
    "serial_number",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AnyLiuzhouConfigEntry
) -> dict[str, Any]:
    """Everything needed to debug an appliance, nothing that identifies or unlocks it."""
    runtime = entry.runtime_data
    if isinstance(runtime, HouseholdRuntimeData):
        # The household entry: its settings (entity ids and prices, no secrets), what
        # load shedding holds now, the rooms' occupancy and the estate link (counts only).
        shed = runtime.energy.shedding.last_report
        return {
            "options": dict(entry.options),
            "shed": [(a.action, a.appliance_id) for a in shed.active] if shed else [],
            "rooms": runtime.rooms.as_diagnostics() if runtime.rooms is not None else None,
            "estate": runtime.estate.as_diagnostics() if runtime.estate is not None else None,
        }
    coordinator = runtime.coordinator
    hello = coordinator.hello
    return {
        "entry": async_redact_data(
            {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "version": f"{entry.version}.{entry.minor_version}",
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            TO_REDACT,
        ),
        "appliance": async_redact_data(
            {
                CONF_APPLIANCE_ID: hello.appliance_id,
                "type": str(hello.type),
                "model": hello.model,
                "firmware": hello.firmware,
                "protocol": hello.protocol,
            },
            TO_REDACT,
        ),
        "declaration": coordinator.declaration.to_dict(),
        "state": dict(coordinator.values),
        "connection": {
            "connected": coordinator.connected,
            # The link in use ("lan", "ble" or None) and those configured, LAN first.
            "link": coordinator.link,
            "links": list(coordinator.links.kinds),
            # An idle on-demand BLE appliance let go (links.py): no session, entities kept.
            "parked": coordinator.parked,
            "last_update_success": coordinator.last_update_success,
            **_without_address(coordinator.stats.as_dict(), coordinator),
        },
        # What its energy features do and why; an AC's occupancy source: "room_state"
        # (its room's state, named by the reason room_<state>), "occupancy_entity", "none".
        "energy": _energy(runtime),
        # Counts only: what was said to the panel never leaves through diagnostics.
        "voice_panel": runtime.panel.diagnostics() if runtime.panel else None,
        # The neural models' name, version, runtime and status (why one falls back): the
        # wet-cycle predictor of a washer or dishwasher, a refrigerator's fault detector,
        # an AC's room thermal model under predictive control.
        # No values of the appliance, its run or its compartments.
        **({"models": models} if (models := _models(runtime)) else {}),
    }


def _energy(runtime: ApplianceRuntimeData) -> dict[str, Any]:
    energy = runtime.energy
    out: dict[str, Any] = {
        "enabled": energy.enabled,
        "status": str(energy.status),
        "reasons": list(energy.reasons),
    }
    if energy.kind is ApplianceType.ROOM_AIR_CONDITIONER:
        out["occupancy_source"] = energy.ac_loop.occupancy_source
    return out


def _models(runtime: ApplianceRuntimeData) -> dict[str, Any]:
    parts = {"wet_cycle": runtime.prediction, "fridge_fault": runtime.fridge_faults}
    models = {name: part.diagnostics() for name, part in parts.items() if part is not None}
    # The room thermal model of an AC, once predictive control has been chosen.
    energy = runtime.energy
    if energy.control_mode is ControlMode.PREDICTIVE:
        models["room_thermal"] = energy.ac_loop.predictive.diagnostics()
    return models


def _without_address(stats: dict[str, Any], coordinator: LiuzhouCoordinator) -> dict[str, Any]:
    """Error texts quote the address and id; replace them."""
    secrets = [coordinator.where, str(coordinator.port), coordinator.appliance_id]
    secrets += [s for s in (coordinator.host, coordinator.address) if s]
    out: dict[str, Any] = {}
    for key, value in stats.items():
        text = value
        if isinstance(text, str):
            for secret in secrets:
                text = text.replace(secret, REDACTED)
        out[key] = text
    return out
