"""The fridge-freezer: holding temperatures, duty cycle, energy, door, defrost, modes."""

from __future__ import annotations

from datetime import datetime
import math
import statistics
from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.declaration import Declaration
from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.simulators import RefrigeratorSimulator, create_simulator

from .conftest import assert_valid

JULY = datetime(2026, 7, 15)


def _fridge(**options: Any) -> RefrigeratorSimulator:
    simulator = create_simulator(ApplianceType.REFRIGERATOR, start=JULY, **options)
    assert isinstance(simulator, RefrigeratorSimulator)
    return simulator


def _day(fridge: RefrigeratorSimulator, dt: float = 10.0) -> dict[str, float]:
    """Run one day; return mean temperatures, duty cycle, energy and opening count."""
    energy, run = fridge.energy_kwh, fridge.model.run_s
    fridge_temps, freezer_temps, openings, was_open = [], [], 0, False
    for _ in range(round(86400 / dt)):
        fridge.step(dt)
        values = assert_valid(fridge)
        fridge_temps.append(fridge.model.fridge_air_c)
        freezer_temps.append(fridge.model.freezer_c)
        openings += bool(values["door_open"]) and not was_open
        was_open = bool(values["door_open"])
    return {
        "fridge": statistics.fmean(fridge_temps),
        "fridge_max": max(fridge_temps),
        "freezer": statistics.fmean(freezer_temps),
        "duty": (fridge.model.run_s - run) / 86400,
        "kwh": fridge.energy_kwh - energy,
        "openings": openings,
    }


def test_holds_setpoints_over_a_day_with_door_openings() -> None:
    fridge = _fridge(ambient_c=30.0)
    fridge.step(86400.0)  # settle into the daily rhythm
    day = _day(fridge)
    assert day["openings"] >= 15
    assert day["fridge"] == pytest.approx(4.0, abs=1.0)
    assert day["fridge_max"] < 10.0
    assert day["freezer"] == pytest.approx(-18.0, abs=1.5)
    assert 0.30 <= day["duty"] <= 0.60
    assert 250 <= day["kwh"] * 365 <= 420


def test_cooler_kitchen_uses_less_energy_and_the_default_kitchen_is_liuzhou_summer() -> None:
    cool = _fridge(ambient_c=22.0)
    hot = _fridge()  # the unconditioned kitchen of the July climate (~30 °C)
    for fridge in (cool, hot):
        fridge.step(86400.0)
    cool_day, hot_day = _day(cool, dt=60.0), _day(hot, dt=60.0)
    assert cool_day["kwh"] < 0.85 * hot_day["kwh"]
    assert cool_day["duty"] < hot_day["duty"]


def test_step_size_does_not_change_the_outcome() -> None:
    fine, coarse = _fridge(ambient_c=30.0), _fridge(ambient_c=30.0)
    for _ in range(6 * 3600):
        fine.step(1.0)
    for _ in range(6 * 60):
        coarse.step(60.0)
    assert fine.energy_kwh == pytest.approx(coarse.energy_kwh, rel=0.05)
    assert fine.model.freezer_c == pytest.approx(coarse.model.freezer_c, abs=1.5)


def test_door_left_open_warms_the_fridge_and_raises_the_alarm() -> None:
    fridge = _fridge(ambient_c=30.0, random_door_openings=False)
    fridge.step(3 * 3600.0)
    before = fridge.model.fridge_air_c
    fridge.open_door()
    fridge.step(30.0)
    values = fridge.values()
    assert values["door_open"] is True
    assert values["door_alarm"] is False
    fridge.step(35.0)
    assert fridge.values()["door_alarm"] is True
    fridge.step(120.0)
    assert fridge.model.fridge_air_c > before + 3.0
    fridge.close_door()
    values = fridge.values()
    assert values["door_open"] is False
    assert values["door_alarm"] is False
    fridge.step(3600.0)
    assert fridge.model.fridge_air_c < before + 2.0


def test_door_alarm_delay_is_configurable() -> None:
    fridge = _fridge(random_door_openings=False, door_alarm_after_s=20.0)
    fridge.open_door()
    fridge.step(25.0)
    assert fridge.values()["door_alarm"] is True


def test_defrost_cycles_come_with_the_heater() -> None:
    fridge = _fridge(ambient_c=30.0)
    defrosts, heater_seen, was = 0, False, False
    for _ in range(3 * 24 * 60):
        fridge.step(60.0)
        values = fridge.values()
        if values["defrost_active"]:
            assert values["compressor_running"] is False
            power = values["power"]
            assert isinstance(power, float)
            heater_seen = heater_seen or 170.0 <= power <= 200.0
        defrosts += bool(values["defrost_active"]) and not was
        was = bool(values["defrost_active"])
    # One defrost per ~10 h of compressor run at ~45 % duty: every ~22 h.
    assert 2 <= defrosts <= 5
    assert heater_seen


def test_modes_change_the_setpoints() -> None:
    fridge = _fridge(ambient_c=28.0, random_door_openings=False)
    fridge.write("mode", "vacation")
    with pytest.raises(LinkError) as caught:
        fridge.write("fridge_target_temperature", 3.0)
    assert caught.value.code is ErrorCode.INVALID_STATE
    fridge.step(3 * 86400.0)  # the contents warm slowly, leakage alone is ~1 W/K
    assert fridge.model.fridge_air_c == pytest.approx(15.0, abs=1.5)

    fridge.write("mode", "quick_freeze")
    with pytest.raises(LinkError) as caught:
        fridge.write("freezer_target_temperature", -20.0)
    assert caught.value.code is ErrorCode.INVALID_STATE
    fridge.step(20 * 3600.0)
    assert fridge.model.freezer_c < -23.0
    fridge.step(7 * 3600.0)
    assert fridge.values()["mode"] == "normal"  # quick freeze ends by itself after 26 h


def test_eco_saves_energy() -> None:
    normal, eco = _fridge(ambient_c=30.0), _fridge(ambient_c=30.0)
    eco.write("mode", "eco")
    for fridge in (normal, eco):
        fridge.step(2 * 86400.0)
    assert eco.energy_kwh < 0.95 * normal.energy_kwh


def test_setpoint_write_is_followed() -> None:
    fridge = _fridge(ambient_c=25.0, random_door_openings=False)
    fridge.write("fridge_target_temperature", 7.0)
    fridge.write("freezer_target_temperature", -22.0)
    fridge.step(86400.0)
    temps = []
    for _ in range(360):
        fridge.step(60.0)
        temps.append((fridge.model.fridge_air_c, fridge.model.freezer_c))
    assert statistics.fmean(t[0] for t in temps) == pytest.approx(7.0, abs=1.0)
    assert statistics.fmean(t[1] for t in temps) == pytest.approx(-22.0, abs=1.5)


def test_compressor_fault_warms_it_and_sensor_fault_freezes_the_reading() -> None:
    fridge = _fridge(ambient_c=30.0, random_door_openings=False)
    fridge.inject_fault("compressor")
    fridge.step(6 * 3600.0)
    assert fridge.values()["compressor_running"] is False
    assert fridge.model.fridge_air_c > 8.0

    fridge = _fridge(ambient_c=30.0, random_door_openings=False)
    fridge.step(3600.0)
    fridge.inject_fault("temperature_sensor")
    reading = fridge.values()["fridge_temperature"]
    fridge.step(12 * 3600.0)
    assert fridge.values()["fridge_temperature"] == reading
    # The timed fallback keeps food safe.
    assert fridge.model.fridge_air_c < 8.0
    assert fridge.model.freezer_c < -12.0


def test_fridge_without_freezer() -> None:
    reference = _fridge().declaration.to_dict()
    for key in ("freezer_temperature", "freezer_target_temperature"):
        del reference["capabilities"][key]
    declaration = Declaration.from_dict({**reference, "model": "SIM-BC-120"})
    fridge = _fridge(declaration=declaration, ambient_c=30.0)
    assert "freezer_temperature" not in fridge.values()
    with pytest.raises(LinkError) as caught:
        fridge.write("mode", "quick_freeze")
    assert caught.value.code is ErrorCode.INVALID_STATE
    fridge.step(86400.0)
    day = _day(fridge, dt=60.0)
    assert day["fridge"] == pytest.approx(4.0, abs=1.0)
    assert day["duty"] < 0.5


def test_never_nan_even_with_everything_going_wrong() -> None:
    fridge = _fridge(ambient_c=45.0)
    for code in fridge.declaration.type_spec.fault_codes:
        if code != "temperature_sensor":  # that one freezes the reading
            fridge.inject_fault(code)
    fridge.open_door()
    for _ in range(48):
        fridge.step(3600.0)
        for value in assert_valid(fridge).values():
            assert not (isinstance(value, float) and math.isnan(value))
    # The sensor saturates at its declared range rather than reporting nonsense.
    assert fridge.values()["fridge_temperature"] == 30
