"""Home Assistant with its Bluetooth running: a proxy that hears the appliances, a hub central."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
import contextlib
from dataclasses import dataclass, field
import time
from typing import Any, Literal
from unittest.mock import patch

from bleak_retry_connector import BleakNotFoundError, BleakOutOfConnectionSlotsError
from habluetooth import BaseHaRemoteScanner, HaBluetoothConnector
from homeassistant.components import bluetooth
from homeassistant.components.climate.const import DOMAIN as CLIMATE_DOMAIN, SERVICE_SET_TEMPERATURE
from homeassistant.config_entries import (
    SOURCE_BLUETOOTH,
    ConfigEntry,
)
from homeassistant.const import ATTR_ENTITY_ID, ATTR_TEMPERATURE, CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.liuzhou_appliances.const import (
    CONF_PAIRING_CODE,
    DOMAIN,
)
from custom_components.liuzhou_appliances.link.ble import SERVICE_UUID
from custom_components.liuzhou_appliances.link.ble_advertisement import build_service_data
from custom_components.liuzhou_appliances.links import (
    LinkKind,
)
from firmware_bridge.ble import VirtualLink, fleet
from firmware_bridge.ble.central import BumbleGattClient
from firmware_bridge.ble.peripheral import BlePeripheral
from firmware_bridge.bridge import SimulatedProduct, simulated_appliances
from tests.ble.conftest import BleAppliance, Hub


@pytest.fixture(autouse=True)
def _home_assistant(
    enable_custom_integrations: None, mock_async_zeroconf: Any, enable_bluetooth: None
) -> None:
    """This repository's integration, zeroconf mocked, Home Assistant's Bluetooth running."""


class FakeProxy(BaseHaRemoteScanner):
    """A connectable remote scanner, as an ESPHome Bluetooth proxy registers.

    Home Assistant passes an advertisement on to callbacks only when its data
    changed; ``appended`` bytes after the service data (as a later format may
    add) let a test send one that did.
    """

    def hear(
        self,
        appliance: BleAppliance,
        *,
        paired: bool = False,
        rssi: int = -60,
        appended: bytes = b"",
        seq: int = 0,
    ) -> None:
        self.hear_peripheral(
            appliance.peripheral, paired=paired, rssi=rssi, appended=appended, seq=seq
        )

    def hear_peripheral(
        self,
        peripheral: BlePeripheral,
        *,
        paired: bool = False,
        rssi: int = -60,
        appended: bytes = b"",
        seq: int = 0,
    ) -> None:
        identity = peripheral.identity
        data = build_service_data(identity.appliance_id, identity.type, paired=paired, seq=seq)
        self._async_on_advertisement(
            peripheral.address,
            rssi,
            identity.appliance_id,
            [],
            {SERVICE_UUID: data + appended},
            {},
            None,
            {},
            time.monotonic(),
        )


@pytest.fixture
async def proxy(hass: HomeAssistant) -> AsyncIterator[FakeProxy]:
    connector = HaBluetoothConnector(client=object, source="proxy", can_connect=lambda: True)  # type: ignore[arg-type]
    scanner = FakeProxy("AA:BB:CC:DD:EE:FF", "proxy", connector, True)
    unsetup = scanner.async_setup()
    cancel = bluetooth.async_register_scanner(hass, scanner)
    yield scanner
    cancel()
    unsetup()


@dataclass
class BumbleConnections:
    """establish_connection as the hub's Bumble central: a BumbleGattClient per connection.

    With ``slots_free`` False it fails as bleak-retry-connector does when every
    proxy in range is out of connection slots, with ``reachable`` False as when
    the appliance does not answer. ``attempts`` counts the calls.
    """

    hub: Hub
    slots_free: bool = True
    reachable: bool = True
    attempts: int = 0
    clients: list[BumbleGattClient] = field(default_factory=list)

    async def establish_connection(
        self,
        _client_class: Any,
        device: Any,
        name: str,
        disconnected_callback: Callable[[Any], None] | None = None,
        **_kwargs: Any,
    ) -> BumbleGattClient:
        self.attempts += 1
        if not self.slots_free:
            raise BleakOutOfConnectionSlotsError(
                f"{name} - {device.address}: Failed to connect after 4 attempt(s): "
                "No backend with an available connection slot that can reach address "
                f"{device.address} was found"
            )
        if not self.reachable:
            raise BleakNotFoundError(
                f"{name} - {device.address}: Failed to connect after 4 attempt(s): "
                "The device disappeared"
            )
        client = BumbleGattClient(
            self.hub.device, device.address, disconnected_callback=disconnected_callback
        )
        await client.connect()
        self.clients.append(client)
        return client


@pytest.fixture
def bumble_connections(hub: Hub) -> Iterator[BumbleConnections]:
    connections = BumbleConnections(hub)
    with patch(
        "custom_components.liuzhou_appliances.bluetooth.establish_connection",
        connections.establish_connection,
    ):
        yield connections


async def discover(
    hass: HomeAssistant, proxy: FakeProxy, appliance: BleAppliance | BlePeripheral
) -> Any:
    peripheral = appliance if isinstance(appliance, BlePeripheral) else appliance.peripheral
    proxy.hear_peripheral(peripheral)
    await hass.async_block_till_done()
    info = bluetooth.async_last_service_info(hass, peripheral.address, connectable=True)
    assert info is not None
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_BLUETOOTH}, data=info
    )


def active_link(coordinator: Any) -> LinkKind | None:
    """The active link, read afresh (it changes under the test's feet)."""
    link: LinkKind | None = coordinator.link
    return link


async def pair_over_lan(hass: HomeAssistant, appliance: SimulatedProduct) -> ConfigEntry[Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "appliance"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: appliance.host, CONF_PORT: appliance.port, CONF_PAIRING_CODE: appliance.code},
    )
    assert result["step_id"] == "name", result.get("errors")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    entry: ConfigEntry[Any] = result["result"]
    return entry


async def set_temperature(hass: HomeAssistant, climate: str, temperature: float) -> None:
    await hass.services.async_call(
        CLIMATE_DOMAIN,
        SERVICE_SET_TEMPERATURE,
        {ATTR_ENTITY_ID: climate, ATTR_TEMPERATURE: temperature},
        blocking=True,
    )


async def pair_over_ble(
    hass: HomeAssistant, proxy: FakeProxy, served: BlePeripheral, code: str
) -> ConfigEntry[Any]:
    result = await discover(hass, proxy, served)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PAIRING_CODE: code}
    )
    assert result["step_id"] == "name", result.get("errors")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry: ConfigEntry[Any] = result["result"]
    assert entry.runtime_data.coordinator.connected
    return entry


@dataclass
class BleOnly:
    """A simulated appliance served over BLE only, paired in Home Assistant."""

    product: SimulatedProduct
    served: BlePeripheral
    entry: ConfigEntry[Any]

    @property
    def coordinator(self) -> Any:
        return self.entry.runtime_data.coordinator


type SimulatedKind = Literal["ac", "dishwasher"]
type StartBleOnly = Callable[[SimulatedKind, int], contextlib.AbstractAsyncContextManager[BleOnly]]


@pytest.fixture
def ble_only(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: BumbleConnections,
    virtual_link: VirtualLink,
    socket_enabled: None,
) -> StartBleOnly:
    """``async with ble_only("dishwasher", seed) as appliance``: its LAN down, paired over BLE."""

    @contextlib.asynccontextmanager
    async def start(kind: SimulatedKind, seed: int) -> AsyncIterator[BleOnly]:
        async with (
            simulated_appliances(
                ac=int(kind == "ac"),
                dishwasher=int(kind == "dishwasher"),
                seed=seed,
                zeroconf=False,
            ) as (product,),
            contextlib.AsyncExitStack() as stack,
        ):
            await product.lan_down()
            (served,) = await fleet.serve_over_ble([product], [], None, stack, virtual_link)
            entry = await pair_over_ble(hass, proxy, served, product.code)
            try:
                yield BleOnly(product, served, entry)
            finally:
                await hass.config_entries.async_unload(entry.entry_id)

    return start


@pytest.fixture
def quick_on_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    """Idle periods and polls of a fraction of a second, in real time.

    Moving Home Assistant's clock instead would also fire the Bluetooth stack's
    own timers (supervision timeouts) and drop the link for the wrong reason.
    """
    monkeypatch.setattr(f"{ON_DEMAND}.ON_DEMAND_IDLE_S", 0.3)
    monkeypatch.setattr(f"{ON_DEMAND}.ON_DEMAND_POLL_S", 1.0)


ON_DEMAND = "custom_components.liuzhou_appliances.coordinator_on_demand"
