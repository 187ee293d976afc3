"""Spoken numbers, durations and clock times; said clock times as datetimes."""

from __future__ import annotations

from datetime import datetime

import pytest

from custom_components.liuzhou_appliances.energy.tariff import CHINA_TZ
from custom_components.liuzhou_appliances.voice.clock import clock_target, parse_time
from custom_components.liuzhou_appliances.voice.errors import VoiceError
from custom_components.liuzhou_appliances.voice.speech import (
    clock,
    duration,
    join_names,
    number,
    spoken_language,
    temperature,
    zh_number,
)

NOW = datetime(2026, 7, 15, 14, 0, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("tag", "language"),
    [("zh-cn", "zh"), ("zh-Hans", "zh"), ("zh-CN", "zh"), ("zh", "zh"), ("en", "en"), (None, "en")],
)
def test_spoken_language(tag: str | None, language: str) -> None:
    assert spoken_language(tag) == language


@pytest.mark.parametrize(
    ("value", "words"),
    [(42, "四十二"), (2, "两"), (20, "二十"), (0, "零"), (102, "一百零二"), (-20, "负二十")],
)
def test_chinese_numbers(value: int, words: str) -> None:
    assert zh_number(value) == words


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (-20, "零下二十度", "minus 20 °C"),
        (26.5, "二十六度半", "26.5 °C"),
        (2, "两度", "2 °C"),
        (-18.5, "零下十八度半", "minus 18.5 °C"),
        (4.2, "四点二度", "4.2 °C"),
    ],
)
def test_temperatures(value: float, zh: str, en: str) -> None:
    assert temperature(value, "zh") == zh
    assert temperature(value, "en") == en


def test_numbers_with_decimals() -> None:
    assert number(2.5, "zh") == "二点五"
    assert number(-0.5, "zh") == "负零点五"
    assert number(2.5, "en") == "2.5"


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (42 * 60, "四十二分钟", "42 minutes"),
        (7200, "两小时", "2 hours"),
        (6060, "一小时四十一分钟", "1 hour 41 minutes"),
        (60, "一分钟", "1 minute"),
        (20, "不到一分钟", "less than a minute"),
    ],
)
def test_durations(seconds: int, zh: str, en: str) -> None:
    assert duration(seconds, "zh") == zh
    assert duration(seconds, "en") == en


@pytest.mark.parametrize(
    ("when", "zh", "en"),
    [
        (datetime(2026, 7, 15, 22, 0), "晚上十点", "10 pm"),
        (datetime(2026, 7, 15, 19, 30), "晚上七点半", "7:30 pm"),
        (datetime(2026, 7, 16, 7, 5), "明天早上七点零五分", "tomorrow at 7:05 am"),
        (datetime(2026, 7, 16, 0, 20), "明天凌晨十二点二十分", "tomorrow at 12:20 am"),
        (datetime(2026, 7, 15, 12, 0), "中午十二点", "12 pm"),
    ],
)
def test_clock_times(when: datetime, zh: str, en: str) -> None:
    local = when.replace(tzinfo=CHINA_TZ)
    assert clock(local, "zh", now=NOW) == zh
    assert clock(local, "en", now=NOW) == en


def test_names_in_a_question_and_in_a_list() -> None:
    assert join_names(["A", "B", "C"], "zh", question=True) == "A、B还是C"
    assert join_names(["A", "B", "C"], "zh") == "A、B或C"
    assert join_names(["A", "B"], "en") == "A or B"
    assert join_names(["A"], "en") == "A"


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ({"hour": 10, "day_part": "evening"}, datetime(2026, 7, 15, 22, 0)),
        ({"hour": 7, "day_part": "morning"}, datetime(2026, 7, 16, 7, 0)),
        (
            {"hour": 7, "minute": 30, "day_part": "morning", "day": "tomorrow"},
            datetime(2026, 7, 16, 7, 30),
        ),
        # No part of the day: the sooner reading after now (19:00, not 07:00 tomorrow).
        ({"hour": 7}, datetime(2026, 7, 15, 19, 0)),
        ({"hour": 1, "day_part": "noon"}, datetime(2026, 7, 16, 13, 0)),
        ({"hour": 12, "day_part": "night"}, datetime(2026, 7, 16, 0, 0)),
        ({"hour": 16}, datetime(2026, 7, 15, 16, 0)),
        ({"hour": 9}, datetime(2026, 7, 15, 21, 0)),
    ],
)
def test_said_clock_times(said: dict[str, object], expected: datetime) -> None:
    assert clock_target(NOW, **said) == expected.replace(tzinfo=CHINA_TZ)  # type: ignore[arg-type]


def test_times_out_of_the_clock_are_refused() -> None:
    with pytest.raises(VoiceError):
        clock_target(NOW, hour=25)
    with pytest.raises(VoiceError):
        clock_target(NOW, hour=7, minute=60)
    with pytest.raises(VoiceError):
        parse_time("seven")
    assert parse_time("22:15") == (22, 15)
