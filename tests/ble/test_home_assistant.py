"""A BLE-only appliance in Home Assistant, through a Bluetooth proxy and the Bumble stack.

The appliance is served over GATT on a virtual controller (firmware_bridge.ble);
Home Assistant hears its advertisement through a remote scanner registered as
an ESPHome Bluetooth proxy registers its own, and connects through
bleak-retry-connector's ``establish_connection``, here building the
bleak-compatible Bumble client (firmware_bridge/ble/central.py) for the address.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
import time
from typing import Any
from unittest.mock import patch

from bleak_retry_connector import BleakNotFoundError, BleakOutOfConnectionSlotsError
from habluetooth import BaseHaRemoteScanner, HaBluetoothConnector
from homeassistant.components import bluetooth
from homeassistant.components.bluetooth.api import _get_manager
from homeassistant.components.climate.const import DOMAIN as CLIMATE_DOMAIN, SERVICE_SET_TEMPERATURE
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.components.select import (
    ATTR_OPTION,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.config_entries import (
    SOURCE_BLUETOOTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.const import ATTR_ENTITY_ID, ATTR_TEMPERATURE, CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.liuzhou_appliances.bluetooth import RSSI_POLL_S, AdvertisementWatcher
from custom_components.liuzhou_appliances.const import (
    CONF_ADDRESS,
    CONF_APPLIANCE_ID,
    CONF_OFFLINE_REPAIR_MINUTES,
    CONF_PAIRING_CODE,
    DOMAIN,
)
from custom_components.liuzhou_appliances.link.ble import SERVICE_UUID
from custom_components.liuzhou_appliances.link.ble_advertisement import build_service_data
from custom_components.liuzhou_appliances.link.declaration import BleConnection
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.links import (
    LAN_RETRY_S,
    LinkKind,
)
from firmware_bridge.ble import VirtualLink, fleet
from firmware_bridge.ble.central import BumbleGattClient
from firmware_bridge.ble.peripheral import BlePeripheral
from firmware_bridge.bridge import SimulatedProduct, simulated_appliances
from firmware_bridge.simulators.dishwasher import DishwasherSimulator
from tests.integration.conftest import wait_until
from tests.integration.platform_helpers import entity_id, wait_for_state

from .conftest import CODE, BleAppliance, Hub, MakeAppliance


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
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: BumbleConnections,
    make_appliance: MakeAppliance,
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
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: BumbleConnections,
    make_appliance: MakeAppliance,
) -> None:
    appliance = await make_appliance(key=None)
    result = await _discover(hass, proxy, appliance)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PAIRING_CODE: "8765-4321"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wrong_code"}


async def test_nearby_lists_the_appliance(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: BumbleConnections,
    make_appliance: MakeAppliance,
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
    bumble_connections: BumbleConnections,
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


# --- connection slots, offline, reconfigure ------------------------------------------------


async def _until(hass: HomeAssistant, condition: Callable[[], bool]) -> None:
    """Let the Bumble stack and Home Assistant run until ``condition`` holds (at most ~5 s)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
        await hass.async_block_till_done()
    raise AssertionError("condition not reached")


async def _settle(hass: HomeAssistant) -> None:
    """Give whatever an advertisement or a timer started the time to run."""
    for _ in range(3):
        await asyncio.sleep(0.01)
        await hass.async_block_till_done()


def _seconds_later(hass: HomeAssistant, seconds: float) -> None:
    """Fire the timers due within ``seconds`` (the reconnect's backoff among them)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))


async def _paired_entry(hass: HomeAssistant, proxy: FakeProxy, appliance: BleAppliance) -> Any:
    """Pair the appliance heard through the proxy; its entry is loaded and connected."""
    result = await _discover(hass, proxy, appliance)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PAIRING_CODE: CODE}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.runtime_data.coordinator.connected
    return entry


def _attempts_are(coordinator: Any, count: int) -> bool:
    return bool(coordinator.stats.connect_attempts == count)


def _issue(hass: HomeAssistant, appliance: BleAppliance, kind: str) -> ir.IssueEntry | None:
    issue_id = f"{appliance.server.identity.appliance_id}_{kind}"
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


@pytest.mark.parametrize("step", ["bluetooth_confirm", "nearby"])
async def test_pairing_through_a_full_proxy_says_so(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: BumbleConnections,
    make_appliance: MakeAppliance,
    step: str,
) -> None:
    appliance = await make_appliance(key=None)
    bumble_connections.slots_free = False
    if step == "bluetooth_confirm":
        result = await _discover(hass, proxy, appliance)
        user_input = {CONF_PAIRING_CODE: CODE}
    else:
        proxy.hear(appliance)
        await hass.async_block_till_done()
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "nearby"}
        )
        user_input = {CONF_ADDRESS: appliance.address, CONF_PAIRING_CODE: CODE}
    assert result["step_id"] == step
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step
    assert result["errors"] == {"base": "ble_no_connection_slot"}
    # A connection freed: the same form pairs.
    bumble_connections.slots_free = True
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["step_id"] == "name"


async def test_a_full_proxy_raises_an_issue_and_advertisements_keep_the_backoff(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: BumbleConnections,
    make_appliance: MakeAppliance,
) -> None:
    """No free slot: one issue, attempts only as the backoff allows, gone once connected."""
    appliance = await make_appliance(key=None)
    entry = await _paired_entry(hass, proxy, appliance)
    coordinator = entry.runtime_data.coordinator
    attempts = coordinator.stats.connect_attempts
    connects_before = bumble_connections.attempts
    assert _issue(hass, appliance, "ble_no_connection_slot") is None

    # The proxy drops the link and hands the slot to another device.
    bumble_connections.slots_free = False
    await bumble_connections.clients[-1].disconnect()
    await _until(hass, lambda: not coordinator.connected)
    _seconds_later(hass, 1)
    await _until(hass, lambda: coordinator.stats.connect_attempts == attempts + 1)
    issue = _issue(hass, appliance, "ble_no_connection_slot")
    assert issue is not None
    assert issue.translation_key == "ble_no_connection_slot"
    assert issue.translation_placeholders == {
        "appliance": entry.title,
        "address": appliance.address,
    }
    assert not issue.is_fixable

    # Ten backoff periods with twenty advertisements in each (each one new to
    # Home Assistant, so each reaches the coordinator): one attempt per period.
    heard = 0
    for period in range(1, 11):
        for _ in range(20):
            heard += 1
            proxy.hear(appliance, paired=True, appended=heard.to_bytes(2))
            await _settle(hass)
        assert coordinator.stats.connect_attempts == attempts + period
        _seconds_later(hass, 61)
        await _until(hass, partial(_attempts_are, coordinator, attempts + period + 1))
    await _settle(hass)
    assert coordinator.stats.connect_attempts == attempts + 11
    assert bumble_connections.attempts - connects_before == 11
    assert _issue(hass, appliance, "ble_no_connection_slot") is not None

    # A slot is free again: the next attempt connects and the issue goes.
    bumble_connections.slots_free = True
    _seconds_later(hass, 61)
    await _until(hass, lambda: coordinator.connected)
    assert _issue(hass, appliance, "ble_no_connection_slot") is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_full_proxy_at_set_up_retries_and_removing_the_entry_deletes_its_issue(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: BumbleConnections,
    make_appliance: MakeAppliance,
) -> None:
    appliance = await make_appliance(key=None)
    entry = await _paired_entry(hass, proxy, appliance)
    bumble_connections.slots_free = False
    assert not await hass.config_entries.async_reload(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert entry.reason.rstrip(".") == (
        f"{entry.title} cannot connect: no Bluetooth adapter or proxy in range "
        "has a free connection"
    )
    assert _issue(hass, appliance, "ble_no_connection_slot") is not None
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert _issue(hass, appliance, "ble_no_connection_slot") is None


async def test_offline_ble_appliance_issue_names_its_bluetooth_address(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: BumbleConnections,
    make_appliance: MakeAppliance,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    appliance = await make_appliance(key=None)
    entry = await _paired_entry(hass, proxy, appliance)
    hass.config_entries.async_update_entry(entry, options={CONF_OFFLINE_REPAIR_MINUTES: 5})
    assert await hass.config_entries.async_reload(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    bumble_connections.reachable = False
    await bumble_connections.clients[-1].disconnect()
    await _until(hass, lambda: not coordinator.connected)
    _seconds_later(hass, 6 * 60)
    await _settle(hass)
    issue = _issue(hass, appliance, "unreachable")
    assert issue is not None
    assert issue.translation_key == "unreachable_ble"
    assert issue.translation_placeholders == {
        "appliance": entry.title,
        "minutes": "5",
        "address": appliance.address,
    }
    assert issue.is_fixable

    # Its fix flow retries at once, as a LAN appliance's does.
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == issue.translation_placeholders
    bumble_connections.reachable = True
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert coordinator.connected
    assert _issue(hass, appliance, "unreachable") is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_of_a_ble_only_entry_explains_there_is_nothing_to_change(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: BumbleConnections,
    make_appliance: MakeAppliance,
) -> None:
    appliance = await make_appliance(key=None)
    entry = await _paired_entry(hass, proxy, appliance)
    data = dict(entry.data)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_ble"
    assert result["description_placeholders"] == {
        "name": entry.title,
        "address": appliance.address,
    }
    assert dict(entry.data) == data
    assert entry.runtime_data.coordinator.connected
    await hass.config_entries.async_unload(entry.entry_id)


async def _pair_over_ble(
    hass: HomeAssistant, proxy: FakeProxy, served: BlePeripheral, code: str
) -> ConfigEntry[Any]:
    result = await _discover(hass, proxy, served)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PAIRING_CODE: code}
    )
    assert result["step_id"] == "name", result.get("errors")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    entry: ConfigEntry[Any] = result["result"]
    return entry


@pytest.fixture
def quick_on_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    """Idle periods and polls of a fraction of a second, in real time.

    Moving Home Assistant's clock instead would also fire the Bluetooth stack's
    own timers (supervision timeouts) and drop the link for the wrong reason.
    """
    monkeypatch.setattr(f"{COORDINATOR}.ON_DEMAND_IDLE_S", 0.3)
    monkeypatch.setattr(f"{COORDINATOR}.ON_DEMAND_POLL_S", 1.0)


COORDINATOR = "custom_components.liuzhou_appliances.coordinator"


async def test_idle_on_demand_dishwasher_lets_the_connection_go_and_comes_back(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: None,
    virtual_link: VirtualLink,
    socket_enabled: None,
    quick_on_demand: None,
) -> None:
    """ble_connection: on_demand frees the proxy's slot while idle and misses nothing."""
    async with (
        simulated_appliances(dishwasher=1, seed=307, zeroconf=False) as (dishwasher,),
        contextlib.AsyncExitStack() as stack,
    ):
        await dishwasher.lan_down()
        (served,) = await fleet.serve_over_ble([dishwasher], [], None, stack, virtual_link)
        entry = await _pair_over_ble(hass, proxy, served, dishwasher.code)
        coordinator = entry.runtime_data.coordinator
        assert coordinator.declaration.ble_connection is BleConnection.ON_DEMAND
        server = dishwasher.module.server
        door = entity_id(hass, "binary_sensor", dishwasher.id, "door_open")
        programme = entity_id(hass, "select", dishwasher.id, "programme")

        # Quiet for a whole idle period: the connection goes, the entities stay.
        assert coordinator.session_open
        await wait_until(hass, lambda: coordinator.parked)
        await wait_until(hass, lambda: served.link_count == 0)
        assert coordinator.connected
        assert not coordinator.session_open
        assert coordinator.stats.parks == 1
        assert hass.states.get(door).state == "off"  # type: ignore[union-attr]

        # An advertisement whose counter has not moved leaves it let go.
        proxy.hear_peripheral(served, seq=server.seq, appended=b"\x01")
        await hass.async_block_till_done()
        assert coordinator.parked

        # The door opens: the counter moves, the hub connects and reads it.
        physics = dishwasher.simulator
        assert isinstance(physics, DishwasherSimulator)
        physics.open_door()
        await dishwasher.mcu.report_changes()
        proxy.hear_peripheral(served, seq=server.seq)
        await wait_until(hass, lambda: coordinator.session_open)
        await wait_for_state(hass, door, lambda state: state.state == "on")
        physics.close_door()
        await dishwasher.mcu.report_changes()
        await wait_for_state(hass, door, lambda state: state.state == "off")

        # Let go again; a request reconnects first and is carried out.
        await wait_until(hass, lambda: coordinator.parked)
        await hass.services.async_call(
            SELECT_DOMAIN,
            SERVICE_SELECT_OPTION,
            {ATTR_ENTITY_ID: programme, ATTR_OPTION: "intensive"},
            blocking=True,
        )
        assert dishwasher.simulator.values()["programme"] == "intensive"
        assert coordinator.session_open
        assert coordinator.stats.on_demand_connects == 1
        assert coordinator.stats.parks == 2

        # Let go, then nothing for the poll interval: a fresh read anyway.
        await wait_until(hass, lambda: coordinator.parked)
        parks = coordinator.stats.parks
        await wait_until(hass, lambda: coordinator.session_open)
        assert coordinator.stats.on_demand_connects == 1  # not a request: the poll
        await wait_until(hass, lambda: coordinator.stats.parks == parks + 1)
        await hass.config_entries.async_unload(entry.entry_id)


async def test_persistent_ble_appliance_keeps_its_connection(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: None,
    make_appliance: MakeAppliance,
    quick_on_demand: None,
) -> None:
    """An air conditioner (ble_connection: persistent) is never let go, however quiet."""
    appliance = await make_appliance(key=None)
    entry = await _pair_over_ble(hass, proxy, appliance.peripheral, CODE)
    coordinator = entry.runtime_data.coordinator
    assert coordinator.declaration.ble_connection is BleConnection.PERSISTENT
    await asyncio.sleep(1.0)  # three idle periods
    assert coordinator.session_open
    assert coordinator.stats.parks == 0
    await hass.config_entries.async_unload(entry.entry_id)


async def test_signal_strength_follows_advertisements_home_assistant_does_not_pass_on(
    hass: HomeAssistant, proxy: FakeProxy, make_appliance: MakeAppliance
) -> None:
    """Home Assistant passes on only changed advertisements; the RSSI is read anyway."""
    appliance = await make_appliance(key=None)
    proxy.hear(appliance, rssi=-40)
    await hass.async_block_till_done()
    changes: list[int | None] = []
    watcher = AdvertisementWatcher(hass, appliance.address, lambda: None, lambda: None)
    stop = watcher.async_start()
    watcher.async_add_listener(lambda: changes.append(watcher.rssi))
    assert watcher.rssi == -40
    proxy.hear(appliance, rssi=-70)  # the same data: not passed on to callbacks
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=RSSI_POLL_S + 1))
    await hass.async_block_till_done()
    assert watcher.rssi == -70
    assert changes == [-70]
    stop()


def _stop_hearing(hass: HomeAssistant, proxy: FakeProxy, address: str) -> None:
    """What a few minutes of silence do: the proxy forgets it, Home Assistant notices.

    (The proxy drops a device unheard for 195 s, and Home Assistant looks for
    vanished devices every 5 minutes; both are done here at once.)
    """
    proxy._previous_service_info.pop(address, None)
    manager = _get_manager(hass)
    if (scheduled := manager._cancel_unavailable_tracking) is not None:
        scheduled.cancel()  # the check below schedules the next one
    manager._async_check_unavailable()


async def test_let_go_appliance_is_unavailable_when_it_stops_advertising_and_back_when_heard(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: None,
    virtual_link: VirtualLink,
    socket_enabled: None,
    quick_on_demand: None,
) -> None:
    async with (
        simulated_appliances(dishwasher=1, seed=308, zeroconf=False) as (dishwasher,),
        contextlib.AsyncExitStack() as stack,
    ):
        await dishwasher.lan_down()
        (served,) = await fleet.serve_over_ble([dishwasher], [], None, stack, virtual_link)
        entry = await _pair_over_ble(hass, proxy, served, dishwasher.code)
        coordinator = entry.runtime_data.coordinator
        programme = entity_id(hass, "select", dishwasher.id, "programme")
        await wait_until(hass, lambda: coordinator.parked)
        assert hass.states.get(programme).state != "unavailable"  # type: ignore[union-attr]

        _stop_hearing(hass, proxy, served.address)
        await hass.async_block_till_done()
        assert hass.states.get(programme).state == "unavailable"  # type: ignore[union-attr]

        # Heard again with nothing changed: connected to read it, available again.
        proxy.hear_peripheral(served, seq=dishwasher.module.server.seq)
        await wait_for_state(hass, programme, lambda state: state.state != "unavailable")
        assert coordinator.stats.parks >= 1
        await hass.config_entries.async_unload(entry.entry_id)


async def test_lost_ble_appliance_reconnects_when_it_advertises_again(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: None,
    make_appliance: MakeAppliance,
    virtual_link: VirtualLink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Out of range, then back: the advertisement reconnects, not the (here endless) backoff."""
    monkeypatch.setattr(
        "custom_components.liuzhou_appliances.link.reconnect.reconnect_delay", lambda _n: 3600.0
    )
    appliance = await make_appliance(key=None)
    entry = await _pair_over_ble(hass, proxy, appliance.peripheral, CODE)
    coordinator = entry.runtime_data.coordinator
    await appliance.peripheral.stop()  # out of range: the link drops, nothing advertises
    await wait_until(hass, lambda: not coordinator.connected)
    attempts = coordinator.stats.connect_attempts

    back = BlePeripheral(
        virtual_link.radio(appliance.server.identity.appliance_id),
        appliance.server.identity,
        appliance.server.serve,
        lambda: appliance.server.paired,
    )
    await back.start()
    try:
        proxy.hear_peripheral(back, paired=True, appended=b"\x02")  # changed data: passed on
        await wait_until(hass, lambda: coordinator.connected)
        assert coordinator.stats.connect_attempts == attempts + 1
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await back.stop()
