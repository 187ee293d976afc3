"""The AC comfort loop, fallbacks, restored switch/preset and load shedding, on real appliances."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from homeassistant.core import HomeAssistant, State
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    mock_restore_cache,
)

from custom_components.liuzhou_appliances.energy.ac_policy import BALANCED_LEAD, ECO_LEAD
from custom_components.liuzhou_appliances.energy_entities import EnergySensor
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.runtime_data import household_energy

from .conftest import PairedAppliance, StartAppliance, wait_until
from .energy_helpers import (
    PRESENCE,
    add_household,
    add_household_with_power_limit,
    appliance_power,
    at_valley_night,
    energy_status,
    entity_id,
    let_a_minute_pass,
    set_energy_optimisation,
    set_home_power,
    wait_long,
)
from .test_declared_entities import model_declaring

# What the AC loop writes depends on the tariff period it runs in (commercial_tou below):
# every test here starts at the same instant instead of the machine's time of day.
pytestmark = at_valley_night


async def _cooling(ac: PairedAppliance) -> None:
    await ac.coordinator.async_write({"on": True, "mode": "cool", "target_temperature": 26.0})
    await ac.push()


async def test_without_household_nothing_acts(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await _cooling(ac)
    await set_energy_optimisation(hass, ac, True)
    await let_a_minute_pass(hass)
    assert energy_status(hass, ac).state == "not_configured"
    assert ac.simulator.values()["fan_speed"] == "auto"
    savings = hass.states.get(entity_id(hass, "sensor", ac.appliance.id, "energy_savings"))
    assert savings is not None
    assert savings.state == "unknown"


async def test_ac_loop_writes_when_enabled_and_hands_back_when_disabled(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    await add_household(hass, tariff="commercial_tou")
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await _cooling(ac)
    # Off: a minute passes, nothing is written.
    await let_a_minute_pass(hass)
    assert energy_status(hass, ac).state == "off"
    assert ac.simulator.values()["fan_speed"] == "auto"
    await set_energy_optimisation(hass, ac, True)
    # The surface compiles in the executor, then the first decision writes the fan.
    await wait_long(hass, lambda: ac.simulator.values()["fan_speed"] != "auto", 60)
    # No occupancy entity set: a normal set-up, not a degraded one.
    status = energy_status(hass, ac)
    assert status.state == "active_no_occupancy"
    assert status.attributes["reason"] == ["no_occupancy_entity"]
    energy = ac.entry.runtime_data.energy
    assert energy.ac_loop.last_decision_ms is not None
    assert status.attributes["decision_ms"] is not None  # shown, not recorded (every minute)
    assert EnergySensor._unrecorded_attributes == frozenset({"decision_ms"})
    # The on/off policy's pre-conditioning lead is the preset's, and follows the select.
    assert energy.ac_loop._policy.lead == BALANCED_LEAD
    select = entity_id(hass, "select", ac.appliance.id, "energy_preset")
    await hass.services.async_call(
        "select", "select_option", {"entity_id": select, "option": "eco"}, blocking=True
    )
    await wait_long(hass, lambda: energy.ac_loop._policy.lead == ECO_LEAD, 60)
    await ac.push()
    await set_energy_optimisation(hass, ac, False)
    values = ac.simulator.values()
    assert values["fan_speed"] == "auto"
    assert values["target_temperature"] == 26.0
    assert energy_status(hass, ac).state == "off"


async def test_degraded_means_a_configured_input_is_missing(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """An occupancy entity that is set and reports: active; set but unknown: degraded."""
    hass.states.async_set(PRESENCE, "on")
    await add_household(hass, tariff="commercial_tou", occupancy_entity=PRESENCE)
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await _cooling(ac)
    await set_energy_optimisation(hass, ac, True)
    await wait_long(hass, lambda: energy_status(hass, ac).state == "active", 60)
    assert energy_status(hass, ac).attributes["reason"] is None
    hass.states.async_set(PRESENCE, "unavailable")
    await let_a_minute_pass(hass)
    status = energy_status(hass, ac)
    assert status.state == "degraded"
    assert status.attributes["reason"] == ["occupancy_missing"]


async def test_inputs_a_model_does_not_have_are_no_degradation(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    """An AC measuring neither humidity nor outdoor temperature runs on the defaults, active."""
    hass.states.async_set(PRESENCE, "on")
    await add_household(hass, tariff="commercial_tou", occupancy_entity=PRESENCE)
    with model_declaring(
        ApplianceType.ROOM_AIR_CONDITIONER,
        capabilities={"target_temperature": {"min": 16, "max": 30, "step": 0.5}},
    ):
        ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await _cooling(ac)
    await set_energy_optimisation(hass, ac, True)
    await wait_long(hass, lambda: energy_status(hass, ac).state == "active", 60)
    reason = energy_status(hass, ac).attributes["reason"]
    assert sorted(reason) == ["no_humidity_sensor", "no_outdoor_sensor"]


async def test_stale_outdoor_sensor_falls_back_without_writing(
    hass: HomeAssistant, start_appliance: StartAppliance, caplog: pytest.LogCaptureFixture
) -> None:
    hass.states.async_set(
        "sensor.outdoor",
        "33.0",
        {"unit_of_measurement": "°C"},
        timestamp=(dt_util.utcnow() - timedelta(hours=3)).timestamp(),
    )
    await add_household(hass, tariff="commercial_tou", outdoor_temperature_entity="sensor.outdoor")
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await _cooling(ac)
    await set_energy_optimisation(hass, ac, True)
    await wait_long(hass, lambda: energy_status(hass, ac).state == "fallback", 60)
    assert energy_status(hass, ac).attributes["reason"] == ["outdoor_temperature_stale"]
    assert "outdoor temperature is 180 min old" in caplog.text  # the details: in the log
    await let_a_minute_pass(hass)
    values = ac.simulator.values()
    assert values["fan_speed"] == "auto"
    assert values["target_temperature"] == 26.0
    # A fresh reading: the controller acts again.
    hass.states.async_set("sensor.outdoor", "33.0", {"unit_of_measurement": "°C"})
    # (a minute at a time: a bigger jump would also fire the link's keepalive timeout)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await wait_long(hass, lambda: ac.simulator.values()["fan_speed"] != "auto", 10)


async def test_switch_and_preset_are_restored(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER, setup=False)
    appliance_id = ac.appliance.id
    suffix = appliance_id.replace("-", "_")
    mock_restore_cache(
        hass,
        [
            State(f"switch.restored_{suffix}", "on"),
            State(f"select.restored_{suffix}", "eco"),
        ],
    )
    from homeassistant.helpers import entity_registry as er

    registry = er.async_get(hass)
    for platform, key in (("switch", "energy_optimisation"), ("select", "energy_preset")):
        registry.async_get_or_create(
            platform,
            "liuzhou_appliances",
            f"{appliance_id}_{key}",
            suggested_object_id=f"restored_{suffix}",
            config_entry=ac.entry,
        )
    await hass.config_entries.async_setup(ac.entry.entry_id)
    await hass.async_block_till_done()
    energy = ac.entry.runtime_data.energy
    assert energy.enabled
    assert str(energy.preset) == "eco"
    assert hass.states.get(f"switch.restored_{suffix}").state == "on"  # type: ignore[union-attr]
    assert hass.states.get(f"select.restored_{suffix}").state == "eco"  # type: ignore[union-attr]


async def test_load_shedding_sheds_in_order_and_restores_in_reverse(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    await add_household_with_power_limit(hass, power="1000", unit="W", limit_kw=3.0, presence="off")
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    await _cooling(ac)
    await ac.appliance.mcu.advance(120)  # the compressor runs: the AC draws power
    await washer.coordinator.async_command("start", {"delay_s": 0})
    await washer.appliance.mcu.advance(300)  # filled, heating
    await wait_until(hass, lambda: appliance_power(ac) > 0)
    await wait_until(hass, lambda: appliance_power(washer) > 500)
    manager = household_energy(hass)
    assert manager is not None
    for machine in (ac, washer):
        await set_energy_optimisation(hass, machine, True)
    ac_power = float(ac.coordinator.data["power"])  # type: ignore[arg-type]
    # Just above the limit by less than the vacant AC's draw: only the AC goes off.
    await set_home_power(hass, str(3000 + ac_power / 2), "W")
    assert ac.simulator.values()["on"] is False
    assert washer.simulator.values()["operational_state"] == "running"
    assert energy_status(hass, ac).state == "shed"
    # Far above: the running washer is paused as well.
    await set_home_power(hass, "9000", "W")
    assert washer.simulator.values()["operational_state"] == "paused"
    assert manager.shedding.last_report is not None
    assert [a.action for a in manager.shedding.last_report.active] == ["ac_vacant_off", "pause_run"]
    # Back under the limit: restored one per update, last shed first.
    await set_home_power(hass, "500", "W")
    assert washer.simulator.values()["operational_state"] == "running"
    assert ac.simulator.values()["on"] is False
    await set_home_power(hass, "400", "W")
    assert ac.simulator.values()["on"] is True
    assert energy_status(hass, ac).state != "shed"


async def test_missing_power_reading_restores_everything(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    hass.states.async_set("sensor.home_power", "1000", {"unit_of_measurement": "kW"})
    await add_household(hass, home_power_entity="sensor.home_power", power_limit_kw=3.0)
    washer = await start_appliance(ApplianceType.LAUNDRY_WASHER)
    await washer.coordinator.async_command("start", {"delay_s": 0})
    await washer.appliance.mcu.advance(300)
    await wait_until(hass, lambda: appliance_power(washer) > 500)
    await set_energy_optimisation(hass, washer, True)
    await set_home_power(hass, "9", "kW")
    assert washer.simulator.values()["operational_state"] == "paused"
    await set_home_power(hass, "unavailable")
    assert washer.simulator.values()["operational_state"] == "running"


async def test_fridge_goes_to_food_safe_targets_and_back(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    await add_household(hass, tariff="commercial_tou")
    fridge = await start_appliance(ApplianceType.REFRIGERATOR)
    before = fridge.simulator.values()
    await set_energy_optimisation(hass, fridge, True)
    values = fridge.simulator.values()
    # Never above the food-safe targets (2 / -21 °C); colder ahead of a dearer period
    # or to pull a compartment measured near its limit down at once.
    assert values["fridge_target_temperature"] <= 2.0
    assert values["freezer_target_temperature"] <= -21.0
    assert values["fridge_target_temperature"] != before["fridge_target_temperature"]
    assert energy_status(hass, fridge).state == "active"
    await fridge.push()
    await set_energy_optimisation(hass, fridge, False)
    values = fridge.simulator.values()
    assert values["fridge_target_temperature"] == before["fridge_target_temperature"]
    assert values["freezer_target_temperature"] == before["freezer_target_temperature"]


async def test_ac_savings_follow_the_documented_estimate(
    hass: HomeAssistant, start_appliance: StartAppliance
) -> None:
    hass.states.async_set("sensor.outdoor", "34.0", {"unit_of_measurement": "°C"})
    await add_household(hass, tariff="commercial_tou", outdoor_temperature_entity="sensor.outdoor")
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await _cooling(ac)
    await ac.appliance.mcu.advance(120)
    await set_energy_optimisation(hass, ac, True)
    await wait_long(hass, lambda: energy_status(hass, ac).state == "active_no_occupancy", 60)
    energy = ac.entry.runtime_data.energy
    # The user's setpoint stays 26 °C; pretend the controller relaxed the unit to 27 °C.
    await ac.coordinator.async_write({"target_temperature": 27.0})
    energy.written["target_temperature"] = 27.0  # as if the loop wrote it
    await ac.push()
    await wait_until(hass, lambda: ac.coordinator.data.get("target_temperature") == 27.0)
    power = float(ac.coordinator.data["power"])  # type: ignore[arg-type]
    energy.savings.last_tick = dt_util.utcnow() - timedelta(minutes=5)  # one loop period
    manager = household_energy(hass)
    assert manager is not None
    price = manager.price_now(dt_util.utcnow())
    assert price is not None
    await energy.async_tick()
    # Power scales with the outdoor-to-target gap: 8 K at the setpoint vs 7 K now.
    expected = power * (8 / 7 - 1) * 300 / 3.6e6 * price
    assert power > 0
    assert energy.savings.total == pytest.approx(expected, rel=0.02)


class _Clock:
    """Home Assistant's clock moved forward a minute at a time (the sockets stay real)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = timedelta(0)
        real = dt_util.utcnow
        monkeypatch.setattr(dt_util, "utcnow", lambda: real() + self.offset)
        self._real = real

    async def minute_passes(self, hass: HomeAssistant) -> None:
        # (a minute at a time: a bigger jump would also fire the link's keepalive timeout)
        self.offset += timedelta(seconds=61)
        async_fire_time_changed(hass, self._real() + timedelta(seconds=61))
        for _ in range(20):  # real time for the keepalive ping's answer
            await asyncio.sleep(0.01)
            await hass.async_block_till_done()


async def _cooling_ac_in_a_vacant_room(
    hass: HomeAssistant, start_appliance: StartAppliance, next_arrival_entity: str
) -> PairedAppliance:
    """A cooling AC (optimisation still off) in a vacant room whose household expects the
    next arrival from ``next_arrival_entity``."""
    hass.states.async_set(PRESENCE, "off")
    await add_household(
        hass,
        tariff="commercial_tou",
        occupancy_entity=PRESENCE,
        next_arrival_entity=next_arrival_entity,
    )
    ac = await start_appliance(ApplianceType.ROOM_AIR_CONDITIONER)
    await _cooling(ac)
    return ac


async def test_next_arrival_entity_starts_conditioning_the_presets_lead_before_it(
    hass: HomeAssistant, start_appliance: StartAppliance, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrival = (dt_util.now() + timedelta(minutes=20)).replace(microsecond=0)
    hass.states.async_set("input_datetime.check_in", arrival.strftime("%Y-%m-%d %H:%M:%S"))
    ac = await _cooling_ac_in_a_vacant_room(hass, start_appliance, "input_datetime.check_in")
    clock = _Clock(monkeypatch)
    await set_energy_optimisation(hass, ac, True)  # balanced: a 15-minute lead
    await wait_long(hass, lambda: ac.simulator.values()["fan_speed"] != "auto", 60)
    energy = ac.entry.runtime_data.energy
    vacant = dict(ac.simulator.values())
    assert vacant["target_temperature"] > 26.0  # set back: nobody is coming yet
    for _ in range(4):  # up to 4 min 4 s: the arrival is still more than 15 minutes away
        await clock.minute_passes(hass)
        await ac.push()
        assert energy.ac_loop._policy._preconditioning_for is None
        assert ac.simulator.values()["target_temperature"] == vacant["target_temperature"]
    await clock.minute_passes(hass)  # 5 min 5 s: within the lead
    assert energy.ac_loop._policy._preconditioning_for == arrival
    await wait_until(hass, lambda: ac.simulator.values()["target_temperature"] <= 26.0)
    assert ac.simulator.values()["on"] is True
    assert "arrival" not in str(energy_status(hass, ac).attributes["reason"])


@pytest.mark.parametrize(
    ("state", "problem", "reason"),
    [
        ("unavailable", "is unavailable", "next_arrival_unavailable"),
        ("tomorrow evening", "not a date and time", "next_arrival_invalid"),
        ("2020-01-01 12:00:00", "in the past", "next_arrival_past"),
    ],
)
async def test_unusable_next_arrival_is_no_arrival_logged_once_and_in_the_reason(
    hass: HomeAssistant,
    start_appliance: StartAppliance,
    caplog: pytest.LogCaptureFixture,
    state: str,
    problem: str,
    reason: str,
) -> None:
    hass.states.async_set("sensor.check_in", state, {"device_class": "timestamp"})
    ac = await _cooling_ac_in_a_vacant_room(hass, start_appliance, "sensor.check_in")
    await set_energy_optimisation(hass, ac, True)
    await wait_long(hass, lambda: energy_status(hass, ac).state == "degraded", 60)
    assert reason in energy_status(hass, ac).attributes["reason"]
    assert ac.simulator.values()["target_temperature"] > 26.0  # vacant, nobody expected
    await let_a_minute_pass(hass)
    assert caplog.text.count("next arrival from sensor.check_in") == 1
    assert problem in caplog.text
    # A usable arrival within the lead: conditioning for it, and the reason clears.
    soon = (dt_util.utcnow() + timedelta(minutes=10)).isoformat()
    hass.states.async_set("sensor.check_in", soon, {"device_class": "timestamp"})
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=122))
    await hass.async_block_till_done()
    assert "arrival" not in str(energy_status(hass, ac).attributes["reason"])
