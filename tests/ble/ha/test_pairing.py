"""A BLE-only appliance in Home Assistant, through a Bluetooth proxy and the Bumble stack.

The appliance is served over GATT on a virtual controller (firmware_bridge.ble);
Home Assistant hears its advertisement through a remote scanner registered as
an ESPHome Bluetooth proxy registers its own, and connects through
bleak-retry-connector's ``establish_connection``, here building the
bleak-compatible Bumble client (firmware_bridge/ble/central.py) for the address.
"""

from __future__ import annotations

import contextlib

from homeassistant.components.select import (
    ATTR_OPTION,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.config_entries import (
    ConfigEntryState,
)
from homeassistant.const import ATTR_ENTITY_ID, CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.liuzhou_appliances.const import (
    CONF_ADDRESS,
    CONF_APPLIANCE_ID,
    CONF_PAIRING_CODE,
    DOMAIN,
)
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.links import (
    LinkKind,
)
from firmware_bridge.ble import VirtualLink, fleet
from firmware_bridge.bridge import simulated_appliances
from tests.ble.conftest import CODE, MakeAppliance
from tests.integration.platform_helpers import entity_id, wait_for_state

from .conftest import (
    BumbleConnections,
    FakeProxy,
    StartBleOnly,
    discover,
)


async def test_discovered_appliance_pairs_over_ble_and_loads(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: BumbleConnections,
    make_appliance: MakeAppliance,
) -> None:
    appliance = await make_appliance(key=None)
    result = await discover(hass, proxy, appliance)
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
    result = await discover(hass, proxy, appliance)
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

        result = await discover(hass, proxy, served)
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


async def test_ble_only_dishwasher_is_controlled_through_home_assistant(
    hass: HomeAssistant, ble_only: StartBleOnly
) -> None:
    """A select writes over BLE; the appliance's own change comes back as a push."""
    async with ble_only("dishwasher", 304) as appliance:
        dishwasher = appliance.product
        assert appliance.coordinator.link is LinkKind.BLE
        programme = entity_id(hass, "select", dishwasher.id, "programme")
        await hass.services.async_call(
            SELECT_DOMAIN,
            SERVICE_SELECT_OPTION,
            {ATTR_ENTITY_ID: programme, ATTR_OPTION: "intensive"},
            blocking=True,
        )
        assert dishwasher.simulator.values()["programme"] == "intensive"
        await wait_for_state(hass, programme, lambda state: state.state == "intensive")
