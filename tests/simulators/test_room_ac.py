"""The room air conditioner in a Liuzhou bedroom: pull-down, holding, heating, modes."""

from __future__ import annotations

from datetime import datetime
import statistics
from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.simulators import RoomAirConditionerSimulator, create_simulator
from firmware_bridge.simulators.climate import humidity_ratio
from firmware_bridge.simulators.room_ac import AirConditionerParameters

from .conftest import assert_valid

JULY_AFTERNOON = datetime(2026, 7, 15, 14, 0)
JANUARY_EVENING = datetime(2026, 1, 15, 18, 0)


def _ac(start: datetime, **options: Any) -> RoomAirConditionerSimulator:
    simulator = create_simulator(ApplianceType.ROOM_AIR_CONDITIONER, start=start, **options)
    assert isinstance(simulator, RoomAirConditionerSimulator)
    return simulator


def _number(simulator: RoomAirConditionerSimulator, key: str) -> float:
    value = simulator.values()[key]
    assert isinstance(value, int | float)
    return float(value)


def _cool(simulator: RoomAirConditionerSimulator, target: float = 26.0) -> None:
    simulator.write("mode", "cool")
    simulator.write("target_temperature", target)
    simulator.write("on", True)


def _pull_down(dt: float = 10.0, **settings: object) -> tuple[float, list[tuple[float, float]]]:
    """Cool a 32 °C room to 26 °C; return the seconds to get within 1 K and
    (temperature, power) every ``dt`` over five hours."""
    ac = _ac(JULY_AFTERNOON, initial_temperature_c=32.0, initial_humidity_pct=65.0)
    for key, value in settings.items():
        ac.write(key, value)  # type: ignore[arg-type]
    _cool(ac)
    reached = None
    trace = []
    for n in range(round(5 * 3600 / dt)):
        ac.step(dt)
        temperature, power = ac.room.air_c, _number(ac, "power")
        trace.append((temperature, power))
        if reached is None and abs(temperature - 26.0) <= 1.0:
            reached = (n + 1) * dt
    assert reached is not None
    return reached, trace


def test_summer_pull_down_reaches_and_holds_the_setpoint() -> None:
    reached, trace = _pull_down()
    assert reached <= 3600.0
    after = trace[round(reached / 10.0) :]
    assert all(abs(temperature - 26.0) <= 1.0 for temperature, _ in after)
    first_20_min = statistics.fmean(power for _, power in trace[:120])
    fourth_hour = statistics.fmean(power for _, power in trace[3 * 360 : 4 * 360])
    # Full cooling draws what a 3.5 kW inverter unit draws on a 33 °C afternoon ...
    assert 1000.0 <= first_20_min <= 1450.0
    # ... and far less once the room (and, slowly, its walls) has cooled.
    assert fourth_hour < 0.75 * first_20_min


def test_pull_down_is_independent_of_the_step_size() -> None:
    fine = _ac(JULY_AFTERNOON, initial_temperature_c=32.0)
    coarse = _ac(JULY_AFTERNOON, initial_temperature_c=32.0)
    _cool(fine)
    _cool(coarse)
    for _ in range(7200):
        fine.step(1.0)
    for _ in range(120):
        coarse.step(60.0)
    assert fine.room.air_c == pytest.approx(coarse.room.air_c, abs=0.2)
    assert fine.energy_kwh == pytest.approx(coarse.energy_kwh, rel=0.03)
    for _ in range(100):
        coarse.step(0.1)
    assert_valid(coarse)


def test_fan_speed_changes_capacity() -> None:
    low, _ = _pull_down(fan_speed="low")
    high, _ = _pull_down(fan_speed="high")
    assert high < low


def test_winter_heating() -> None:
    ac = _ac(JANUARY_EVENING)
    start_temperature = ac.room.air_c
    assert start_temperature < 17.0
    ac.write("mode", "heat")
    ac.write("target_temperature", 22.0)
    ac.write("on", True)
    for _ in range(60):
        ac.step(60.0)
    assert _number(ac, "temperature") >= 21.0
    powers = []
    for _ in range(4 * 60):
        ac.step(60.0)
        assert abs(ac.room.air_c - 22.0) <= 1.0
        powers.append(_number(ac, "power"))
    assert 150.0 < statistics.fmean(powers) < 1000.0
    # Heating dries the room: same moisture, warmer air.
    assert _number(ac, "humidity") < 55


def test_auto_mode_cools_in_summer_and_heats_in_winter() -> None:
    summer = _ac(JULY_AFTERNOON, initial_temperature_c=31.0)
    winter = _ac(JANUARY_EVENING)
    for ac in (summer, winter):
        ac.write("mode", "auto")
        ac.write("target_temperature", 24.0)
        ac.write("on", True)
        ac.step(2 * 3600.0)
        assert abs(ac.room.air_c - 24.0) <= 1.6


def test_off_room_drifts_toward_outdoor_conditions() -> None:
    ac = _ac(datetime(2026, 7, 15, 0, 0), initial_temperature_c=22.0, initial_humidity_pct=50.0)
    t0 = ac.climate_time_s
    outdoor_mean = statistics.fmean(ac.climate.temperature(t0 + h * 3600) for h in range(48))
    moisture_before = ac.room.moisture
    for _ in range(48):
        ac.step(3600.0)
        assert _number(ac, "power") == 2.0
    assert abs(ac.room.air_c - outdoor_mean) < 4.0
    outdoor = ac.climate.outdoor(ac.climate_time_s)
    outdoor_moisture = humidity_ratio(outdoor.temperature_c, outdoor.humidity_pct)
    assert abs(ac.room.moisture - outdoor_moisture) < abs(moisture_before - outdoor_moisture) / 3


def test_dry_mode_removes_moisture_and_fan_only_does_not() -> None:
    results = {}
    for mode in ("dry", "fan_only", "cool"):
        ac = _ac(JULY_AFTERNOON, initial_temperature_c=28.0, initial_humidity_pct=80.0)
        ac.write("mode", mode)
        ac.write("target_temperature", 26.0)
        ac.write("on", True)
        moisture = ac.room.moisture
        energy = 0.0
        for _ in range(120):
            ac.step(60.0)
        energy = ac.energy_kwh
        results[mode] = (moisture - ac.room.moisture, ac.room.air_c, energy)
    dry_removed, dry_temperature, dry_energy = results["dry"]
    fan_removed, fan_temperature, fan_energy = results["fan_only"]
    cool_removed, cool_temperature, cool_energy = results["cool"]
    assert dry_removed > 0.002  # > 2 g/kg in two hours
    assert fan_removed < 0.0005
    assert dry_temperature > cool_temperature  # dry does not chase the setpoint
    assert fan_energy < 0.1  # fan only: tens of watts
    assert dry_energy < cool_energy
    assert cool_removed > 0


def _running(ac: RoomAirConditionerSimulator) -> object:
    return assert_valid(ac)["running_state"]


def test_running_state_says_what_the_unit_does() -> None:
    """Cooling/heating/drying while the compressor runs, fan in fan-only, else idle."""
    summer = _ac(JULY_AFTERNOON, initial_temperature_c=28.0, initial_humidity_pct=70.0)
    assert _running(summer) == "idle"  # off
    _cool(summer)
    assert _running(summer) == "idle"  # on, the compressor not started yet
    summer.step(60.0)
    assert _running(summer) == "cooling"
    # The room is well below a 30 °C setpoint: the compressor rests, the unit is idle.
    summer.write("target_temperature", 30.0)
    summer.step(60.0)
    assert _number(summer, "power") > summer.unit.parameters.standby_w  # the fan turns
    assert _running(summer) == "idle"
    summer.write("mode", "fan_only")
    assert _running(summer) == "fan"
    # Dry runs the compressor (after its restart delay) at low capacity.
    summer.write("mode", "dry")
    summer.write("target_temperature", 26.0)
    summer.step(240.0)
    assert _running(summer) == "drying"
    summer.write("on", False)
    assert _running(summer) == "idle"

    winter = _ac(JANUARY_EVENING)
    winter.write("mode", "heat")
    winter.write("target_temperature", 22.0)
    winter.write("on", True)
    winter.step(60.0)
    assert _running(winter) == "heating"
    winter.write("mode", "auto")  # the room is cold: auto heats
    winter.step(60.0)
    assert _running(winter) == "heating"


def test_eco_saves_energy_and_sleep_lets_the_night_warm_up() -> None:
    def run(**settings: bool) -> RoomAirConditionerSimulator:
        ac = _ac(JULY_AFTERNOON, initial_temperature_c=32.0)
        for key, value in settings.items():
            ac.write(key, value)
        _cool(ac)
        ac.step(6 * 3600.0)
        return ac

    normal, eco, sleep = run(), run(eco=True), run(sleep=True)
    assert eco.energy_kwh < 0.9 * normal.energy_kwh
    assert eco.room.air_c == pytest.approx(27.0, abs=1.0)  # setpoint offset +1 K
    assert sleep.room.air_c == pytest.approx(28.0, abs=1.0)  # +2 K after two hours
    assert sleep.energy_kwh < normal.energy_kwh


def test_cop_falls_with_outdoor_temperature() -> None:
    unit = AirConditionerParameters()
    cops = [unit.cooling_cop(1.0, 27.0, outdoor) for outdoor in (25.0, 30.0, 35.0, 40.0)]
    assert cops == sorted(cops, reverse=True)
    full_load_w = unit.max_cooling_w(35.0) / unit.cooling_cop(1.0, 27.0, 35.0)
    assert 1000.0 <= full_load_w <= 1350.0
    assert unit.cooling_cop(0.4, 26.0, 33.0) > unit.cooling_cop(1.0, 26.0, 33.0)
    assert unit.heating_cop(1.0, 20.0, 7.0) > unit.heating_cop(1.0, 20.0, -5.0)


@pytest.mark.parametrize("fault", ["outdoor_unit", "compressor_overheat"])
def test_compressor_faults_stop_cooling(fault: str) -> None:
    ac = _ac(JULY_AFTERNOON, initial_temperature_c=27.0)
    _cool(ac)
    ac.step(1800.0)
    ac.inject_fault(fault)
    ac.step(1800.0)
    assert _number(ac, "power") < 60.0
    assert ac.values()["faults"] == [fault]
    ac.clear_fault(fault)
    ac.step(1800.0)
    assert _number(ac, "power") > 150.0


def test_refrigerant_low_slows_the_pull_down_and_sensor_fault_freezes_the_reading() -> None:
    healthy = _ac(JULY_AFTERNOON, initial_temperature_c=32.0)
    leaking = _ac(JULY_AFTERNOON, initial_temperature_c=32.0)
    leaking.inject_fault("refrigerant_low")
    for ac in (healthy, leaking):
        _cool(ac)
        ac.step(1800.0)
    assert leaking.room.air_c > healthy.room.air_c + 1.0

    healthy.inject_fault("indoor_sensor")
    reading = _number(healthy, "temperature")
    healthy.step(3600.0)
    assert _number(healthy, "temperature") == reading
    assert healthy.room.air_c != pytest.approx(reading, abs=0.05)
