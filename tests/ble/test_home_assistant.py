"""A BLE-only appliance in Home Assistant, through a Bluetooth proxy and the Bumble stack.

The appliance is served over GATT on a virtual controller (firmware_bridge.ble);
Home Assistant hears its advertisement through a remote scanner registered as
an ESPHome Bluetooth proxy registers its own, and connects through
bleak-retry-connector's ``establish_connection``, here building the
bleak-compatible Bumble client (firmware_bridge/ble/central.py) for the address.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from datetime import timedelta
import time
from typing import Any
from unittest.mock import patch

from habluetooth import BaseHaRemoteScanner, HaBluetoothConnector
from homeassistant.components import bluetooth
from homeassistant.components.climate.const import DOMAIN as CLIMATE_DOMAIN, SERVICE_SET_TEMPERATURE
from homeassistant.components.select import (
    ATTR_OPTION,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.config_entries import SOURCE_BLUETOOTH, ConfigEntry, ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, ATTR_TEMPERATURE, CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.liuzhou_appliances.const import (
    CONF_ADDRESS,
    CONF_APPLIANCE_ID,
    CONF_PAIRING_CODE,
    DOMAIN,
)
from custom_components.liuzhou_appliances.link.ble import SERVICE_UUID
from custom_components.liuzhou_appliances.link.ble_advertisement import build_service_data
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.links import LAN_RETRY_S, LinkKind
from firmware_bridge.ble import VirtualLink, fleet
from firmware_bridge.ble.central import BumbleGattClient
from firmware_bridge.ble.peripheral import BlePeripheral
from firmware_bridge.bridge import SimulatedProduct, simulated_appliances
from tests.integration.conftest import wait_until
from tests.integration.platform_helpers import entity_id, wait_for_state

from .conftest import CODE, BleAppliance, Hub, MakeAppliance


@pytest.fixture(autouse=True)
def _home_assistant(
    enable_custom_integrations: None, mock_async_zeroconf: Any, enable_bluetooth: None
) -> None:
    """This repository's integration, zeroconf mocked, Home Assistant's Bluetooth running."""


class FakeProxy(BaseHaRemoteScanner):
    """A connectable remote scanner, as an ESPHome Bluetooth proxy registers."""

    def hear(self, appliance: BleAppliance, *, paired: bool = False, rssi: int = -60) -> None:
        self.hear_peripheral(appliance.peripheral, paired=paired, rssi=rssi)

    def hear_peripheral(
        self, peripheral: BlePeripheral, *, paired: bool = False, rssi: int = -60
    ) -> None:
        identity = peripheral.identity
        self._async_on_advertisement(
            peripheral.address,
            rssi,
            identity.appliance_id,
            [],
            {SERVICE_UUID: build_service_data(identity.appliance_id, identity.type, paired=paired)},
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


@pytest.fixture
def bumble_connections(hub: Hub) -> Any:
    """establish_connection as the hub's Bumble central: a BumbleGattClient per connection."""

    async def establish_connection(
        _client_class: Any,
        device: Any,
        _name: str,
        disconnected_callback: Callable[[Any], None] | None = None,
        **_kwargs: Any,
    ) -> BumbleGattClient:
        client = BumbleGattClient(
            hub.device, device.address, disconnected_callback=disconnected_callback
        )
        await client.connect()
        return client

    with patch(
        "custom_components.liuzhou_appliances.bluetooth.establish_connection",
        establish_connection,
    ):
        yield


async def _discover(
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


async def test_discovered_appliance_pairs_over_ble_and_loads(
    hass: HomeAssistant, proxy: FakeProxy, bumble_connections: None, make_appliance: MakeAppliance
) -> None:
    appliance = await make_appliance(key=None)
    result = await _discover(hass, proxy, appliance)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "bluetooth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PAIRING_CODE: CODE}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "name"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert data[CONF_ADDRESS] == appliance.address
    assert data[CONF_APPLIANCE_ID] == appliance.server.identity.appliance_id
    assert "host" not in data
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.unique_id == appliance.server.identity.appliance_id
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator.connected
    await hass.config_entries.async_unload(entry.entry_id)


async def test_wrong_code_over_ble_keeps_the_form(
    hass: HomeAssistant, proxy: FakeProxy, bumble_connections: None, make_appliance: MakeAppliance
) -> None:
    appliance = await make_appliance(key=None)
    result = await _discover(hass, proxy, appliance)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PAIRING_CODE: "8765-4321"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wrong_code"}


async def test_nearby_lists_the_appliance(
    hass: HomeAssistant, proxy: FakeProxy, bumble_connections: None, make_appliance: MakeAppliance
) -> None:
    appliance = await make_appliance(key=None)
    proxy.hear(appliance)
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "nearby"}
    )
    assert result["step_id"] == "nearby"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: appliance.address, CONF_PAIRING_CODE: CODE}
    )
    assert result["step_id"] == "name"


def _entity_set(hass: HomeAssistant, entry_id: str, appliance_id: str) -> set[tuple[str, str]]:
    """(platform domain, unique id without the appliance id) of an entry's entities."""
    registry = er.async_get(hass)
    return {
        (entity.domain, entity.unique_id.removeprefix(appliance_id))
        for entity in er.async_entries_for_config_entry(registry, entry_id)
    }


async def test_ble_only_dishwasher_has_the_entities_of_a_lan_dishwasher(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: None,
    virtual_link: VirtualLink,
    socket_enabled: None,
) -> None:
    """The simulator over BLE (as ``simulate --ble``) and over the LAN: the same entities.

    The BLE one has the Bluetooth signal sensor besides (diagnostic, off by default).
    """
    async with (
        simulated_appliances(dishwasher=1, seed=301, zeroconf=False) as (over_ble,),
        simulated_appliances(dishwasher=1, seed=302, zeroconf=False) as (over_lan,),
        contextlib.AsyncExitStack() as stack,
    ):
        assert over_ble.type is over_lan.type is ApplianceType.DISHWASHER
        (served,) = await fleet.serve_over_ble([over_ble], [], None, stack, virtual_link)

        result = await _discover(hass, proxy, served)
        assert result["step_id"] == "bluetooth_confirm"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PAIRING_CODE: over_ble.code}
        )
        assert result["step_id"] == "name", result.get("errors")
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        ble_entry = result["result"]
        assert "host" not in ble_entry.data

        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "appliance"}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_HOST: over_lan.host, CONF_PORT: over_lan.port, CONF_PAIRING_CODE: over_lan.code},
        )
        assert result["step_id"] == "name", result.get("errors")
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        lan_entry = result["result"]
        await hass.async_block_till_done()

        for entry in (ble_entry, lan_entry):
            assert entry.state is ConfigEntryState.LOADED
            assert entry.runtime_data.coordinator.connected
        ble_entities = _entity_set(hass, ble_entry.entry_id, over_ble.id)
        lan_entities = _entity_set(hass, lan_entry.entry_id, over_lan.id)
        assert len(lan_entities) > 5
        assert ble_entities - lan_entities == {("sensor", "_bluetooth_signal")}
        assert lan_entities <= ble_entities
        for entry in (ble_entry, lan_entry):
            await hass.config_entries.async_unload(entry.entry_id)


def _link(coordinator: Any) -> LinkKind | None:
    """The active link, read afresh (it changes under the test's feet)."""
    link: LinkKind | None = coordinator.link
    return link


async def _pair_over_lan(hass: HomeAssistant, appliance: SimulatedProduct) -> ConfigEntry[Any]:
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


async def _set_temperature(hass: HomeAssistant, climate: str, temperature: float) -> None:
    await hass.services.async_call(
        CLIMATE_DOMAIN,
        SERVICE_SET_TEMPERATURE,
        {ATTR_ENTITY_ID: climate, ATTR_TEMPERATURE: temperature},
        blocking=True,
    )


async def test_ble_only_dishwasher_is_controlled_through_home_assistant(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: None,
    virtual_link: VirtualLink,
    socket_enabled: None,
) -> None:
    """A select writes over BLE; the appliance's own change comes back as a push."""
    async with (
        simulated_appliances(dishwasher=1, seed=304, zeroconf=False) as (dishwasher,),
        contextlib.AsyncExitStack() as stack,
    ):
        await dishwasher.lan_down()  # BLE only
        (served,) = await fleet.serve_over_ble([dishwasher], [], None, stack, virtual_link)
        result = await _discover(hass, proxy, served)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PAIRING_CODE: dishwasher.code}
        )
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        entry = result["result"]
        await hass.async_block_till_done()
        assert entry.runtime_data.coordinator.link is LinkKind.BLE
        programme = entity_id(hass, "select", dishwasher.id, "programme")
        await hass.services.async_call(
            SELECT_DOMAIN,
            SERVICE_SELECT_OPTION,
            {ATTR_ENTITY_ID: programme, ATTR_OPTION: "intensive"},
            blocking=True,
        )
        assert dishwasher.simulator.values()["programme"] == "intensive"
        await wait_for_state(hass, programme, lambda state: state.state == "intensive")
        await hass.config_entries.async_unload(entry.entry_id)


async def test_dual_link_air_conditioner_falls_back_to_ble_and_back(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: None,
    virtual_link: VirtualLink,
    socket_enabled: None,
    hass_client: Any,
) -> None:
    """Paired on the LAN, heard over Bluetooth: one entry, LAN first, BLE while the LAN is cut."""
    async with (
        simulated_appliances(ac=1, seed=305, zeroconf=False) as (ac,),
        contextlib.AsyncExitStack() as stack,
    ):
        (served,) = await fleet.serve_over_ble([ac], [], None, stack, virtual_link)
        entry = await _pair_over_lan(hass, ac)
        assert entry.runtime_data.coordinator.link is LinkKind.LAN

        # Home Assistant's Bluetooth hears it: the same entry gains the second link.
        result = await _discover(hass, proxy, served)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
        await hass.async_block_till_done()  # the entry reloads with both links
        assert entry.data[CONF_ADDRESS] == served.address
        assert entry.state is ConfigEntryState.LOADED
        assert len(hass.config_entries.async_entries(DOMAIN)) == 1
        coordinator = entry.runtime_data.coordinator
        assert _link(coordinator) is LinkKind.LAN
        assert coordinator.links.kinds == (LinkKind.LAN, LinkKind.BLE)
        climate = entity_id(hass, "climate", ac.id, "climate")

        # A command in flight when the LAN goes is acknowledged or raised, never lost.
        in_flight = hass.async_create_task(_set_temperature(hass, climate, 27))
        await asyncio.sleep(0)
        await ac.lan_down()
        try:
            await in_flight
        except HomeAssistantError:
            pass  # raised: the person sees it failed
        else:
            assert ac.simulator.values()["target_temperature"] == 27

        # Over BLE from now on, with the entities back and commands working.
        await wait_until(hass, lambda: coordinator.connected and coordinator.link is LinkKind.BLE)
        await wait_for_state(hass, climate, lambda state: state.state != "unavailable")
        await _set_temperature(hass, climate, 23)
        assert ac.simulator.values()["target_temperature"] == 23
        diagnostics: dict[str, Any] = await get_diagnostics_for_config_entry(
            hass, hass_client, entry
        )
        assert diagnostics["connection"]["link"] == "ble"
        assert diagnostics["connection"]["links"] == ["lan", "ble"]
        assert coordinator.stats.link_switches == 0

        # The LAN is back: the next try moves the appliance there without a gap.
        await ac.lan_up()
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=LAN_RETRY_S + 1))
        await wait_until(hass, lambda: coordinator.link is LinkKind.LAN)
        assert coordinator.connected
        assert coordinator.stats.link_switches == 1
        assert hass.states.get(climate).state != "unavailable"  # type: ignore[union-attr]
        await _set_temperature(hass, climate, 25)
        assert ac.simulator.values()["target_temperature"] == 25
        # The BLE session was closed once idle (only the hub's LAN session is left).
        await wait_until(hass, lambda: ac.module.server.session_count == 1)
        await hass.config_entries.async_unload(entry.entry_id)


async def test_lan_retry_keeps_ble_while_the_lan_stays_down(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: None,
    virtual_link: VirtualLink,
    socket_enabled: None,
) -> None:
    """Trying the LAN while it is down changes nothing the person sees; zeroconf ends the wait."""
    async with (
        simulated_appliances(ac=1, seed=306, zeroconf=False) as (ac,),
        contextlib.AsyncExitStack() as stack,
    ):
        (served,) = await fleet.serve_over_ble([ac], [], None, stack, virtual_link)
        entry = await _pair_over_lan(hass, ac)
        await _discover(hass, proxy, served)
        await hass.async_block_till_done()
        coordinator = entry.runtime_data.coordinator
        await ac.lan_down()
        await wait_until(hass, lambda: coordinator.connected and coordinator.link is LinkKind.BLE)
        attempts = coordinator.stats.connect_attempts
        assert not await coordinator.async_try_lan()
        assert coordinator.stats.connect_attempts == attempts + 1
        assert coordinator.connected
        assert _link(coordinator) is LinkKind.BLE
        assert coordinator.stats.disconnects == 1
        # Zeroconf seeing it on the LAN again moves it there without waiting for the retry.
        await ac.lan_up()
        coordinator.async_wake_reconnect(lan=True)
        await wait_until(hass, lambda: coordinator.link is LinkKind.LAN)
        assert coordinator.stats.disconnects == 1
        await hass.config_entries.async_unload(entry.entry_id)
