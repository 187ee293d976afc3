"""Predictive AC control in Home Assistant: the control-mode select, status and diagnostics."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, cast

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.liuzhou_appliances.energy_runtime import room_thermal
from custom_components.liuzhou_appliances.link.model import ApplianceType

from .conftest import PairedAppliance, StartAppliance
from .energy_helpers import (
    add_household,
    energy_status,
    entity_id,
    set_energy_optimisation,
    wait_long,
)

ROOT = Path(__file__).resolve().parents[2]
SOURCE_MODEL = ROOT / "models" / "room_thermal" / "room_thermal.tflite"
TRANSLATIONS = ROOT / "custom_components" / "liuzhou_appliances" / "translations"


def test_the_integration_ships_the_trained_model() -> None:
    """HACS installs only the integration's folder: its copy is the trained file, byte for byte
    (``./scripts/train`` writes both; models/room_thermal/ is the source)."""
    assert room_thermal.MODEL_FILE.read_bytes() == SOURCE_MODEL.read_bytes()


async def _cooling_with_optimisation(
    hass: HomeAssistant, start_appliance: StartAppliance, **household: Any
) -> PairedAppliance:
    await add_household(hass, tariff="commercial_tou", **household)
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await ac.coordinator.async_write({"on": True, "mode": "cool", "target_temperature": 26.0})
    await ac.push()
    await set_energy_optimisation(hass, ac, True)
    return ac


async def _select_predictive(hass: HomeAssistant, ac: PairedAppliance) -> None:
    select = entity_id(hass, "select", ac.appliance.id, "control_mode")
    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": "predictive"}, blocking=True
    )


async def _room_thermal(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, ac: PairedAppliance
) -> dict[str, Any] | None:
    """The ``models.room_thermal`` part of the AC's diagnostics, if there is one."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, ac.entry)
    models = cast(dict[str, Any], diagnostics.get("models", {}))
    return models.get("room_thermal")


async def test_the_select_offers_fuzzy_and_predictive_translated(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """Each AC has the select, on the fuzzy controller until told otherwise."""
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    state = hass.states.get(entity_id(hass, "select", ac.appliance.id, "control_mode"))
    assert state is not None
    assert state.state == "fuzzy"
    assert state.attributes["options"] == ["fuzzy", "predictive"]
    for language in ("en", "zh-Hans"):
        strings = json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))
        select = strings["entity"]["select"]["control_mode"]
        assert select["name"]
        assert set(select["state"]) == {"fuzzy", "predictive"}


async def test_predictive_control_runs_and_says_who_decides(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    start_appliance: StartAppliance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Switched to predictive: the model loads, the loop keeps writing, and the status sensor
    and diagnostics say which controller is in charge and why (no outdoor humidity
    sensor set: the fuzzy one, ``inputs_missing``)."""
    ac = await _cooling_with_optimisation(hass, start_appliance)
    assert await _room_thermal(hass, hass_client, ac) is None  # fuzzy: no model loaded
    await _select_predictive(hass, ac)
    predictive = ac.entry.runtime_data.energy.ac_loop.predictive
    await wait_long(hass, lambda: predictive.status is not None, 60)
    await wait_long(hass, lambda: ac.simulator.values()["fan_speed"] != "auto", 60)
    model = await _room_thermal(hass, hass_client, ac)
    assert model is not None
    assert model["model"] == "room_thermal"
    assert model["version"]
    assert model["runtime"] in ("litert", "numpy")
    assert model["status"] == "fuzzy"
    assert model["reason"] == "inputs_missing"
    assert "outdoor humidity" in model["detail"]
    status = energy_status(hass, ac)
    assert status.attributes["controller"] == "fuzzy"
    assert status.attributes["controller_reason"] == "inputs_missing"
    assert status.state in ("active", "active_no_occupancy")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_corrupt_model_leaves_the_fuzzy_controller_in_charge(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    start_appliance: StartAppliance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A truncated file: a warning, ``no_model`` with the load error, and the loop goes on."""
    broken = tmp_path / "room_thermal.tflite"
    broken.write_bytes(SOURCE_MODEL.read_bytes()[:4000])
    monkeypatch.setattr(room_thermal, "MODEL_FILE", broken)
    ac = await _cooling_with_optimisation(hass, start_appliance)
    await _select_predictive(hass, ac)
    predictive = ac.entry.runtime_data.energy.ac_loop.predictive
    await wait_long(hass, lambda: predictive.status is not None, 60)
    await wait_long(hass, lambda: ac.simulator.values()["fan_speed"] != "auto", 60)
    model = await _room_thermal(hass, hass_client, ac)
    assert model is not None
    assert (model["status"], model["reason"]) == ("fuzzy", "no_model")
    assert model["runtime"] is None
    assert model["detail"]
    assert str(tmp_path) not in model["detail"]  # no path of the installation
    assert energy_status(hass, ac).attributes["controller_reason"] == "no_model"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r for r in caplog.records if "room thermal model cannot be used" in r.getMessage()]


async def test_with_outdoor_sensors_the_model_warms_up(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    start_appliance: StartAppliance,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With the household's outdoor temperature and humidity sensors every reading is there:
    the controller records history and says it is warming up (the fuzzy one decides)."""
    hass.states.async_set("sensor.outdoor", "31.0")
    hass.states.async_set("sensor.outdoor_humidity", "70")
    ac = await _cooling_with_optimisation(
        hass,
        start_appliance,
        outdoor_temperature_entity="sensor.outdoor",
        outdoor_humidity_entity="sensor.outdoor_humidity",
    )
    await _select_predictive(hass, ac)
    predictive = ac.entry.runtime_data.energy.ac_loop.predictive
    await wait_long(hass, lambda: predictive.status is not None, 60)
    model = await _room_thermal(hass, hass_client, ac)
    assert model is not None
    assert (model["status"], model["reason"]) == ("fuzzy", "warming_up")
    assert model["history_steps"] == 0
    assert energy_status(hass, ac).attributes["controller_reason"] == "warming_up"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
