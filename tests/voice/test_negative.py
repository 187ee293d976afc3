"""What cannot be done is said, and nothing happens: an unknown name, a time the run
cannot meet, an offline appliance, sentences mixing two languages."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
import pytest

from custom_components.liuzhou_appliances.link.model import ApplianceType
from tests.integration.conftest import StartAppliance, wait_until
from tests.integration.energy_helpers import add_household, at_valley_night

from .conftest import Converse, Home

pytestmark = at_valley_night


def _speech(response: intent.IntentResponse) -> str:
    speech: str = response.speech["plain"]["speech"]
    return speech


def _ours(response: intent.IntentResponse) -> bool:
    """Whether one of our intents answered."""
    return response.intent is not None and response.intent.intent_type.startswith("Liuzhou")


def _states(home: Home) -> tuple[str, str]:
    return (
        home.washer.simulator.values()["operational_state"],
        home.dishwasher.simulator.values()["operational_state"],
    )


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("start the Bosch washer", "en", "I can't find a washer named Bosch."),
        ("pause the Bosch dishwasher", "en", "I can't find a dishwasher named Bosch."),
        ("西门子洗衣机开始洗", "zh-cn", "找不到名叫西门子洗衣机的洗衣机或洗碗机。"),
        ("海尔暂停", "zh-cn", "找不到名叫海尔的洗衣机或洗碗机。"),
    ],
)
async def test_an_unknown_name_starts_nothing(
    voice_hass: HomeAssistant,
    home: Home,
    converse: Converse,
    text: str,
    language: str,
    expected: str,
) -> None:
    response = await converse(text, language)
    assert response.response_type is intent.IntentResponseType.ERROR
    assert expected in _speech(response)
    assert _states(home) == ("stopped", "stopped")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("start the 洗衣机", "en"),
        ("洗衣机 start", "zh-cn"),
        ("please 启动 the dishwasher", "en"),
        ("洗碗机 finish by 7 am", "zh-cn"),
    ],
)
async def test_mixed_language_input_does_nothing(
    voice_hass: HomeAssistant, home: Home, converse: Converse, text: str, language: str
) -> None:
    """None of our intents takes it (Home Assistant 2026 may guess one of its own)."""
    response = await converse(text, language)
    assert not _ours(response)
    assert _states(home) == ("stopped", "stopped")


async def test_a_bare_unknown_name_is_not_taken_for_an_appliance(
    voice_hass: HomeAssistant, home: Home, converse: Converse
) -> None:
    """Without a type word, "start X" may be anything (a mower in 2026): not ours."""
    response = await converse("start Heron", "en")
    assert response.response_type is intent.IntentResponseType.ERROR
    assert not _ours(response)
    assert _states(home) == ("stopped", "stopped")


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("洗衣机凌晨三点前洗完", "zh-cn", "洗衣机没法在凌晨三点前完成："),
        ("finish the laundry by 3 am", "en", "The washer can't be done by 3 am: "),
    ],
)
async def test_a_finish_time_too_soon_for_the_programme_is_refused(
    voice_hass: HomeAssistant,
    home: Home,
    converse: Converse,
    text: str,
    language: str,
    expected: str,
) -> None:
    """Now is 02:00; the washer's cotton programme takes almost two hours."""
    await add_household(voice_hass)
    response = await converse(text, language)
    assert response.response_type is intent.IntentResponseType.ERROR
    assert _speech(response).startswith(expected)
    assert _states(home) == ("stopped", "stopped")


async def test_finish_by_without_household_energy_says_what_to_set_up(
    voice_hass: HomeAssistant, home: Home, converse: Converse
) -> None:
    response = await converse("洗衣机早上七点前洗完", "zh-cn")
    assert _speech(response) == "请先设置家庭能源，然后才能预约洗衣机。"
    assert _states(home) == ("stopped", "stopped")


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("洗衣机开始洗", "zh-cn", "离线了，没法操作。请确认它已通电。"),
        ("start the washer", "en", " is offline, so I couldn't do that."),
    ],
)
async def test_an_offline_appliance_is_said_to_be_offline(
    voice_hass: HomeAssistant,
    start_appliance: StartAppliance,
    converse: Converse,
    text: str,
    language: str,
    expected: str,
) -> None:
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    await voice_hass.async_block_till_done()
    await washer.appliance.stop()
    await wait_until(voice_hass, lambda: not washer.coordinator.connected)
    response = await converse(text, language)
    assert response.response_type is intent.IntentResponseType.ERROR
    assert expected in _speech(response)
