"""The wet-cycle model in Home Assistant: finish time, remaining energy, fallback, planning."""

from __future__ import annotations

from datetime import datetime, timedelta
import logging
from pathlib import Path
import threading
from types import SimpleNamespace
from typing import Any, cast

from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.liuzhou_appliances import (
    shipped_models,
    wet_cycle_prediction,
    wet_cycle_runtime,
)
from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural import Model, load_model
from custom_components.liuzhou_appliances.wet_cycle_runtime import WetCycleRuntime
from firmware_bridge.simulators.climate import LiuzhouClimate

from .conftest import PairedAppliance, StartAppliance, wait_until
from .energy_helpers import add_household, at_valley_night
from .platform_helpers import entity_id, wait_for_state

ROOT = Path(__file__).resolve().parents[2]
SOURCE_MODEL = ROOT / "models" / "wet_cycle" / "wet_cycle.tflite"
# A firmware that counts down its declared profile and declares no model (older firmware):
# the hub's model answers for it. The simulators' default firmware runs the model itself.
OLD_FIRMWARE = {"remaining": "declared"}


def _prediction(machine: PairedAppliance) -> WetCycleRuntime:
    """The machine's predictor, its clock the simulation's (the test moves both)."""
    prediction = machine.entry.runtime_data.prediction
    assert isinstance(prediction, WetCycleRuntime)
    mcu = machine.appliance.mcu
    prediction.clock = lambda: mcu.simulated_seconds
    return prediction


def _sensor(hass: HomeAssistant, machine: PairedAppliance, key: str) -> str:
    return entity_id(hass, "sensor", machine.appliance.id, key)


async def _model_diagnostics(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, machine: PairedAppliance
) -> dict[str, Any]:
    """The ``models.wet_cycle`` part of the entry's diagnostics."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, machine.entry)
    return cast(dict[str, Any], diagnostics["models"])["wet_cycle"]  # type: ignore[no-any-return]


def _moment(value: str) -> datetime:
    moment = dt_util.parse_datetime(value)
    assert moment is not None
    return moment


def test_the_integration_ships_the_trained_model() -> None:
    """HACS installs only the integration's folder: its copy is the trained file, byte for byte
    (``./scripts/train`` writes both; models/wet_cycle/ is the source)."""
    assert wet_cycle_runtime.MODEL_FILE.read_bytes() == SOURCE_MODEL.read_bytes()


async def _run_in_minutes(hass: HomeAssistant, machine: PairedAppliance, minutes: int) -> None:
    """Let the run go on a minute at a time, the hub hearing each minute's values."""
    for _ in range(minutes):
        await machine.appliance.mcu.advance(60)
        await machine.push()
        reported = machine.simulator.values()["remaining_time"]
        await wait_until(hass, lambda r=reported: machine.coordinator.values["remaining_time"] == r)


@pytest.mark.parametrize("kind", [ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER])
async def test_finish_time_and_remaining_energy_from_the_model_during_a_run(
    hass: HomeAssistant, start_appliance: StartAppliance, kind: ApplianceType
) -> None:
    """Forty minutes into a run the model's finish time is within two minutes of the
    physics, closer than the declared profile, and its remaining energy is what the
    rest of the run then uses."""
    machine = await start_appliance(kind, simulator_options=OLD_FIRMWARE)
    prediction = _prediction(machine)
    machine.simulator.command("start", {})
    await machine.push()
    await _run_in_minutes(hass, machine, 40)
    truth_s = machine.simulator.physical_remaining_s()
    estimate = prediction.estimate
    assert estimate is not None
    assert estimate.source == "model"
    assert abs(estimate.remaining_s - truth_s) < 120
    programme = machine.coordinator.declaration.programme(
        str(machine.simulator.values()["programme"])
    )
    declared_s = programme.duration_s - 40 * 60
    assert abs(estimate.remaining_s - truth_s) < abs(declared_s - truth_s)
    finish = hass.states.get(_sensor(hass, machine, "finish_time"))
    assert finish is not None
    assert finish.attributes["source"] == "model"
    expected = dt_util.utcnow() + timedelta(seconds=estimate.remaining_s)
    assert abs((_moment(finish.state) - expected).total_seconds()) <= 60
    remaining_energy = hass.states.get(_sensor(hass, machine, "remaining_energy"))
    assert remaining_energy is not None
    assert remaining_energy.attributes["source"] == "model"
    predicted_kwh = float(remaining_energy.state)
    assert estimate.remaining_kwh is not None
    assert predicted_kwh == pytest.approx(estimate.remaining_kwh, abs=1e-3)
    # The rest of the run uses what was predicted.
    meter_now = machine.simulator.energy_kwh
    while machine.simulator.values()["operational_state"] != "finished":
        await machine.appliance.mcu.advance(60)
    used = machine.simulator.energy_kwh - meter_now
    assert predicted_kwh == pytest.approx(used, abs=0.05)
    await machine.push()
    for key in ("finish_time", "remaining_energy"):
        await wait_for_state(hass, _sensor(hass, machine, key), lambda s: s.state == STATE_UNKNOWN)


async def test_a_reload_during_a_run_goes_on_with_the_model(
    hass: HomeAssistant,
    start_appliance: StartAppliance,
    monkeypatch: pytest.MonkeyPatch,
    hass_storage: dict[str, Any],
) -> None:
    """The run kept in the entry's Store is taken up by the entry set up again."""
    machine = await start_appliance(ApplianceType.LAUNDRY_WASHER, simulator_options=OLD_FIRMWARE)
    # The entry set up again counts in the simulation's seconds from its first look.
    mcu = machine.appliance.mcu
    monkeypatch.setattr(
        wet_cycle_runtime, "time", SimpleNamespace(monotonic=lambda: mcu.simulated_seconds)
    )
    _prediction(machine)
    machine.simulator.command("start", {})
    await machine.push()
    await _run_in_minutes(hass, machine, 20)
    # Kept while the run goes on, a minute after it was first asked for (pushes keep coming).
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await hass.async_block_till_done()
    kept = hass_storage[f"{DOMAIN}.wet_cycle_run.{machine.entry.entry_id}"]["data"]["run"]
    assert kept["tracker"]["elapsed_s"] > 0
    assert await hass.config_entries.async_reload(machine.entry.entry_id)
    await hass.async_block_till_done()
    prediction = _prediction(machine)  # the new entry's
    await _run_in_minutes(hass, machine, 20)
    estimate = prediction.estimate
    assert estimate is not None
    assert (estimate.source, prediction.predictor.reason) == ("model", None)
    assert abs(estimate.remaining_s - machine.simulator.physical_remaining_s()) < 120
    # The run ends: nothing is kept any more.
    while machine.simulator.values()["operational_state"] != "finished":
        await machine.appliance.mcu.advance(60)
    await machine.push()
    await wait_until(hass, lambda: not prediction.predictor.tracker.under_way)
    assert prediction._data() == {"run": None}


async def test_a_run_joined_half_way_is_predicted_and_says_so(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    start_appliance: StartAppliance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Back from a restart too long for the kept run: the hub joins the run half way,
    the model answers from the countdown at the join, closer to the physics than the
    countdown, and the sensors and diagnostics say the run was joined."""
    machine = await start_appliance(ApplianceType.LAUNDRY_WASHER, simulator_options=OLD_FIRMWARE)
    mcu = machine.appliance.mcu
    monkeypatch.setattr(
        wet_cycle_runtime, "time", SimpleNamespace(monotonic=lambda: mcu.simulated_seconds)
    )
    monkeypatch.setattr(wet_cycle_prediction, "MAX_RESUME_GAP_S", -1)  # any gap is too long
    _prediction(machine)
    machine.simulator.command("start", {})
    await machine.push()
    await _run_in_minutes(hass, machine, 20)
    assert await hass.config_entries.async_reload(machine.entry.entry_id)
    await hass.async_block_till_done()
    prediction = _prediction(machine)
    await _run_in_minutes(hass, machine, 10)
    estimate = prediction.estimate
    assert estimate is not None
    assert (estimate.source, estimate.joined) == ("model", True)
    truth = machine.simulator.physical_remaining_s()
    countdown = int(machine.simulator.values()["remaining_time"])
    assert abs(estimate.remaining_s - truth) < abs(countdown - truth) / 2
    for key in ("finish_time", "remaining_energy"):
        state = await wait_for_state(
            hass, _sensor(hass, machine, key), lambda s: s.attributes.get("run") == "joined"
        )
        assert state.attributes["source"] == "model"
    model = await _model_diagnostics(hass, hass_client, machine)
    assert (model["status"], model["reason"], model["source"]) == ("ok", "joined_run", "model")


@pytest.mark.parametrize(("module", "version"), [("linux", "1"), ("mcu", "1-int8")])
async def test_an_appliance_running_the_model_is_trusted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    start_appliance: StartAppliance,
    module: str,
    version: str,
) -> None:
    """A washer whose firmware declares wet_cycle (the float file on a Linux-class network
    module, the int8 one on an MCU-class module): the finish time is its own remaining
    time (its model saw the run from inside), and diagnostics say why the hub's is idle
    and which version the appliance runs."""
    washer = await start_appliance(
        ApplianceType.LAUNDRY_WASHER, simulator_options={"module": module}
    )
    declared = washer.coordinator.declaration.models
    assert [(m.id, m.version) for m in declared] == [("wet_cycle", version)]
    prediction = _prediction(washer)
    washer.simulator.command("start", {})
    await washer.push()
    await _run_in_minutes(hass, washer, 10)
    remaining = int(washer.simulator.values()["remaining_time"])
    assert abs(remaining - washer.simulator.physical_remaining_s()) < 120
    estimate = prediction.estimate
    assert estimate is not None
    assert (estimate.source, estimate.remaining_s) == ("appliance", remaining)
    finish = await wait_for_state(
        hass, _sensor(hass, washer, "finish_time"), lambda s: s.state != STATE_UNKNOWN
    )
    assert finish.attributes["source"] == "appliance"
    model = await _model_diagnostics(hass, hass_client, washer)
    assert (model["reason"], model["appliance_runs_model"]) == ("appliance_runs_model", version)


async def test_a_corrupt_model_falls_back_to_the_appliance_with_a_status(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    start_appliance: StartAppliance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A truncated model file: the finish time follows the appliance's own countdown, the
    diagnostics say why, and nothing raises (one warning, no error)."""
    broken = tmp_path / "wet_cycle.tflite"
    broken.write_bytes(SOURCE_MODEL.read_bytes()[:4000])
    monkeypatch.setattr(wet_cycle_runtime, "MODEL_FILE", broken)
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER, simulator_options=OLD_FIRMWARE)
    prediction = _prediction(washer)
    washer.simulator.command("start", {})
    await washer.push()
    await _run_in_minutes(hass, washer, 3)
    remaining = int(washer.simulator.values()["remaining_time"])
    estimate = prediction.estimate
    assert estimate is not None
    assert (estimate.source, estimate.remaining_s) == ("appliance", remaining)
    finish = await wait_for_state(
        hass, _sensor(hass, washer, "finish_time"), lambda s: s.state != STATE_UNKNOWN
    )
    assert finish.attributes["source"] == "appliance"
    expected = dt_util.utcnow() + timedelta(seconds=remaining)
    assert abs((_moment(finish.state) - expected).total_seconds()) <= 60
    model = await _model_diagnostics(hass, hass_client, washer)
    assert model["status"] == "fallback"
    assert model["reason"] == "corrupt_model"
    assert model["runtime"] is None
    assert str(tmp_path) not in str(model["detail"])  # no path of the installation
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r for r in caplog.records if "wet-cycle model cannot be used" in r.getMessage()]


async def test_the_model_loads_once_off_the_event_loop(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    start_appliance: StartAppliance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reading and checking the file blocks: it runs in the executor, once for the hub."""
    threads: list[threading.Thread] = []

    def recording_load(path: Path, prefer: Any = "auto") -> Model:
        threads.append(threading.current_thread())
        return load_model(path, prefer)

    monkeypatch.setattr(shipped_models, "load_model", recording_load)
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER, simulator_options=OLD_FIRMWARE)
    dishwasher = await start_appliance(ApplianceType.DISHWASHER, simulator_options=OLD_FIRMWARE)
    assert len(threads) == 1
    assert threads[0] is not threading.main_thread()
    for machine in (washer, dishwasher):
        model = await _model_diagnostics(hass, hass_client, machine)
        assert model["model"] == "wet_cycle"
        assert model["status"] == "ok"
        assert model["runtime"] in ("litert", "numpy")
        assert model["version"]
        assert model["reason"] is None


def test_the_hub_guesses_inlet_water_as_the_simulated_climate_has_it() -> None:
    """The mains-water table (wet_cycle_prediction.MAINS_WATER_C) is Liuzhou's, as simulated."""
    from custom_components.liuzhou_appliances.wet_cycle_prediction import mains_water_c

    climate = LiuzhouClimate(seed=0, noise=False)
    for month in range(1, 13):
        moment = datetime(2026, month, 15)
        expected = climate.mains_water(LiuzhouClimate.seconds_of_year(moment))
        assert mains_water_c(moment) == pytest.approx(expected, abs=0.06)


@at_valley_night
async def test_plan_run_plans_on_the_model_profile(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """plan_run plans on the model's profile of the programme: its energy, not the declared."""
    await add_household(hass)
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER, simulator_options=OLD_FIRMWARE)
    declared = washer.coordinator.declaration.programme("cotton")
    device = dr.async_get(hass).async_get_device({(DOMAIN, washer.appliance.id)})
    assert device is not None
    response = await hass.services.async_call(
        DOMAIN,
        "plan_run",
        {
            "device_id": device.id,
            "programme": "cotton",
            "finish_by": (dt_util.utcnow() + timedelta(hours=12)).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["profile"] == "model"
    prediction = washer.entry.runtime_data.prediction
    modelled, source = prediction.planning_programme(declared)
    assert source == "model"
    assert response["energy_kwh"] == pytest.approx(modelled.energy_kwh, abs=0.002)
    assert abs(modelled.energy_kwh - declared.energy_kwh) > 0.01
