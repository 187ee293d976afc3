"""Connect-on-demand over BLE, advertisements and the signal strength (PROTOCOL.md 11.6)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from homeassistant.components.bluetooth.api import _get_manager
from homeassistant.components.select import (
    ATTR_OPTION,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.liuzhou_appliances.bluetooth import RSSI_POLL_S, AdvertisementWatcher
from custom_components.liuzhou_appliances.link.declaration import BleConnection
from firmware_bridge.ble import VirtualLink
from firmware_bridge.ble.peripheral import BlePeripheral
from firmware_bridge.simulators.dishwasher import DishwasherSimulator
from tests.ble.conftest import CODE, MakeAppliance
from tests.integration.conftest import wait_until
from tests.integration.platform_helpers import entity_id, wait_for_state

from .conftest import (
    FakeProxy,
    StartBleOnly,
    pair_over_ble,
)


async def test_idle_on_demand_dishwasher_lets_the_connection_go_and_comes_back(
    hass: HomeAssistant, proxy: FakeProxy, ble_only: StartBleOnly, quick_on_demand: None
) -> None:
    """ble_connection: on_demand frees the proxy's slot while idle and misses nothing."""
    async with ble_only("dishwasher", 307) as appliance:
        dishwasher, served, coordinator = appliance.product, appliance.served, appliance.coordinator
        assert coordinator.declaration.ble_connection is BleConnection.ON_DEMAND
        server = dishwasher.module.server
        door = entity_id(hass, "binary_sensor", dishwasher.id, "door_open")
        programme = entity_id(hass, "select", dishwasher.id, "programme")

        # Quiet for a whole idle period: the connection goes, the entities stay. (The
        # set-up's session may already be let go on a loaded machine: 0.3 s idle.)
        assert coordinator.stats.connects >= 1
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
        connects = coordinator.stats.connects
        proxy.hear_peripheral(served, seq=server.seq)
        await wait_until(hass, lambda: coordinator.stats.connects > connects)
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


async def test_persistent_ble_appliance_keeps_its_connection(
    hass: HomeAssistant,
    proxy: FakeProxy,
    bumble_connections: None,
    make_appliance: MakeAppliance,
    quick_on_demand: None,
) -> None:
    """An air conditioner (ble_connection: persistent) is never let go, however quiet."""
    appliance = await make_appliance(key=None)
    entry = await pair_over_ble(hass, proxy, appliance.peripheral, CODE)
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
    hass: HomeAssistant, proxy: FakeProxy, ble_only: StartBleOnly, quick_on_demand: None
) -> None:
    async with ble_only("dishwasher", 308) as appliance:
        dishwasher, served, coordinator = appliance.product, appliance.served, appliance.coordinator
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
    entry = await pair_over_ble(hass, proxy, appliance.peripheral, CODE)
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
