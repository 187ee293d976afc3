"""A simulated appliance's voice panel through Home Assistant: Assist answers, notify speaks."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from homeassistant.components.notify.const import (
    ATTR_MESSAGE,
    ATTR_TITLE,
    DOMAIN as NOTIFY_DOMAIN,
    SERVICE_SEND_MESSAGE,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.liuzhou_appliances.const import CONF_VOICE_LOG, DOMAIN
from custom_components.liuzhou_appliances.link.backend import PanelSpeech
from custom_components.liuzhou_appliances.link.model import ApplianceType

from .conftest import PairedAppliance, StartAppliance, wait_until
from .platform_helpers import entity_id

ANSWER_WITHIN_S = 10.0


async def _hear(machine: PairedAppliance, text: str, language: str) -> PanelSpeech:
    """The panel hears ``text``; the hub's reply as the panel got it."""
    panel = machine.appliance.panel
    assert panel is not None
    async with asyncio.timeout(ANSWER_WITHIN_S):
        return await panel.hear(text, language)


def _device_id(hass: HomeAssistant, machine: PairedAppliance) -> str:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, machine.appliance.id)})
    assert device is not None
    return device.id


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


@pytest.fixture
async def assist(hass: HomeAssistant) -> None:
    """Home Assistant's own conversation agent, as default_config sets it up."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})


@pytest.mark.usefixtures("assist")
async def test_what_the_panel_hears_is_done_and_answered(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """'Turn off <the AC>' at the AC's panel: the AC is off, the panel speaks Assist's answer."""
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    climate = entity_id(hass, "climate", ac.appliance.id, "climate")
    await hass.services.async_call("climate", "turn_on", {ATTR_ENTITY_ID: climate}, blocking=True)
    await wait_until(hass, lambda: hass.states.get(climate).state != "off")  # type: ignore[union-attr]
    name = hass.states.get(climate).name  # type: ignore[union-attr]

    reply = await _hear(ac, f"turn off the {name}", "en")

    assert reply.language == "en"
    assert reply.text  # Assist's confirmation, in English
    assert not reply.listening
    await wait_until(hass, lambda: hass.states.get(climate).state == "off")  # type: ignore[union-attr]
    assert ac.simulator.values()["on"] is False
    panel = ac.entry.runtime_data.panel
    assert panel.stats.utterances == 1
    assert panel.stats.answered == 1


@pytest.mark.usefixtures("assist")
async def test_an_utterance_assist_cannot_match_is_still_answered(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Nonsense gets Assist's own "sorry" in the panel's language, never silence."""
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    reply = await _hear(washer, "紫色的大象会唱歌吗", "zh-CN")
    assert reply.language == "zh-CN"
    assert reply.text
    assert washer.appliance.panel is not None


async def test_without_assist_the_panel_hears_why(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Conversation not set up: a translated apology in the panel's language."""
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    chinese = await _hear(washer, "开始洗", "zh-CN")
    english = await _hear(washer, "start the wash", "en")
    assert chinese.text == "抱歉，Home Assistant 还没有设置 Assist 语音助手。"
    assert english.text == "Sorry, Assist is not set up in Home Assistant."
    assert washer.entry.runtime_data.panel.stats.failed == 2


async def test_notify_makes_the_panel_speak(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """notify.send_message: title then message, Chinese in Chinese, English in English."""
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    panel = washer.appliance.panel
    assert panel is not None
    notify = entity_id(hass, NOTIFY_DOMAIN, washer.appliance.id, "voice_panel")

    await hass.services.async_call(
        NOTIFY_DOMAIN,
        SERVICE_SEND_MESSAGE,
        {ATTR_ENTITY_ID: notify, ATTR_TITLE: "洗衣机", ATTR_MESSAGE: "洗衣完成"},
        blocking=True,
    )
    await hass.services.async_call(
        NOTIFY_DOMAIN,
        SERVICE_SEND_MESSAGE,
        {ATTR_ENTITY_ID: notify, ATTR_MESSAGE: "Laundry done"},
        blocking=True,
    )

    await wait_until(hass, lambda: len(panel.said) == 2)
    assert [(s.text, s.language, s.utterance) for s in panel.said] == [
        ("洗衣机 洗衣完成", "zh-CN", None),
        ("Laundry done", "en", None),
    ]
    assert hass.states.get(notify).state != "unknown"  # type: ignore[union-attr]


async def test_notify_refuses_nothing_to_say_and_an_unreachable_panel(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """An empty message is the caller's error; a stopped appliance is said to be unreachable."""
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    notify = entity_id(hass, NOTIFY_DOMAIN, washer.appliance.id, "voice_panel")
    with pytest.raises(ServiceValidationError) as empty:
        await hass.services.async_call(
            NOTIFY_DOMAIN,
            SERVICE_SEND_MESSAGE,
            {ATTR_ENTITY_ID: notify, ATTR_MESSAGE: "   "},
            blocking=True,
        )
    assert empty.value.translation_key == "announcement_empty"

    await washer.appliance.stop()
    await wait_until(hass, lambda: not washer.coordinator.connected)
    with pytest.raises(HomeAssistantError) as unreachable:
        await washer.entry.runtime_data.panel.async_announce("洗衣完成")
    assert unreachable.value.translation_key == "appliance_unavailable"


@pytest.mark.usefixtures("assist")
async def test_the_voice_log_is_opt_in_erasable_and_never_in_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    start_appliance: StartAppliance,
) -> None:
    """Off: nothing kept. On: the exchange is returned by voice_log, erased by erase_voice_log."""
    quiet = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    logged = await start_appliance(
        ApplianceType.DISHWASHER, options={CONF_VOICE_LOG: True}, index=1
    )
    await _hear(quiet, "秘密的话一", "zh-CN")
    await _hear(logged, "秘密的话二", "zh-CN")

    everything = await _call(hass, "voice_log", {})
    by_device = {item["device_id"]: item["entries"] for item in everything["appliances"]}
    assert by_device[_device_id(hass, quiet)] == []
    [entry] = by_device[_device_id(hass, logged)]
    assert entry["heard"] == "秘密的话二"
    assert entry["language"] == "zh-CN"
    assert entry["answer"]

    diagnostics: dict[str, Any] = await get_diagnostics_for_config_entry(
        hass, hass_client, logged.entry
    )
    assert diagnostics["voice_panel"]["log"] == {"enabled": True, "entries": 1}
    assert diagnostics["voice_panel"]["utterances"] == 1
    assert "秘密" not in json.dumps(diagnostics, ensure_ascii=False)

    erased = await _call(hass, "erase_voice_log", {"device_id": _device_id(hass, logged)})
    assert erased == {"erased": 1}
    after = await _call(hass, "voice_log", {})
    assert all(item["entries"] == [] for item in after["appliances"])


async def test_voice_log_actions_name_what_is_wrong(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """An unknown device, or a device without a voice panel, is the caller's error."""
    await start_appliance(ApplianceType.LAUNDRY_WASHER)
    with pytest.raises(ServiceValidationError) as unknown:
        await hass.services.async_call(
            DOMAIN, "erase_voice_log", {"device_id": "nope"}, blocking=True
        )
    assert unknown.value.translation_key == "unknown_device"
    other = dr.async_get(hass).async_get_or_create(
        config_entry_id=next(iter(hass.config_entries.async_entries(DOMAIN))).entry_id,
        identifiers={("other", "x")},
    )
    with pytest.raises(ServiceValidationError) as no_panel:
        await hass.services.async_call(
            DOMAIN, "voice_log", {"device_id": other.id}, blocking=True, return_response=True
        )
    assert no_panel.value.translation_key == "no_voice_panel"


async def test_options_offer_the_voice_log_for_a_panel(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """The appliance's options form has the voice log switch; saving it keeps the choice."""
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    result = await hass.config_entries.options.async_init(washer.entry.entry_id)
    schema = result["data_schema"]
    assert schema is not None
    assert CONF_VOICE_LOG in schema.schema
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"keepalive_interval": 20, "offline_repair_minutes": 30, CONF_VOICE_LOG: True},
    )
    await hass.async_block_till_done()
    assert washer.entry.options[CONF_VOICE_LOG] is True
    await wait_until(hass, lambda: washer.coordinator.connected)
    assert washer.entry.runtime_data.panel.log.enabled
