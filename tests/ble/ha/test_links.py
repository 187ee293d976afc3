"""One appliance, two links: the LAN first, BLE while the LAN does not answer."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.liuzhou_appliances.const import (
    CONF_ADDRESS,
    DOMAIN,
)
from custom_components.liuzhou_appliances.links import (
    LAN_RETRY_S,
    LinkKind,
)
from firmware_bridge.ble import VirtualLink, fleet
from firmware_bridge.bridge import simulated_appliances
from tests.integration.conftest import wait_until
from tests.integration.platform_helpers import entity_id, wait_for_state

from .conftest import (
    FakeProxy,
    active_link,
    discover,
    pair_over_lan,
    set_temperature,
)


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
        entry = await pair_over_lan(hass, ac)
        assert entry.runtime_data.coordinator.link is LinkKind.LAN

        # Home Assistant's Bluetooth hears it: the same entry gains the second link.
        result = await discover(hass, proxy, served)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
        await hass.async_block_till_done()  # the entry reloads with both links
        assert entry.data[CONF_ADDRESS] == served.address
        assert entry.state is ConfigEntryState.LOADED
        assert len(hass.config_entries.async_entries(DOMAIN)) == 1
        coordinator = entry.runtime_data.coordinator
        assert active_link(coordinator) is LinkKind.LAN
        assert coordinator.links.kinds == (LinkKind.LAN, LinkKind.BLE)
        climate = entity_id(hass, "climate", ac.id, "climate")

        # A command in flight when the LAN goes is acknowledged or raised, never lost.
        in_flight = hass.async_create_task(set_temperature(hass, climate, 27))
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
        await set_temperature(hass, climate, 23)
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
        await set_temperature(hass, climate, 25)
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
        entry = await pair_over_lan(hass, ac)
        await discover(hass, proxy, served)
        await hass.async_block_till_done()
        coordinator = entry.runtime_data.coordinator
        await ac.lan_down()
        await wait_until(hass, lambda: coordinator.connected and coordinator.link is LinkKind.BLE)
        attempts = coordinator.stats.connect_attempts
        assert not await coordinator.async_try_lan()
        assert coordinator.stats.connect_attempts == attempts + 1
        assert coordinator.connected
        assert active_link(coordinator) is LinkKind.BLE
        assert coordinator.stats.disconnects == 1
        # Zeroconf seeing it on the LAN again moves it there without waiting for the retry.
        await ac.lan_up()
        coordinator.async_wake_reconnect(lan=True)
        await wait_until(hass, lambda: coordinator.link is LinkKind.LAN)
        assert coordinator.stats.disconnects == 1
        await hass.config_entries.async_unload(entry.entry_id)
