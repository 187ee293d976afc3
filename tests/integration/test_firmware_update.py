"""An appliance that reboots into new firmware is shown as it is now, without a reload by hand."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.simulators.base import SIMULATOR_FIRMWARE, load_declaration

from .conftest import PairedAppliance, StartAppliance, current_state, wait_until

AC = ApplianceType.ROOM_AIR_CONDITIONER
COORDINATOR_LOGGER = "custom_components.liuzhou_appliances"


def _declaration_without(*keys: str) -> Declaration:
    data: dict[str, Any] = load_declaration(AC).to_dict()
    for key in keys:
        del data["capabilities"][key]
    return Declaration.from_dict(data)


def _device(hass: HomeAssistant, ac: PairedAppliance) -> dr.DeviceEntry:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, ac.appliance.id)})
    assert device is not None
    return device


def _entity(hass: HomeAssistant, ac: PairedAppliance, platform: str, key: str) -> str | None:
    return er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{ac.appliance.id}_{key}")


async def _update_firmware(
    hass: HomeAssistant, ac: PairedAppliance, firmware: str, declaration: Declaration
) -> None:
    """The appliance reboots into new firmware; Home Assistant reconnects by itself."""
    coordinator = ac.coordinator
    await ac.appliance.restart(firmware=firmware, declaration=declaration)
    await wait_until(
        hass, lambda: not coordinator.connected or coordinator.hello.firmware == firmware
    )
    coordinator.async_wake_reconnect()  # as zeroconf does when it sees the appliance again
    await wait_until(hass, lambda: _device(hass, ac).sw_version == firmware)
    await hass.async_block_till_done()
    await wait_until(hass, lambda: ac.entry.state is ConfigEntryState.LOADED)


def _follow_lines(caplog: pytest.LogCaptureFixture, firmware: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == COORDINATOR_LOGGER
        and record.levelno == logging.INFO
        and f"now runs firmware {firmware}" in record.getMessage()
    ]


async def test_new_firmware_with_a_new_capability_adds_its_entity(
    hass: HomeAssistant, start_appliance: StartAppliance, caplog: pytest.LogCaptureFixture
) -> None:
    """1.0 has no outdoor sensor; 2.0 declares one: the device and entities follow on reconnect."""
    ac = await start_appliance(AC, setup=False)
    await ac.appliance.restart(declaration=_declaration_without("outdoor_temperature"))
    await hass.config_entries.async_setup(ac.entry.entry_id)
    await hass.async_block_till_done()
    assert _device(hass, ac).sw_version == SIMULATOR_FIRMWARE
    assert _entity(hass, ac, "sensor", "outdoor_temperature") is None
    first = ac.coordinator

    caplog.set_level(logging.INFO, logger=COORDINATOR_LOGGER)
    await _update_firmware(hass, ac, "sim-2.0.0", load_declaration(AC))

    outdoor = _entity(hass, ac, "sensor", "outdoor_temperature")
    assert outdoor is not None
    await wait_until(hass, lambda: hass.states.get(outdoor) is not None)
    assert float(current_state(hass, outdoor).state) == ac.simulator.values()["outdoor_temperature"]
    assert ac.coordinator is not first  # the entry was reloaded with the new declaration
    assert ac.coordinator.declaration == ac.simulator.declaration
    device = _device(hass, ac)
    assert device.sw_version == "sim-2.0.0"
    assert device.model_id == ac.simulator.declaration.model
    assert device.manufacturer == ac.simulator.declaration.manufacturer
    lines = _follow_lines(caplog, "sim-2.0.0")
    assert len(lines) == 1
    assert "added: outdoor_temperature" in lines[0]


async def test_new_firmware_without_a_capability_removes_its_entity(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """A capability the new firmware no longer declares leaves no orphaned entity behind."""
    ac = await start_appliance(AC)
    assert _entity(hass, ac, "sensor", "humidity") is not None
    await _update_firmware(hass, ac, "sim-2.0.0", _declaration_without("humidity"))
    await wait_until(hass, lambda: ac.coordinator.declaration == ac.simulator.declaration)
    assert _entity(hass, ac, "sensor", "humidity") is None
    assert _entity(hass, ac, "climate", "climate") is not None
    assert _entity(hass, ac, "sensor", "outdoor_temperature") is not None


async def test_new_firmware_with_the_same_declaration_updates_the_device_only(
    hass: HomeAssistant, start_appliance: StartAppliance, caplog: pytest.LogCaptureFixture
) -> None:
    """Only the version changed: the device shows it, and the entry is not reloaded."""
    ac = await start_appliance(AC)
    first = ac.coordinator
    caplog.set_level(logging.INFO, logger=COORDINATOR_LOGGER)
    await _update_firmware(hass, ac, "sim-1.1.0", ac.simulator.declaration)
    assert ac.coordinator is first
    assert first.connected
    assert _device(hass, ac).sw_version == "sim-1.1.0"
    assert _follow_lines(caplog, "sim-1.1.0") == [
        f"{ac.entry.title} now runs firmware sim-1.1.0 (was {SIMULATOR_FIRMWARE})"
    ]


async def test_reconnecting_to_the_same_firmware_changes_nothing(
    hass: HomeAssistant, start_appliance: StartAppliance, caplog: pytest.LogCaptureFixture
) -> None:
    """A plain power cycle is no firmware update: no reload, no log line."""
    ac = await start_appliance(AC)
    first = ac.coordinator
    caplog.set_level(logging.INFO, logger=COORDINATOR_LOGGER)
    await ac.appliance.restart()
    await wait_until(hass, lambda: not first.connected or first.stats.connects == 2)
    first.async_wake_reconnect()
    await wait_until(hass, lambda: first.connected and first.stats.connects == 2)
    await hass.async_block_till_done()
    assert ac.coordinator is first
    assert not [r for r in caplog.records if "now runs firmware" in r.getMessage()]
