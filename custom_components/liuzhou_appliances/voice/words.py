"""This integration's own translations, read in the language the user spoke.

Programme, phase and error names already exist in ``translations/<lang>.json``
for the entities; answers reuse them instead of keeping a second table.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from custom_components.liuzhou_appliances.const import DOMAIN

from .speech import Language

# Home Assistant's translation file for each spoken language.
_TRANSLATION_LANGUAGE: dict[Language, str] = {"en": "en", "zh": "zh-Hans"}


async def async_word(
    hass: HomeAssistant, language: Language, category: str, key: str, default: str
) -> str:
    """``component.<domain>.<category>.<key>`` in ``language``, else ``default``.

    Example: ``async_word(hass, "zh", "entity", "select.washer_programme.state.quick", "quick")``
    -> "快洗".
    """
    strings = await async_get_translations(
        hass, _TRANSLATION_LANGUAGE[language], category, {DOMAIN}
    )
    return strings.get(f"component.{DOMAIN}.{category}.{key}") or default


async def async_error_reason(hass: HomeAssistant, language: Language, code_name: str) -> str:
    """Why an appliance refused (an ``ErrorCode`` name): "not possible in its current state"."""
    lower = code_name.lower()
    return await async_word(
        hass, language, "selector", f"appliance_error.options.{lower}", lower.replace("_", " ")
    )
