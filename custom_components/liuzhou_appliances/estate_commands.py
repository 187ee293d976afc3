"""Estate commands carried out on this hub's appliances, one result per appliance.

Demand response goes through the ``demand_response`` action (services.py), the
same code path as an automation's; house defaults send each appliance the
household's house defaults, the settings a room's check-out sends
(``appliance_settings``), without touching any guest data. An appliance
that is offline is ``pending``: the hub finishes the command when it returns
(``async_finish``) and acknowledges again.
"""

from __future__ import annotations

from collections.abc import Iterable
import logging
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .appliance_settings import async_apply_settings, house_defaults
from .const import DOMAIN, SERVICE_DEMAND_RESPONSE
from .energy_runtime import ApplianceEnergy, HouseholdEnergy
from .estate_topics import ApplianceResult, Command
from .room_occupancy import HouseDefaults

_LOGGER = logging.getLogger(__package__)

REASON_OFFLINE: Final = "offline"
REASON_OPTIMISATION_OFF: Final = "energy_optimisation_off"
REASON_NOT_HERE: Final = "not_in_building"
REASON_NO_HOUSEHOLD: Final = "household_not_configured"
REASON_BAD_DEFAULTS: Final = "invalid_house_defaults"


def _targets(
    appliances: Iterable[ApplianceEnergy], command: Command, estate_wide: bool
) -> tuple[list[ApplianceEnergy], list[ApplianceResult]]:
    """The appliances a command names here, and failures for ids this building lacks.

    An estate-wide command's ids of other buildings are theirs to answer.
    """
    energies = {energy.appliance_id: energy for energy in appliances}
    if not command.appliance_ids:
        return sorted(energies.values(), key=lambda e: e.appliance_id), []
    found = [energies[a] for a in command.appliance_ids if a in energies]
    missing = [] if estate_wide else [a for a in command.appliance_ids if a not in energies]
    return found, [ApplianceResult(a, "failed", REASON_NOT_HERE) for a in missing]


async def async_execute(
    hass: HomeAssistant,
    command: Command,
    appliances: Iterable[ApplianceEnergy],
    household: HouseholdEnergy | None,
    defaults: HouseDefaults | None,
    *,
    estate_wide: bool,
) -> tuple[list[ApplianceResult], str | None]:
    """Carry out ``command`` on this hub's ``appliances`` (the set-up ones); its results and
    the reason it failed as a whole (or None).

    ``defaults``: the household options' house defaults, None if they do not read.
    """
    targets, results = _targets(appliances, command, estate_wide)
    if command.command == "demand_response":
        error = await _async_demand_response(hass, command, household)
        if error is not None:
            return [ApplianceResult(e.appliance_id, "failed", error) for e in targets], error
    if command.command == "house_defaults" and defaults is None:
        failed = [ApplianceResult(e.appliance_id, "failed", REASON_BAD_DEFAULTS) for e in targets]
        return failed, REASON_BAD_DEFAULTS
    for energy in targets:
        results.append(await async_finish(command, energy, defaults))
    return results, None


async def async_finish(
    command: Command, energy: ApplianceEnergy, defaults: HouseDefaults | None
) -> ApplianceResult:
    """One appliance's part of a command (again when a pending appliance returns)."""
    appliance_id = energy.appliance_id
    if not energy.coordinator.connected:
        return ApplianceResult(appliance_id, "pending", REASON_OFFLINE)
    if command.command == "demand_response":
        if energy.household is None:
            return ApplianceResult(appliance_id, "failed", REASON_NO_HOUSEHOLD)
        if not energy.enabled:
            # Load shedding acts only where the household switched energy optimisation on.
            return ApplianceResult(appliance_id, "failed", REASON_OPTIMISATION_OFF)
        # A returning appliance: shed it now rather than at the next minute's check.
        await energy.household.shedding.async_update()
        return ApplianceResult(appliance_id, "applied")
    if defaults is None:
        return ApplianceResult(appliance_id, "failed", REASON_BAD_DEFAULTS)
    coordinator = energy.coordinator
    try:
        await async_apply_settings(coordinator, energy, house_defaults(coordinator, defaults))
    except HomeAssistantError as err:
        if not coordinator.connected:
            return ApplianceResult(appliance_id, "pending", REASON_OFFLINE)
        return ApplianceResult(appliance_id, "failed", f"error: {err}"[:200])
    return ApplianceResult(appliance_id, "applied")


async def _async_demand_response(
    hass: HomeAssistant, command: Command, household: HouseholdEnergy | None
) -> str | None:
    """Start or stop demand response through the action; the error's key, or None."""
    if household is None:
        return REASON_NO_HOUSEHOLD
    data: dict[str, object] = {"action": command.action}
    if command.level is not None:
        data["level"] = command.level
    if command.duration_s is not None:
        data["duration"] = {"seconds": command.duration_s}
    try:
        await hass.services.async_call(
            DOMAIN, SERVICE_DEMAND_RESPONSE, data, blocking=True, return_response=True
        )
    except ServiceValidationError as err:
        return err.translation_key or str(err)
    except HomeAssistantError as err:
        _LOGGER.warning("Estate: demand response failed: %s", err)
        return f"error: {err}"[:200]
    return None
