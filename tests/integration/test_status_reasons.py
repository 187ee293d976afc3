"""The energy status's reasons are translation keys, translated in both languages.

The status sensor's ``reason`` attribute lists codes (what is wrong or what is
shed, and why); Home Assistant's frontend shows each one in the user's language
from ``entity.sensor.energy_status.state_attributes.reason.state``. The details
(numbers, entity ids) go to the log.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations
import pytest

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.energy.ac import (
    DEFAULT_HUMIDITY_PCT,
    DEFAULT_OUTDOOR_LOAD_K,
)
from custom_components.liuzhou_appliances.energy.inputs import Issue
from custom_components.liuzhou_appliances.energy.shedding import GRID_EVENT, POWER_LIMIT, ShedStep
from custom_components.liuzhou_appliances.energy_runtime import (
    REASONS,
    UNEXPECTED_REASON,
    reason_codes,
)

PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN
LANGUAGES = ("en", "zh-Hans")


def _reason_translations(language: str) -> dict[str, Any]:
    tree = json.loads((PACKAGE / "translations" / f"{language}.json").read_text("utf-8"))
    attributes: dict[str, Any] = tree["entity"]["sensor"]["energy_status"]["state_attributes"]
    return attributes


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reason_is_translated_and_nothing_else(language: str) -> None:
    attributes = _reason_translations(language)
    assert attributes["reason"]["name"].strip()
    assert attributes["decision_ms"]["name"].strip()
    texts = attributes["reason"]["state"]
    assert set(texts) == REASONS
    assert all(text.strip() for text in texts.values())
    if language == "zh-Hans":
        han = re.compile(r"[\u4e00-\u9fff]")
        assert [code for code, text in texts.items() if not han.search(text)] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_defaults_named_in_the_reasons_are_the_controllers(language: str) -> None:
    texts = _reason_translations(language)["reason"]["state"]
    assert f"{DEFAULT_HUMIDITY_PCT:.0f}" in texts["no_humidity_sensor"]
    assert f"{DEFAULT_OUTDOOR_LOAD_K:.0f} K" in texts["no_outdoor_sensor"]


def test_every_issue_the_controllers_raise_has_a_reason() -> None:
    """Codes written in the controllers' source, and those fresh_value() makes from input names."""
    codes: set[str] = set()
    for name in ("ac.py", "fridge.py"):
        source = (PACKAGE / "energy" / name).read_text("utf-8")
        codes |= set(re.findall(r'Issue\(\s*"(\w+)"', source))
        for reading in re.findall(r'fresh_value\([^)]*"(\w+)"\s*,?\s*\)', source, re.S):
            codes |= {f"{reading}_{problem}" for problem in ("missing", "invalid", "stale")}
    assert {"room_temperature_stale", "freezer_temperature_missing", "price_unavailable"} <= codes
    codes.discard("input_clipped")  # a value kept in range: not a reason
    assert codes <= REASONS, codes - REASONS
    assert {f"shed_{step.name.lower()}" for step in ShedStep} | {POWER_LIMIT, GRID_EVENT} <= REASONS


def test_an_unknown_issue_is_unexpected_and_reasons_are_listed_once() -> None:
    issues = [
        Issue("humidity_stale", "humidity is 70 min old"),
        Issue("something_new", "?"),
        Issue("humidity_stale", "again"),
    ]
    assert reason_codes(issues) == ("humidity_stale", UNEXPECTED_REASON)


async def test_home_assistant_serves_them_to_the_frontend(hass: HomeAssistant) -> None:
    key = f"component.{DOMAIN}.entity.sensor.energy_status.state_attributes.reason.state"
    chinese = await async_get_translations(hass, "zh-Hans", "entity", {DOMAIN})
    assert chinese[f"{key}.no_occupancy_entity"] == "未设置有人/在家状态：房间按有人处理"
    english = await async_get_translations(hass, "en", "entity", {DOMAIN})
    assert english[f"{key}.grid_event"] == "Grid demand-response event"
