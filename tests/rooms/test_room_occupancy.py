"""The HA-free occupancy rules (room_occupancy.py): states, changes, settings per appliance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.liuzhou_appliances.link.model import APPLIANCE_TYPES, ApplianceType
from custom_components.liuzhou_appliances.room_occupancy import (
    NOTHING,
    HouseDefaults,
    RoomPresence,
    RoomState,
    RoomStateError,
    check_transition,
    parse_state,
    room_presence,
    settings_for,
)

NOW = datetime(2026, 7, 15, 6, 0, tzinfo=UTC)
AC = ApplianceType.ROOM_AIR_CONDITIONER


def test_states_parse_and_unknown_ones_are_named() -> None:
    assert parse_state(" Check_Out ") is RoomState.CHECK_OUT
    with pytest.raises(RoomStateError) as raised:
        parse_state("sleeping")
    assert raised.value.code == "invalid_room_state"
    assert "sleeping" in raised.value.detail


@pytest.mark.parametrize(
    ("current", "wanted", "changes"),
    [
        (RoomState.VACANT, RoomState.ARRIVING, True),
        (RoomState.VACANT, RoomState.OCCUPIED, True),
        (RoomState.ARRIVING, RoomState.ARRIVING, True),  # a new arrival time
        (RoomState.ARRIVING, RoomState.VACANT, True),
        (RoomState.OCCUPIED, RoomState.CHECK_OUT, True),
        (RoomState.OCCUPIED, RoomState.OCCUPIED, False),  # a repeated message
        (RoomState.VACANT, RoomState.VACANT, False),
    ],
)
def test_allowed_changes(current: RoomState, wanted: RoomState, changes: bool) -> None:
    assert check_transition(current, wanted) is changes


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (RoomState.VACANT, RoomState.CHECK_OUT),
        (RoomState.ARRIVING, RoomState.CHECK_OUT),
        (RoomState.OCCUPIED, RoomState.VACANT),  # a stay ends through check-out only
        (RoomState.OCCUPIED, RoomState.ARRIVING),
    ],
)
def test_changes_not_allowed_name_both_states(current: RoomState, wanted: RoomState) -> None:
    with pytest.raises(RoomStateError) as raised:
        check_transition(current, wanted)
    assert raised.value.code == "invalid_room_transition"
    assert str(current) in raised.value.detail
    assert str(wanted) in raised.value.detail


def test_house_defaults_from_options_and_bad_values() -> None:
    defaults = HouseDefaults.from_options({"house_ac_target": "24.5", "house_vacant_ac": "setback"})
    assert defaults.ac_target == 24.5
    assert defaults.vacant_ac == "setback"
    assert defaults.fridge_target == HouseDefaults().fridge_target
    for options in (
        {"house_ac_target": 35},
        {"house_ac_mode": "turbo"},
        {"house_freezer_target": "cold"},
        {"house_fridge_target": 0},
    ):
        with pytest.raises(RoomStateError) as raised:
            HouseDefaults.from_options(options)
        assert raised.value.code == "invalid_house_defaults"


def test_vacant_rooms_save_energy() -> None:
    assert settings_for(RoomState.VACANT, AC, HouseDefaults(), now=NOW).writes == {"on": False}
    setback = HouseDefaults(vacant_ac="setback", setback_target=29)
    assert settings_for(RoomState.VACANT, AC, setback, now=NOW).writes == {
        "on": True,
        "mode": "cool",
        "target_temperature": 29,
    }
    fridge = settings_for(RoomState.VACANT, ApplianceType.REFRIGERATOR, HouseDefaults(), now=NOW)
    assert fridge.writes == {"mode": "eco"}
    assert settings_for(RoomState.VACANT, ApplianceType.DISHWASHER, HouseDefaults(), now=NOW) == (
        NOTHING
    )


def test_arriving_starts_the_ac_the_lead_before_the_arrival() -> None:
    lead = timedelta(minutes=15)
    later = settings_for(
        RoomState.ARRIVING,
        AC,
        HouseDefaults(),
        now=NOW,
        arrival=NOW + timedelta(hours=2),
        lead=lead,
    )
    assert later.at == NOW + timedelta(hours=2) - lead
    assert later.writes["on"] is True
    assert later.writes["target_temperature"] == HouseDefaults().ac_target
    # Within the lead, or without an arrival time: at once.
    soon = settings_for(
        RoomState.ARRIVING,
        AC,
        HouseDefaults(),
        now=NOW,
        arrival=NOW + timedelta(minutes=10),
        lead=lead,
    )
    assert soon.at is None
    assert settings_for(RoomState.ARRIVING, AC, HouseDefaults(), now=NOW).at is None


def test_occupied_leaves_the_ac_to_the_guest() -> None:
    assert settings_for(RoomState.OCCUPIED, AC, HouseDefaults(), now=NOW) == NOTHING


def test_check_out_resets_every_writable_setting_a_guest_may_change() -> None:
    defaults = HouseDefaults(ac_target=25, fridge_target=5)
    ac = settings_for(RoomState.CHECK_OUT, AC, defaults, now=NOW)
    assert ac.writes["on"] is False
    assert ac.writes["target_temperature"] == 25
    writable = {a.key for a in APPLIANCE_TYPES[AC].attributes if a.writable}
    assert set(ac.writes) == writable  # nothing a guest can set is left as they set it
    fridge = settings_for(RoomState.CHECK_OUT, ApplianceType.REFRIGERATOR, defaults, now=NOW)
    assert fridge.writes["fridge_target_temperature"] == 5
    washer = settings_for(RoomState.CHECK_OUT, ApplianceType.LAUNDRY_WASHER, defaults, now=NOW)
    assert washer.cancel_delayed_start
    assert not washer.empty


def test_what_each_state_means_to_the_rooms_ac_controller() -> None:
    """Occupied, and arriving without a time or past it (the AC was started at once):
    occupied. Arriving with a time ahead: empty, that arrival next. Vacant, check-out: empty."""
    ahead, past = NOW + timedelta(hours=2), NOW - timedelta(minutes=1)
    assert room_presence(RoomState.OCCUPIED, None, NOW) == RoomPresence(RoomState.OCCUPIED, True)
    assert room_presence(RoomState.ARRIVING, None, NOW).occupied
    assert room_presence(RoomState.ARRIVING, past, NOW) == RoomPresence(RoomState.ARRIVING, True)
    assert room_presence(RoomState.ARRIVING, ahead, NOW) == RoomPresence(
        RoomState.ARRIVING, False, ahead
    )
    for state in (RoomState.VACANT, RoomState.CHECK_OUT):
        assert room_presence(state, ahead, NOW) == RoomPresence(state, False)
    assert room_presence(RoomState.VACANT, None, NOW).reason == "room_vacant"
