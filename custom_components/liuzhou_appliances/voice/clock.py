"""A clock time said in a sentence ("晚上十点", "明天早上七点半", "7 am", "10:30 pm") as a datetime.

The sentences fill ``hour`` (0-24), ``minute`` (0-59, "半" is 30), ``day_part``
(``night`` 凌晨, ``morning`` 早上/am, ``noon`` 中午, ``afternoon`` 下午/pm,
``evening`` 晚上/tonight) and ``day`` (``today``, ``tomorrow``); an LLM may
give ``time`` as "HH:MM" instead. Without a day the next time that clock
reading comes is meant; without a part of the day, an hour up to 12 is the
sooner of its morning and evening reading ("by 7" at 14:00 is 19:00).
"""

from __future__ import annotations

from datetime import datetime, timedelta
import re
from typing import Final

from .errors import VoiceError

DAY_PARTS: Final = ("night", "morning", "noon", "afternoon", "evening")
DAYS: Final = ("today", "tomorrow")
_HH_MM: Final = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*$")


def _hour_24(hour: int, day_part: str | None) -> int:
    """The 24-hour reading of ``hour`` in ``day_part`` (24 stays 24: midnight after the day)."""
    if day_part in {"afternoon", "evening"} and hour < 12:
        return hour + 12
    if day_part == "noon" and hour < 6:  # 中午一点 = 13:00
        return hour + 12
    if day_part in {"night", "morning"} and hour == 12:
        return 0
    return hour


def parse_time(text: str) -> tuple[int, int]:
    """ "22:00" / "7" -> (22, 0) / (7, 0); VoiceError("bad_time") otherwise."""
    match = _HH_MM.match(text)
    if match is None:
        raise VoiceError("bad_time", time=text)
    return int(match[1]), int(match[2] or 0)


def clock_target(
    now: datetime,
    *,
    hour: int,
    minute: int = 0,
    day_part: str | None = None,
    day: str | None = None,
) -> datetime:
    """The datetime the clock reading means, after ``now`` (same time zone as ``now``).

    Raises VoiceError("bad_time") for an hour above 24 or a minute above 59.
    """
    if not 0 <= hour <= 24 or not 0 <= minute <= 59:
        raise VoiceError("bad_time", time=f"{hour}:{minute:02d}")
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if day_part is None and day is None and 1 <= hour <= 12:
        readings = [hour % 12, hour % 12 + 12]
    else:
        readings = [_hour_24(hour, day_part)]
    if day == "tomorrow":
        first_day = 1
    elif day == "today":
        first_day = 0
    else:
        first_day = None
    choices = []
    for offset in (0, 1, 2) if first_day is None else (first_day,):
        for reading in readings:
            when = midnight + timedelta(days=offset, hours=reading, minutes=minute)
            if when > now or first_day is not None:
                choices.append(when)
    return min(choices)
