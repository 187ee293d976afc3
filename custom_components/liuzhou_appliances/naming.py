"""Names a person would give: the appliance's type in the server's language.

Home Assistant translates entity and device names with the server language
(Settings → System → General), so new appliances and the household entry are
named in that language too: "Air conditioner" / "空调", with a number only when
the name is already taken ("Air conditioner 2"). Names are chosen once, when an
entry is created; existing entries and devices are never renamed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN
from .energy.tariff import TariffError
from .link.errors import ErrorCode
from .link.model import ApplianceType

# Where a translation is missing (it never is for en and zh-Hans).
_FALLBACK: Final[dict[ApplianceType, str]] = {
    ApplianceType.ROOM_AIR_CONDITIONER: "Air conditioner",
    ApplianceType.REFRIGERATOR: "Refrigerator",
    ApplianceType.LAUNDRY_WASHER: "Washing machine",
    ApplianceType.DISHWASHER: "Dishwasher",
}
_HOUSEHOLD_FALLBACK: Final = "Household energy"


async def async_type_name(hass: HomeAssistant, kind: ApplianceType) -> str:
    """The appliance type in the server's language: translations' ``device.<type>.name``."""
    strings = await async_get_translations(hass, hass.config.language, "device", {DOMAIN})
    return strings.get(f"component.{DOMAIN}.device.{kind}.name") or _FALLBACK[kind]


async def _selector_options(hass: HomeAssistant, selector: str) -> dict[str, str]:
    """A ``selector.<selector>.options`` table of the translations, in the server's language."""
    strings = await async_get_translations(hass, hass.config.language, "selector", {DOMAIN})
    prefix = f"component.{DOMAIN}.selector.{selector}.options."
    return {
        key.removeprefix(prefix): text for key, text in strings.items() if key.startswith(prefix)
    }


async def async_error_reason(hass: HomeAssistant, code: ErrorCode) -> str:
    """Why an appliance refused, in the server's language (``selector.appliance_error``).

    What an appliance says itself is in English; this is what a person reads.
    """
    options = await _selector_options(hass, "appliance_error")
    return options.get(code.name.lower()) or code.name


async def async_plan_issue_text(hass: HomeAssistant, codes: Iterable[str]) -> str:
    """Why a run cannot be planned, in the server's language (``selector.plan_issue``)."""
    options = await _selector_options(hass, "plan_issue")
    separator = "；" if hass.config.language.startswith("zh") else "; "
    return separator.join(options.get(str(code)) or str(code) for code in codes)


async def async_tariff_problem_text(hass: HomeAssistant, err: TariffError) -> str:
    """A mistake in a typed time-of-use table, in the server's language.

    The texts are ``selector.custom_table_problem`` templates filled with the
    error's language-neutral details; the English message where there is none.
    """
    options = await _selector_options(hass, "custom_table_problem")
    template = options.get(err.problem) if err.problem else None
    try:
        return template.format(**err.details) if template else str(err)
    except (KeyError, IndexError):
        return str(err)


async def async_tariff_name(hass: HomeAssistant, kind: str) -> str | None:
    """A tariff preset's name in the server's language (``selector.tariff.options``)."""
    return (await _selector_options(hass, "tariff")).get(kind)


async def async_household_title(hass: HomeAssistant) -> str:
    """The household energy entry's title: its set-up step's title, translated."""
    strings = await async_get_translations(hass, hass.config.language, "config", {DOMAIN})
    key = f"component.{DOMAIN}.config.step.household_energy.title"
    return strings.get(key) or _HOUSEHOLD_FALLBACK


def names_in_use(hass: HomeAssistant) -> set[str]:
    """Titles of this integration's entries and names of their devices (as the user sees them)."""
    used = {entry.title for entry in hass.config_entries.async_entries(DOMAIN)}
    registry = dr.async_get(hass)
    for entry in hass.config_entries.async_entries(DOMAIN):
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            used.update(name for name in (device.name_by_user, device.name) if name)
    return used


def first_free_name(base: str, used: set[str]) -> str:
    """``base`` when free, else ``base 2``, ``base 3``, … (case-insensitive)."""
    taken = {name.casefold() for name in used}
    if base.casefold() not in taken:
        return base
    number = 2
    while f"{base} {number}".casefold() in taken:
        number += 1
    return f"{base} {number}"


async def async_default_name(hass: HomeAssistant, kind: ApplianceType) -> str:
    """The name a new appliance of ``kind`` gets unless the user types another."""
    return first_free_name(await async_type_name(hass, kind), names_in_use(hass))
