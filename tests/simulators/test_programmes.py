"""Washer and dishwasher: programme energy and timing, options, the operational state machine."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.liuzhou_appliances.link.errors import ErrorCode, LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.simulators import DishwasherSimulator, WasherSimulator, create_simulator
from firmware_bridge.simulators.wet_cycle import (
    NOMINAL_AMBIENT_C,
    NOMINAL_INLET_C,
    WetApplianceSimulator,
)

from .conftest import assert_valid, run_until

NOMINAL: dict[str, Any] = {"inlet_water_c": NOMINAL_INLET_C, "ambient_c": NOMINAL_AMBIENT_C}


def _washer(**options: Any) -> WasherSimulator:
    simulator = create_simulator(ApplianceType.LAUNDRY_WASHER, **{**NOMINAL, **options})
    assert isinstance(simulator, WasherSimulator)
    return simulator


def _dishwasher(**options: Any) -> DishwasherSimulator:
    simulator = create_simulator(ApplianceType.DISHWASHER, **{**NOMINAL, **options})
    assert isinstance(simulator, DishwasherSimulator)
    return simulator


def _run(
    simulator: WetApplianceSimulator, dt: float = 30.0, **settings: str
) -> tuple[float, float, list[str]]:
    """Run a programme to the end: kWh used, seconds taken, phases in order."""
    for key, value in settings.items():
        simulator.write(key, value)
    energy = simulator.energy_kwh
    simulator.command("start", {})
    phases: list[str] = []
    elapsed = 0.0
    while simulator.values()["operational_state"] != "finished":
        phase = simulator.values()["phase"]
        assert isinstance(phase, str)
        if not phases or phases[-1] != phase:
            phases.append(phase)
        simulator.step(dt)
        elapsed += dt
        assert elapsed < 6 * 3600
    return simulator.energy_kwh - energy, elapsed, phases


def _state(simulator: WetApplianceSimulator) -> str:
    state = simulator.values()["operational_state"]
    assert isinstance(state, str)
    return state


def _invalid_state(action: Any, *args: Any) -> None:
    with pytest.raises(LinkError) as caught:
        action(*args)
    assert caught.value.code is ErrorCode.INVALID_STATE


# --- energy and timing ----------------------------------------------------------------


@pytest.mark.parametrize("appliance_type", [ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER])
def test_every_programme_does_what_its_declaration_says(appliance_type: ApplianceType) -> None:
    for programme in create_simulator(appliance_type).declaration.programmes:
        simulator = create_simulator(appliance_type, **NOMINAL)
        assert isinstance(simulator, WetApplianceSimulator)
        kwh, seconds, _ = _run(simulator, programme=programme.id)
        assert kwh == pytest.approx(programme.energy_kwh, rel=0.10), programme.id
        assert seconds == pytest.approx(programme.duration_s, rel=0.10, abs=60), programme.id
        profile_kwh = sum(s * w for s, w in programme.profile) / 3.6e6
        assert profile_kwh == pytest.approx(programme.energy_kwh, rel=0.02)


@pytest.mark.parametrize(
    ("programme", "temperature", "low", "high", "max_minutes"),
    [
        ("eco_40_60", "40", 0.7, 0.9, 240),
        ("cotton", "60", 1.2, 1.5, 150),
        ("quick", "30", 0.2, 0.4, 40),
    ],
)
def test_washer_energy_is_like_real_8_kg_washers(
    programme: str, temperature: str, low: float, high: float, max_minutes: int
) -> None:
    kwh, seconds, _ = _run(_washer(), programme=programme, water_temperature=temperature)
    assert low <= kwh <= high
    assert seconds <= max_minutes * 60


@pytest.mark.parametrize(
    ("programme", "low", "high"),
    [("eco", 0.8, 0.95), ("intensive", 1.4, 1.7), ("quick", 0.6, 0.8)],
)
def test_dishwasher_energy_is_like_real_13_place_dishwashers(
    programme: str, low: float, high: float
) -> None:
    kwh, _, _ = _run(_dishwasher(), programme=programme)
    assert low <= kwh <= high


def test_washer_options_matter() -> None:
    def kwh(**settings: str) -> float:
        return _run(_washer(), dt=60.0, **settings)[0]

    temperatures = [kwh(water_temperature=t) for t in ("cold", "30", "40", "60", "90")]
    assert temperatures == sorted(temperatures)
    assert temperatures[-1] > 2.5 * temperatures[0]
    slow_spin, slow_seconds, _ = _run(_washer(), dt=60.0, spin_speed="400")
    fast_spin, fast_seconds, _ = _run(_washer(), dt=60.0, spin_speed="1400")
    assert fast_spin > slow_spin
    assert fast_seconds > slow_seconds
    rinses = [kwh(rinses=r) for r in ("none", "normal", "extra", "max")]
    assert rinses == sorted(rinses)
    # Liuzhou's summer tap water (~27 °C) saves most of the heating.
    summer = create_simulator(ApplianceType.LAUNDRY_WASHER, season="summer")
    assert isinstance(summer, WasherSimulator)
    assert _run(summer, dt=60.0)[0] < 0.8 * kwh()


def test_energy_does_not_depend_on_the_step_size() -> None:
    fine = _run(_washer(), dt=1.0, programme="quick")
    coarse = _run(_washer(), dt=60.0, programme="quick")
    assert fine[0] == pytest.approx(coarse[0], rel=0.01)
    assert fine[1] == pytest.approx(coarse[1], abs=60.0)


# --- phases, countdown, door lock -------------------------------------------------------


def test_washer_runs_through_its_phases_with_a_countdown() -> None:
    # The physics' own countdown; the firmware's estimate is tested in tests/firmware_bridge.
    washer = _washer(remaining="physics")
    washer.write("programme", "cotton")
    washer.write("water_temperature", "60")
    declared = washer.values()["remaining_time"]
    assert isinstance(declared, int)
    assert 110 * 60 <= declared <= 150 * 60
    washer.command("start", {})
    phases: list[str] = []
    last_remaining = declared
    while _state(washer) == "running":
        values = assert_valid(washer)
        assert values["door_locked"] is True
        remaining = values["remaining_time"]
        assert isinstance(remaining, int)
        assert remaining <= last_remaining + 1
        last_remaining = remaining
        if not phases or phases[-1] != values["phase"]:
            phases.append(str(values["phase"]))
        washer.step(20.0)
    assert phases == ["filling", "heating", "washing", "rinsing", "spinning"]
    values = assert_valid(washer)
    assert values["operational_state"] == "finished"
    assert values["remaining_time"] == 0
    assert values["phase"] == "idle"
    assert values["door_locked"] is False
    assert values["power"] == 1.5


def test_power_profile_is_realistic() -> None:
    washer = _washer()
    washer.write("programme", "cotton")
    washer.command("start", {})
    by_phase: dict[str, list[float]] = {}
    while _state(washer) == "running":
        washer.step(10.0)
        power = washer.values()["power"]
        assert isinstance(power, float)
        by_phase.setdefault(str(washer.values()["phase"]), []).append(power)
    assert min(by_phase["heating"]) >= 2000.0  # heater plus tumbling
    assert max(by_phase["heating"]) <= 2200.0
    assert 100.0 <= sum(by_phase["washing"]) / len(by_phase["washing"]) <= 700.0
    assert 500.0 <= max(by_phase["spinning"]) <= 600.0


def test_dishwasher_phases() -> None:
    _, _, phases = _run(_dishwasher(), dt=20.0, programme="eco")
    assert phases == ["pre_wash", "washing", "rinsing", "drying"]
    _, _, phases = _run(_dishwasher(), dt=20.0, programme="quick")
    assert phases == ["washing", "rinsing", "drying"]


def test_door_stays_locked_while_hot_and_paused() -> None:
    washer = _washer()
    washer.write("water_temperature", "60")
    washer.command("start", {})
    run_until(washer, lambda: washer.values()["phase"] == "washing", dt=30.0)
    washer.command("pause", {})
    assert washer.values()["door_locked"] is True  # 60 °C water behind the door
    washer.step(2 * 3600.0)
    assert washer.values()["door_locked"] is True  # the insulated tub cools slowly
    washer.step(6 * 3600.0)
    assert washer.values()["door_locked"] is False  # cooled: laundry may be added
    washer.command("resume", {})
    run_until(washer, lambda: washer.values()["phase"] == "rinsing", dt=30.0)
    washer.command("pause", {})
    assert washer.values()["door_locked"] is True  # still draining the hot wash water
    washer.command("resume", {})
    washer.step(300.0)  # drain, spin, cold fill
    washer.command("pause", {})
    assert washer.values()["door_locked"] is False  # cold rinse water


# --- delayed start ------------------------------------------------------------------


def test_delayed_start_counts_down_then_runs() -> None:
    washer = _washer(remaining="physics")  # the run takes exactly what was announced
    washer.write("programme", "quick")
    duration = washer.values()["remaining_time"]
    assert isinstance(duration, int)
    washer.command("start", {"delay_s": 3600})
    values = assert_valid(washer)
    assert values["operational_state"] == "running"
    assert values["phase"] == "idle"
    assert values["delay_remaining"] == 3600
    assert values["remaining_time"] == 3600 + duration
    assert values["door_locked"] is False
    washer.step(1800.0)
    values = washer.values()
    assert values["delay_remaining"] == 1800
    assert values["power"] == 1.5
    washer.step(1801.0)
    values = washer.values()
    assert values["delay_remaining"] == 0
    assert values["phase"] == "filling"
    assert values["door_locked"] is True
    taken = run_until(washer, lambda: _state(washer) == "finished", dt=10.0)
    assert taken == pytest.approx(duration, abs=30)


def test_finish_in_derives_the_delay() -> None:
    washer = _washer()
    washer.write("programme", "eco_40_60")
    washer.command("start", {"finish_in_s": 8 * 3600})
    taken = run_until(washer, lambda: _state(washer) == "finished", dt=30.0)
    assert taken == pytest.approx(8 * 3600, abs=60)


def test_impossible_delays_are_refused() -> None:
    washer = _washer()
    washer.write("programme", "cotton")
    with pytest.raises(LinkError) as caught:
        washer.command("start", {"finish_in_s": 1800})
    assert caught.value.code is ErrorCode.OUT_OF_RANGE
    with pytest.raises(LinkError) as caught:
        washer.command("start", {"delay_s": 86400 + 60})
    assert caught.value.code is ErrorCode.OUT_OF_RANGE
    with pytest.raises(LinkError) as caught:
        washer.command("start", {"delay_s": 10, "finish_in_s": 9000})
    assert caught.value.code is ErrorCode.MALFORMED
    assert _state(washer) == "stopped"


# --- the operational state machine ----------------------------------------------------


def test_state_machine_follows_matter_operational_state() -> None:
    washer = _washer()
    _invalid_state(washer.command, "pause", {})
    _invalid_state(washer.command, "resume", {})
    washer.command("stop", {})  # stopping a stopped machine is fine
    washer.command("start", {})
    assert _state(washer) == "running"
    washer.command("start", {})  # already running: no error, no action
    _invalid_state(washer.command, "start", {"delay_s": 60})
    washer.command("resume", {})  # running: no-op
    _invalid_state(washer.write, "programme", "quick")
    washer.step(600.0)
    washer.command("pause", {})
    washer.command("pause", {})
    assert _state(washer) == "paused"
    remaining = washer.values()["remaining_time"]
    washer.step(600.0)
    assert washer.values()["power"] == 4.0  # the display and controller only
    assert washer.values()["remaining_time"] >= remaining  # type: ignore[operator]
    _invalid_state(washer.command, "start", {})
    _invalid_state(washer.write, "spin_speed", "800")
    washer.command("resume", {})
    assert _state(washer) == "running"
    washer.command("stop", {})
    values = washer.values()
    assert values["operational_state"] == "stopped"
    assert values["phase"] == "idle"
    assert values["door_locked"] is False
    washer.write("programme", "quick")  # allowed again
    _run(washer, dt=60.0)
    assert _state(washer) == "finished"
    _invalid_state(washer.command, "pause", {})
    washer.write("programme", "wool")  # settings may change once finished
    washer.command("start", {})
    assert _state(washer) == "running"


def test_fault_puts_the_machine_in_error_and_clearing_lets_it_resume() -> None:
    washer = _washer()
    washer.write("programme", "quick")
    washer.command("start", {})
    washer.step(300.0)
    washer.inject_fault("drain")
    values = washer.values()
    assert values["operational_state"] == "error"
    assert values["faults"] == ["drain"]
    _invalid_state(washer.command, "start", {})
    _invalid_state(washer.command, "resume", {})
    _invalid_state(washer.command, "pause", {})
    phase = values["phase"]
    washer.step(600.0)
    assert washer.values()["phase"] == phase  # frozen
    washer.clear_fault("drain")
    assert _state(washer) == "paused"
    washer.command("resume", {})
    run_until(washer, lambda: _state(washer) == "finished", dt=30.0)


def test_stop_in_error_ends_the_cycle_but_the_error_stays_until_cleared() -> None:
    dishwasher = _dishwasher()
    dishwasher.inject_fault("leak")
    assert _state(dishwasher) == "error"
    dishwasher.clear_fault("leak")
    assert _state(dishwasher) == "stopped"
    dishwasher.command("start", {})
    dishwasher.step(900.0)
    dishwasher.inject_fault("heater")
    dishwasher.command("stop", {})
    assert _state(dishwasher) == "error"
    dishwasher.clear_fault("heater")
    assert _state(dishwasher) == "stopped"


def test_washer_option_limits_follow_the_programme() -> None:
    washer = _washer()
    washer.write("programme", "wool")
    values = washer.values()
    assert values["water_temperature"] == "30"
    assert values["spin_speed"] == "800"
    for key, value in (("water_temperature", "60"), ("spin_speed", "1400")):
        with pytest.raises(LinkError) as caught:
            washer.write(key, value)
        assert caught.value.code is ErrorCode.OUT_OF_RANGE
    washer.write("programme", "eco_40_60")
    with pytest.raises(LinkError):
        washer.write("water_temperature", "cold")


# --- dishwasher specifics -------------------------------------------------------------


def test_dishwasher_door_pauses_and_blocks_start() -> None:
    dishwasher = _dishwasher()
    dishwasher.open_door()
    _invalid_state(dishwasher.command, "start", {})
    assert dishwasher.values()["door_open"] is True
    dishwasher.close_door()
    dishwasher.command("start", {})
    dishwasher.step(1200.0)
    dishwasher.open_door()
    assert _state(dishwasher) == "paused"
    _invalid_state(dishwasher.command, "resume", {})
    dishwasher.close_door()
    dishwasher.command("resume", {})
    assert _state(dishwasher) == "running"


def test_dishwasher_consumables_run_low_and_refill() -> None:
    dishwasher = _dishwasher(rinse_aid_cycles=3, salt_cycles=2)
    _run(dishwasher, dt=120.0, programme="pre_rinse")  # uses neither
    for _ in range(2):
        _run(dishwasher, dt=120.0, programme="quick")
    values = dishwasher.values()
    assert values["salt_low"] is True
    assert values["rinse_aid_low"] is False
    _run(dishwasher, dt=120.0)
    assert dishwasher.values()["rinse_aid_low"] is True
    dishwasher.refill("salt")
    values = dishwasher.values()
    assert values["salt_low"] is False
    assert values["rinse_aid_low"] is True
    dishwasher.refill()
    assert dishwasher.values()["rinse_aid_low"] is False
    with pytest.raises(ValueError, match="refill"):
        dishwasher.refill("detergent")
    # The counters survive a reboot.
    _run(dishwasher, dt=120.0, programme="quick")
    rebooted = _dishwasher(rinse_aid_cycles=3, salt_cycles=2)
    rebooted.restore_state(dishwasher.export_state())
    assert rebooted.salt_used == 1
    assert rebooted.rinse_aid_used == 1


@pytest.mark.parametrize("make", [_washer, _dishwasher])
def test_durations_are_wall_clock_seconds_at_any_speed(make: Any) -> None:
    """At 10x, a run reports a tenth of its simulated length, and delays are real seconds."""
    simulator: WetApplianceSimulator = make()
    simulated = simulator.expected_duration_s()  # the firmware's estimate (model by default)
    assert simulator.values()["remaining_time"] == pytest.approx(simulated, abs=1)
    simulator.time_scale = 10.0
    assert simulator.values()["remaining_time"] == -(-simulated // 10)
    simulator.command("start", {"delay_s": 600})  # ten wall-clock minutes
    assert simulator.values()["delay_remaining"] == 600
    simulator.step(5990.0)  # 599 wall-clock seconds
    assert simulator.values()["delay_remaining"] == 1
    assert simulator.values()["phase"] == "idle"
    simulator.step(20.0)
    assert simulator.values()["delay_remaining"] == 0
    assert simulator.values()["phase"] != "idle"


def test_finish_in_is_wall_clock_seconds_at_any_speed() -> None:
    simulator = _washer()
    simulator.time_scale = 10.0
    wall_run = simulator.values()["remaining_time"]
    assert isinstance(wall_run, int)
    with pytest.raises(LinkError) as error:
        simulator.command("start", {"finish_in_s": wall_run - 1})
    assert error.value.code is ErrorCode.OUT_OF_RANGE
    assert f"takes {wall_run} s" in error.value.message
    simulator.command("start", {"finish_in_s": wall_run + 300})
    assert simulator.values()["delay_remaining"] == 300
    assert simulator.values()["remaining_time"] == pytest.approx(wall_run + 300, abs=1)
