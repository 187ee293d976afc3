"""Numbers said in sentences: hassil range lists from declared bounds, and their slot values.

Chinese number words come from hassil's own range matching (unicode-rbnf's
"zh" rules: "二十", "两", "一千二"); what it does not know is built around it in
the sentences: the sign ("零下二十度": ``{lz_below_zero:sign}``) and a half
("二十六度半": ``{lz_half_unit:half}``), both in common.yaml. A domain's
``generated_lists`` builds its ranges with ``range_list`` from what its
appliances declare, so a value outside every declared range is not even heard
as a number, and ``said_number`` puts the parts back together.
"""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import Any

# hassil's number words for zh-cn come from unicode-rbnf's "zh" rules.
_WORDS_LANGUAGE = {"zh": "zh"}


def range_list(minimum: float, maximum: float, language: str) -> dict[str, Any]:
    """A hassil range list of the whole magnitudes a value between the bounds can have.

    The sign is said apart ("零下", "minus"), so -24..-16 becomes 16..24 and
    -5..5 becomes 0..5. Shape: ``{"range": {"from": 16, "to": 24, ...}}``.
    Raises ValueError when ``minimum > maximum``.
    """
    if minimum > maximum:
        raise ValueError(f"minimum {minimum} above maximum {maximum}")
    # Bounds on both sides of zero: any magnitude from 0 up can be said.
    low = 0 if minimum <= 0 <= maximum else math.floor(min(abs(minimum), abs(maximum)))
    high = math.ceil(max(abs(minimum), abs(maximum)))
    spec: dict[str, Any] = {"from": low, "to": high}
    if words := _WORDS_LANGUAGE.get(language.split("-")[0].lower()):
        spec["words_language"] = words
    return {"range": spec}


def said_number(
    slots: Mapping[str, Any], name: str, *, sign: str = "sign", half: str = "half"
) -> float | None:
    """The value of slot ``name`` with its ``sign`` (-1) and ``half`` (0.5) slots applied.

    ``{"degrees": 20, "sign": -1}`` -> -20.0; ``{"degrees": 26, "half": 0.5}`` -> 26.5;
    None when ``name`` was not said.
    """

    def value(slot: str) -> Any:
        entry = slots.get(slot)
        return entry.get("value") if isinstance(entry, Mapping) else entry

    magnitude = value(name)
    if magnitude is None:
        return None
    total = float(magnitude) + float(value(half) or 0)
    return -total if value(sign) in (-1, "-1") else total
