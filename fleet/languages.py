"""The languages of the fleet commands' texts, and the integration's translations they reuse."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
import json
from pathlib import Path
from typing import Any, Final

LANGUAGES: Final = ("en", "zh-Hans")
TRANSLATIONS: Final = (
    Path(__file__).resolve().parent.parent
    / "custom_components"
    / "liuzhou_appliances"
    / "translations"
)


def pick[T](tables: Mapping[str, T], language: str) -> T:
    """``tables[language]``; ValueError naming the choices for a language not in LANGUAGES."""
    if language not in tables:
        raise ValueError(f"language {language!r}: one of {', '.join(LANGUAGES)}")
    return tables[language]


@cache
def integration_strings(language: str) -> dict[str, Any]:
    """translations/<language>.json of the integration; {} if it cannot be read."""
    try:
        strings = json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return strings if isinstance(strings, dict) else {}
