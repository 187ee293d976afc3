"""Diagnostics redaction and repair issues, against real simulated appliances."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any

from homeassistant.components.diagnostics import REDACTED
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, UnknownStep
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.liuzhou_appliances.const import CONF_KEY, CONF_OFFLINE_REPAIR_MINUTES, DOMAIN
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.repairs import async_create_fix_flow

from .conftest import PairedAppliance, StartAppliance, wait_until


def issue_ids(hass: HomeAssistant) -> set[str]:
    return {issue_id for (domain, issue_id) in ir.async_get(hass).issues if domain == DOMAIN}


# --- diagnostics ------------------------------------------------------------------------


async def test_diagnostics_redact_keys_addresses_and_ids(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    paired_appliance: PairedAppliance,
    snapshot: SnapshotAssertion,
) -> None:
    entry = paired_appliance.entry
    appliance = paired_appliance.appliance
    await paired_appliance.appliance.stop()  # a connection error quoting the address
    await wait_until(hass, lambda: not paired_appliance.coordinator.connected)
    await appliance.restart()
    paired_appliance.coordinator.async_wake_reconnect()
    await wait_until(hass, lambda: paired_appliance.coordinator.connected)
    # A JSON document, looked into by key.
    diagnostics: dict[str, Any] = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    for secret in (
        entry.data[CONF_KEY],
        appliance.id,
        appliance.code,
        f"{appliance.host}:{appliance.port}",
        entry.title,
    ):
        assert secret not in text, secret
    assert diagnostics["entry"]["data"][CONF_KEY] == REDACTED
    assert diagnostics["appliance"]["appliance_id"] == REDACTED
    assert diagnostics["declaration"] == paired_appliance.coordinator.declaration.to_dict()
    assert diagnostics["state"] == appliance.simulator.values()
    connection = diagnostics["connection"]
    assert connection["connected"] is True
    assert connection["connects"] == 2
    assert connection["disconnects"] == 1
    assert connection["link"] == "lan"
    assert connection["links"] == ["lan"]
    # Timing and error texts vary from run to run; the rest is a stable snapshot.
    stable = {key: value for key, value in diagnostics.items() if key != "connection"}
    assert stable == snapshot


# --- repair issues ----------------------------------------------------------------------


async def test_fault_raises_a_translated_issue_cleared_with_the_fault(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    simulator = paired_appliance.simulator
    appliance_id = paired_appliance.appliance.id
    simulator.inject_fault("outdoor_unit")
    simulator.inject_fault("refrigerant_low")
    await paired_appliance.push()
    expected = {f"{appliance_id}_fault_outdoor_unit", f"{appliance_id}_fault_refrigerant_low"}
    await wait_until(hass, lambda: issue_ids(hass) == expected)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"{appliance_id}_fault_outdoor_unit")
    assert issue is not None
    assert issue.translation_key == "fault_room_air_conditioner_outdoor_unit"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert not issue.is_fixable
    assert issue.translation_placeholders == {
        "appliance": paired_appliance.entry.title,
        "code": "outdoor_unit",
    }
    simulator.clear_fault("outdoor_unit")
    await paired_appliance.push()
    await wait_until(hass, lambda: issue_ids(hass) == {f"{appliance_id}_fault_refrigerant_low"})
    simulator.clear_fault("refrigerant_low")
    await paired_appliance.push()
    await wait_until(hass, lambda: not issue_ids(hass))


async def test_fault_active_at_connect_is_raised_and_unload_clears_issues(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    paired = await start_appliance(setup=False)
    paired.simulator.inject_fault("compressor_overheat")
    await paired.push()
    await hass.config_entries.async_setup(paired.entry.entry_id)
    await hass.async_block_till_done()
    assert issue_ids(hass) == {f"{paired.appliance.id}_fault_compressor_overheat"}
    await hass.config_entries.async_unload(paired.entry.entry_id)
    assert not issue_ids(hass)


@pytest.mark.parametrize("appliance_type", [ApplianceType.DISHWASHER])
async def test_rinse_aid_and_salt_low_raise_warnings(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    coordinator = paired_appliance.coordinator
    capabilities = coordinator.declaration.capabilities
    if "rinse_aid_low" not in capabilities or "salt_low" not in capabilities:
        pytest.skip("this simulated dishwasher model declares no supply sensors")
    appliance_id = paired_appliance.appliance.id
    simulator = paired_appliance.simulator
    # Run both out, as forty-odd cycles would.
    simulator.rinse_aid_used = simulator.rinse_aid_cycles
    simulator.salt_used = simulator.salt_cycles
    await paired_appliance.push()
    expected = {f"{appliance_id}_rinse_aid_low", f"{appliance_id}_salt_low"}
    await wait_until(hass, lambda: issue_ids(hass) == expected)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"{appliance_id}_salt_low")
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    simulator.refill("rinse_aid")
    await paired_appliance.push()
    await wait_until(hass, lambda: issue_ids(hass) == {f"{appliance_id}_salt_low"})
    simulator.refill("salt")
    await paired_appliance.push()
    await wait_until(hass, lambda: not issue_ids(hass))


async def test_offline_too_long_raises_a_fixable_issue(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    paired = await start_appliance(options={CONF_OFFLINE_REPAIR_MINUTES: 5})
    coordinator = paired.coordinator
    issue_id = f"{paired.appliance.id}_unreachable"
    await paired.appliance.stop()
    await wait_until(hass, lambda: not coordinator.connected)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=4))
    await hass.async_block_till_done()
    assert issue_id not in issue_ids(hass)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=6))
    await hass.async_block_till_done()
    assert issue_id in issue_ids(hass)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["minutes"] == "5"

    # The fix flow retries now; still off -> an error, back on -> fixed.
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    result = await manager.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "still_unreachable"}
    await paired.appliance.restart()
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert coordinator.connected
    assert issue_id not in issue_ids(hass)


async def test_reconnect_clears_the_offline_issue_by_itself(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    paired = await start_appliance(options={CONF_OFFLINE_REPAIR_MINUTES: 1})
    coordinator = paired.coordinator
    await paired.appliance.stop()
    await wait_until(hass, lambda: not coordinator.connected)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=2))
    await hass.async_block_till_done()
    assert f"{paired.appliance.id}_unreachable" in issue_ids(hass)
    await paired.appliance.restart()
    coordinator.async_wake_reconnect()
    await wait_until(hass, lambda: coordinator.connected)
    assert not issue_ids(hass)


async def test_only_the_offline_issue_has_a_fix_flow(hass: HomeAssistant) -> None:
    with pytest.raises(UnknownStep):
        await async_create_fix_flow(hass, "lz-ac-1_fault_compressor", {"entry_id": "x"})
    with pytest.raises(UnknownStep):
        await async_create_fix_flow(hass, "lz-ac-1_unreachable", None)
