"""One appliance's side of load shedding: the steps held on it and how each is undone.

The household's ``LoadShedding`` decides; ``ApplianceShedding`` writes: it
turns the AC off or to fan only, relaxes its target, pauses or defers a run,
remembers what the user had before, and writes it back when a step is
restored or the switch is turned off. A hand-back that cannot be delivered
(the appliance is off the network) is written when the appliance reports again.
"""

from __future__ import annotations

from collections.abc import Mapping
import contextlib
import logging
from typing import Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.energy.shedding import (
    GRID_EVENT,
    POWER_LIMIT,
    LoadState,
    ShedStep,
)
from custom_components.liuzhou_appliances.link.errors import LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType, OperationalState, Value

from .runtime_state import kept_values
from .views import ApplianceView

_LOGGER = logging.getLogger(__package__)

_RUN_STEPS = frozenset({ShedStep.DEFER_RUN, ShedStep.PAUSE_RUN})


class ApplianceShedding:
    """The shedding steps held on one appliance."""

    def __init__(self, energy: ApplianceView) -> None:
        """Nothing is shed."""
        self.energy = energy
        self.coordinator = energy.coordinator
        self.steps: set[ShedStep] = set()
        self.cause = POWER_LIMIT
        self._pre_shed: dict[str, Value] = {}
        # Released from shedding while off the network: written when it is back.
        self._pending_release: dict[str, Value] = {}
        self._pending_resume = False

    @property
    def reasons(self) -> tuple[str, ...]:
        """The deepest step held and its cause, as status reasons."""
        return (f"shed_{max(self.steps).name.lower()}", self.cause)

    def _occupied(self) -> bool:
        """An AC's room as the AC loop takes it: its room's state once set, else the
        household's occupancy entity (none set or unknown: occupied)."""
        household = self.energy.household
        if household is None:
            return True
        entry_id = self.coordinator.config_entry.entry_id
        room = household.room_presence(entry_id, dt_util.utcnow())
        return room.occupied if room is not None else household.occupancy() != 0.0

    def load_state(self) -> LoadState | None:
        """How the shedder sees this appliance (fridges are never shed: None)."""
        data = self.coordinator.values
        if not self.coordinator.connected:
            return None
        power = data.get("power")
        watts = float(power) if isinstance(power, int | float) else 0.0
        kind = self.energy.kind
        if kind is ApplianceType.ROOM_AIR_CONDITIONER:
            return LoadState(self.energy.appliance_id, "ac", watts, occupied=self._occupied())
        if kind in (ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER):
            state = data.get("operational_state")
            delay = data.get("delay_remaining") or 0
            shed_paused = ShedStep.PAUSE_RUN in self.steps
            running = (state == OperationalState.RUNNING or shed_paused) and not delay
            pending = state in (OperationalState.RUNNING, OperationalState.PAUSED) and bool(delay)
            expected = 0.0
            with contextlib.suppress(LinkError):
                expected = max(w for _, w in self.energy.runs.programme(None).profile)
            return LoadState(
                self.energy.appliance_id,
                "washer" if kind is ApplianceType.LAUNDRY_WASHER else "dishwasher",
                watts,
                running=running,
                pending_start=pending,
                expected_w=expected,
            )
        return None

    async def async_shed(self, step: ShedStep, cause: str) -> None:
        """Apply one shedding step (logged by the shedder); ``cause``: POWER_LIMIT or GRID_EVENT."""
        data = self.coordinator.values
        if not self.steps:
            self._pre_shed = {
                key: data[key] for key in ("on", "mode", "target_temperature") if key in data
            }
        self.steps.add(step)
        self.cause = cause
        await self._async_apply(step, restoring=False)
        self.energy.async_notify()

    async def async_restore(self, step: ShedStep) -> None:
        """Undo one shedding step."""
        if step not in self.steps:
            return
        self.steps.discard(step)
        await self._async_apply(step, restoring=True)
        self.energy.async_notify()

    async def _async_apply(self, step: ShedStep, *, restoring: bool) -> None:
        values: dict[str, Value] = {}
        title = self.coordinator.config_entry.title
        try:
            if step in _RUN_STEPS:
                paused = self.coordinator.values.get("operational_state")
                if restoring or paused != OperationalState.PAUSED:  # held again on return
                    await self.coordinator.async_command("resume" if restoring else "pause")
                return
            before = self._pre_shed
            if step is ShedStep.AC_VACANT_OFF:
                values["on"] = before.get("on", True) if restoring else False
            elif step is ShedStep.AC_FAN_ONLY:
                values["mode"] = before.get("mode", "cool") if restoring else "fan_only"
            else:
                target = before.get("target_temperature")
                if isinstance(target, int | float):
                    direction = 1.0 if before.get("mode") != "heat" else -1.0
                    kelvin = sum(
                        1.0
                        for relax in (ShedStep.AC_RELAX_1K, ShedStep.AC_RELAX_2K)
                        if relax in self.steps
                    )
                    values["target_temperature"] = float(target) + direction * kelvin
            if values:
                await self.coordinator.async_write(values)
        except HomeAssistantError as err:
            if restoring:
                # Not delivered (typically: the connection just dropped): tried again
                # once it is connected, so a load is never left shed by a blip.
                self._pending_release.update(values)
                if step in _RUN_STEPS:
                    self._pending_resume = True
                _LOGGER.info(
                    "%s: undoing %s failed (%s); trying again when it reports",
                    title,
                    step.name.lower(),
                    err,
                )
                return
            _LOGGER.warning("%s: load shedding step %s failed: %s", title, step.name.lower(), err)

    async def async_release(self) -> None:
        """Switched off while shed: out of the shedder, and the user's settings back."""
        if (household := self.energy.household) is not None:
            household.shedding.forget_appliance(self.energy.appliance_id)
        steps, self.steps = self.steps, set()
        if not steps:
            return
        values, resume = self._release_of(steps)
        if not self.coordinator.connected:
            self._pending_release.update(values)
            self._pending_resume = self._pending_resume or resume
            return
        await self._async_write_release(values, resume=resume)

    def _release_of(self, steps: set[ShedStep]) -> tuple[dict[str, Value], bool]:
        """What undoes ``steps``: the values to write back, and whether to resume a run."""
        before = self._pre_shed
        values: dict[str, Value] = {}
        if ShedStep.AC_VACANT_OFF in steps:
            values["on"] = before.get("on", True)
        if ShedStep.AC_FAN_ONLY in steps:
            values["mode"] = before.get("mode", "cool")
        if steps & {ShedStep.AC_RELAX_1K, ShedStep.AC_RELAX_2K}:
            target = self.energy.user_settings.get(
                "target_temperature", before.get("target_temperature")
            )
            if isinstance(target, int | float):
                values["target_temperature"] = target
        return values, bool(steps & _RUN_STEPS)

    async def _async_write_release(self, values: Mapping[str, Value], *, resume: bool) -> None:
        try:
            if values:
                await self.coordinator.async_write(values)
            if resume:
                await self.coordinator.async_command("resume")
        except HomeAssistantError as err:
            _LOGGER.warning(
                "%s: could not hand back from load shedding: %s",
                self.coordinator.config_entry.title,
                err,
            )

    def async_follow_connection(self) -> None:
        """At each report: write a pending hand-back; if shed actions wait for it, shed now."""
        if not self.coordinator.connected:
            return
        if self._pending_release or self._pending_resume:
            self.coordinator.config_entry.async_create_task(
                self.energy.hass, self._async_write_pending_release(), f"{DOMAIN} hand back"
            )
            self._pending_release, self._pending_resume = {}, False
        household = self.energy.household
        if household is not None and household.shedding.waits_for(self.energy.appliance_id):
            # Back on the network while shed: hold it again or restore it now.
            self.coordinator.config_entry.async_create_task(
                self.energy.hass,
                household.shedding.async_update(),
                f"{DOMAIN} shed {self.energy.appliance_id}",
            )

    async def _async_write_pending_release(self) -> None:
        values, self._pending_release = self._pending_release, {}
        resume, self._pending_resume = self._pending_resume, False
        await self._async_write_release(values, resume=resume)

    # --- in-progress state across reloads and restarts ---------------------------------

    def export_runtime(self) -> dict[str, Any]:
        """The steps held, what they replaced and what waits to be handed back."""
        return {
            "shed_steps": sorted(step.name.lower() for step in self.steps),
            "shed_cause": self.cause,
            "pre_shed": dict(self._pre_shed),
            "pending_release": dict(self._pending_release),
            "pending_resume": self._pending_resume,
        }

    def restore_runtime(self, kept: Mapping[str, Any], *, held: bool) -> None:
        """Take the kept steps; not ``held`` any more: hand them back once connected."""
        self._pre_shed = kept_values(kept, "pre_shed")
        self._pending_release = kept_values(kept, "pending_release")
        self._pending_resume = kept.get("pending_resume") is True
        steps = {
            ShedStep[name.upper()]
            for name in kept.get("shed_steps") or ()
            if isinstance(name, str) and name.upper() in ShedStep.__members__
        }
        if held:
            self.steps = steps
            cause = kept.get("shed_cause")
            self.cause = cause if cause in (POWER_LIMIT, GRID_EVENT) else POWER_LIMIT
        elif steps:
            release, resume = self._release_of(steps)
            self._pending_release.update(release)
            self._pending_resume = self._pending_resume or resume
