"""Entities exist only for what a model declares: a new model needs no hub code.

Each test runs a real simulator with a reduced declaration (a model without
the optional capabilities) and checks which entities Home Assistant gets.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import json
from typing import Any
from unittest.mock import patch

from homeassistant.components.climate.const import ATTR_HVAC_MODES, ClimateEntityFeature
from homeassistant.const import ATTR_SUPPORTED_FEATURES
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge import bridge, simulators
from firmware_bridge.simulators.base import DECLARATIONS_DIR

from .conftest import StartAppliance


@contextlib.contextmanager
def model_declaring(kind: ApplianceType, **changes: Any) -> Iterator[None]:
    """Simulate a model of ``kind`` whose declaration has ``changes`` (None removes a key)."""
    raw = json.loads((DECLARATIONS_DIR / f"{kind.value}.json").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    declaration = Declaration.from_dict(raw)
    create_simulator = simulators.create_simulator

    def create(appliance_type: ApplianceType, **kwargs: Any) -> Any:
        return create_simulator(appliance_type, declaration=declaration, **kwargs)

    with patch.object(bridge, "create_simulator", create):
        yield


# Every appliance has the energy switch and status (docs/energy.md, "In Home Assistant").
ENERGY_ENTITIES = ("switch.energy_optimisation", "sensor.energy_status")


def _keys(hass: HomeAssistant, entity_registry: er.EntityRegistry, entry_id: str) -> set[str]:
    return {
        f"{entry.domain}.{entry.unique_id.split('_', 1)[1]}"
        for entry in er.async_entries_for_config_entry(entity_registry, entry_id)
    }


async def test_minimal_air_conditioner(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, start_appliance: StartAppliance
) -> None:
    """Two modes, no humidity, outdoor sensor, swing, presets, running state or voice panel:
    none appear."""
    with model_declaring(
        ApplianceType.ROOM_AIR_CONDITIONER,
        voice_panel=None,
        capabilities={
            "mode": {"options": ["cool", "dry"]},
            "target_temperature": {"min": 17, "max": 28, "step": 1},
            "fan_speed": {"options": ["low", "high"]},
        },
    ):
        ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    keys = _keys(hass, entity_registry, ac.entry.entry_id)
    assert keys == {
        "climate.climate",
        "sensor.power",
        "sensor.energy",
        "binary_sensor.faults",
        *ENERGY_ENTITIES,
        "select.energy_preset",
        "select.control_mode",
        "sensor.energy_savings",
    }
    climate = hass.states.get(
        entity_registry.async_get_entity_id(
            "climate", "liuzhou_appliances", f"{ac.appliance.id}_climate"
        )
        or ""
    )
    assert climate is not None
    assert climate.attributes[ATTR_HVAC_MODES] == ["off", "cool", "dry"]
    assert (climate.attributes["min_temp"], climate.attributes["max_temp"]) == (17, 28)
    assert climate.attributes["target_temp_step"] == 1
    assert climate.attributes["fan_modes"] == ["low", "high"]
    features = ClimateEntityFeature(climate.attributes[ATTR_SUPPORTED_FEATURES])
    assert not features & ClimateEntityFeature.SWING_MODE
    assert not features & ClimateEntityFeature.PRESET_MODE
    assert "current_humidity" not in climate.attributes
    # No running state declared: Home Assistant shows no current action.
    assert "hvac_action" not in climate.attributes


async def test_fridge_without_freezer(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, start_appliance: StartAppliance
) -> None:
    """A larder fridge: no freezer setpoint, sensor, compressor or defrost entities."""
    with model_declaring(
        ApplianceType.REFRIGERATOR,
        voice_panel=None,
        capabilities={
            "mode": {"options": ["normal", "eco", "vacation"]},
            "fridge_target_temperature": {"min": 2, "max": 7},
        },
    ):
        fridge = await start_appliance(ApplianceType.REFRIGERATOR)
    assert _keys(hass, entity_registry, fridge.entry.entry_id) == {
        "sensor.power",
        "sensor.energy",
        "sensor.fridge_temperature",
        "number.fridge_target_temperature",
        "select.mode",
        "binary_sensor.faults",
        "binary_sensor.door_open",
        "binary_sensor.door_alarm",
        *ENERGY_ENTITIES,
    }
    number = entity_registry.async_get_entity_id(
        "number", "liuzhou_appliances", f"{fridge.appliance.id}_fridge_target_temperature"
    )
    state = hass.states.get(number or "")
    assert state is not None
    assert (state.attributes["min"], state.attributes["max"]) == (2, 7)
    mode = entity_registry.async_get_entity_id(
        "select", "liuzhou_appliances", f"{fridge.appliance.id}_mode"
    )
    state = hass.states.get(mode or "")
    assert state is not None
    assert state.attributes["options"] == ["normal", "eco", "vacation"]


@pytest.mark.parametrize("kind", [ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER])
async def test_machine_without_options(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    start_appliance: StartAppliance,
    kind: ApplianceType,
) -> None:
    """No optional settings, refills, door or delayed start: only the core entities."""
    with model_declaring(kind, capabilities={}, max_delay_s=None, voice_panel=None):
        machine = await start_appliance(kind)
    extra = {"binary_sensor.door_locked"} if kind is ApplianceType.LAUNDRY_WASHER else set()
    assert _keys(hass, entity_registry, machine.entry.entry_id) == {
        "sensor.power",
        "sensor.energy",
        "sensor.operational_state",
        "sensor.phase",
        "sensor.remaining_time",
        "sensor.finish_time",
        "sensor.remaining_energy",  # the hub's prediction of the run (wet_cycle_runtime.py)
        "select.programme",
        "button.start",
        "button.pause",
        "button.resume",
        "button.stop",
        "binary_sensor.faults",
        *ENERGY_ENTITIES,  # no delayed start: no planned-run sensors
        *extra,
    }
