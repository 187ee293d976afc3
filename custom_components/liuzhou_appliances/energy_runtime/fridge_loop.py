"""The fridge loop: each minute, pre-cool the fridge (and freezer) ahead of dearer hours."""

from __future__ import annotations

from homeassistant.util import dt as dt_util

from custom_components.liuzhou_appliances.energy.fridge import FridgePrecoolController
from custom_components.liuzhou_appliances.energy.inputs import DecisionStatus

from .reported import number, reported_reading
from .status import EnergyStatus, reason_codes
from .views import ApplianceView, HouseholdView


class FridgeLoop:
    """The pre-cooling controller of one fridge."""

    def __init__(self, energy: ApplianceView) -> None:
        """The controller takes the household's tariff at each loop."""
        self.energy = energy
        self.coordinator = energy.coordinator
        self._fridge = FridgePrecoolController()

    async def async_tick(self, household: HouseholdView) -> None:
        """One decision for the fridge."""
        data = self.coordinator.data
        now = dt_util.utcnow()
        has_freezer = "freezer_target_temperature" in self.coordinator.declaration.capabilities
        self._fridge.tariff = household.tariff
        decision = self._fridge.decide(
            now,
            reported_reading(data.get("fridge_temperature"), now),
            reported_reading(data.get("freezer_temperature"), now),
            has_freezer=has_freezer,
        )
        wanted: dict[str, float] = {"fridge_target_temperature": decision.fridge_target}
        if decision.freezer_target is not None:
            wanted["freezer_target_temperature"] = decision.freezer_target
        changes = {key: value for key, value in wanted.items() if data.get(key) != value}
        colder = all(
            (current := number(data.get(key))) is not None and value < current
            for key, value in changes.items()
        )
        if changes:
            # Colder is always food-safe and may be a recovery: not held by the period.
            await self.energy.async_write(changes, force=colder)
        self.energy.set_status(
            EnergyStatus.DEGRADED
            if decision.status is DecisionStatus.DEGRADED
            else EnergyStatus.ACTIVE,
            reason_codes(decision.issues),
        )
