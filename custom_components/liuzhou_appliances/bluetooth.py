"""BLE appliances through Home Assistant's Bluetooth: what advertises, and connecting to it.

Everything goes through ``homeassistant.components.bluetooth``: local adapters
and ESPHome Bluetooth proxies look the same here, and this integration never
scans or opens an adapter itself. ``ble_opener`` gives ``pair()`` and
``ApplianceClient`` an ``open_transport`` over bleak-retry-connector;
``AdvertisementWatcher`` follows a configured appliance's advertisements
(latest RSSI, back in range, gone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
import logging
from typing import Any, Final, cast

from bleak_retry_connector import (
    BleakClientWithServiceCache,
    BleakOutOfConnectionSlotsError,
    establish_connection,
)
from homeassistant.components import bluetooth
from homeassistant.components.bluetooth import (
    BluetoothChange,
    BluetoothScanningMode,
    BluetoothServiceInfoBleak,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from .link.ble import SERVICE_UUID
from .link.ble_advertisement import AdvertisementError, BleAdvertisement, parse_service_data
from .link.ble_client import BleTransport, DisconnectedCallback, GattClient
from .link.client import OpenTransport
from .link.errors import ApplianceUnreachable
from .link.transport import FrameTransport

_LOGGER = logging.getLogger(__name__)

# How often the signal strength is read from the last advertisement heard (s).
RSSI_POLL_S: Final = 30.0


class NoConnectableAdapter(ApplianceUnreachable):
    """Home Assistant has no Bluetooth adapter or proxy that can connect."""


class NotInRange(ApplianceUnreachable):
    """No connectable adapter or proxy hears the appliance now."""


class OutOfConnectionSlots(ApplianceUnreachable):
    """The adapter or proxy in range has no free connection."""


def appliance_advertisement(info: BluetoothServiceInfoBleak) -> BleAdvertisement | None:
    """Our service data in an advertisement, or None if it is not an appliance's."""
    data = info.service_data.get(SERVICE_UUID)
    if data is None:
        return None
    try:
        return parse_service_data(data)
    except AdvertisementError as err:
        _LOGGER.debug("Ignoring %s: %s", info.address, err)
        return None


@dataclass(frozen=True, slots=True)
class NearbyAppliance:
    """An appliance advertising within reach of a connectable adapter or proxy."""

    address: str
    advertisement: BleAdvertisement
    rssi: int


@callback
def async_nearby_appliances(hass: HomeAssistant) -> list[NearbyAppliance]:
    """Appliances Home Assistant's Bluetooth has seen lately, strongest signal first."""
    found: list[NearbyAppliance] = []
    for info in bluetooth.async_discovered_service_info(hass, connectable=True):
        advertisement = appliance_advertisement(info)
        if advertisement is not None:
            found.append(NearbyAppliance(info.address, advertisement, info.rssi))
    return sorted(found, key=lambda nearby: -nearby.rssi)


def ble_opener(hass: HomeAssistant, address: str, name: str) -> OpenTransport:
    """An ``open_transport`` connecting to ``address`` through Home Assistant's Bluetooth.

    Raises NoConnectableAdapter, NotInRange, OutOfConnectionSlots, or
    ApplianceUnreachable for any other failure to connect.
    """

    async def open_transport() -> FrameTransport:
        device = bluetooth.async_ble_device_from_address(hass, address, connectable=True)
        if device is None:
            if not bluetooth.async_scanner_count(hass, connectable=True):
                raise NoConnectableAdapter("no connectable Bluetooth adapter or proxy")
            raise NotInRange(f"{address} is not advertising near a connectable adapter or proxy")

        async def connect(disconnected: DisconnectedCallback) -> GattClient:
            try:
                client = await establish_connection(
                    BleakClientWithServiceCache,
                    device,
                    name,
                    disconnected_callback=disconnected,
                    # Each retry takes the best path now (another proxy may hear it better).
                    ble_device_callback=lambda: (
                        bluetooth.async_ble_device_from_address(hass, address, connectable=True)
                        or device
                    ),
                )
            except BleakOutOfConnectionSlotsError as err:
                raise OutOfConnectionSlots(f"no free connection slot for {address}") from err
            # bleak's client has the GattClient methods with wider parameter types.
            return cast(GattClient, client)

        return await BleTransport.open(connect)

    return open_transport


class AdvertisementWatcher:
    """Follows one configured appliance's advertisements.

    ``on_seen()`` runs for each advertisement Home Assistant passes on (the
    first, then each whose data changed: the caller wakes its reconnect, or
    looks at ``advertisement.changes``), ``on_gone()`` when Home Assistant's
    Bluetooth stops hearing it. ``rssi`` is the latest signal strength in dBm
    (None once gone): Home Assistant passes on only changed advertisements, so
    it is also read from the last one heard every ``RSSI_POLL_S``.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        address: str,
        on_seen: Callable[[], None],
        on_gone: Callable[[], None],
    ) -> None:
        self.hass = hass
        self.address = address
        self._on_seen = on_seen
        self._on_gone = on_gone
        last = bluetooth.async_last_service_info(hass, address, connectable=True)
        self.rssi: int | None = last.rssi if last is not None else None
        self.advertisement = appliance_advertisement(last) if last is not None else None
        self._listeners: list[CALLBACK_TYPE] = []
        self._unsubs: list[CALLBACK_TYPE] = []

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Start following; returns the function that stops."""
        self._unsubs = [
            bluetooth.async_register_callback(
                self.hass,
                self._async_seen,
                {"address": self.address, "connectable": True},
                # The address is known: passive is enough, and spares the appliance scan requests.
                BluetoothScanningMode.PASSIVE,
            ),
            bluetooth.async_track_unavailable(
                self.hass, self._async_gone, self.address, connectable=True
            ),
            async_track_time_interval(
                self.hass, self._async_poll_rssi, timedelta(seconds=RSSI_POLL_S)
            ),
        ]
        return self.async_stop

    @callback
    def async_stop(self) -> None:
        """Stop following."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``listener()`` whenever ``rssi`` changes; returns the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def _async_seen(self, info: BluetoothServiceInfoBleak, _change: BluetoothChange) -> None:
        self.advertisement = appliance_advertisement(info) or self.advertisement
        if info.rssi != self.rssi:
            self.rssi = info.rssi
            self._notify()
        self._on_seen()

    @callback
    def _async_poll_rssi(self, _now: Any) -> None:
        if self.rssi is None:
            return  # gone: the next advertisement passed on brings it back
        last = bluetooth.async_last_service_info(self.hass, self.address, connectable=True)
        if last is not None and last.rssi != self.rssi:
            self.rssi = last.rssi
            self._notify()

    @callback
    def _async_gone(self, _info: Any) -> None:
        self.rssi = None
        self._notify()
        self._on_gone()

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()
