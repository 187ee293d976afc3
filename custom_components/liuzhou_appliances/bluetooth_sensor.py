"""The Bluetooth signal strength of a BLE appliance, from its latest advertisement."""

from __future__ import annotations

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.const import SIGNAL_STRENGTH_DECIBELS_MILLIWATT, EntityCategory

from .bluetooth import AdvertisementWatcher
from .coordinator import LiuzhouCoordinator


class BluetoothSignalSensor(SensorEntity):
    """RSSI in dBm as Home Assistant's Bluetooth last heard it (adapter or proxy).

    Diagnostic and disabled by default. Unavailable while nothing hears the
    appliance; it does not depend on the connection (a connected appliance may
    keep advertising, and one out of reach has no signal to show).
    """

    _attr_has_entity_name = True
    _attr_translation_key = "bluetooth_signal"
    _attr_device_class = SensorDeviceClass.SIGNAL_STRENGTH
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = SIGNAL_STRENGTH_DECIBELS_MILLIWATT
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_entity_registry_enabled_default = False
    _attr_should_poll = False

    def __init__(self, coordinator: LiuzhouCoordinator, watcher: AdvertisementWatcher) -> None:
        """One per BLE appliance, identified as ``<appliance_id>_bluetooth_signal``."""
        self._watcher = watcher
        self._attr_unique_id = f"{coordinator.appliance_id}_bluetooth_signal"
        self._attr_device_info = coordinator.device_info

    @property
    def available(self) -> bool:
        """Whether an advertisement was heard and the appliance has not gone since."""
        return self._watcher.rssi is not None

    @property
    def native_value(self) -> int | None:
        """The latest RSSI in dBm."""
        return self._watcher.rssi

    async def async_added_to_hass(self) -> None:
        """Follow the watcher's RSSI."""
        self.async_on_remove(self._watcher.async_add_listener(self.async_write_ha_state))
