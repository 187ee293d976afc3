"""Home Assistant's own intents still answer with our sentences installed."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from .conftest import Converse, Home


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
