"""Runtime per config entry against real simulated appliances: connect, push, lose, recover."""

from __future__ import annotations

import asyncio
import logging

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PORT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.entry_points import async_remove_config_entry_device
from custom_components.liuzhou_appliances.link import reconnect as reconnect_module
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.link.reconnect import reconnect_delay
from custom_components.liuzhou_appliances.link.server import ApplianceServer, MemoryKeyStore

from .conftest import PairedAppliance, StartAppliance, closed_port, wait_until


def entity_states(hass: HomeAssistant, paired: PairedAppliance) -> dict[str, str]:
    registry = er.async_get(hass)
    entries = er.async_entries_for_config_entry(registry, paired.entry.entry_id)
    return {
        entity.entity_id: state.state
        for entity in entries
        if (state := hass.states.get(entity.entity_id)) is not None
    }


def test_backoff_is_capped_exponential() -> None:
    delays = [reconnect_delay(n) for n in range(12)]
    assert delays[:3] == [1.0, 1.8, pytest.approx(3.24)]
    assert delays == sorted(delays)
    assert max(delays) == 60.0
    assert reconnect_delay(1000) == 60.0


async def test_setup_connects_and_registers_the_device(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    coordinator = paired_appliance.coordinator
    appliance = paired_appliance.appliance
    assert paired_appliance.entry.state is ConfigEntryState.LOADED
    assert coordinator.connected
    assert coordinator.update_interval is None  # pushed, never polled
    assert coordinator.appliance_id == appliance.id
    assert coordinator.data == appliance.simulator.values()
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, appliance.id)})
    assert device is not None
    assert (device.model, device.model_id) == ("Air conditioner", appliance.model)
    assert device.serial_number == appliance.id
    assert device.sw_version == appliance.firmware
    assert device.manufacturer == coordinator.declaration.manufacturer
    assert device.name == paired_appliance.entry.title
    assert entity_states(hass, paired_appliance)
    assert STATE_UNAVAILABLE not in entity_states(hass, paired_appliance).values()


async def test_unreachable_at_setup_retries_later(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    paired = await start_appliance(setup=False)
    hass.config_entries.async_update_entry(
        paired.entry, data={**paired.entry.data, CONF_PORT: closed_port()}
    )
    await hass.config_entries.async_setup(paired.entry.entry_id)
    assert paired.entry.state is ConfigEntryState.SETUP_RETRY
    assert paired.appliance.module.server.session_count == 0


async def test_pushed_change_reaches_coordinator_and_entities(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    coordinator = paired_appliance.coordinator
    seen: list[dict[str, object]] = []
    unsubscribe = coordinator.async_add_listener(lambda: seen.append(dict(coordinator.data)))
    paired_appliance.simulator.write("target_temperature", 19.5)
    await paired_appliance.push()
    await wait_until(hass, lambda: coordinator.data.get("target_temperature") == 19.5)
    unsubscribe()
    assert seen
    assert coordinator.stats.pushes >= 1


async def test_lost_connection_unavailable_logged_once_then_recovers(
    hass: HomeAssistant, paired_appliance: PairedAppliance, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.liuzhou_appliances")
    coordinator = paired_appliance.coordinator
    appliance = paired_appliance.appliance
    await appliance.stop()
    await wait_until(hass, lambda: not coordinator.connected)
    assert not coordinator.last_update_success
    states = entity_states(hass, paired_appliance)
    # The energy optimisation switch is a hub-side setting: it stays usable so the
    # user can turn it off (and release any load shedding) while the appliance is away.
    hub_settings = {entity_id for entity_id in states if entity_id.endswith("_energy_optimisation")}
    assert len(hub_settings) == 1
    assert {states[entity_id] for entity_id in hub_settings} == {"off"}
    assert {state for entity_id, state in states.items() if entity_id not in hub_settings} == {
        STATE_UNAVAILABLE
    }
    # Several failed attempts while it is off (woken early instead of waiting the backoff).
    for _ in range(3):
        attempts = coordinator.stats.connect_attempts
        coordinator.async_wake_reconnect()
        await wait_until(
            hass, lambda attempts=attempts: coordinator.stats.connect_attempts > attempts
        )
    await appliance.restart()
    coordinator.async_wake_reconnect()
    await wait_until(hass, lambda: coordinator.connected)
    assert coordinator.last_update_success
    assert STATE_UNAVAILABLE not in entity_states(hass, paired_appliance).values()
    ours = [r for r in caplog.records if r.name.startswith("custom_components.liuzhou_appliances")]
    above_debug = [
        r for r in ours if r.levelno > logging.DEBUG and "liuzhou_appliances.link" not in r.name
    ]
    assert [r.levelno for r in above_debug] == [logging.INFO, logging.INFO], [
        r.getMessage() for r in above_debug
    ]
    assert "Lost the connection" in above_debug[0].getMessage()
    assert "restored" in above_debug[1].getMessage()
    assert coordinator.stats.disconnects == 1
    assert coordinator.stats.connects == 2


async def test_backoff_retries_without_help(
    hass: HomeAssistant, paired_appliance: PairedAppliance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No zeroconf: the loop itself reconnects once the appliance is back."""
    monkeypatch.setattr(reconnect_module, "reconnect_delay", lambda attempt: 0.05)
    coordinator = paired_appliance.coordinator
    await paired_appliance.appliance.stop()
    await wait_until(hass, lambda: not coordinator.connected)
    await wait_until(hass, lambda: coordinator.stats.connect_attempts >= 3)
    await paired_appliance.appliance.restart()
    await wait_until(hass, lambda: coordinator.connected)


async def test_unload_and_reload_leave_nothing_running(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    entry = paired_appliance.entry
    server = paired_appliance.appliance.module.server
    assert server.session_count == 1
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await wait_until(hass, lambda: server.session_count == 1)
    coordinator = entry.runtime_data.coordinator
    assert await hass.config_entries.async_unload(entry.entry_id)
    # mypy still holds the state asserted before the unload.
    assert entry.state is ConfigEntryState.NOT_LOADED  # type: ignore[comparison-overlap]
    assert not coordinator.connected
    await wait_until(hass, lambda: server.session_count == 0)
    assert not [t for t in asyncio.all_tasks() if DOMAIN in t.get_name()]


async def test_unload_while_reconnecting_stops_the_loop(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    coordinator = paired_appliance.coordinator
    await paired_appliance.appliance.stop()
    await wait_until(hass, lambda: not coordinator.connected)
    reconnect = coordinator._reconnect.task
    assert reconnect is not None
    assert not reconnect.done()
    assert await hass.config_entries.async_unload(paired_appliance.entry.entry_id)
    assert reconnect.done()


async def test_write_round_trip_and_translated_rejections(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    coordinator = paired_appliance.coordinator
    await coordinator.async_write({"target_temperature": 23.5})
    assert paired_appliance.simulator.values()["target_temperature"] == 23.5
    with pytest.raises(HomeAssistantError) as out_of_range:
        await coordinator.async_write({"target_temperature": 45})
    assert out_of_range.value.translation_key == "value_out_of_range"
    assert out_of_range.value.translation_placeholders is not None
    assert out_of_range.value.translation_placeholders["key"] == "target_temperature"
    with pytest.raises(HomeAssistantError) as read_only:
        await coordinator.async_write({"temperature": 20})
    assert read_only.value.translation_key == "value_out_of_range"
    with pytest.raises(HomeAssistantError) as no_command:
        await coordinator.async_command("start")
    assert no_command.value.translation_key == "command_rejected"
    assert no_command.value.translation_domain == DOMAIN
    await paired_appliance.appliance.stop()
    await wait_until(hass, lambda: not coordinator.connected)
    with pytest.raises(HomeAssistantError) as offline:
        await coordinator.async_write({"target_temperature": 22})
    assert offline.value.translation_key == "appliance_unavailable"
    with pytest.raises(HomeAssistantError) as offline_command:
        await coordinator.async_command("stop")
    assert offline_command.value.translation_key in {"appliance_unavailable", "command_rejected"}


async def test_translated_messages_render(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    """The exception text shown to the user is the translation, placeholders filled."""
    with pytest.raises(HomeAssistantError) as err:
        await paired_appliance.coordinator.async_write({"target_temperature": 45})
    assert "target_temperature" in str(err.value)
    assert "45" in str(err.value)


async def test_device_of_the_appliance_cannot_be_removed(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    assert await async_setup_component(hass, "config", {})
    registry = dr.async_get(hass)
    entry = paired_appliance.entry
    own = registry.async_get_device(identifiers={(DOMAIN, paired_appliance.appliance.id)})
    assert own is not None
    assert not await async_remove_config_entry_device(hass, entry, own)
    stale = registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "lz-ac-00000000")}
    )
    assert await async_remove_config_entry_device(hass, entry, stale)


@pytest.mark.parametrize("appliance_type", list(ApplianceType))
async def test_every_appliance_type_sets_up(
    hass: HomeAssistant, paired_appliance: PairedAppliance, appliance_type: ApplianceType
) -> None:
    assert paired_appliance.entry.state is ConfigEntryState.LOADED
    assert paired_appliance.coordinator.declaration.type is appliance_type
    assert entity_states(hass, paired_appliance)


async def test_refresh_rereads_the_state(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    """homeassistant.update_entity asks the coordinator; it reads everything again."""
    coordinator = paired_appliance.coordinator
    paired_appliance.simulator.write("fan_speed", "high")
    # Reported to the module but not yet read by us: the refresh picks it up.
    await paired_appliance.push()
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert coordinator.data["fan_speed"] == "high"
    await paired_appliance.appliance.stop()
    await wait_until(hass, lambda: not coordinator.connected)
    await coordinator.async_refresh()
    assert not coordinator.last_update_success


async def test_newer_protocol_at_setup_retries(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """After a firmware update to a protocol we do not speak, setup waits (and says why)."""
    paired = await start_appliance(setup=False)
    identity = paired.appliance.module.identity
    assert identity is not None
    newer = ApplianceServer(
        paired.appliance.module.backend,
        identity,
        pairing_code=paired.appliance.code,
        key_store=MemoryKeyStore(),
        supported_versions=(2, 2),
    )
    await newer.start("127.0.0.1", 0)
    try:
        hass.config_entries.async_update_entry(
            paired.entry, data={**paired.entry.data, CONF_PORT: newer.port}
        )
        await hass.config_entries.async_setup(paired.entry.entry_id)
        assert paired.entry.state is ConfigEntryState.SETUP_RETRY
        assert "UNSUPPORTED_VERSION" in (paired.entry.reason or "")
    finally:
        await newer.stop()


async def test_another_appliance_at_the_address_is_not_a_reason_to_re_pair(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    paired = await start_appliance(setup=False)
    other = await start_appliance(index=1, setup=False)
    hass.config_entries.async_update_entry(
        paired.entry, data={**paired.entry.data, CONF_PORT: other.appliance.port}
    )
    await hass.config_entries.async_setup(paired.entry.entry_id)
    assert paired.entry.state is ConfigEntryState.SETUP_RETRY
    assert not list(paired.entry.async_get_active_flows(hass, {"reauth"}))


async def test_command_rejected_by_the_appliance_state(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Pausing a washer that is not running: the appliance says INVALID_STATE, translated."""
    paired = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    with pytest.raises(HomeAssistantError) as rejected:
        await paired.coordinator.async_command("pause")
    assert rejected.value.translation_key == "command_rejected"
    assert rejected.value.translation_placeholders is not None
    assert rejected.value.translation_placeholders["error"] == "INVALID_STATE"
    await paired.coordinator.async_command("start")
    assert paired.simulator.values()["operational_state"] == "running"
    programmes = paired.coordinator.declaration.capabilities["programme"].options
    other = next(p for p in programmes if p != paired.simulator.values()["programme"])
    with pytest.raises(HomeAssistantError) as busy:
        await paired.coordinator.async_write({"programme": other})
    assert busy.value.translation_key == "write_rejected"
    assert busy.value.translation_placeholders is not None
    assert busy.value.translation_placeholders["keys"] == "programme"
    await paired.appliance.stop()
    await wait_until(hass, lambda: not paired.coordinator.connected)
    with pytest.raises(HomeAssistantError) as offline:
        await paired.coordinator.async_command("stop")
    assert offline.value.translation_key == "appliance_unavailable"


async def test_reconnect_now_answers_at_once_when_nothing_to_do(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    coordinator = paired_appliance.coordinator
    assert await coordinator.async_reconnect_now()
    await paired_appliance.appliance.factory_reset()
    # The appliance forgot our key: the loop hands over to reauth and stops.
    await wait_until(
        hass, lambda: bool(list(paired_appliance.entry.async_get_active_flows(hass, {"reauth"})))
    )
    assert not await coordinator.async_reconnect_now()


def test_package_exposes_entry_points_lazily() -> None:
    """Without Home Assistant loaded first, the entry points come from entry_points.py on access."""
    import custom_components.liuzhou_appliances as package
    from custom_components.liuzhou_appliances import entry_points

    assert package.__getattr__("async_setup_entry") is entry_points.async_setup_entry
    with pytest.raises(AttributeError):
        package.__getattr__("not_an_entry_point")


def test_link_imports_without_home_assistant() -> None:
    """firmware_bridge's side: the protocol package must not pull in Home Assistant."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import custom_components.liuzhou_appliances.link.client\n"
        "import custom_components.liuzhou_appliances.link.server\n"
        "assert 'homeassistant' not in sys.modules, 'homeassistant was imported'\n"
    )
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
