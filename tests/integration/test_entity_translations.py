"""Every entity name, state and icon the descriptions use is translated, in both languages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.translation import async_get_translations
import pytest

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.descriptions import (
    REMAINING_ENERGY,
    LiuzhouSensorEntityDescription,
    all_descriptions,
)
from custom_components.liuzhou_appliances.energy_entities import (
    ENERGY_SELECTS,
    ENERGY_SENSORS,
    ENERGY_SWITCHES,
    all_energy_descriptions,
)
from custom_components.liuzhou_appliances.household import (
    HOUSEHOLD_SENSORS,
    all_household_descriptions,
)
from custom_components.liuzhou_appliances.link.model import APPLIANCE_TYPES
from custom_components.liuzhou_appliances.room_energy_sensors import (
    GROUP_SENSORS,
    all_group_descriptions,
)
from custom_components.liuzhou_appliances.room_occupancy import ROOM_STATES

INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN
LANGUAGES = ("en", "zh-Hans")


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((INTEGRATION / name).read_text(encoding="utf-8"))
    return data


def _expected_entities() -> dict[tuple[str, str], set[str]]:
    """(platform, translation_key) -> the states it must translate."""
    expected: dict[tuple[str, str], set[str]] = {}
    for platform, appliance_type, description in all_descriptions():
        translation_key = getattr(description, "translation_key", None)
        assert translation_key, f"{platform} {description.key} has no translation_key"
        states: set[str] = set()
        is_enum_sensor = (
            isinstance(description, LiuzhouSensorEntityDescription)
            and description.device_class == "enum"
        )
        if platform == "select" or is_enum_sensor:
            # Every option the data model allows: any model may declare any of them.
            attribute = APPLIANCE_TYPES[appliance_type].attribute(description.key)
            states = set(attribute.options)
            assert states, f"{description.key} has no options"
        expected.setdefault((platform, translation_key), set()).update(states)
    for platform, translation_key, energy_states in (
        *all_energy_descriptions(),
        *all_household_descriptions(),
        *all_group_descriptions(),
    ):
        expected.setdefault((platform, translation_key), set()).update(energy_states)
    # A BLE appliance's signal strength (bluetooth_sensor.py).
    expected[("sensor", "bluetooth_signal")] = set()
    # An appliance's voice panel (notify.py).
    expected[("notify", "voice_panel")] = set()
    # A washer's or dishwasher's predicted remaining energy (sensor.py, wet_cycle_runtime.py).
    expected[("sensor", str(REMAINING_ENERGY.translation_key))] = set()
    # A room's occupancy on the household's room device (room_select.py).
    expected[("select", "room_occupancy")] = set(ROOM_STATES)
    return expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translation_key_and_state_is_translated(language: str) -> None:
    """Names for every key, a translation for every enum option, and nothing stale."""
    entity = _load(f"translations/{language}.json")["entity"]
    expected = _expected_entities()
    for (platform, translation_key), states in expected.items():
        translation = entity.get(platform, {}).get(translation_key)
        assert translation is not None, f"{language}: no {platform}.{translation_key}"
        assert translation["name"].strip(), f"{language}: empty name for {translation_key}"
        if states:
            translated = translation.get("state", {})
            assert set(translated) == states, (
                f"{language}: {platform}.{translation_key} states differ: "
                f"missing {states - set(translated)}, extra {set(translated) - states}"
            )
            assert all(text.strip() for text in translated.values())
        elif "state" in translation:
            # Binary sensors may name their two states.
            assert platform == "binary_sensor", translation_key
            assert set(translation["state"]) == {"on", "off"}, translation_key
    present = {(platform, key) for platform, keys in entity.items() for key in keys}
    assert present == set(expected), f"{language}: stale entries {present - set(expected)}"


def test_languages_translate_the_same_things() -> None:
    """English and Chinese have the same entity keys, states and attribute names."""

    def shape(node: object) -> object:
        if isinstance(node, dict):
            return {key: shape(value) for key, value in node.items()}
        return None

    english = _load("translations/en.json")["entity"]
    chinese = _load("translations/zh-Hans.json")["entity"]
    assert shape(english) == shape(chinese)
    # The Chinese text is Chinese, not a copied English string.
    names = [
        (english[platform][key]["name"], chinese[platform][key]["name"])
        for platform in english
        for key in english[platform]
    ]
    assert all(en != zh for en, zh in names)


def test_icons_match_translations() -> None:
    """Every icon belongs to a translated entity, and state icons to real states."""
    icons = _load("icons.json")["entity"]
    expected = _expected_entities()
    for platform, keys in icons.items():
        for translation_key, icon in keys.items():
            assert (platform, translation_key) in expected, f"icon for unknown {translation_key}"
            assert icon["default"].startswith("mdi:")
            states = expected[(platform, translation_key)] or {"on", "off"}
            assert set(icon.get("state", {})) <= states, translation_key
            assert all(value.startswith("mdi:") for value in icon.get("state", {}).values())


def test_no_entity_is_left_with_the_generic_icon() -> None:
    """Switches, selects, and sensors whose device class brings no icon (none, enum) have one.

    Without it the frontend shows the same stand-in for all of them: an eye for such a
    sensor, a bare toggle for a switch, a list for a select.
    """
    icons = _load("icons.json")["entity"]
    described: list[tuple[str, EntityDescription]] = []
    for platform, _, description in all_descriptions():
        assert isinstance(description, EntityDescription)
        described.append((platform, description))
    described += [("switch", description) for description in ENERGY_SWITCHES]
    described += [("select", description) for description in ENERGY_SELECTS]
    described += [
        ("sensor", description)
        for description in (*ENERGY_SENSORS, *HOUSEHOLD_SENSORS, *GROUP_SENSORS)
    ]
    missing = sorted(
        {
            f"{platform}.{description.translation_key}"
            for platform, description in described
            if (
                platform in ("switch", "select")
                or (platform == "sensor" and description.device_class in (None, "enum"))
            )
            and description.icon is None
            and str(description.translation_key) not in icons.get(platform, {})
        }
    )
    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.usefixtures("enable_custom_integrations")
async def test_home_assistant_loads_the_entity_translations(
    hass: HomeAssistant, language: str
) -> None:
    """Home Assistant's own loader finds the names and states (so the UI shows them)."""
    loaded = await async_get_translations(hass, language, "entity", [DOMAIN])
    prefix = f"component.{DOMAIN}.entity"
    english = _load("translations/en.json")["entity"]
    local = _load(f"translations/{language}.json")["entity"]
    assert (
        loaded[f"{prefix}.sensor.operational_state.state.running"]
        == (local["sensor"]["operational_state"]["state"]["running"])
    )
    assert (
        loaded[f"{prefix}.select.spin_speed.state.0"] == local["select"]["spin_speed"]["state"]["0"]
    )
    assert len([key for key in loaded if key.startswith(prefix)]) == sum(
        1 for _ in _leaves(english)
    )


def _leaves(node: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for value in node.values():
        if isinstance(value, dict):
            out.extend(_leaves(value))
        else:
            out.append(value)
    return out
