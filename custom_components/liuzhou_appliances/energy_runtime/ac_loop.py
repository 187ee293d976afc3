"""The AC comfort loop: each minute, the fuzzy controller's target and fan speed for one AC.

The loop reads the AC's state (``AcState``) and the household's inputs,
follows the user's own changes, writes what the controller decides (no more
often than the minimum write period) and sets the status and its reasons. A
configured input that fails hands the AC back to its own control.

With the control-mode select on ``predictive``, ``PredictiveAc`` (``room_thermal.py``)
decides the target and fan speed instead; the fuzzy decision still sets the status
and hands back on failing inputs, and the predictive controller itself falls back to
the fuzzy one (and says why) without a model, history or a reading it needs. The loop
never turns the AC on or off (an AC it turned off would no longer be conditioning).

Occupancy and the next arrival come from the state of the AC's room when that is set
(``room_runtime.RoomOccupancy``: the room's arrival, the one its AC is started for at
the same preset's lead), else from the household's occupancy and next-arrival
entities; with neither the room counts as occupied. ``occupancy_source`` says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
import math
import time
from typing import Final

from homeassistant.util import dt as dt_util

from custom_components.liuzhou_appliances.const import CONF_OCCUPANCY_ENTITY, DOMAIN
from custom_components.liuzhou_appliances.energy.ac import (
    AcComfortController,
    AcInputs,
    compiled_for,
)
from custom_components.liuzhou_appliances.energy.ac_policy import PreconditionPolicy
from custom_components.liuzhou_appliances.energy.ac_predictive import PredictiveInputs
from custom_components.liuzhou_appliances.energy.ac_predictive_status import ControlMode
from custom_components.liuzhou_appliances.energy.inputs import DecisionStatus
from custom_components.liuzhou_appliances.link.model import Value

from .reported import AcState, number, reported_reading
from .room_thermal import PredictiveAc
from .status import EnergyStatus, reason_codes
from .views import ApplianceView, HouseholdView

# An expected arrival is planned for as a stay of this length (the entity gives no end).
STAY = timedelta(hours=8)
# Where the loop took occupancy from (``AcLoop.occupancy_source``, in the diagnostics).
SOURCE_ROOM: Final = "room_state"
SOURCE_ENTITY: Final = "occupancy_entity"
SOURCE_NONE: Final = "none"


class AcLoop:
    """The comfort controller of one AC, compiled once per preset (in the executor)."""

    def __init__(self, energy: ApplianceView) -> None:
        """No controller until the first loop compiles the preset's."""
        self.energy = energy
        self.coordinator = energy.coordinator
        self._ac: AcComfortController | None = None
        self._policy = PreconditionPolicy.for_preset(energy.preset)
        self._preparing = False
        self.last_decision_ms: float | None = None
        # SOURCE_ROOM, SOURCE_ENTITY or SOURCE_NONE since the last decision (None before).
        self.occupancy_source: str | None = None
        self.predictive = PredictiveAc(energy.hass, self.coordinator.config_entry.title)

    def reset(self) -> None:
        """A new preset or control mode: new controllers at the next loop."""
        self._ac = None
        self.predictive.reset()

    def _ready(self) -> bool:
        """Whether the controllers the preset and control mode need exist."""
        if self._ac is None:
            return False
        predictive = self.energy.control_mode is ControlMode.PREDICTIVE
        return not predictive or self.predictive.controller is not None

    async def _async_prepare(self) -> None:
        """Compile the preset's surface in the executor (seconds; never in the event loop)."""
        preset = self.energy.preset
        try:
            await self.energy.hass.async_add_executor_job(compiled_for, preset)
            if self._ac is None and preset is self.energy.preset:
                self._ac = AcComfortController(preset=preset)
                # The lead is the preset's too (it matters once arrival times are known).
                self._policy = PreconditionPolicy.for_preset(preset)
            household = self.energy.household
            if (
                self.energy.control_mode is ControlMode.PREDICTIVE
                and self.predictive.controller is None
                and household is not None
            ):
                # The model loads in the executor, once for all ACs; never raises.
                await self.predictive.async_prepare(preset, household.tariff)
        finally:
            self._preparing = False
        await self.energy.async_tick()

    async def async_tick(self, household: HouseholdView) -> None:
        """One decision for the AC."""
        energy = self.energy
        data = self.coordinator.data
        ac = AcState.read(data)
        if ac.mode is None:
            energy.savings.last_tick = None
            energy.set_status(EnergyStatus.IDLE, ("ac_not_conditioning",))
            return
        if not self._ready() or self._ac is None:
            energy.set_status(EnergyStatus.STARTING)
            if not self._preparing:
                self._preparing = True
                self.coordinator.config_entry.async_create_task(
                    energy.hass, self._async_prepare(), f"{DOMAIN} compile {energy.preset}"
                )
            return
        self._follow_user_changes(data)
        setpoint = number(
            energy.user_settings.get("target_temperature", data.get("target_temperature"))
        )
        if setpoint is None:
            setpoint = math.nan  # the controller reports setpoint_invalid
        now = dt_util.utcnow()
        outdoor = household.outdoor_temperature()
        if not household.has_outdoor_sensor:
            outdoor = reported_reading(ac.outdoor_temperature, now)
        room = household.room_presence(self.coordinator.config_entry.entry_id, now)
        if room is not None:
            occupancy: float | None = 1.0 if room.occupied else 0.0
            arrival, arrival_problem = room.arrival, None
            self.occupancy_source = SOURCE_ROOM
        else:
            occupancy = household.occupancy()
            arrival, arrival_problem = household.next_arrival(now)
            configured = household.options.get(CONF_OCCUPANCY_ENTITY)
            self.occupancy_source = SOURCE_ENTITY if configured else SOURCE_NONE
        on = self._policy.should_run(now, occupancy != 0.0, arrival)
        self._ac.tariff = household.tariff
        started = time.perf_counter()
        decision = self._ac.decide(
            AcInputs(
                now=now,
                mode=ac.mode,
                setpoint=setpoint,
                room_temperature=reported_reading(ac.room_temperature, now),
                outdoor_temperature=outdoor,
                humidity=reported_reading(ac.humidity, now),
                occupancy=None if occupancy is None else (1.0 if on else 0.0),
            )
        )
        self.last_decision_ms = (time.perf_counter() - started) * 1000.0
        # In Home Assistant a configured outdoor sensor or price feed that fails is a
        # reason to stop acting, not to guess (the issue's "fall back" rule).
        blocking = [
            issue
            for issue in decision.issues
            if issue.code == "price_unavailable"
            or (household.has_outdoor_sensor and issue.code.startswith("outdoor_temperature"))
        ]
        if decision.status is DecisionStatus.FALLBACK or blocking:
            causes = blocking or list(decision.issues)
            energy.savings.last_tick = None
            energy.set_status(
                EnergyStatus.FALLBACK,
                reason_codes(causes),
                "; ".join(issue.message for issue in causes),
            )
            await energy.async_hand_back()
            return
        if energy.savings.accrue_ac(now, ac, outdoor, setpoint, household.price_now(now)):
            energy.async_notify()
        wanted: dict[str, Value] = {
            "target_temperature": decision.target_temperature,
            "fan_speed": decision.fan_speed,
        }
        if energy.control_mode is ControlMode.PREDICTIVE:
            predicted = self.predictive.decide(
                PredictiveInputs(
                    now=now,
                    mode=ac.mode,
                    setpoint=setpoint,
                    room_temperature=reported_reading(ac.room_temperature, now),
                    humidity=reported_reading(ac.humidity, now),
                    outdoor_temperature=outdoor,
                    # Without a household outdoor humidity sensor the controller
                    # reports ``inputs_missing`` and the fuzzy one decides.
                    outdoor_humidity=household.outdoor_humidity(),
                    energy_kwh=reported_reading(data.get("energy"), now),
                    occupied=occupancy != 0.0,
                    stays=None if arrival is None else [(arrival, arrival + STAY)],
                ),
                household.tariff,
            )
            if predicted is not None:
                wanted = {
                    "target_temperature": predicted.target_temperature,
                    "fan_speed": predicted.fan_speed,
                }
        changes = {key: value for key, value in wanted.items() if data.get(key) != value}
        if changes:
            await energy.async_write(changes)
        # An input nobody set up (no occupancy entity; a unit that does not measure
        # humidity or outdoor temperature, and no household sensor for it) is a normal
        # set-up with a documented default, not a degradation: only inputs that are
        # configured or declared but missing or stale degrade the decision.
        unconfigured = self._unconfigured_inputs(household)
        degraded = list(
            reason_codes(
                issue
                for issue in decision.issues
                if issue.code != "input_clipped" and issue.code not in unconfigured
            )
        )
        if arrival_problem is not None:
            degraded.append(arrival_problem)
        defaults = [
            unconfigured[issue.code] for issue in decision.issues if issue.code in unconfigured
        ]
        if room is not None:
            defaults.append(room.reason)
        if degraded:
            status = EnergyStatus.DEGRADED
        elif room is not None:
            status = EnergyStatus.ACTIVE_ROOM
        elif "occupancy_missing" in unconfigured:
            status = EnergyStatus.ACTIVE_NO_OCCUPANCY
        else:
            status = EnergyStatus.ACTIVE
        energy.set_status(status, (*degraded, *defaults))

    def _unconfigured_inputs(self, household: HouseholdView) -> dict[str, str]:
        """Issue codes of the AC controller's inputs nobody set up, and the reason shown.

        No occupancy entity: the room counts as occupied. No humidity on the AC:
        DEFAULT_HUMIDITY_PCT. No outdoor temperature (household or AC):
        DEFAULT_OUTDOOR_LOAD_K (the translated reasons name both numbers).
        """
        capabilities = self.coordinator.declaration.capabilities
        out: dict[str, str] = {}
        if not household.options.get(CONF_OCCUPANCY_ENTITY):
            out["occupancy_missing"] = "no_occupancy_entity"
        if "humidity" not in capabilities:
            out["humidity_missing"] = "no_humidity_sensor"
        if not household.has_outdoor_sensor and "outdoor_temperature" not in capabilities:
            out["outdoor_temperature_missing"] = "no_outdoor_sensor"
        return out

    def _follow_user_changes(self, data: Mapping[str, Value]) -> None:
        """A value we did not write is the user's new choice: control around that."""
        energy = self.energy
        for key in ("target_temperature", "fan_speed"):
            value = data.get(key)
            if value is not None and key in energy.written and value != energy.written[key]:
                energy.user_settings[key] = value
                del energy.written[key]
            elif value is not None and key not in energy.written:
                energy.user_settings[key] = value
