"""The energy features of one appliance: the switch, the preset, the status, the loops.

``ApplianceEnergy`` lives next to each appliance's coordinator (both are the
appliance entry's runtime data). It finds the household runtime through the
household entry, so an appliance works as before when there is none (its
energy entities then read "not configured" and nothing acts). Its parts:
the AC loop, the fridge loop, planned runs, the shedding held on it and the
savings so far. It remembers what the user had set and writes it back when
the switch is turned off or a loop falls back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
import logging
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from custom_components.liuzhou_appliances.coordinator import LiuzhouCoordinator
from custom_components.liuzhou_appliances.energy.ac import ComfortPreset
from custom_components.liuzhou_appliances.energy.ac_predictive_status import ControlMode
from custom_components.liuzhou_appliances.link.model import ApplianceType, Value

from .ac_loop import AcLoop
from .appliance_shedding import ApplianceShedding
from .fridge_loop import FridgeLoop
from .household import HouseholdEnergy
from .listeners import EntityListeners
from .planned_runs import PlannedRuns
from .runtime_state import kept_values
from .savings import Savings
from .status import EnergyStatus

_LOGGER = logging.getLogger(__package__)

CONTROL_INTERVAL: Final = timedelta(seconds=60)
# Units dislike frequent changes (and beep on each): at most one change per period,
# except handing control back, which is never delayed.
MIN_WRITE_PERIOD: Final = timedelta(minutes=5)

RUN_KINDS: Final = frozenset({ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER})


class ApplianceEnergy(EntityListeners):
    """The energy features of one appliance; created with its coordinator."""

    def __init__(
        self,
        hass: HomeAssistant,
        coordinator: LiuzhouCoordinator,
        find_household: Callable[[], HouseholdEnergy | None],
    ) -> None:
        """Nothing acts until the switch is turned on (restored by the switch entity).

        ``find_household`` returns the household runtime while the household
        entry is set up (``runtime_data.household_energy``, given by the set-up
        so that this package does not import the runtime data that holds it).
        """
        self.hass = hass
        self.coordinator = coordinator
        self._find_household = find_household
        self.appliance_id = coordinator.appliance_id
        self.kind = ApplianceType(coordinator.declaration.type)
        self.enabled = False
        self.preset = ComfortPreset.BALANCED
        # Which controller the control-mode select asks for (the fuzzy one by default).
        self.control_mode = ControlMode.FUZZY
        # Whether the household finds it (runtime_data.appliance_energies): from its
        # set-up until its unload begins.
        self.attached = False
        self._status = EnergyStatus.OFF
        self._reasons: tuple[str, ...] = ()
        super().__init__()
        self._unsubs: list[CALLBACK_TYPE] = []
        # What the user had set before we changed anything (restored when handing back).
        self.user_settings: dict[str, Value] = {}
        self.written: dict[str, Value] = {}
        self._last_write: datetime | None = None
        # The user's settings came from the kept runtime state: enabling keeps them.
        self._settings_restored = False
        self.savings = Savings()
        self.runs = PlannedRuns(self)
        self.shedding = ApplianceShedding(self)
        self.ac_loop = AcLoop(self)
        self.fridge_loop = FridgeLoop(self)

    # --- state shown by the entities ------------------------------------------------------

    @property
    def household(self) -> HouseholdEnergy | None:
        """The household runtime, if a household energy entry is set up."""
        return self._find_household()

    @property
    def status(self) -> EnergyStatus:
        """The present status (not configured wins over everything)."""
        if self.household is None:
            return EnergyStatus.NOT_CONFIGURED
        if not self.enabled:
            return EnergyStatus.OFF
        if self.shedding.steps:
            return EnergyStatus.SHED
        if self.kind in RUN_KINDS:
            return EnergyStatus.ACTIVE if self.runs.planned() else EnergyStatus.NOTHING_PLANNED
        return self._status

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the status is what it is: codes from REASONS (none when off or not set up)."""
        status = self.status
        if status in (EnergyStatus.NOT_CONFIGURED, EnergyStatus.OFF):
            return ()
        if status is EnergyStatus.SHED:
            return self.shedding.reasons
        if status is EnergyStatus.NOTHING_PLANNED:
            return ()
        return self._reasons

    def set_status(
        self, status: EnergyStatus, reasons: tuple[str, ...] = (), detail: str | None = None
    ) -> None:
        """Change status and reasons; falling back is logged with ``detail``."""
        if (status, reasons) != (self._status, self._reasons):
            if status is EnergyStatus.FALLBACK:
                _LOGGER.warning(
                    "%s: %s; leaving it to its own control",
                    self.coordinator.config_entry.title,
                    detail or ", ".join(reasons),
                )
            self._status, self._reasons = status, reasons
            self.async_notify()

    # --- lifecycle ------------------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Run the control loop every minute and follow the appliance's state."""
        if self.kind in (ApplianceType.ROOM_AIR_CONDITIONER, ApplianceType.REFRIGERATOR):
            self._unsubs.append(
                async_track_time_interval(self.hass, self._async_timer, CONTROL_INTERVAL)
            )
        self._unsubs.append(self.coordinator.async_add_listener(self._async_state_changed))

    @callback
    def async_stop(self) -> None:
        """Stop the loop (the appliance keeps what it has; the entry is going away)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []

    @callback
    def _async_state_changed(self) -> None:
        """At each report: pending hand-backs, shed actions waiting for it, the planned run."""
        self.shedding.async_follow_connection()
        self.runs.follow_state()

    async def async_set_enabled(self, enabled: bool) -> None:
        """The switch: on starts the controllers, off hands the appliance back."""
        if enabled == self.enabled:
            return
        self.enabled = enabled
        if enabled:
            if not self._settings_restored:
                self._remember_user_settings()
            self._settings_restored = False
            self._status, self._reasons = EnergyStatus.IDLE, ()
            self.async_notify()
            await self.async_tick()
            if (household := self.household) is not None:
                await household.shedding.async_update()  # shedding considers it afresh
        else:
            await self.shedding.async_release()
            await self.async_hand_back()
            self._status, self._reasons = EnergyStatus.OFF, ()
            self.async_notify()

    async def async_set_preset(self, preset: ComfortPreset) -> None:
        """The preset select: a new controller (compiled once per preset, in the executor)."""
        self.preset = ComfortPreset(preset)
        self.ac_loop.reset()
        self.async_notify()
        if self.enabled:
            await self.async_tick()

    async def async_set_control_mode(self, mode: ControlMode) -> None:
        """The control-mode select: the predictive controller starts afresh (warming up)."""
        self.control_mode = ControlMode(mode)
        self.ac_loop.reset()
        self.async_notify()
        if self.enabled:
            await self.async_tick()

    # --- the user's settings and writes -------------------------------------------------

    def _remember_user_settings(self) -> None:
        data = self.coordinator.values
        keys = {
            ApplianceType.ROOM_AIR_CONDITIONER: ("target_temperature", "fan_speed"),
            ApplianceType.REFRIGERATOR: (
                "fridge_target_temperature",
                "freezer_target_temperature",
            ),
        }.get(self.kind, ())
        self.user_settings = {key: data[key] for key in keys if data.get(key) is not None}
        self.written = {}

    async def async_hand_back(self) -> None:
        """Write back what the user had wherever we changed it."""
        data = self.coordinator.values
        restore = {
            key: value
            for key, value in self.user_settings.items()
            if key in self.written and data.get(key) != value
        }
        self.written = {}
        if restore:
            await self.async_write(restore, force=True)

    async def async_write(self, values: Mapping[str, Value], *, force: bool = False) -> bool:
        """Write with the minimum period between changes; False if skipped or rejected."""
        now = dt_util.utcnow()
        if not force and self._last_write is not None and now - self._last_write < MIN_WRITE_PERIOD:
            return False
        try:
            await self.coordinator.async_write(values)
        except HomeAssistantError as err:
            _LOGGER.warning(
                "%s: could not write %s: %s", self.coordinator.config_entry.title, values, err
            )
            return False
        self._last_write = now
        self.written.update(values)
        return True

    # --- the control loop -----------------------------------------------------------------

    async def _async_timer(self, now: datetime) -> None:
        await self.async_tick()

    async def async_tick(self) -> None:
        """One decision; never raises (washers and dishwashers have none: see ``status``)."""
        try:
            household = self._household_if_acting()
            if household is None:
                return
            if self.kind is ApplianceType.ROOM_AIR_CONDITIONER:
                await self.ac_loop.async_tick(household)
            elif self.kind is ApplianceType.REFRIGERATOR:
                await self.fridge_loop.async_tick(household)
        except Exception:  # a controller must never take the hub down
            _LOGGER.exception("%s: energy control failed", self.coordinator.config_entry.title)

    def _household_if_acting(self) -> HouseholdEnergy | None:
        """The household runtime if a loop may act now (switched on, not shed, connected)."""
        household = self.household
        if household is None or not self.enabled or self.shedding.steps:
            return None
        if not self.coordinator.connected or not self.coordinator.data:
            return None
        return household

    # --- in-progress state across reloads and restarts ---------------------------------

    def export_runtime(self) -> dict[str, Any]:
        """What is shed and planned here, and the user's own settings, JSON-ready."""
        return {
            **self.shedding.export_runtime(),
            "user_settings": dict(self.user_settings),
            "written": dict(self.written),
            "plan": self.runs.export_runtime(),
        }

    def restore_runtime(self, kept: Mapping[str, Any] | None, *, held: bool) -> None:
        """Take the kept state of this appliance (before its entities are added).

        ``held``: the kept household state still holds shed actions on it. If it
        does not (the household entry was removed meanwhile), the shed steps are
        handed back instead, as soon as the appliance is connected.
        """
        if not isinstance(kept, Mapping):
            return
        self.runs.restore_runtime(kept)
        self.user_settings = kept_values(kept, "user_settings")
        self.written = kept_values(kept, "written")
        self._settings_restored = bool(self.written)
        self.shedding.restore_runtime(kept, held=held)
