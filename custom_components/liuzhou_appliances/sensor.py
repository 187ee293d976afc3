"""Sensors: power, energy, temperatures, humidity, operational state and timing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .const import HOUSEHOLD_UNIQUE_ID
from .coordinator import LiuzhouConfigEntry, LiuzhouCoordinator
from .descriptions import (
    SENSORS,
    STABLE_TIMESTAMP_TOLERANCE_S,
    LiuzhouSensorEntityDescription,
    declared,
)
from .energy_entities import energy_sensors
from .entity import LiuzhouEntity
from .household import HouseholdEntry, household_sensors

# Sensors only read pushed state; nothing here talks to the appliance.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LiuzhouConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors the appliance declares, or the household's."""
    if entry.unique_id == HOUSEHOLD_UNIQUE_ID:
        async_add_entities(household_sensors(cast(HouseholdEntry, entry)))
        return
    coordinator = entry.runtime_data
    async_add_entities(
        LiuzhouTimestampSensor(coordinator, description)
        if description.seconds_until_fn is not None
        else LiuzhouSensor(coordinator, description)
        for description in declared(SENSORS, coordinator.declaration)
    )
    async_add_entities(energy_sensors(hass, coordinator))


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
        seconds = seconds_until_fn(self.coordinator.data or {})
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
