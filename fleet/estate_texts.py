"""Head office's report texts in English (the default) and Simplified Chinese.

``texts(language)`` gives the templates fleet.estate_report's text output is
made of; ``state_name(state, language)`` an appliance's state as a person
reads it (the integration's own translations for a washer's or dishwasher's
operational state, this table for the rest; the state itself where neither
has it). fleet.languages lists what ``--language`` takes.
"""

from __future__ import annotations

from functools import cache
from typing import Final

from .languages import integration_strings, pick

# The report's lines. Fields: estate, count, name, hub, appliances, energy, cost,
# states, floor, room, faults.
_TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "estate": "Estate {estate}: {count} buildings",
        "building": "{name}: hub {hub}, {appliances} appliances, {energy:.3f} kWh, {cost:.2f} CNY",
        "by_state": "  by state: {states}",
        "floor": "  floor {floor}: {appliances} appliances, {energy:.3f} kWh, {cost:.2f} CNY",
        "no_floor": "(none)",
        "fault": "  fault: {name} ({room}): {faults}",
        "no_room": "no room",
        "skipped": "{count} messages skipped (not in the documented format)",
        "list": ", ",
    },
    "zh-Hans": {
        "estate": "园区 {estate}：共 {count} 栋楼",
        "building": "{name}：中枢{hub}，{appliances} 台电器，{energy:.3f} kWh，{cost:.2f} 元",
        "by_state": "  按状态：{states}",
        "floor": "  楼层 {floor}：{appliances} 台电器，{energy:.3f} kWh，{cost:.2f} 元",
        "no_floor": "（无）",
        "fault": "  故障：{name}（{room}）：{faults}",
        "no_room": "无房间",
        "skipped": "跳过 {count} 条消息（不符合文档规定的格式）",
        "list": "，",
    },
}

# A hub's status and the states the integration's translations do not name.
_STATES: Final[dict[str, dict[str, str]]] = {
    "en": {},
    "zh-Hans": {
        "online": "在线",
        "offline": "离线",
        "unknown": "未知",
        "on": "开",
        "off": "关",
        "running": "运行中",
        "cool": "制冷",
        "heat": "制热",
        "dry": "除湿",
        "fan_only": "送风",
        "auto": "自动",
        "heat_cool": "制冷/制热",
    },
}


def texts(language: str) -> dict[str, str]:
    """The report's templates in ``language``; ValueError for one not in LANGUAGES."""
    return pick(_TEXTS, language)


def state_name(state: str, language: str) -> str:
    """``state`` (a hub's status or an appliance's state) in ``language``, else as it is."""
    return _operational_states(language).get(state) or _STATES.get(language, {}).get(state, state)


@cache
def _operational_states(language: str) -> dict[str, str]:
    """The integration's names of a washer's or dishwasher's operational states."""
    try:
        strings = integration_strings(language)
        names: dict[str, str] = strings["entity"]["sensor"]["operational_state"]["state"]
    except (KeyError, TypeError):
        return {}
    return names if language != "en" else {}
