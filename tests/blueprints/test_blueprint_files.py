"""Every blueprint loads with Home Assistant's blueprint machinery and yields valid automations."""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

from homeassistant.components.automation.config import (
    AUTOMATION_BLUEPRINT_SCHEMA,
    ValidationStatus,
    async_validate_config_item,
)
from homeassistant.components.blueprint import models
from homeassistant.components.blueprint.errors import InvalidBlueprint, MissingInput
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector
from homeassistant.util.yaml import Input, load_yaml_dict
import pytest
import voluptuous as vol

from .conftest import BLUEPRINT_FILES

EXPECTED = {
    "laundry_done",
    "dishwasher_done",
    "fridge_door_open",
    "cheap_hour_dishwasher",
    "pre_cooling",
    "load_shedding",
    "hotel_room",
}

# The inputs without a default, filled as a user would in the import dialog.
REQUIRED_INPUTS: dict[str, dict[str, Any]] = {
    "laundry_done": {"washer_status": "sensor.washer_status"},
    "dishwasher_done": {"dishwasher_status": "sensor.dishwasher_status"},
    "fridge_door_open": {"door_sensors": ["binary_sensor.fridge_door"]},
    "cheap_hour_dishwasher": {
        "loaded_toggle": "input_boolean.dishwasher_loaded",
        "dishwasher_status": "sensor.dishwasher_status",
        "start_button": "button.dishwasher_start",
    },
    "pre_cooling": {"air_conditioners": ["climate.living_room"]},
    "load_shedding": {"power_sensor": "sensor.home_power"},
    "hotel_room": {
        "occupancy_sensor": "binary_sensor.room_801_key_card",
        "air_conditioners": ["climate.room_801"],
    },
}

# Every optional input set too, to values other than the defaults.
ALL_INPUTS: dict[str, dict[str, Any]] = {
    "laundry_done": {
        **REQUIRED_INPUTS["laundry_done"],
        "door_sensor": "binary_sensor.washer_door_lock",
        "remind_every": 5,
        "max_reminders": 2,
        "notify_service": "notify.mobile_app_phone",
        "persistent": False,
        "title": "洗好了",
        "message": "{{ appliance_name }} 洗好了",
    },
    "dishwasher_done": {
        **REQUIRED_INPUTS["dishwasher_done"],
        "door_sensor": "binary_sensor.dishwasher_door",
        "rinse_aid_sensor": "binary_sensor.dishwasher_rinse_aid",
        "salt_sensor": "binary_sensor.dishwasher_salt",
        "remind_every": 0,
        "notify_service": "notify.mobile_app_phone",
    },
    "fridge_door_open": {
        "door_sensors": ["binary_sensor.fridge_door", "binary_sensor.second_fridge_door"],
        "open_minutes": 5,
        "escalate_after": 10,
        "escalation_notify_service": "notify.mobile_app_parent",
        "escalation_actions": [
            {"action": "light.turn_on", "target": {"entity_id": "light.kitchen"}},
        ],
    },
    "cheap_hour_dishwasher": {
        **REQUIRED_INPUTS["cheap_hour_dishwasher"],
        "fault_sensor": "binary_sensor.dishwasher_fault",
        "door_sensor": "binary_sensor.dishwasher_door",
        "finish_time_sensor": "sensor.dishwasher_finish_time",
        "start_time": "22:30:00",
        "notify_on_start": False,
    },
    "pre_cooling": {
        "air_conditioners": ["climate.living_room", "climate.bedroom"],
        "comfort_setpoint": 27,
        "offset": 1.5,
        "switch_on": True,
        "peak_start": "11:00:00",
        "precool_minutes": 45,
        "precondition": [{"condition": "numeric_state", "entity_id": "zone.home", "above": 0}],
    },
    "load_shedding": {
        "power_sensor": "sensor.home_power",
        "limit_w": 8000,
        "air_conditioners": ["climate.living_room"],
        "ac_action": "eco_and_setpoint",
        "appliance_status": ["sensor.washer_status", "sensor.dishwasher_status"],
        "pause_buttons": ["button.washer_pause", "button.dishwasher_pause"],
        "resume_buttons": ["button.washer_resume", "button.dishwasher_resume"],
        "notify_service": "notify.mobile_app_phone",
    },
    "hotel_room": {
        **REQUIRED_INPUTS["hotel_room"],
        "vacant_minutes": 30,
        "vacant_action": "off",
        "comfort_setpoint": 25,
    },
}

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORDS = re.compile(r"[A-Za-z]{3,}(?: [A-Za-z]{2,}){3,}")

# Entity inputs for other integrations' entities (a meter, a helper, a key card,
# a contact sensor); every other entity input must be filtered to ours.
_FOREIGN_ENTITY_INPUTS = {"power_sensor", "loaded_toggle", "occupancy_sensor"}


def _blueprint(path: Path) -> models.Blueprint:
    return models.Blueprint(
        load_yaml_dict(path),
        path=str(path),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )


def _ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


def test_all_blueprints_are_there() -> None:
    """The seven blueprints exist, and nothing else sits in the folder."""
    assert {path.stem for path in BLUEPRINT_FILES} == EXPECTED
    assert set(REQUIRED_INPUTS) == set(ALL_INPUTS) == EXPECTED


@pytest.mark.parametrize("path", BLUEPRINT_FILES, ids=_ids(BLUEPRINT_FILES))
def test_blueprint_is_valid(path: Path) -> None:
    """Home Assistant's Blueprint model accepts it and this version supports it."""
    blueprint = _blueprint(path)
    assert blueprint.domain == "automation"
    assert blueprint.validate() is None
    assert blueprint.metadata["source_url"].endswith(f"/{path.name}")


def test_wrong_domain_is_rejected() -> None:
    """The check above can fail: a script blueprint expectation rejects these files."""
    with pytest.raises(InvalidBlueprint, match="expected script"):
        models.Blueprint(
            load_yaml_dict(BLUEPRINT_FILES[0]),
            expected_domain="script",
            schema=AUTOMATION_BLUEPRINT_SCHEMA,
        )


@pytest.mark.parametrize("path", BLUEPRINT_FILES, ids=_ids(BLUEPRINT_FILES))
def test_texts_are_bilingual(path: Path) -> None:
    """Name and description carry English and Simplified Chinese; every input is named."""
    metadata = _blueprint(path).metadata
    for text in (metadata["name"], metadata["description"]):
        assert _CJK.search(text), text
        assert re.search(r"[A-Za-z]{4,}", text), text
    assert _LATIN_WORDS.search(metadata["description"]), "no English sentence"
    for key, spec in _blueprint(path).inputs.items():
        assert _CJK.search(spec["name"]), key
        assert re.search("[A-Za-z]", spec["name"]), key
        assert "selector" in spec, key


@pytest.mark.parametrize("path", BLUEPRINT_FILES, ids=_ids(BLUEPRINT_FILES))
def test_entity_inputs_are_filtered_to_the_integration(path: Path) -> None:
    """The appliance pickers offer this integration's entities only."""
    for key, spec in _blueprint(path).inputs.items():
        entity = spec["selector"].get("entity")
        if entity is None or key in _FOREIGN_ENTITY_INPUTS:
            continue
        filters = entity["filter"]
        assert any(f.get("integration") == "liuzhou_appliances" for f in filters), key
        for entity_filter in filters:
            assert "domain" in entity_filter, key


@pytest.mark.parametrize("path", BLUEPRINT_FILES, ids=_ids(BLUEPRINT_FILES))
def test_defaults_fit_their_selectors(path: Path) -> None:
    """Every default is a value its own selector accepts (an unset entity is "" or [])."""
    for key, spec in _blueprint(path).inputs.items():
        if "default" not in spec:
            continue
        default = spec["default"]
        config = spec["selector"]
        if "entity" in config and default in ("", []):
            continue
        try:
            validate = selector.selector(config)
            assert callable(validate)  # every concrete selector is; the base class declares no call
            validate(default)
        except vol.Invalid as err:
            pytest.fail(f"{path.stem}.{key}: default {default!r} rejected: {err}")


@pytest.mark.parametrize("path", BLUEPRINT_FILES, ids=_ids(BLUEPRINT_FILES))
def test_mode_is_explicit_and_explained(path: Path) -> None:
    """``mode`` is set on purpose, and the first line says why."""
    text = path.read_text(encoding="utf-8")
    data = load_yaml_dict(path)
    assert data["mode"] in {"single", "restart", "queued", "parallel"}
    assert text.startswith(f"# mode: {data['mode']} — ")


def _inputs_left(value: Any) -> Any:
    if isinstance(value, Input):
        yield value.name
    elif isinstance(value, dict):
        for item in value.values():
            yield from _inputs_left(item)
    elif isinstance(value, list):
        for item in value:
            yield from _inputs_left(item)


async def _validated(hass: HomeAssistant, name: str, inputs: dict[str, Any]) -> Any:
    config = {
        "id": name,
        "alias": name,
        "use_blueprint": {"path": f"liuzhou_appliances/{name}.yaml", "input": inputs},
    }
    return await async_validate_config_item(hass, "automation", config)


@pytest.mark.usefixtures("blueprint_config_dir")
@pytest.mark.parametrize("inputs", [REQUIRED_INPUTS, ALL_INPUTS], ids=["required", "all"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_inputs_substitute_into_a_valid_automation(
    hass: HomeAssistant, name: str, inputs: dict[str, dict[str, Any]]
) -> None:
    """Home Assistant loads the file, substitutes the inputs and validates the automation."""
    validated = await _validated(hass, name, inputs[name])
    assert validated is not None
    assert validated.validation_status is ValidationStatus.OK, validated.validation_error
    assert validated["triggers"]
    assert validated["actions"]
    # The substituted config no longer contains any input reference.
    assert not list(_inputs_left(dict(validated)))


@pytest.mark.usefixtures("blueprint_config_dir")
async def test_missing_required_input_fails_validation(hass: HomeAssistant) -> None:
    """Leaving out a required input is reported, not silently accepted."""
    with pytest.raises(MissingInput, match="washer_status"):
        await _validated(hass, "laundry_done", {"remind_every": 5})
