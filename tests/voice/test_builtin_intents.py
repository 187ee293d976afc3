"""Home Assistant's own intents still answer with our sentences installed."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, intent
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from tests.integration.conftest import wait_until

from .conftest import Converse, Home, device_of


@pytest.mark.parametrize(
    ("text", "language"),
    [("turn off the kitchen light", "en"), ("关闭厨房灯", "zh-cn"), ("把厨房灯关掉", "zh-cn")],
)
async def test_turning_off_a_light_still_works(
    voice_hass: HomeAssistant, home: Home, converse: Converse, text: str, language: str
) -> None:
    hass = voice_hass
    hass.states.async_set("light.kitchen_light", "on", {"friendly_name": "Kitchen light"})
    hass.states.async_set("light.kitchen_lamp", "on", {"friendly_name": "厨房灯"})
    calls = async_mock_service(hass, "light", "turn_off")
    response = await converse(text, language)
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert response.intent is not None
    assert response.intent.intent_type == intent.INTENT_TURN_OFF
    assert len(calls) == 1
    assert home.washer.simulator.values()["operational_state"] == "stopped"


@pytest.mark.parametrize(
    ("name", "text", "language"),
    [
        ("Air conditioner", "turn on the air conditioner", "en"),
        ("空调", "打开空调", "zh-cn"),
    ],
)
async def test_turning_on_our_air_conditioner_by_name_stays_home_assistants(
    voice_hass: HomeAssistant, home: Home, converse: Converse, name: str, text: str, language: str
) -> None:
    """Our names are in our lists too; "turn on <the AC's name>" must not become a run start."""
    hass = voice_hass
    await hass.services.async_call(
        "climate", "turn_off", {"entity_id": _climate(hass)}, blocking=True
    )
    dr.async_get(hass).async_update_device(device_of(hass, home.ac).id, name_by_user=name)
    await hass.async_block_till_done()
    response = await converse(text, language)
    assert response.intent is not None
    assert response.intent.intent_type == intent.INTENT_TURN_ON, response.speech
    await wait_until(hass, lambda: home.ac.simulator.values()["on"] is True)


def _climate(hass: HomeAssistant) -> str:
    [state] = hass.states.async_all("climate")
    return state.entity_id
