"""The energy corpus through the default agent, with the recorder holding the appliances'
energy statistics (what the Energy dashboard reads).

Statistics are imported for the air conditioner and the fridge: hourly rows of their
energy sensors before and during the frozen "now" (02:00 China time, a Wednesday).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.recorder.core import Recorder
from homeassistant.components.recorder.models import StatisticMetaData
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from tests.integration.energy_helpers import VALLEY_NIGHT, add_household, at_valley_night
from tests.integration.platform_helpers import entity_id

from .conftest import Converse, Home, Timing
from .corpus_runner import LANGUAGES
from .test_corpus import RECORDER_DOMAINS, check_corpus

pytestmark = at_valley_night


@pytest.fixture(autouse=True)
def _custom_integration_and_loopback(
    recorder_mock: Recorder, _custom_integration_and_loopback: None
) -> None:
    """The integration tests' fixture of this name, after the test recorder (which must come
    first)."""


def _metadata(statistic_id: str) -> StatisticMetaData:
    """An energy meter's metadata on every supported release (2025.6 adds the mean type,
    2025.11 the unit class)."""
    fields = StatisticMetaData.__annotations__
    metadata: dict[str, Any] = {
        "has_sum": True,
        "name": None,
        "source": "recorder",
        "statistic_id": statistic_id,
        "unit_of_measurement": "kWh",
    }
    if "mean_type" in fields:
        from homeassistant.components.recorder.models import (
            StatisticMeanType,  # type: ignore[attr-defined,unused-ignore]
        )

        metadata["mean_type"] = StatisticMeanType.NONE
    else:
        metadata["has_mean"] = False
    if "unit_class" in fields:
        metadata["unit_class"] = "energy"
    return metadata  # type: ignore[return-value]


def _rows(sums: list[tuple[datetime, float]]) -> list[Any]:
    return [{"start": dt_util.as_utc(start), "sum": total, "state": total} for start, total in sums]


# Meter readings at the start of each hour (kWh): the AC used 2.0 kWh on Monday and
# 0.5 + 0.7 kWh since midnight; the fridge 1.0 kWh on Monday and 0.1 + 0.1 kWh today.
MIDNIGHT = VALLEY_NIGHT.replace(hour=0)
MONDAY = MIDNIGHT - timedelta(days=2)
AC_SUMS = [
    (MONDAY - timedelta(hours=1), 100.0),
    (MONDAY + timedelta(hours=20), 102.0),
    (MIDNIGHT - timedelta(hours=1), 102.0),
    (MIDNIGHT, 102.5),
    (MIDNIGHT + timedelta(hours=1), 103.2),
]
FRIDGE_SUMS = [
    (MONDAY - timedelta(hours=1), 50.0),
    (MONDAY + timedelta(hours=20), 51.0),
    (MIDNIGHT - timedelta(hours=1), 51.0),
    (MIDNIGHT, 51.1),
    (MIDNIGHT + timedelta(hours=1), 51.2),
]


async def _import(hass: HomeAssistant, home: Home) -> None:
    for machine, sums in ((home.ac, AC_SUMS), (home.fridge, FRIDGE_SUMS)):
        statistic_id = entity_id(hass, "sensor", machine.appliance.id, "energy")
        async_import_statistics(hass, _metadata(statistic_id), _rows(sums))
    await async_wait_recording_done(hass)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_energy_corpus(
    voice_hass: HomeAssistant, home: Home, converse: Converse, timing: Timing, language: str
) -> None:
    await add_household(voice_hass)
    await _import(voice_hass, home)
    await check_corpus(
        voice_hass, home, converse, timing, language, lambda domain: domain in RECORDER_DOMAINS
    )


@pytest.mark.parametrize(
    ("language", "sentence", "answer", "error"),
    [
        ("en", "is electricity expensive now", "Household energy is not set up", True),
        ("zh-cn", "现在电价贵吗", "还没有设置家庭能源", True),
        ("en", "start demand response", "Household energy is not set up", True),
        ("zh-cn", "开始需求响应", "还没有设置家庭能源", True),
        (
            "en",
            "what did the AC cost today",
            "The air conditioner used 1.2 kWh today. Set up",
            False,
        ),
        ("zh-cn", "空调今天花了多少钱", "空调今天用了一点二度电。设置家庭能源后", False),
    ],
)
async def test_without_household_energy_the_answer_says_so(
    voice_hass: HomeAssistant,
    home: Home,
    converse: Converse,
    language: str,
    sentence: str,
    answer: str,
    error: bool,
) -> None:
    await _import(voice_hass, home)
    response = await converse(sentence, language)
    assert response.speech["plain"]["speech"].startswith(answer)
    assert (response.response_type is intent.IntentResponseType.ERROR) is error


@pytest.mark.parametrize(
    ("language", "sentence", "total", "answer"),
    [
        ("zh-cn", "空调省了多少钱", 1.23, "到目前为止，节能优化为空调省了一块二毛钱。"),
        (
            "en",
            "how much did the AC save",
            1.23,
            "Energy optimisation has saved 1.23 yuan on the air conditioner so far.",
        ),
        ("zh-cn", "空调省了多少钱", -0.5, "到目前为止，节能优化让空调多花了五毛钱。"),
        (
            "en",
            "how much have we saved so far",
            0.4,
            "Energy optimisation has saved 0.40 yuan on your appliances so far.",
        ),
    ],
)
async def test_savings_are_the_savings_totals(
    voice_hass: HomeAssistant,
    home: Home,
    converse: Converse,
    language: str,
    sentence: str,
    total: float,
    answer: str,
) -> None:
    await add_household(voice_hass)
    home.ac.entry.runtime_data.energy.savings.total = total
    response = await converse(sentence, language)
    assert response.speech["plain"]["speech"] == answer
