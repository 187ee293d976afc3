"""Spoken answers in English and Chinese: responses tables, numbers, durations, clock times.

Chinese numbers are spoken as a person says them ("四十二", "两小时", "零下二十度",
"二十六度半"), through unicode-rbnf's Chinese spell-out rules (the library hassil
already uses for number words); English keeps digits ("42 minutes", "10 pm"),
which text-to-speech reads well.

A domain keeps its answers in a ``Responses`` table: ``{"en": {key: template},
"zh": {key: template}}``; templates are ``str.format`` strings whose placeholders
the caller fills with already spoken values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Final, Literal

from unicode_rbnf import RbnfEngine

type Language = Literal["en", "zh"]
type Responses = Mapping[Language, Mapping[str, str]]

# "两" for a lone 2 and before a unit ("两小时", "两百"), as people say it.
_ZH_RULESET: Final = "spellout-cardinal-alternate2"


def spoken_language(language: str | None) -> Language:
    """``zh`` for any Chinese tag (zh-cn, zh-Hans, zh-CN, zh), else ``en``."""
    return "zh" if (language or "").lower().startswith("zh") else "en"


@cache
def _zh_engine() -> RbnfEngine:
    return RbnfEngine.for_language("zh")


def zh_number(value: int) -> str:
    """A whole number in Chinese words: 42 -> "四十二", 2 -> "两", -20 -> "负二十"."""
    result = _zh_engine().format_number(value, ruleset_names=[_ZH_RULESET])
    return str(result.text)


def zh_digit_number(value: int) -> str:
    """A number as read inside a larger number (minutes of a clock time): 2 -> "二"."""
    return str(_zh_engine().format_number(value).text_by_ruleset["spellout-cardinal"])


def number(value: float, language: Language) -> str:
    """``value`` spoken: whole numbers as words in Chinese; halves as "半" only for units.

    Shapes: 42 -> "四十二" / "42"; 2.5 -> "二点五" / "2.5"; -20 -> "负二十" / "-20".
    """
    if float(value).is_integer():
        whole = int(value)
        return zh_number(whole) if language == "zh" else str(whole)
    text = f"{value:g}"
    if language == "en":
        return text
    whole_text, _, decimals = text.lstrip("-").partition(".")
    words = (
        zh_number(int(whole_text)).replace("两", "二")
        + "点"
        + "".join(zh_digit_number(int(digit)) for digit in decimals)
    )
    return ("负" if value < 0 else "") + words


def temperature(value: float, language: Language) -> str:
    """A temperature in degrees Celsius: "零下二十度", "二十六度半" / "minus 20 °C", "26.5 °C"."""
    if language == "en":
        sign = "minus " if value < 0 else ""
        return f"{sign}{abs(value):g} °C"
    magnitude = abs(value)
    whole = int(magnitude)
    fraction = round(magnitude - whole, 2)
    prefix = "零下" if value < 0 else ""
    if fraction == 0:
        return f"{prefix}{zh_number(whole)}度"
    if fraction == 0.5:
        return f"{prefix}{zh_number(whole)}度半"
    return f"{prefix}{number(magnitude, 'zh')}度"


def duration(seconds: float, language: Language) -> str:
    """A duration rounded to whole minutes: "一小时二十分钟", "四十二分钟" / "1 hour 20 minutes".

    Under a minute: "不到一分钟" / "less than a minute".
    """
    minutes_total = round(seconds / 60)
    if minutes_total <= 0:
        return "不到一分钟" if language == "zh" else "less than a minute"
    hours, minutes = divmod(minutes_total, 60)
    if language == "zh":
        parts = []
        if hours:
            parts.append(f"{zh_number(hours)}小时")
        if minutes:
            parts.append(f"{zh_number(minutes)}分钟")
        return "".join(parts)
    en_parts = []
    if hours:
        en_parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        en_parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(en_parts)


def _zh_day_part(hour: int) -> str:
    if hour < 5:
        return "凌晨"
    if hour < 9:
        return "早上"
    if hour < 12:
        return "上午"
    if hour < 13:
        return "中午"
    if hour < 18:
        return "下午"
    return "晚上"


def clock(when: datetime, language: Language, *, now: datetime) -> str:
    """A local clock time as said aloud, with the day when it is not today.

    ``when`` and ``now`` in the same time zone. "晚上十点", "早上七点半", "明天凌晨一点零五分" /
    "10 pm", "7:30 am", "tomorrow at 1:05 am".
    """
    days = (when.date() - now.date()).days
    if language == "zh":
        hour12 = when.hour % 12 or 12
        if when.minute == 0:
            minute = ""
        elif when.minute == 30:
            minute = "半"
        elif when.minute < 10:
            minute = f"零{zh_digit_number(when.minute)}分"
        else:
            minute = f"{zh_digit_number(when.minute)}分"
        day = {0: "", 1: "明天", 2: "后天"}.get(days, f"{when.month}月{when.day}日")
        return f"{day}{_zh_day_part(when.hour)}{zh_number(hour12)}点{minute}"
    hour12 = when.hour % 12 or 12
    suffix = "am" if when.hour < 12 else "pm"
    time_text = f"{hour12} {suffix}" if when.minute == 0 else f"{hour12}:{when.minute:02d} {suffix}"
    if days == 0:
        return time_text
    if days == 1:
        return f"tomorrow at {time_text}"
    return f"{when:%A} at {time_text}"


def say(responses: Responses, language: Language, key: str, **values: object) -> str:
    """The ``key`` answer of ``responses`` in ``language``, filled with ``values``.

    Raises KeyError for a key the table lacks (a programming error, caught by tests).
    """
    return responses[language][key].format(**values)


def join_names(names: list[str], language: Language, *, question: bool = False) -> str:
    """Names as a spoken list: "A, B or C" / "A、B或C" ("A、B还是C" in a question)."""
    if len(names) <= 1:
        return "".join(names)
    if language == "zh":
        return "、".join(names[:-1]) + ("还是" if question else "或") + names[-1]
    return ", ".join(names[:-1]) + " or " + names[-1]


def kwh(value: float, language: Language) -> str:
    """Energy to one decimal: "一点二度电" (度 is the spoken kWh) / "1.2 kWh".

    Shapes: 0 -> "零度电" / "0 kWh"; under 0.05 but used -> "不到零点一度电" /
    "less than 0.1 kWh".
    """
    rounded = round(value, 1)
    if rounded == 0 and value > 0:
        return "不到零点一度电" if language == "zh" else "less than 0.1 kWh"
    if language == "zh":
        return f"{number(rounded, 'zh')}度电"
    return f"{rounded:g} kWh"


def money(value: float, language: Language) -> str:
    """An amount in yuan as said in shops: "七毛钱", "一块二毛钱", "三块钱" / "0.70 yuan".

    Chinese rounds to the 毛 (0.1 yuan); under half a 毛 -> "不到一毛钱". Negative
    amounts are said by the caller (a saving that cost more).
    """
    if language == "en":
        return f"{value:.2f} yuan"
    mao_total = round(abs(value) * 10)
    if mao_total == 0:
        return "不到一毛钱"
    yuan, mao = divmod(mao_total, 10)
    if yuan == 0:
        return f"{zh_number(mao)}毛钱"
    if mao == 0:
        return f"{zh_number(yuan)}块钱"
    return f"{zh_number(yuan)}块{zh_digit_number(mao)}毛钱"
