"""Numbers said in sentences: ranges from declared bounds, Chinese number words,
"零下" and "半", through hassil as Assist uses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hassil.intents import Intents
from hassil.recognize import recognize
import pytest
import yaml

from custom_components.liuzhou_appliances.voice.install import SHIPPED
from custom_components.liuzhou_appliances.voice.numbers import range_list, said_number

_SENTENCES = {
    "zh-cn": (
        "[把]冷冻室(调到|设为)[{lz_below_zero:sign}]{lz_freezer:degrees}度[{lz_half_unit:half}]"
    ),
    "en": (
        "set the freezer to [{lz_below_zero:sign}] {lz_freezer:degrees} "
        "[{lz_half_unit:half}] degrees"
    ),
}


def _intents(language: str, minimum: float, maximum: float) -> Intents:
    common: dict[str, Any] = yaml.safe_load(
        Path(SHIPPED / language / "common.yaml").read_text(encoding="utf-8")
    )
    common["lists"]["lz_freezer"] = range_list(minimum, maximum, language)
    common["intents"] = {"SetFreezer": {"data": [{"sentences": [_SENTENCES[language]]}]}}
    return Intents.from_dict(common)


def _said(language: str, text: str, minimum: float = -24, maximum: float = -16) -> float | None:
    result = recognize(text, _intents(language, minimum, maximum), language=language)
    if result is None:
        return None
    slots = {name: {"value": entity.value} for name, entity in result.entities.items()}
    return said_number(slots, "degrees")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("冷冻室调到零下二十度", -20),
        ("把冷冻室设为负十八度", -18),
        ("冷冻室调到零下十八度半", -18.5),
        ("冷冻室调到零下20度", -20),
        ("冷冻室调到零下二十四度", -24),
    ],
)
def test_chinese_numbers_below_zero_and_halves(text: str, value: float) -> None:
    assert _said("zh-cn", text) == value


def test_chinese_two_is_heard_as_liang_too() -> None:
    assert _said("zh-cn", "冷冻室调到两度", 0, 8) == 2
    assert _said("zh-cn", "冷冻室调到二十六度半", 16, 30) == 26.5


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("set the freezer to minus 20 degrees", -20),
        ("set the freezer to minus eighteen and a half degrees", -18.5),
    ],
)
def test_english_numbers(text: str, value: float) -> None:
    assert _said("en", text) == value


def test_a_number_outside_the_declared_bounds_is_not_heard() -> None:
    assert _said("zh-cn", "冷冻室调到零下三十度") is None
    assert _said("en", "set the freezer to minus 40 degrees") is None


def test_range_of_magnitudes() -> None:
    assert range_list(-24, -16, "zh-cn") == {
        "range": {"from": 16, "to": 24, "words_language": "zh"}
    }
    assert range_list(-5, 5, "en") == {"range": {"from": 0, "to": 5}}
    assert range_list(16.5, 30, "en") == {"range": {"from": 16, "to": 30}}
    with pytest.raises(ValueError, match="above maximum"):
        range_list(3, 2, "en")


def test_a_number_not_said_is_none() -> None:
    assert said_number({}, "degrees") is None
