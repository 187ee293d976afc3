"""What the parts of the energy runtime see of their owners, so imports go one way.

``ApplianceEnergy`` creates its parts (``AcLoop``, ``FridgeLoop``,
``PlannedRuns``, ``ApplianceShedding``) and ``HouseholdEnergy`` creates its
``LoadShedding``; each part is handed its owner back. The parts are typed
against these protocols, which list only what they use of the owner (and of
its other parts), instead of importing the owner's module: ``appliance.py``
and ``household.py`` import the parts, the parts import this module and
nothing imports back. ``ApplianceEnergy`` and ``HouseholdEnergy`` match them
as they are (the type check confirms it where they hand themselves over).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from homeassistant.core import HomeAssistant

from custom_components.liuzhou_appliances.coordinator import LiuzhouCoordinator
from custom_components.liuzhou_appliances.energy.ac import ComfortPreset
from custom_components.liuzhou_appliances.energy.ac_predictive_status import ControlMode
from custom_components.liuzhou_appliances.energy.inputs import Reading
from custom_components.liuzhou_appliances.energy.planner import PlanningContext
from custom_components.liuzhou_appliances.energy.shedding import LoadState, ShedReport, ShedStep
from custom_components.liuzhou_appliances.energy.tariff import Tariff
from custom_components.liuzhou_appliances.link.declaration import Programme
from custom_components.liuzhou_appliances.link.model import ApplianceType, Value
from custom_components.liuzhou_appliances.room_occupancy import RoomPresence

from .savings import Savings
from .status import EnergyStatus


class HouseholdSheddingView(Protocol):
    """The household's ``LoadShedding`` as an appliance's shedding uses it."""

    def forget_appliance(self, appliance_id: str) -> None:
        """Forget what is shed on one appliance."""

    def waits_for(self, appliance_id: str) -> bool:
        """Whether shed actions wait for this appliance to come back."""

    async def async_update(self) -> ShedReport | None:
        """Shed or restore once for the present home power and grid event."""


class HouseholdView(Protocol):
    """The ``HouseholdEnergy`` as the loops, planned runs and shedding use it."""

    @property
    def hass(self) -> HomeAssistant:
        """Home Assistant."""

    def appliances(self) -> Iterable[ApplianceView]:
        """The runtimes of the appliance entries that are set up."""

    @property
    def options(self) -> Mapping[str, Any]:
        """The household entry's options."""

    @property
    def tariff(self) -> Tariff:
        """The household's tariff (or price feed)."""

    @property
    def power_shedding(self) -> bool:
        """Whether loads are shed above a power limit."""

    @property
    def has_outdoor_sensor(self) -> bool:
        """Whether an outdoor temperature sensor is configured."""

    @property
    def shedding(self) -> HouseholdSheddingView:
        """The household's load shedding."""

    def reading(self, entity_id: str | None, *, power: bool = False) -> Reading | None:
        """A sensor's value and when it last reported."""

    def outdoor_humidity(self) -> Reading | None:
        """The household's outdoor humidity sensor (%), if one is set."""

    def outdoor_temperature(self) -> Reading | None:
        """The household's outdoor temperature sensor, if one is set."""

    def occupancy(self) -> float | None:
        """1 occupied, 0 empty, None unknown or not configured."""

    def next_arrival(self, now: datetime) -> tuple[datetime | None, str | None]:
        """The upcoming arrival, or None and why it is unusable."""

    def room_presence(self, entry_id: str, now: datetime) -> RoomPresence | None:
        """The state of the room an appliance entry is in, if that room's state is set."""

    def price_now(self, now: datetime) -> float | None:
        """The price now, or None if the price feed is unavailable."""

    def planning_context(self, now: datetime, own_power_w: float) -> PlanningContext:
        """Tariff, cap, present base load and a surplus forecast."""

    def async_notify(self) -> None:
        """Tell the household's entities to show the present state."""


class PlannedRunsView(Protocol):
    """An appliance's ``PlannedRuns`` as its shedding uses them."""

    def programme(self, programme_id: str | None) -> Programme:
        """The declared programme (the selected one by default)."""


class ApplianceSheddingView(Protocol):
    """An appliance's ``ApplianceShedding`` as the household's shedding uses it."""

    def load_state(self) -> LoadState | None:
        """How the shedder sees this appliance."""

    async def async_shed(self, step: ShedStep, cause: str) -> None:
        """Apply one shedding step."""

    async def async_restore(self, step: ShedStep) -> None:
        """Undo one shedding step."""


class ApplianceView(Protocol):
    """The ``ApplianceEnergy`` as its parts and the household's shedding use it."""

    @property
    def hass(self) -> HomeAssistant:
        """Home Assistant."""

    @property
    def coordinator(self) -> LiuzhouCoordinator:
        """The appliance's coordinator."""

    @property
    def appliance_id(self) -> str:
        """The appliance's id."""

    @property
    def kind(self) -> ApplianceType:
        """The kind of appliance."""

    @property
    def enabled(self) -> bool:
        """Whether its energy optimisation is switched on."""

    @property
    def preset(self) -> ComfortPreset:
        """The comfort preset."""

    @property
    def control_mode(self) -> ControlMode:
        """The controller the control-mode select asks for (AC only)."""

    @property
    def savings(self) -> Savings:
        """The savings so far."""

    @property
    def user_settings(self) -> dict[str, Value]:
        """What the user had set (followed and written back)."""

    @property
    def written(self) -> dict[str, Value]:
        """What was written since, by key."""

    @property
    def household(self) -> HouseholdView | None:
        """The household runtime, if a household energy entry is set up."""

    @property
    def runs(self) -> PlannedRunsView:
        """The appliance's planned runs."""

    @property
    def shedding(self) -> ApplianceSheddingView:
        """The shedding held on the appliance."""

    def set_status(
        self, status: EnergyStatus, reasons: tuple[str, ...] = (), detail: str | None = None
    ) -> None:
        """Change status and reasons."""

    def async_notify(self) -> None:
        """Tell the appliance's entities to show the present state."""

    async def async_write(self, values: Mapping[str, Value], *, force: bool = False) -> bool:
        """Write with the minimum period between changes; False if skipped or rejected."""

    async def async_hand_back(self) -> None:
        """Write back what the user had wherever it was changed."""

    async def async_tick(self) -> None:
        """One decision of the appliance's loop."""
