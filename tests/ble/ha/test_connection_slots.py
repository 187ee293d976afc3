"""Bluetooth proxies without a free connection slot, offline BLE appliances, reconfigure."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial
from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntryState,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.liuzhou_appliances.const import (
    CONF_ADDRESS,
    CONF_OFFLINE_REPAIR_MINUTES,
    CONF_PAIRING_CODE,
    DOMAIN,
)
from tests.ble.conftest import CODE, BleAppliance, MakeAppliance
from tests.integration.conftest import wait_until

from .conftest import (
    BumbleConnections,
    FakeProxy,
    discover,
    pair_over_ble,
)


async def _settle(hass: HomeAssistant) -> None:
    """Give whatever an advertisement or a timer started the time to run."""
    for _ in range(3):
        await asyncio.sleep(0.01)
        await hass.async_block_till_done()


async def _seconds_later(hass: HomeAssistant, appliance: BleAppliance, seconds: float) -> None:
    """Fire the timers due within ``seconds`` (the reconnect's backoff among them).

    Only once the appliance's advertising has settled: the jump would also fire the
    timeout of an HCI command still in flight.
    """
    await _settle(hass)
    await wait_until(hass, lambda: not appliance.peripheral.advertising_busy)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))


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
        result = await discover(hass, proxy, appliance)
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
    entry = await pair_over_ble(hass, proxy, appliance.peripheral, CODE)
    coordinator = entry.runtime_data.coordinator
    attempts = coordinator.stats.connect_attempts
    connects_before = bumble_connections.attempts
    assert _issue(hass, appliance, "ble_no_connection_slot") is None

    # The proxy drops the link and hands the slot to another device.
    bumble_connections.slots_free = False
    await bumble_connections.clients[-1].disconnect()
    await wait_until(hass, lambda: not coordinator.connected)
    await _seconds_later(hass, appliance, 1)
    await wait_until(hass, lambda: coordinator.stats.connect_attempts == attempts + 1)
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
        await _seconds_later(hass, appliance, 61)
        await wait_until(hass, partial(_attempts_are, coordinator, attempts + period + 1))
    await _settle(hass)
    assert coordinator.stats.connect_attempts == attempts + 11
    assert bumble_connections.attempts - connects_before == 11
    assert _issue(hass, appliance, "ble_no_connection_slot") is not None

    # A slot is free again: the next attempt connects and the issue goes.
    bumble_connections.slots_free = True
    await _seconds_later(hass, appliance, 61)
    await wait_until(hass, lambda: coordinator.connected)
    assert _issue(hass, appliance, "ble_no_connection_slot") is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_full_proxy_at_set_up_retries_and_removing_the_entry_deletes_its_issue(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: BumbleConnections,
    make_appliance: MakeAppliance,
) -> None:
    appliance = await make_appliance(key=None)
    entry = await pair_over_ble(hass, proxy, appliance.peripheral, CODE)
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
    entry = await pair_over_ble(hass, proxy, appliance.peripheral, CODE)
    hass.config_entries.async_update_entry(entry, options={CONF_OFFLINE_REPAIR_MINUTES: 5})
    assert await hass.config_entries.async_reload(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    bumble_connections.reachable = False
    await bumble_connections.clients[-1].disconnect()
    await wait_until(hass, lambda: not coordinator.connected)
    await _seconds_later(hass, appliance, 6 * 60)
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
    entry = await pair_over_ble(hass, proxy, appliance.peripheral, CODE)
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
