"""The AC on/off policy: occupied, or an arrival within the preset's pre-conditioning lead."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from custom_components.liuzhou_appliances.energy.ac import ComfortPreset
from custom_components.liuzhou_appliances.energy.ac_policy import (
    BALANCED_LEAD,
    COMFORT_LEAD,
    ECO_LEAD,
    PRECONDITION_LEAD,
    PRECONDITION_LEADS,
    PreconditionPolicy,
    precondition_lead,
)

ARRIVAL = datetime(2026, 7, 15, 18, 0)


def _first_on(policy: PreconditionPolicy, arrival: datetime = ARRIVAL) -> datetime | None:
    """Step a vacant room minute by minute towards ``arrival``: when does the AC start?"""
    now = arrival - timedelta(hours=2)
    while now < arrival:
        if policy.should_run(now, occupied=False, next_arrival=arrival):
            return now
        now += timedelta(minutes=1)
    return None


def test_each_preset_has_its_documented_lead() -> None:
    assert {
        ComfortPreset.COMFORT: timedelta(minutes=30),
        ComfortPreset.BALANCED: timedelta(minutes=15),
        ComfortPreset.ECO: timedelta(minutes=5),
    } == PRECONDITION_LEADS
    assert tuple(precondition_lead(preset) for preset in ("comfort", "balanced", "eco")) == (
        COMFORT_LEAD,
        BALANCED_LEAD,
        ECO_LEAD,
    )
    # The plain constructor keeps working and means the default preset (balanced).
    assert PreconditionPolicy().lead == PRECONDITION_LEAD == BALANCED_LEAD
    assert PreconditionPolicy(lead=timedelta(minutes=20)).lead == timedelta(minutes=20)


@pytest.mark.parametrize(
    ("preset", "minutes_ahead"),
    [(ComfortPreset.COMFORT, 30), (ComfortPreset.BALANCED, 15), (ComfortPreset.ECO, 5)],
)
def test_preset_policy_starts_its_lead_before_the_arrival(
    preset: ComfortPreset, minutes_ahead: int
) -> None:
    policy = PreconditionPolicy.for_preset(preset)
    assert _first_on(policy) == ARRIVAL - timedelta(minutes=minutes_ahead)


def test_once_begun_it_runs_until_the_arrival_and_occupancy_keeps_it_on() -> None:
    policy = PreconditionPolicy.for_preset("eco")
    assert not policy.should_run(ARRIVAL - timedelta(minutes=6), False, ARRIVAL)
    assert policy.should_run(ARRIVAL - timedelta(minutes=5), False, ARRIVAL)
    # A control step that jumps past the lead window still finishes pre-conditioning.
    assert policy.should_run(ARRIVAL - timedelta(seconds=1), False, ARRIVAL)
    assert policy.should_run(ARRIVAL, True, ARRIVAL + timedelta(days=1))  # occupied
    assert not policy.should_run(ARRIVAL + timedelta(hours=14), False, ARRIVAL + timedelta(days=1))
    # Presence only (Home Assistant): no arrival known, so it follows occupancy.
    assert policy.should_run(ARRIVAL, True, None)
    assert not policy.should_run(ARRIVAL, False, None)


def test_bad_preset_or_lead_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown comfort preset 'turbo'.*comfort, balanced, eco"):
        precondition_lead("turbo")
    with pytest.raises(ValueError, match="unknown comfort preset"):
        PreconditionPolicy.for_preset("")
    with pytest.raises(ValueError, match="must not be negative"):
        PreconditionPolicy(lead=timedelta(minutes=-5))
