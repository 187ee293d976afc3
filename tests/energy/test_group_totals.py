"""Totals of a changing group of meters (energy/group_totals.py)."""

from __future__ import annotations

import math

import pytest

from custom_components.liuzhou_appliances.energy.group_totals import (
    GroupTotals,
    GroupTotalsError,
    MemberTotals,
)


def test_the_total_is_what_members_added_while_members() -> None:
    totals = MemberTotals(monotonic=True)
    totals.set_members({"ac", "fridge"})
    assert totals.read("ac", 100.0) == 0.0  # a starting point, not consumption
    assert totals.read("fridge", 40.0) == 0.0
    assert totals.read("ac", 101.5) == pytest.approx(1.5)
    assert totals.read("fridge", 40.25) == pytest.approx(0.25)
    assert totals.total == pytest.approx(1.75)
    # The fridge leaves: what it used before stays, what it uses after is not counted.
    totals.set_members({"ac"})
    assert totals.read("fridge", 45.0) == 0.0
    assert totals.total == pytest.approx(1.75)
    # It comes back: from its reading then on, not from the one it left with.
    totals.set_members({"ac", "fridge"})
    totals.read("fridge", 46.0)
    totals.read("fridge", 46.5)
    assert totals.total == pytest.approx(2.25)


def test_offline_members_add_what_they_used_meanwhile() -> None:
    totals = MemberTotals(monotonic=True)
    totals.set_members({"ac"})
    totals.read("ac", 10.0)
    assert totals.read("ac", None) == 0.0
    assert totals.read("ac", 12.0) == pytest.approx(2.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_readings_are_ignored(bad: float) -> None:
    totals = MemberTotals(monotonic=True)
    totals.set_members({"ac"})
    totals.read("ac", 10.0)
    assert totals.read("ac", bad) == 0.0
    assert totals.read("ac", 11.0) == pytest.approx(1.0)


def test_a_counter_that_goes_back_starts_over_for_energy_and_subtracts_for_savings() -> None:
    energy = MemberTotals(monotonic=True)
    savings = MemberTotals(monotonic=False)
    for totals in (energy, savings):
        totals.set_members({"ac"})
        totals.read("ac", 5.0)
        totals.read("ac", 3.0)
        totals.read("ac", 4.0)
    assert energy.total == pytest.approx(1.0)
    assert savings.total == pytest.approx(-1.0)


def test_energy_is_costed_at_the_price_when_counted() -> None:
    group = GroupTotals()
    group.set_members({"ac"})
    group.read_energy("ac", 1.0, 0.5)
    group.read_energy("ac", 3.0, 0.5)  # 2 kWh at 0.5
    group.read_energy("ac", 4.0, None)  # 1 kWh, price feed down: not costed
    group.read_energy("ac", 5.0, 1.2)  # 1 kWh at 1.2
    assert group.energy.total == pytest.approx(4.0)
    assert group.cost == pytest.approx(2.2)


def test_restore_counts_what_was_used_while_home_assistant_was_down() -> None:
    before = GroupTotals()
    before.set_members({"ac", "fridge", "washer"})
    before.read_energy("ac", 10.0, 1.0)
    before.read_energy("ac", 12.0, 1.0)
    before.read_energy("fridge", 5.0, 1.0)
    before.read_savings("ac", 0.3)
    stored = before.as_dict()

    after = GroupTotals()
    # The washer has left the room meanwhile; the AC reported before the restore.
    after.set_members({"ac", "fridge"})
    after.read_energy("ac", 13.0, 1.0)
    after.restore(stored, price=0.5)
    assert after.energy.total == pytest.approx(3.0)  # 2 before, 1 while down
    assert after.cost == pytest.approx(2.5)  # the kWh used while down at the price now
    after.read_energy("fridge", 5.5, 1.0)  # from its stored reading
    after.read_savings("ac", 0.5)
    assert after.energy.total == pytest.approx(3.5)
    assert after.savings.total == pytest.approx(0.2)
    assert "washer" not in after.energy.readings


@pytest.mark.parametrize(
    "damage",
    [
        {"energy_kwh": "12"},
        {"cost": None},
        {"savings": math.nan},
        {"energy_readings": [1, 2]},
        {"savings_readings": {"ac": "x"}},
        {"energy_kwh": True},
    ],
)
def test_damaged_stored_totals_raise_and_change_nothing(damage: dict[str, object]) -> None:
    source = GroupTotals()
    source.set_members({"ac"})
    source.read_energy("ac", 1.0, 1.0)
    source.read_energy("ac", 2.0, 1.0)
    group = GroupTotals()
    group.set_members({"ac"})
    with pytest.raises(GroupTotalsError):
        group.restore({**source.as_dict(), **damage})
    assert group.as_dict() == GroupTotals().as_dict()
