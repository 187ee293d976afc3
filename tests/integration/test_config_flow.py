"""Config flow against real simulated appliances: every path the user can take."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from homeassistant.components.zeroconf import info_from_service
from homeassistant.config_entries import SOURCE_USER, SOURCE_ZEROCONF, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.loader import async_get_zeroconf
import pytest

from custom_components.liuzhou_appliances.config_flow import async_get_hub_id
from custom_components.liuzhou_appliances.const import (
    CONF_APPLIANCE_ID,
    CONF_HUB_ID,
    CONF_KEEPALIVE_INTERVAL,
    CONF_KEY,
    CONF_OFFLINE_REPAIR_MINUTES,
    CONF_PAIRING_CODE,
    CONF_VOICE_LOG,
    DOMAIN,
)
from custom_components.liuzhou_appliances.link import reconnect as reconnect_module
from custom_components.liuzhou_appliances.link.client import pair
from custom_components.liuzhou_appliances.link.discovery import SERVICE_TYPE
from custom_components.liuzhou_appliances.link.server import ApplianceServer, MemoryKeyStore

from .conftest import PairedAppliance, StartAppliance, closed_port, wait_until

if TYPE_CHECKING:
    from firmware_bridge.bridge import SimulatedProduct

type StartSimulated = Callable[..., Awaitable[SimulatedProduct]]


def wrong_code(code: str) -> str:
    """A valid-looking code that is not the appliance's."""
    return f"{(int(code) + 1) % 10**8:08d}"


def discovery(appliance: SimulatedProduct, **overrides: Any) -> ZeroconfServiceInfo:
    """What Home Assistant's zeroconf hands the flow for the bridge's real advertisement."""
    from firmware_bridge.bridge import build_service_info

    identity = appliance.module.identity
    assert identity is not None
    options = {"host": appliance.host, "port": appliance.port, "paired": False, "protocol": (1, 1)}
    options.update(overrides)
    info = info_from_service(build_service_info(identity, **options))  # type: ignore[arg-type]
    assert info is not None
    return info


async def start_user_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["appliance", "nearby", "household_energy"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "appliance"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "appliance"
    return str(result["flow_id"])


async def submit(hass: HomeAssistant, flow_id: str, **data: Any) -> Any:
    return await hass.config_entries.flow.async_configure(flow_id, data)


async def accept_name(hass: HomeAssistant, result: Any) -> Any:
    """Paired: the name-and-area form comes next; take its suggestions."""
    assert result["type"] is FlowResultType.FORM, result
    assert result["step_id"] == "name"
    return await submit(hass, result["flow_id"])


# --- manual entry --------------------------------------------------------------------


async def test_manual_entry_pairs_and_stores_the_key_not_the_code(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    appliance = await start_simulated()
    flow_id = await start_user_flow(hass)
    result = await submit(
        hass,
        flow_id,
        host=appliance.host,
        port=appliance.port,
        pairing_code=f"{appliance.code[:4]}-{appliance.code[4:]}",
    )
    assert appliance.module.paired  # paired before it is named
    result = await accept_name(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == appliance.id
    assert entry.title == "Air conditioner"
    assert set(entry.data) == {CONF_HOST, CONF_PORT, CONF_APPLIANCE_ID, CONF_KEY, CONF_HUB_ID}
    assert entry.data[CONF_APPLIANCE_ID] == appliance.id
    assert len(bytes.fromhex(entry.data[CONF_KEY])) == 32
    assert appliance.code not in str(entry.as_dict())
    assert appliance.module.paired
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator.connected


async def test_wrong_code_then_right_code(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    appliance = await start_simulated()
    flow_id = await start_user_flow(hass)
    base = {"host": appliance.host, "port": appliance.port}
    result = await submit(hass, flow_id, **base, pairing_code=wrong_code(appliance.code))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wrong_code"}
    assert not appliance.module.paired
    result = await accept_name(
        hass, await submit(hass, flow_id, **base, pairing_code=appliance.code)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("code", ["1234", "abcd-efgh", "123456789", ""])
async def test_invalid_code_format_never_reaches_the_appliance(
    hass: HomeAssistant, start_simulated: StartSimulated, code: str
) -> None:
    appliance = await start_simulated()
    flow_id = await start_user_flow(hass)
    result = await submit(
        hass, flow_id, host=appliance.host, port=appliance.port, pairing_code=code
    )
    assert result["errors"] == {CONF_PAIRING_CODE: "invalid_code_format"}
    # No attempt was counted: five right-format wrong codes still precede the lockout.
    assert appliance.module.server.pairing_limiter.failures == 0


async def test_unreachable(hass: HomeAssistant) -> None:
    flow_id = await start_user_flow(hass)
    result = await submit(
        hass, flow_id, host="127.0.0.1", port=closed_port(), pairing_code="1234-5678"
    )
    assert result["errors"] == {"base": "cannot_connect"}


async def test_rate_limited_shows_the_retry_time(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    appliance = await start_simulated()
    flow_id = await start_user_flow(hass)
    base = {
        "host": appliance.host,
        "port": appliance.port,
        "pairing_code": wrong_code(appliance.code),
    }
    limiter = appliance.module.server.pairing_limiter
    errors = []
    for _ in range(limiter.max_failures + 2):
        result = await submit(hass, flow_id, **base)
        errors.append(result["errors"]["base"])
        if errors[-1] != "wrong_code":
            break
    assert errors == ["wrong_code"] * limiter.max_failures + ["rate_limited"]
    # Even the right code waits until the lockout ends.
    result = await submit(hass, flow_id, **{**base, "pairing_code": appliance.code})
    assert result["errors"] == {"base": "rate_limited"}
    retry_after = int(result["description_placeholders"]["retry_after"])
    assert 1 <= retry_after <= limiter.max_lockout


async def test_unsupported_protocol_version(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    """A newer appliance that speaks only protocol 2 (same appliance backend, real server)."""
    appliance = await start_simulated()
    identity = appliance.module.identity
    assert identity is not None
    newer = ApplianceServer(
        appliance.module.backend,
        identity,
        pairing_code=appliance.code,
        key_store=MemoryKeyStore(),
        supported_versions=(2, 2),
    )
    await newer.start("127.0.0.1", 0)
    try:
        flow_id = await start_user_flow(hass)
        result = await submit(
            hass, flow_id, host="127.0.0.1", port=newer.port, pairing_code=appliance.code
        )
        assert result["errors"] == {"base": "unsupported_version"}
    finally:
        await newer.stop()


async def test_manual_entry_of_a_configured_appliance_updates_it(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Pairing again replaces the appliance's key: the existing entry keeps working."""
    paired = await start_appliance()
    old_key = paired.entry.data[CONF_KEY]
    await paired.appliance.press_pairing_button()  # paired: pairing needs the button
    flow_id = await start_user_flow(hass)
    result = await submit(
        hass,
        flow_id,
        host=paired.appliance.host,
        port=paired.appliance.port,
        pairing_code=paired.appliance.code,
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert paired.entry.data[CONF_KEY] != old_key
    assert paired.entry.state is ConfigEntryState.LOADED
    assert paired.coordinator.connected


async def test_reconnect_before_the_reload_uses_the_new_key(
    hass: HomeAssistant, start_appliance: StartAppliance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pairing again drops the old session; a reconnect that beats the reload gets in.

    A busy Home Assistant may reload the entry only after the coordinator's first
    reconnect; that attempt must use the key the flow stored, not ask to pair again.
    """
    paired = await start_appliance()
    monkeypatch.setattr(hass.config_entries, "async_schedule_reload", lambda _entry_id: None)
    await paired.appliance.press_pairing_button()  # paired: pairing needs the button
    flow_id = await start_user_flow(hass)
    result = await submit(
        hass,
        flow_id,
        host=paired.appliance.host,
        port=paired.appliance.port,
        pairing_code=paired.appliance.code,
    )
    assert result["reason"] == "already_configured"
    await wait_until(
        hass, lambda: not paired.coordinator.connected
    )  # the appliance revoked the key
    assert await paired.coordinator.async_reconnect_now()
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)  # no reauth
    assert paired.entry.state is ConfigEntryState.LOADED


async def test_pairing_a_paired_appliance_asks_for_its_pairing_button(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Outside the pairing window the form says to press the button; then it pairs."""
    paired = await start_appliance()
    old_key = paired.entry.data[CONF_KEY]
    flow_id = await start_user_flow(hass)
    code = paired.appliance.code
    where = {"host": paired.appliance.host, "port": paired.appliance.port}
    for _ in range(6):  # refusals are not failures: no lockout however often
        result = await submit(hass, flow_id, **where, pairing_code=code)
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "pairing_closed"}
        assert result["description_placeholders"]["minutes"] == "15"
    assert paired.entry.data[CONF_KEY] == old_key
    assert paired.appliance.module.server.pairing_limiter.failures == 0
    await paired.appliance.press_pairing_button()
    result = await submit(hass, flow_id, **where, pairing_code=code)
    assert result["reason"] == "already_configured"
    assert paired.entry.data[CONF_KEY] != old_key


async def test_discovered_appliance_paired_before_asks_for_its_pairing_button(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    """Paired with a Home Assistant that is gone: discovery offers it, the button opens it."""
    appliance = await start_simulated()
    await pair(appliance.host, appliance.port, appliance.code, hub_id="a-previous-hub")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(appliance, paired=True)
    )
    result = await submit(hass, result["flow_id"], pairing_code=appliance.code)
    assert result["step_id"] == "zeroconf_confirm"
    assert result["errors"] == {"base": "pairing_closed"}
    await appliance.press_pairing_button()
    result = await accept_name(
        hass, await submit(hass, result["flow_id"], pairing_code=appliance.code)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_reauth_asks_for_the_pairing_button_while_paired_elsewhere(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    paired = await start_appliance(setup=False)
    appliance = paired.appliance
    await appliance.press_pairing_button()
    await pair(appliance.host, appliance.port, appliance.code, hub_id="another-hub")
    result = await paired.entry.start_reauth_flow(hass)
    result = await submit(hass, result["flow_id"], pairing_code=appliance.code)
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": "pairing_closed"}
    await appliance.press_pairing_button()
    result = await submit(hass, result["flow_id"], pairing_code=appliance.code)
    assert result["reason"] == "reauth_successful"


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
def test_pairing_closed_is_translated_and_names_the_button(language: str) -> None:
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN / "translations"
    config = json.loads((folder / f"{language}.json").read_text(encoding="utf-8"))["config"]
    text = config["error"]["pairing_closed"]
    assert "{minutes}" in text
    assert ("pairing button" if language == "en" else "配对按钮") in text
    for step in ("appliance", "zeroconf_confirm", "reauth_confirm"):
        assert ("pairing button" if language == "en" else "配对按钮") in config["step"][step][
            "description"
        ]


# --- zeroconf --------------------------------------------------------------------------


async def test_manifest_matcher_routes_the_service_type_to_us(hass: HomeAssistant) -> None:
    matchers = await async_get_zeroconf(hass)
    assert {"domain": DOMAIN} in matchers[SERVICE_TYPE]


async def test_discovery_confirm_and_pair(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    appliance = await start_simulated()
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(appliance)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zeroconf_confirm"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flows[0]["context"]["title_placeholders"]["name"] == (
        f"Air conditioner {appliance.model} ({appliance.host})"
    )
    result = await submit(hass, result["flow_id"], pairing_code=wrong_code(appliance.code))
    assert result["errors"] == {"base": "wrong_code"}
    result = await submit(hass, result["flow_id"], pairing_code="12")
    assert result["errors"] == {CONF_PAIRING_CODE: "invalid_code_format"}
    result = await accept_name(
        hass, await submit(hass, result["flow_id"], pairing_code=appliance.code)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == appliance.id
    assert result["result"].data[CONF_PORT] == appliance.port
    await hass.async_block_till_done()


async def test_manual_pairing_supersedes_a_pending_discovery(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    """Pairing by hand while a discovery flow waits for its code creates the entry.

    The manual flow has already replaced the appliance's key when it learns the
    unique id; aborting then would leave no entry holding the new key.
    """
    appliance = await start_simulated()
    discovered = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(appliance)
    )
    assert discovered["step_id"] == "zeroconf_confirm"
    flow_id = await start_user_flow(hass)
    result = await submit(
        hass, flow_id, host=appliance.host, port=appliance.port, pairing_code=appliance.code
    )
    result = await accept_name(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_discovery_with_a_broken_txt_record_is_ignored(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    info = discovery(await start_simulated())
    info.properties = {**info.properties, "id": "Not An Id!"}
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


async def test_discovery_of_an_unsupported_protocol(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    info = discovery(await start_simulated(), protocol=(2, 3))
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unsupported_version"


async def test_discovery_of_a_configured_appliance_aborts(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(paired_appliance.appliance)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_discovery_at_a_new_address_updates_and_reconnects(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """The entry knows an old port (nothing there): setup waits; zeroconf brings the new one."""
    paired = await start_appliance(setup=False)
    hass.config_entries.async_update_entry(
        paired.entry, data={**paired.entry.data, CONF_PORT: closed_port()}
    )
    await hass.config_entries.async_setup(paired.entry.entry_id)
    assert paired.entry.state is ConfigEntryState.SETUP_RETRY
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(paired.appliance)
    )
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert paired.entry.data[CONF_PORT] == paired.appliance.port
    # mypy still holds the state asserted before the reload.
    assert paired.entry.state is ConfigEntryState.LOADED  # type: ignore[comparison-overlap]


async def test_discovery_wakes_the_reconnect_at_once(
    hass: HomeAssistant, paired_appliance: PairedAppliance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the backoff would wait an hour, seeing the appliance reconnects immediately."""
    monkeypatch.setattr(reconnect_module, "reconnect_delay", lambda attempt: 3600.0)
    coordinator = paired_appliance.coordinator
    await paired_appliance.appliance.stop()
    await wait_until(hass, lambda: not coordinator.connected)
    await paired_appliance.appliance.restart()
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(paired_appliance.appliance)
    )
    assert result["reason"] == "already_configured"
    await wait_until(hass, lambda: coordinator.connected)
    assert coordinator.last_update_success


# --- reauthentication ------------------------------------------------------------------


async def test_key_rejected_at_runtime_starts_reauth_and_repairing_fixes_it(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    """Another hub pairs the appliance (revoking our key); the user re-pairs with the code."""
    appliance = paired_appliance.appliance
    entry = paired_appliance.entry
    await appliance.press_pairing_button()  # paired: pairing needs the button
    await pair(appliance.host, appliance.port, appliance.code, hub_id="another-hub")
    await wait_until(hass, lambda: bool(list(entry.async_get_active_flows(hass, {"reauth"}))))
    flow = next(iter(entry.async_get_active_flows(hass, {"reauth"})))
    await appliance.press_pairing_button()  # paired with the other hub now: again
    result = await submit(hass, flow["flow_id"], pairing_code=wrong_code(appliance.code))
    assert result["errors"] == {"base": "wrong_code"}
    result = await submit(hass, flow["flow_id"], pairing_code=appliance.code)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator.connected


async def test_factory_reset_appliance_fails_setup_with_reauth(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    paired = await start_appliance(setup=False)
    await paired.appliance.factory_reset()
    await hass.config_entries.async_setup(paired.entry.entry_id)
    await hass.async_block_till_done()
    assert paired.entry.state is ConfigEntryState.SETUP_ERROR
    flows = paired.entry.async_get_active_flows(hass, {"reauth"})
    assert len(list(flows)) == 1


async def test_reauth_with_another_appliances_code_aborts(
    hass: HomeAssistant, start_appliance: StartAppliance, start_simulated: StartSimulated
) -> None:
    """The entry's address now leads to another appliance; its code must not re-key us."""
    paired = await start_appliance(setup=False)
    other = await start_simulated(index=1)
    hass.config_entries.async_update_entry(
        paired.entry, data={**paired.entry.data, CONF_PORT: other.port}
    )
    result = await paired.entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await submit(hass, result["flow_id"], pairing_code=other.code)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "different_appliance"


# --- reconfigure -----------------------------------------------------------------------


async def test_reconfigure_to_the_new_address(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    paired = await start_appliance(setup=False)
    right_port = paired.entry.data[CONF_PORT]
    hass.config_entries.async_update_entry(
        paired.entry, data={**paired.entry.data, CONF_PORT: closed_port()}
    )
    await hass.config_entries.async_setup(paired.entry.entry_id)
    assert paired.entry.state is ConfigEntryState.SETUP_RETRY
    result = await paired.entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await submit(hass, result["flow_id"], host="127.0.0.1", port=closed_port())
    assert result["errors"] == {"base": "cannot_connect"}
    result = await submit(hass, result["flow_id"], host="127.0.0.1", port=right_port)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert paired.entry.data[CONF_PORT] == right_port
    # mypy still holds the state asserted before the reload.
    assert paired.entry.state is ConfigEntryState.LOADED  # type: ignore[comparison-overlap]


async def test_reconfigure_to_a_different_appliance_is_refused(
    hass: HomeAssistant, paired_appliance: PairedAppliance, start_simulated: StartSimulated
) -> None:
    other = await start_simulated(index=1)
    entry = paired_appliance.entry
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result["flow_id"], host=other.host, port=other.port)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "different_appliance"}
    assert result["description_placeholders"] is not None
    assert result["description_placeholders"]["found"] == other.id
    assert entry.data[CONF_PORT] == paired_appliance.appliance.port


# --- options ---------------------------------------------------------------------------


async def test_options_change_keepalive_and_reload(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    entry = paired_appliance.entry
    before = entry.runtime_data
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_KEEPALIVE_INTERVAL: 1, CONF_OFFLINE_REPAIR_MINUTES: 30}
        )
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_KEEPALIVE_INTERVAL: 20, CONF_OFFLINE_REPAIR_MINUTES: 0}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_KEEPALIVE_INTERVAL: 45, CONF_OFFLINE_REPAIR_MINUTES: 10}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # The simulated AC has a voice panel: its log stays off unless switched on.
    assert entry.options == {
        CONF_KEEPALIVE_INTERVAL: 45,
        CONF_OFFLINE_REPAIR_MINUTES: 10,
        CONF_VOICE_LOG: False,
    }
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator.client.keepalive_interval == 45
    assert entry.runtime_data is not before  # reloaded


async def test_options_reload_without_an_update_listener(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    """The flows reload the entry themselves; Home Assistant 2026.12 refuses a listener too."""
    entry = paired_appliance.entry
    assert not entry.update_listeners
    options = {CONF_KEEPALIVE_INTERVAL: 30, CONF_OFFLINE_REPAIR_MINUTES: 15, CONF_VOICE_LOG: False}
    for _ in range(2):
        result = await hass.config_entries.options.async_init(entry.entry_id)
        await hass.config_entries.options.async_configure(result["flow_id"], options)
        await hass.async_block_till_done()
    loaded = entry.runtime_data
    assert entry.options == options
    # The same options again: nothing changed, so nothing is reloaded.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], options)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.runtime_data is loaded
    assert entry.state is ConfigEntryState.LOADED
    assert not entry.update_listeners


async def test_hub_id_is_stable(hass: HomeAssistant) -> None:
    first = await async_get_hub_id(hass)
    assert first == await async_get_hub_id(hass)
    assert first.startswith("ha-")


async def test_reconfigure_to_an_appliance_that_forgot_our_key(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    """Same appliance, factory reset: the address is right but re-pairing is needed."""
    await paired_appliance.appliance.factory_reset()
    result = await paired_appliance.entry.start_reconfigure_flow(hass)
    result = await submit(
        hass,
        result["flow_id"],
        host=paired_appliance.appliance.host,
        port=paired_appliance.appliance.port,
    )
    assert result["errors"] == {"base": "key_rejected"}


async def test_something_else_listening_is_an_unknown_error(hass: HomeAssistant) -> None:
    """A web server on the port answers bytes that are no Liuzhou frame."""

    async def http_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(http_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        flow_id = await start_user_flow(hass)
        result = await submit(hass, flow_id, host="127.0.0.1", port=port, pairing_code="1234-5678")
        assert result["errors"] == {"base": "unknown"}
    finally:
        server.close()
        await server.wait_closed()


async def test_discovery_wakes_an_entry_waiting_to_retry_setup(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    paired = await start_appliance(setup=False)
    await paired.appliance.stop()
    await hass.config_entries.async_setup(paired.entry.entry_id)
    assert paired.entry.state is ConfigEntryState.SETUP_RETRY
    await paired.appliance.restart()
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(paired.appliance)
    )
    assert result["reason"] == "already_configured"
    # mypy still holds the state asserted before the restart.
    await wait_until(hass, lambda: paired.entry.state is ConfigEntryState.LOADED)  # type: ignore[comparison-overlap]


async def test_discovered_address_now_leads_to_another_appliance(
    hass: HomeAssistant, start_simulated: StartSimulated
) -> None:
    """Between discovery and confirmation the address changed hands."""
    discovered = await start_simulated()
    other = await start_simulated(index=1)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_ZEROCONF}, data=discovery(discovered, port=other.port)
    )
    result = await submit(hass, result["flow_id"], pairing_code=other.code)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "different_appliance"
