"""A sentence said at an appliance's own voice panel means that appliance."""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant
import pytest

from custom_components.liuzhou_appliances.link.backend import PanelSpeech
from tests.integration.conftest import PairedAppliance, wait_until
from tests.integration.energy_helpers import at_valley_night

from .conftest import Home

pytestmark = at_valley_night


async def _hear(machine: PairedAppliance, text: str, language: str) -> PanelSpeech:
    panel = machine.appliance.panel
    assert panel is not None
    async with asyncio.timeout(10):
        return await panel.hear(text, language)


def _state(machine: PairedAppliance) -> str:
    state: str = machine.simulator.values()["operational_state"]
    return state


@pytest.mark.parametrize(("text", "language"), [("开始洗", "zh-CN"), ("start the wash", "en")])
async def test_start_said_at_the_dishwasher_starts_the_dishwasher(
    voice_hass: HomeAssistant, home: Home, text: str, language: str
) -> None:
    """Two machines could start; the panel that heard it decides which one does."""
    reply = await _hear(home.dishwasher, text, language)
    await wait_until(voice_hass, lambda: _state(home.dishwasher) == "running")
    assert _state(home.washer) == "stopped"
    assert reply.language == language
    named = "洗碗机" if language == "zh-CN" else "dishwasher"
    assert named in reply.text.lower(), reply.text


async def test_a_question_at_the_panel_is_answered_about_its_appliance(
    voice_hass: HomeAssistant, home: Home
) -> None:
    """'还要多久' at the washer's panel: the washer's remaining time, spoken in Chinese."""
    await _hear(home.washer, "开始洗", "zh-CN")
    await wait_until(voice_hass, lambda: _state(home.washer) == "running")
    reply = await _hear(home.washer, "还要多久", "zh-CN")
    assert "分钟" in reply.text, reply.text
    assert _state(home.dishwasher) == "stopped"
