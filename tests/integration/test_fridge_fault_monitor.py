"""The hub's fridge fault detector: its repair issue, its fallback, its diagnostics, and
staying off for a fridge that runs the detector itself."""

from __future__ import annotations

from dataclasses import replace
import json
from pathlib import Path
from typing import Any

from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import numpy as np
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.entry_points import async_remove_entry
from custom_components.liuzhou_appliances.fridge_fault_monitor import (
    FridgeFaultMonitor,
    sample_from,
)
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.neural.fridge_fault import FAULTS, AlarmRule
from firmware_bridge.simulators.climate import LiuzhouClimate
from firmware_bridge.simulators.fridge_faults import PhysicalFault
from models.fridge_fault.dataset import SPLITS, draw, simulate

from .conftest import PairedAppliance, StartAppliance, wait_until
from .platform_helpers import entity_id, wait_for_state

TRANSLATIONS = Path(__file__).parents[2] / "custom_components/liuzhou_appliances/translations"


@pytest.fixture
async def paired_appliance(start_appliance: StartAppliance) -> PairedAppliance:
    """A fridge-freezer whose firmware has no fault detector: the hub runs its own."""
    return await start_appliance(
        ApplianceType.REFRIGERATOR, simulator_options={"fault_detector": False}
    )


def _last_row(fault: PhysicalFault | None) -> np.ndarray[Any, Any]:
    """The last hourly row of a simulated held-out fridge with ``fault``."""
    setting = draw(200_001, SPLITS["test"])
    run = simulate(replace(setting, fault=fault), LiuzhouClimate(seed=SPLITS["test"].climate_seed))
    row: np.ndarray[Any, Any] = run["x"][-1]
    return row


def _monitor(paired: PairedAppliance) -> FridgeFaultMonitor:
    monitor = paired.entry.runtime_data.fridge_faults
    assert isinstance(monitor, FridgeFaultMonitor)
    return monitor


def _issue(hass: HomeAssistant, paired: PairedAppliance) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{paired.appliance.id}_suspected_fault")


async def test_a_suspected_fault_raises_a_translated_issue_until_it_clears(
    hass: HomeAssistant,
    paired_appliance: PairedAppliance,
    hass_client: ClientSessionGenerator,
) -> None:
    monitor = _monitor(paired_appliance)
    assert monitor.status == "running"
    blocked = _last_row(PhysicalFault("condenser", 1.0, onset_s=3 * 86400.0))
    healthy = _last_row(None)
    for _ in range(AlarmRule().consecutive):
        assert _issue(hass, paired_appliance) is None
        monitor.evaluate(blocked)
    issue = _issue(hass, paired_appliance)
    assert issue is not None
    assert issue.translation_key == "suspected_fault_condenser"
    assert issue.translation_placeholders == {"appliance": paired_appliance.entry.title}
    diagnostics: dict[str, Any] = await get_diagnostics_for_config_entry(
        hass, hass_client, paired_appliance.entry
    )
    detector = diagnostics["models"]["fridge_fault"]
    assert detector["status"] == "running"
    assert detector["model"] == "fridge_fault"
    assert detector["version"] == "1"
    assert detector["runtime"] in ("numpy", "litert")
    assert detector["suspected"] == "condenser"
    monitor.evaluate(healthy)
    assert _issue(hass, paired_appliance) is None


async def test_a_model_error_turns_detection_off_with_its_cause(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    monitor = _monitor(paired_appliance)
    row = _last_row(None)
    row[0] = 7.0  # a duty of 700 %: outside the trained range
    monitor.evaluate(row)  # no exception reaches the event loop
    assert monitor.status == "unavailable"
    assert monitor.cause is not None
    assert "duty" in monitor.cause


async def test_a_missing_model_file_leaves_the_fridge_without_detection(
    hass: HomeAssistant, start_appliance: StartAppliance, tmp_path: Path
) -> None:
    paired = await start_appliance(
        ApplianceType.REFRIGERATOR, simulator_options={"fault_detector": False}
    )
    broken = tmp_path / "fridge_fault.tflite"
    broken.write_bytes(b"TFL3 not a model")
    monitor = FridgeFaultMonitor(hass, paired.coordinator, broken)
    await monitor.async_start()
    assert monitor.status == "unavailable"
    assert monitor.cause is not None
    assert monitor.cause.startswith("cannot load the model")
    assert monitor.diagnostics()["runtime"] is None


async def test_the_pushed_state_makes_a_sample(
    hass: HomeAssistant, paired_appliance: PairedAppliance
) -> None:
    sample = sample_from(paired_appliance.coordinator.values, 1000.0)
    assert sample is not None
    simulator = paired_appliance.simulator
    assert sample.fridge_c == pytest.approx(simulator.model.fridge_air_c, abs=0.1)
    assert sample.freezer_c == pytest.approx(simulator.model.freezer_c, abs=0.1)
    assert sample.compressor_on is simulator.model.compressor_on
    assert sample_from({"power": 1.0}, 0.0) is None  # a fridge that reports too little


def test_every_suspected_fault_has_its_text_in_both_languages() -> None:
    for language in ("en", "zh-Hans"):
        issues = json.loads((TRANSLATIONS / f"{language}.json").read_text())["issues"]
        for fault in FAULTS:
            text = issues[f"suspected_fault_{fault}"]
            assert "{appliance}" in text["title"], (language, fault)
            assert "{appliance}" in text["description"], (language, fault)


async def test_a_fridge_running_the_detector_itself_gets_one_notice_from_its_faults(
    hass: HomeAssistant, start_appliance: StartAppliance, hass_client: ClientSessionGenerator
) -> None:
    paired = await start_appliance(ApplianceType.REFRIGERATOR)  # declares fridge_fault
    monitor = _monitor(paired)
    assert (monitor.status, monitor.reason) == ("off", "appliance_runs_model")
    diagnostics: dict[str, Any] = await get_diagnostics_for_config_entry(
        hass, hass_client, paired.entry
    )
    detector = diagnostics["models"]["fridge_fault"]
    assert detector["status"] == "off"
    assert detector["reason"] == "appliance_runs_model"
    assert detector["appliance_runs_model"] == "1"
    assert detector["model"] is None  # the hub loaded no model of its own
    # The fridge's detector suspects a blocked condenser (its own run: test_fridge_detector).
    simulator = paired.simulator
    assert simulator.detector is not None
    simulator.detector.suspected = "condenser"
    await paired.push()
    problem = entity_id(hass, "binary_sensor", paired.appliance.id, "faults")
    state = await wait_for_state(hass, problem, lambda s: s.state == STATE_ON)
    assert state.attributes["faults"] == ["suspected_condenser"]
    appliance_id = paired.appliance.id
    registry = ir.async_get(hass)

    def ours() -> set[str]:
        return {issue_id for (domain, issue_id) in registry.issues if domain == DOMAIN}

    await wait_until(hass, lambda: f"{appliance_id}_fault_suspected_condenser" in ours())
    assert ours() == {f"{appliance_id}_fault_suspected_condenser"}  # one notice, not two
    issue = registry.async_get_issue(DOMAIN, f"{appliance_id}_fault_suspected_condenser")
    assert issue is not None
    assert issue.translation_key == "fault_refrigerator_suspected_condenser"
    assert issue.severity is ir.IssueSeverity.WARNING
    # A row the hub's monitor would call a fault changes nothing: it runs no model.
    assert _issue(hass, paired) is None
    simulator.detector.suspected = None
    await paired.push()
    await wait_until(hass, lambda: not ours())


def test_every_suspected_fault_code_has_its_fault_text_in_both_languages() -> None:
    for language in ("en", "zh-Hans"):
        issues = json.loads((TRANSLATIONS / f"{language}.json").read_text())["issues"]
        for fault in FAULTS:
            text = issues[f"fault_refrigerator_suspected_{fault}"]
            assert "{appliance}" in text["title"], (language, fault)
            assert "{appliance}" in text["description"], (language, fault)


async def test_the_window_is_kept_across_a_reload_and_goes_with_the_entry(
    hass: HomeAssistant, paired_appliance: PairedAppliance, hass_storage: dict[str, Any]
) -> None:
    """48 hours of reports are not lost to a restart; a removed fridge leaves none behind."""
    from custom_components.liuzhou_appliances.neural.fridge_fault import (
        WINDOW_H,
        FridgeObserver,
        FridgeSample,
    )

    monitor = _monitor(paired_appliance)
    now = dt_util.utcnow().timestamp()
    monitor._observer = FridgeObserver()  # what the fridge reported over the last 49 hours
    for minute in range(-(WINDOW_H + 1) * 60, 0, 5):  # the last 49 hours, every 5 minutes
        on = minute % 60 < 20
        monitor._observer.add(
            FridgeSample(
                now + minute * 60, on, 90.0 if on else 1.5, 4.0, 4.0, -18, -18, False, False
            )
        )
    row = monitor._observer.features(now)
    assert row is not None
    monitor._last_hour = None
    monitor._async_pushed()  # a new hour: the window is saved soon

    entry = paired_appliance.entry
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    kept = _monitor(paired_appliance)
    assert kept is not monitor
    restored = kept._observer.features(now)
    assert restored is not None
    # What the unloaded monitor held (its window also took the live fridge's reports).
    held = monitor._observer.features(now)
    assert held is not None
    np.testing.assert_array_equal(restored, held)

    key = f"{DOMAIN}.fridge_window.{entry.entry_id}"
    await kept._store().async_save(kept._observer.to_json())  # as at shutdown
    assert key in hass_storage
    # What Home Assistant calls when the entry is deleted (the fixture still owns the entry).
    await async_remove_entry(hass, entry)
    assert key not in hass_storage
