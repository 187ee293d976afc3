"""Sensors: power, energy, temperatures, humidity, operational state and timing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
import math
from typing import Any, Self

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import ExtraStoredData, RestoreEntity
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .bluetooth_sensor import BluetoothSignalSensor
from .coordinator import LiuzhouCoordinator
from .descriptions import (
    REMAINING_ENERGY,
    SENSORS,
    STABLE_TIMESTAMP_TOLERANCE_S,
    LiuzhouSensorEntityDescription,
    declared,
)
from .energy.tariff_options import CONF_TARIFF, TARIFF_RESIDENTIAL
from .energy_entities import energy_sensors
from .entity import LiuzhouEntity
from .household import household_device_info, household_sensors
from .naming import async_tariff_name
from .room_energy_sensors import async_setup_room_energy
from .runtime_data import AnyLiuzhouConfigEntry, HouseholdRuntimeData
from .wet_cycle_prediction import RunEstimate
from .wet_cycle_runtime import WetCycleRuntime

_LOGGER = logging.getLogger(__package__)

# Sensors only read pushed state; nothing here talks to the appliance.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnyLiuzhouConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors the appliance declares, or the household's."""
    runtime = entry.runtime_data
    if isinstance(runtime, HouseholdRuntimeData):
        kind = entry.options.get(CONF_TARIFF, TARIFF_RESIDENTIAL)
        tariff_name = await async_tariff_name(hass, kind)
        async_add_entities(household_sensors(runtime.energy, tariff_name))
        device = household_device_info(runtime.energy, tariff_name)
        async_setup_room_energy(hass, entry, runtime.energy, device, async_add_entities)
        return
    coordinator = runtime.coordinator
    prediction = runtime.prediction
    async_add_entities(
        PredictedFinishSensor(coordinator, description, prediction)
        if prediction is not None and description.key == "finish_time"
        else _sensor_class(description)(coordinator, description)
        for description in declared(SENSORS, coordinator.declaration)
    )
    if prediction is not None:
        async_add_entities([RemainingEnergySensor(coordinator, REMAINING_ENERGY, prediction)])
    async_add_entities(energy_sensors(runtime))
    if coordinator.advertisements is not None:
        async_add_entities([BluetoothSignalSensor(coordinator, coordinator.advertisements)])


def _sensor_class(description: LiuzhouSensorEntityDescription) -> type[LiuzhouSensor]:
    if description.seconds_until_fn is not None:
        return LiuzhouTimestampSensor
    if description.state_class is SensorStateClass.TOTAL_INCREASING:
        return LiuzhouTotalSensor
    return LiuzhouSensor


class LiuzhouSensor(LiuzhouEntity, SensorEntity):
    """A sensor mirroring one capability (or a value derived from the state)."""

    entity_description: LiuzhouSensorEntityDescription

    def __init__(
        self, coordinator: LiuzhouCoordinator, description: LiuzhouSensorEntityDescription
    ) -> None:
        """Build the sensor; enum sensors offer the options the appliance declares."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        if description.device_class is SensorDeviceClass.ENUM:
            capability = coordinator.declaration.capability(description.key)
            self._attr_options = list(capability.options)

    @property
    def native_value(self) -> StateType | datetime:
        """The current value."""
        if self.entity_description.value_fn is not None:
            return self.entity_description.value_fn(self.coordinator.data)
        value = self._value(self.entity_description.key)
        # Lists (fault codes) are no sensor states; the data model has none here.
        if isinstance(value, list):
            return None
        # An option this entity was not built with (new firmware, until the entry
        # reloads with its declaration) reads unknown rather than failing the state.
        if self.device_class is SensorDeviceClass.ENUM and value not in (self.options or ()):
            return None
        return value


class LiuzhouTimestampSensor(LiuzhouSensor):
    """A moment in the future (the finish time), computed from a countdown.

    The moment is recomputed on every update but only replaces the state when
    it moved by more than ``STABLE_TIMESTAMP_TOLERANCE_S``: a countdown pushed
    every second then leaves the state alone, while a pause, a changed delay or
    a new run moves it.
    """

    def __init__(
        self, coordinator: LiuzhouCoordinator, description: LiuzhouSensorEntityDescription
    ) -> None:
        """Build the sensor and compute its first moment."""
        super().__init__(coordinator, description)
        self._moment: datetime | None = None
        self._update_moment()

    def _update_moment(self) -> None:
        seconds_until_fn = self.entity_description.seconds_until_fn
        assert seconds_until_fn is not None
        self._set_moment(seconds_until_fn(self.coordinator.values))

    def _set_moment(self, seconds: int | None) -> None:
        """Show now + ``seconds`` if it moved beyond the tolerance (None: no moment)."""
        if seconds is None:
            self._moment = None
            return
        # Whole seconds: the appliance counts in seconds, and so does the frontend.
        moment = dt_util.utcnow().replace(microsecond=0) + timedelta(seconds=seconds)
        if (
            self._moment is None
            or abs((moment - self._moment).total_seconds()) > STABLE_TIMESTAMP_TOLERANCE_S
        ):
            self._moment = moment

    @callback
    def _handle_coordinator_update(self) -> None:
        self._update_moment()
        super()._handle_coordinator_update()

    @property
    def native_value(self) -> datetime | None:
        """The moment shown."""
        return self._moment


def estimate_attributes(estimate: RunEstimate | None) -> dict[str, Any] | None:
    """``source`` ("model" or "appliance") and ``run`` ("followed" from its start, or
    "joined" half way: a new hub, or back from a restart too long to go on with it)."""
    if estimate is None:
        return None
    return {"source": estimate.source, "run": "joined" if estimate.joined else "followed"}


class PredictedFinishSensor(LiuzhouTimestampSensor):
    """A washer's or dishwasher's finish time from the hub's estimate of the run.

    The estimate (``WetCycleRuntime``) is the wet-cycle model's when it answers and
    the appliance's own countdown otherwise; the ``source`` attribute says which, and
    ``run`` whether the hub saw the run start or joined it half way.
    """

    def __init__(
        self,
        coordinator: LiuzhouCoordinator,
        description: LiuzhouSensorEntityDescription,
        prediction: WetCycleRuntime,
    ) -> None:
        """Build the sensor on the appliance's predictor."""
        self._prediction = prediction
        super().__init__(coordinator, description)

    async def async_added_to_hass(self) -> None:
        """Follow the estimate as well as the appliance."""
        await super().async_added_to_hass()
        self.async_on_remove(self._prediction.async_add_listener(self._handle_estimate))

    @callback
    def _handle_estimate(self) -> None:
        self._update_moment()
        self.async_write_ha_state()

    def _update_moment(self) -> None:
        estimate = self._prediction.estimate
        self._set_moment(None if estimate is None else estimate.remaining_s)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Where the estimate comes from (``estimate_attributes``)."""
        return estimate_attributes(self._prediction.estimate)


class RemainingEnergySensor(LiuzhouSensor):
    """The energy (kWh) the run under way still uses, as the hub estimates it."""

    def __init__(
        self,
        coordinator: LiuzhouCoordinator,
        description: LiuzhouSensorEntityDescription,
        prediction: WetCycleRuntime,
    ) -> None:
        """Build the sensor on the appliance's predictor."""
        super().__init__(coordinator, description)
        self._prediction = prediction

    async def async_added_to_hass(self) -> None:
        """Follow the estimate."""
        await super().async_added_to_hass()
        self.async_on_remove(self._prediction.async_add_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> float | None:
        """kWh left in the run under way; None without a run or an estimate of it."""
        estimate = self._prediction.estimate
        return (
            None
            if estimate is None or estimate.remaining_kwh is None
            else round(estimate.remaining_kwh, 3)
        )

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Where the estimate comes from (``estimate_attributes``; "appliance": its
        declared profile)."""
        return estimate_attributes(self._prediction.estimate)


@dataclass(slots=True)
class MeterTotal(ExtraStoredData):
    """What a total sensor keeps across restarts: the meter, its last reading, the offset."""

    meter: str
    total: float
    reading: float
    offset: float

    def as_dict(self) -> dict[str, Any]:
        """JSON for the restore-state store."""
        return {
            "meter": self.meter,
            "total": self.total,
            "reading": self.reading,
            "offset": self.offset,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self | None:
        """The stored total, or None if it is not one (older release, damaged store)."""
        try:
            meter = data["meter"]
            numbers = [float(data[key]) for key in ("total", "reading", "offset")]
        except (KeyError, TypeError, ValueError):
            return None
        if not isinstance(meter, str) or not all(math.isfinite(n) for n in numbers):
            return None
        return cls(meter, *numbers)


class LiuzhouTotalSensor(LiuzhouSensor, RestoreEntity):
    """A total that never goes backwards (energy), even when the appliance's counter does.

    Home Assistant books any drop of a ``total_increasing`` sensor as negative
    consumption (from 10 % down, as a meter reset). If the appliance reports a
    lower counter than before (it lost energy in a power cut, or its counter
    was reset or its controller replaced), the sensor carries on from the
    total it already showed and adds what the appliance counts from then on:
    the difference becomes an offset, kept across restarts together with the
    last reading. The meter is the appliance: a different appliance (another
    appliance id, hence another unique id) starts from its own reading.
    """

    def __init__(
        self, coordinator: LiuzhouCoordinator, description: LiuzhouSensorEntityDescription
    ) -> None:
        """Start with no history; ``async_added_to_hass`` restores it."""
        super().__init__(coordinator, description)
        self._total: float | None = None
        self._reading: float | None = None
        self._offset = 0.0

    async def async_added_to_hass(self) -> None:
        """Take the total kept for this meter, then the appliance's present reading."""
        await super().async_added_to_hass()
        stored = await self.async_get_last_extra_data()
        kept = MeterTotal.from_dict(stored.as_dict()) if stored is not None else None
        if kept is not None and kept.meter == self.unique_id:
            self._total, self._reading, self._offset = kept.total, kept.reading, kept.offset
        self._follow_reading()

    @property
    def extra_restore_state_data(self) -> MeterTotal | None:
        """The total and how it follows the appliance's counter."""
        if self._total is None or self._reading is None or self.unique_id is None:
            return None
        return MeterTotal(self.unique_id, self._total, self._reading, self._offset)

    @callback
    def _handle_coordinator_update(self) -> None:
        self._follow_reading()
        super()._handle_coordinator_update()

    def _follow_reading(self) -> None:
        reading = self._value(self.entity_description.key)
        if (
            isinstance(reading, bool)
            or not isinstance(reading, int | float)
            or not math.isfinite(reading)
        ):
            return
        reading = float(reading)
        if self._total is not None and self._reading is not None and reading < self._reading:
            _LOGGER.warning(
                "%s: the appliance's %s counter went back from %s to %s; the sensor carries on "
                "from %s",
                self.coordinator.config_entry.title,
                self.entity_description.key,
                self._reading,
                reading,
                self._total,
            )
            self._offset = self._total - reading
        self._reading = reading
        # Rounded: the offset must not show float noise (13.009000000000002).
        total = round(reading + self._offset, 6)
        self._total = total if self._total is None else max(self._total, total)

    @property
    def native_value(self) -> StateType:
        """The total so far (never below what was already shown)."""
        return self._total
