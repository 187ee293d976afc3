"""Air-conditioner blueprints end to end: load shedding, hotel room, pre-cooling.

The air conditioners are fake climate states; the climate actions are
registered here to update those states as the integration's climate entity
would, so the blueprints see the effect of what they did.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from .conftest import Advance, SetupBlueprint, set_state

LIVING_AC = "climate.living_room"
BEDROOM_AC = "climate.bedroom"
POWER = "sensor.home_power"
AC_PRESETS = ["none", "eco", "sleep"]


@pytest.fixture
def climate_calls(hass: HomeAssistant) -> list[ServiceCall]:
    """Climate actions that update the fake air conditioners' states."""
    calls: list[ServiceCall] = []

    @callback
    def handle(call: ServiceCall) -> None:
        calls.append(call)
        for entity_id in cv.ensure_list(call.data["entity_id"]):
            state = hass.states.get(entity_id)
            assert state is not None
            attributes = dict(state.attributes)
            hvac_mode = state.state
            if call.service == "set_preset_mode":
                attributes["preset_mode"] = call.data["preset_mode"]
            elif call.service == "set_temperature":
                attributes["temperature"] = call.data["temperature"]
                hvac_mode = call.data.get("hvac_mode", hvac_mode)
            elif call.service == "turn_off":
                hvac_mode = "off"
            elif call.service == "turn_on":
                hvac_mode = attributes["last_mode"]
            hass.states.async_set(entity_id, hvac_mode, attributes)

    for service in ("set_preset_mode", "set_temperature", "turn_on", "turn_off"):
        hass.services.async_register("climate", service, handle)
    return calls


async def _air_conditioner(
    hass: HomeAssistant,
    entity_id: str,
    mode: str = "cool",
    temperature: float = 26,
    preset: str = "none",
) -> None:
    await set_state(
        hass,
        entity_id,
        mode,
        {
            "friendly_name": entity_id.split(".")[1].replace("_", " ").title(),
            "temperature": temperature,
            "preset_mode": preset,
            "preset_modes": AC_PRESETS,
            "min_temp": 16,
            "max_temp": 30,
            "last_mode": "cool",
        },
    )


def _ac(hass: HomeAssistant, entity_id: str) -> tuple[str, Any, Any]:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state, state.attributes["preset_mode"], state.attributes["temperature"]


# --- load shedding --------------------------------------------------------------


def _appliance(hass: HomeAssistant, entry: MockConfigEntry, name: str) -> dict[str, str]:
    """Registry entries of a washer-like appliance: status sensor, pause and resume buttons."""
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("liuzhou_appliances", name)},
        name=name.replace("_", " ").title(),
    )
    registry = er.async_get(hass)
    return {
        role: registry.async_get_or_create(
            domain,
            "liuzhou_appliances",
            f"{name}-{role}",
            device_id=device.id,
            suggested_object_id=f"{name}_{role}",
            config_entry=entry,
        ).entity_id
        for role, domain in (("status", "sensor"), ("pause", "button"), ("resume", "button"))
    }


async def test_load_shedding_sheds_in_two_steps_and_restores(
    hass: HomeAssistant,
    setup_blueprint_automation: SetupBlueprint,
    climate_calls: list[ServiceCall],
    phone: list[ServiceCall],
    advance: Advance,
) -> None:
    """Over the limit: ACs eased, then the running washer paused; restored once below for long."""
    presses = async_mock_service(hass, "button", "press")
    entry = MockConfigEntry(domain="liuzhou_appliances")
    entry.add_to_hass(hass)
    washer = _appliance(hass, entry, "washer")
    dishwasher = _appliance(hass, entry, "dishwasher")
    await set_state(hass, washer["status"], "running", {"friendly_name": "Washer Status"})
    await set_state(hass, dishwasher["status"], "stopped")
    await _air_conditioner(hass, LIVING_AC, temperature=26)
    await _air_conditioner(hass, BEDROOM_AC, mode="off")
    await set_state(hass, POWER, "3000")
    await setup_blueprint_automation(
        "load_shedding",
        {
            "power_sensor": POWER,
            "limit_w": 6000,
            "over_seconds": 30,
            "hysteresis_w": 500,
            "restore_seconds": 120,
            "air_conditioners": [LIVING_AC, BEDROOM_AC],
            "ac_action": "eco_and_setpoint",
            "setpoint_offset": 2,
            "stage_seconds": 60,
            "appliance_status": [washer["status"], dishwasher["status"]],
            "pause_buttons": [washer["pause"], dishwasher["pause"]],
            "resume_buttons": [washer["resume"], dishwasher["resume"]],
            "notify_service": "notify.phone",
            "persistent": False,
        },
    )

    await set_state(hass, POWER, "7000")
    await advance(timedelta(seconds=20))
    assert climate_calls == []
    await advance(timedelta(seconds=11))
    # Step 1: the AC that is on goes to eco and 2 °C warmer; the one that is off is left alone.
    assert _ac(hass, LIVING_AC) == ("cool", "eco", 28)
    assert _ac(hass, BEDROOM_AC) == ("off", "none", 26)
    assert len(phone) == 1
    assert "Living Room: eco, 26 → 28 °C" in phone[0].data["message"]
    assert "above the 6000 W limit for 30 s" in phone[0].data["message"]
    assert presses == []

    # Step 2: still over the limit after 60 s: the running washer is paused, not the idle one.
    await set_state(hass, POWER, "6800")
    await advance(timedelta(seconds=61))
    assert [call.data["entity_id"] for call in presses] == [[washer["pause"]]]
    assert len(phone) == 2
    assert "paused: Washer Status" in phone[1].data["message"]
    await set_state(hass, washer["status"], "paused")

    # Below the limit but within the hysteresis: nothing is restored.
    await set_state(hass, POWER, "5800")
    await advance(timedelta(minutes=5))
    assert len(presses) == 1
    # Below for 100 s, then a spike: the 120 s start again.
    await set_state(hass, POWER, "5000")
    await advance(timedelta(seconds=100))
    await set_state(hass, POWER, "6100")
    await set_state(hass, POWER, "5000")
    await advance(timedelta(seconds=100))
    assert len(presses) == 1
    # Someone set the AC to 27 °C meanwhile: that choice is kept, the preset is restored.
    await _air_conditioner(hass, LIVING_AC, temperature=27, preset="eco")
    await advance(timedelta(seconds=21))
    assert [call.data["entity_id"] for call in presses] == [[washer["pause"]], [washer["resume"]]]
    assert _ac(hass, LIVING_AC) == ("cool", "none", 27)
    assert len(phone) == 3
    assert "Power is back at 5000 W" in phone[2].data["message"]


async def test_load_shedding_with_nothing_to_shed_says_so(
    hass: HomeAssistant,
    setup_blueprint_automation: SetupBlueprint,
    climate_calls: list[ServiceCall],
    phone: list[ServiceCall],
    advance: Advance,
) -> None:
    """Over the limit with every AC off: one message explaining it, no restore later."""
    await _air_conditioner(hass, LIVING_AC, mode="off")
    await set_state(hass, POWER, "3000")
    await setup_blueprint_automation(
        "load_shedding",
        {
            "power_sensor": POWER,
            "air_conditioners": [LIVING_AC],
            "notify_service": "notify.phone",
            "persistent": False,
        },
    )
    await set_state(hass, POWER, "9000")
    await advance(timedelta(seconds=31))
    await advance(timedelta(seconds=61))
    assert climate_calls == []
    assert len(phone) == 1
    assert "nothing selected could be shed" in phone[0].data["message"]
    await set_state(hass, POWER, "1000")
    await advance(timedelta(minutes=10))
    assert len(phone) == 1


# --- hotel room -----------------------------------------------------------------

CARD = "binary_sensor.room_801_key_card"


@pytest.mark.parametrize(
    ("vacant_action", "vacant_state"),
    [("eco", ("cool", "eco", 24)), ("off", ("off", "none", 24))],
)
async def test_hotel_room_saves_when_vacant_and_restores_when_occupied(
    hass: HomeAssistant,
    setup_blueprint_automation: SetupBlueprint,
    climate_calls: list[ServiceCall],
    advance: Advance,
    vacant_action: str,
    vacant_state: tuple[str, str, float],
) -> None:
    """Card out for 15 minutes: eco (or off); card back: previous mode, no eco, comfort 26 °C."""
    await set_state(hass, CARD, "on")
    await _air_conditioner(hass, LIVING_AC, temperature=24)
    await setup_blueprint_automation(
        "hotel_room",
        {
            "occupancy_sensor": CARD,
            "air_conditioners": [LIVING_AC],
            "vacant_action": vacant_action,
            "vacant_minutes": 15,
        },
    )
    await set_state(hass, CARD, "off")
    await advance(timedelta(minutes=14))
    assert climate_calls == []
    await advance(timedelta(minutes=1, seconds=1))
    assert _ac(hass, LIVING_AC) == vacant_state

    await set_state(hass, CARD, "on")
    assert _ac(hass, LIVING_AC) == ("cool", "none", 26)


async def test_hotel_room_guest_back_in_time_changes_nothing(
    hass: HomeAssistant,
    setup_blueprint_automation: SetupBlueprint,
    climate_calls: list[ServiceCall],
    advance: Advance,
) -> None:
    """Card out for 5 minutes only: the AC is not touched when it goes out."""
    await set_state(hass, CARD, "on")
    await _air_conditioner(hass, LIVING_AC, temperature=24)
    await setup_blueprint_automation(
        "hotel_room", {"occupancy_sensor": CARD, "air_conditioners": [LIVING_AC]}
    )
    await set_state(hass, CARD, "off")
    await advance(timedelta(minutes=5))
    await set_state(hass, CARD, "unavailable")
    await set_state(hass, CARD, "on")
    await advance(timedelta(minutes=30))
    assert climate_calls == []


# --- pre-cooling ------------------------------------------------------------------


async def test_pre_cooling_lowers_before_the_peak_and_restores_at_it(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_blueprint_automation: SetupBlueprint,
    climate_calls: list[ServiceCall],
    advance: Advance,
) -> None:
    """16:00 the cooling ACs go to 24 °C, at 17:00 back to 26; an AC that is off stays off."""
    freezer.move_to(dt_util.as_utc(dt_util.now().replace(hour=15, minute=50, second=30)))
    await _air_conditioner(hass, LIVING_AC, temperature=26)
    await _air_conditioner(hass, BEDROOM_AC, mode="off")
    await setup_blueprint_automation(
        "pre_cooling",
        {
            "air_conditioners": [LIVING_AC, BEDROOM_AC],
            "peak_start": "17:00:00",
            "precool_minutes": 60,
            "offset": 2,
            "comfort_setpoint": 26,
        },
    )
    await advance(timedelta(minutes=9))
    assert climate_calls == []
    await advance(timedelta(minutes=1))
    assert _ac(hass, LIVING_AC) == ("cool", "none", 24)
    assert _ac(hass, BEDROOM_AC)[0] == "off"

    await advance(timedelta(minutes=59, seconds=30))
    assert _ac(hass, LIVING_AC) == ("cool", "none", 26)
    assert len(climate_calls) == 2


async def test_pre_cooling_waits_for_its_condition(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_blueprint_automation: SetupBlueprint,
    climate_calls: list[ServiceCall],
    advance: Advance,
) -> None:
    """Nobody home at 16:00: no pre-cooling, and so nothing to restore at 17:00."""
    freezer.move_to(dt_util.as_utc(dt_util.now().replace(hour=15, minute=59, second=30)))
    await set_state(hass, "input_boolean.someone_home", "off")
    await _air_conditioner(hass, LIVING_AC, temperature=26)
    await setup_blueprint_automation(
        "pre_cooling",
        {
            "air_conditioners": [LIVING_AC],
            "precondition": [
                {"condition": "state", "entity_id": "input_boolean.someone_home", "state": "on"}
            ],
        },
    )
    await advance(timedelta(minutes=1))
    await advance(timedelta(hours=1))
    assert climate_calls == []


# --- lost connections -------------------------------------------------------------


def _attributes(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    state = hass.states.get(entity_id)
    assert state is not None
    return dict(state.attributes)


async def test_load_shedding_resumes_what_comes_back_after_a_blip(
    hass: HomeAssistant,
    setup_blueprint_automation: SetupBlueprint,
    climate_calls: list[ServiceCall],
    advance: Advance,
) -> None:
    """The paused washer and the eased AC are unavailable when power is back; a minute
    later they return as they were: the washer is resumed and the AC restored."""
    presses = async_mock_service(hass, "button", "press")
    entry = MockConfigEntry(domain="liuzhou_appliances")
    entry.add_to_hass(hass)
    washer = _appliance(hass, entry, "washer")
    await set_state(hass, washer["status"], "running")
    await _air_conditioner(hass, LIVING_AC, temperature=26)
    await set_state(hass, POWER, "3000")
    await setup_blueprint_automation(
        "load_shedding",
        {
            "power_sensor": POWER,
            "limit_w": 6000,
            "restore_seconds": 120,
            "air_conditioners": [LIVING_AC],
            "ac_action": "eco",
            "stage_seconds": 60,
            "appliance_status": [washer["status"]],
            "pause_buttons": [washer["pause"]],
            "resume_buttons": [washer["resume"]],
            "persistent": False,
        },
    )
    await set_state(hass, POWER, "7000")
    await advance(timedelta(seconds=31))
    await advance(timedelta(seconds=61))
    assert [call.data["entity_id"] for call in presses] == [[washer["pause"]]]
    await set_state(hass, washer["status"], "paused")
    assert _ac(hass, LIVING_AC) == ("cool", "eco", 26)

    ac_attributes = _attributes(hass, LIVING_AC)
    await set_state(hass, washer["status"], "unavailable")
    await set_state(hass, LIVING_AC, "unavailable")
    await set_state(hass, POWER, "3000")
    await advance(timedelta(seconds=121))
    assert len(presses) == 1, "nothing decided while they are away"
    await advance(timedelta(seconds=60))
    await set_state(hass, washer["status"], "paused")
    await set_state(hass, LIVING_AC, "cool", ac_attributes)
    assert [call.data["entity_id"] for call in presses] == [[washer["pause"]], [washer["resume"]]]
    assert _ac(hass, LIVING_AC) == ("cool", "none", 26)


async def test_hotel_room_guest_back_during_a_blip_gets_the_room_back(
    hass: HomeAssistant,
    setup_blueprint_automation: SetupBlueprint,
    climate_calls: list[ServiceCall],
    advance: Advance,
) -> None:
    """Card in while the switched-off AC is unavailable: it is switched on when it returns."""
    await set_state(hass, CARD, "on")
    await _air_conditioner(hass, LIVING_AC, temperature=24)
    await setup_blueprint_automation(
        "hotel_room",
        {"occupancy_sensor": CARD, "air_conditioners": [LIVING_AC], "vacant_action": "off"},
    )
    await set_state(hass, CARD, "off")
    await advance(timedelta(minutes=15, seconds=1))
    assert _ac(hass, LIVING_AC)[0] == "off"
    ac_attributes = _attributes(hass, LIVING_AC)
    await set_state(hass, LIVING_AC, "unavailable")
    await set_state(hass, CARD, "on")
    await advance(timedelta(seconds=40))
    await set_state(hass, LIVING_AC, "off", ac_attributes)
    assert _ac(hass, LIVING_AC) == ("cool", "none", 26)


async def test_pre_cooling_restores_an_air_conditioner_that_was_away_at_the_peak(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_blueprint_automation: SetupBlueprint,
    climate_calls: list[ServiceCall],
    advance: Advance,
) -> None:
    """Pre-cooled to 24 °C, unavailable at 17:00, back at 17:01: 26 °C again."""
    freezer.move_to(dt_util.as_utc(dt_util.now().replace(hour=15, minute=59, second=30)))
    await _air_conditioner(hass, LIVING_AC, temperature=26)
    await setup_blueprint_automation(
        "pre_cooling",
        {
            "air_conditioners": [LIVING_AC],
            "peak_start": "17:00:00",
            "precool_minutes": 60,
            "offset": 2,
            "comfort_setpoint": 26,
        },
    )
    await advance(timedelta(seconds=31))
    assert _ac(hass, LIVING_AC) == ("cool", "none", 24)
    ac_attributes = _attributes(hass, LIVING_AC)
    await advance(timedelta(minutes=59))
    await set_state(hass, LIVING_AC, "unavailable")
    await advance(timedelta(seconds=60))
    assert climate_calls[-1].data["temperature"] == 24, "nothing sent while it is away"
    await advance(timedelta(seconds=60))
    await set_state(hass, LIVING_AC, "cool", ac_attributes)
    assert _ac(hass, LIVING_AC) == ("cool", "none", 26)
