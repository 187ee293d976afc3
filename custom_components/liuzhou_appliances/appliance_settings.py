"""Send a room state's settings (``room_occupancy.Settings``) to one appliance.

Shared by the rooms (``room_runtime``) and the estate's ``house_defaults``
command (``estate_commands``), so "house defaults" means one thing: the
check-out settings of the household options' second step.
"""

from __future__ import annotations

from homeassistant.util import dt as dt_util

from .coordinator import LiuzhouCoordinator
from .energy_runtime import ApplianceEnergy
from .link.model import ApplianceType
from .room_occupancy import HouseDefaults, RoomState, Settings, settings_for


def house_defaults(coordinator: LiuzhouCoordinator, defaults: HouseDefaults) -> Settings:
    """The house defaults for this appliance's type (the check-out settings)."""
    kind = ApplianceType(coordinator.declaration.type)
    return settings_for(RoomState.CHECK_OUT, kind, defaults, now=dt_util.utcnow())


async def async_apply_settings(
    coordinator: LiuzhouCoordinator, energy: ApplianceEnergy, settings: Settings
) -> None:
    """Write what ``settings`` change among the declared writable capabilities, stop a
    waiting delayed start if asked; the energy controller then hands back to these values.

    HomeAssistantError if the appliance refuses or cannot be reached (nothing is kept:
    the caller decides whether it is owed).
    """
    declared = coordinator.declaration.capabilities
    values = coordinator.values
    writes = {
        key: value
        for key, value in settings.writes.items()
        if key in declared and declared[key].writable and values.get(key) != value
    }
    if writes:
        await coordinator.async_write(writes)
    if settings.cancel_delayed_start and values.get("delay_remaining"):
        await coordinator.async_command("stop")
    if energy.enabled:
        # The energy controller hands back to these values, not the ones they replace.
        energy.user_settings.update({k: v for k, v in writes.items() if k in energy.user_settings})
