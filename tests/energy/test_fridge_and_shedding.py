"""Fridge pre-cooling stays food-safe; load shedding follows its priority order."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.liuzhou_appliances.energy.fridge import FridgePrecoolController
from custom_components.liuzhou_appliances.energy.inputs import DecisionStatus, Reading
from custom_components.liuzhou_appliances.energy.shedding import (
    GridEvent,
    LoadShedder,
    LoadState,
    ShedAction,
    ShedStep,
)
from custom_components.liuzhou_appliances.energy.tariff_presets import guangxi_commercial_tou
from custom_components.liuzhou_appliances.link.model import ApplianceType
from firmware_bridge.simulators import RefrigeratorSimulator, create_simulator

DAY = datetime(2026, 7, 15)


def test_safe_targets_follow_limits_and_swing() -> None:
    controller = FridgePrecoolController()
    assert controller.safe_fridge_target == 2.0
    assert controller.safe_freezer_target == -21.0


@settings(max_examples=60, deadline=None)
@given(minute=st.integers(0, 1439), fridge=st.floats(-5, 20), freezer=st.floats(-30, 5))
def test_targets_never_above_the_safe_ones(minute: int, fridge: float, freezer: float) -> None:
    controller = FridgePrecoolController(tariff=guangxi_commercial_tou())
    now = DAY + timedelta(minutes=minute)
    decision = controller.decide(now, Reading(fridge, now), Reading(freezer, now))
    assert 1.0 <= decision.fridge_target <= controller.safe_fridge_target
    assert decision.freezer_target is not None
    assert -24.0 <= decision.freezer_target <= controller.safe_freezer_target


def test_precools_before_peak_only() -> None:
    controller = FridgePrecoolController(tariff=guangxi_commercial_tou())
    before = controller.decide(
        DAY.replace(hour=16),
        Reading(3.0, DAY.replace(hour=16)),
        Reading(-21.0, DAY.replace(hour=16)),
    )
    during = controller.decide(
        DAY.replace(hour=19),
        Reading(3.0, DAY.replace(hour=19)),
        Reading(-21.0, DAY.replace(hour=19)),
    )
    assert before.precooling
    assert before.fridge_target == 1.0
    assert not during.precooling
    assert during.fridge_target == 2.0


def test_missing_sensor_keeps_safe_targets() -> None:
    controller = FridgePrecoolController(tariff=guangxi_commercial_tou())
    now = DAY.replace(hour=19)
    decision = controller.decide(now, None, Reading(-21.0, now - timedelta(hours=2)))
    assert decision.status is DecisionStatus.DEGRADED
    assert {i.code for i in decision.issues} == {
        "fridge_temperature_missing",
        "freezer_temperature_stale",
    }
    assert decision.fridge_target == controller.safe_fridge_target


def test_simulated_fridge_stays_food_safe_through_a_peak() -> None:
    """Twelve simulated hours from 11:00 with doors opening: food <= 4 °C, freezer <= -18 °C."""
    start = DAY.replace(hour=3)
    sim = create_simulator(ApplianceType.REFRIGERATOR, seed=3, start=start)
    assert isinstance(sim, RefrigeratorSimulator)
    controller = FridgePrecoolController(tariff=guangxi_commercial_tou())
    food_max = freezer_max = -100.0
    for step in range(20 * 12):  # 20 h of 5-minute decisions; the first 8 h settle
        now = start + timedelta(minutes=5 * step)
        values = sim.values()
        decision = controller.decide(
            now,
            Reading(float(cast(float, values["fridge_temperature"])), now),
            Reading(float(cast(float, values["freezer_temperature"])), now),
        )
        if values["fridge_target_temperature"] != decision.fridge_target:
            sim.write("fridge_target_temperature", decision.fridge_target)
        if values["freezer_target_temperature"] != decision.freezer_target:
            sim.write("freezer_target_temperature", decision.freezer_target)  # type: ignore[arg-type]
        sim.step(300)
        if step >= 8 * 12:
            food_max = max(food_max, sim.model.fridge_contents_c)
            freezer_max = max(freezer_max, sim.model.freezer_c)
    assert food_max <= 4.0
    assert freezer_max <= -18.0


NOW = datetime(2026, 7, 15, 19)


def _loads() -> list[LoadState]:
    return [
        LoadState("fridge", "fridge", 90.0),
        LoadState("ac-bed", "ac", 1000.0, occupied=True),
        LoadState("ac-study", "ac", 800.0, occupied=False),
        LoadState("ac-living", "ac", 1200.0, occupied=True),
        LoadState("washer", "washer", 2000.0, running=True),
        LoadState("dishwasher", "dishwasher", 0.0, pending_start=True, expected_w=1800.0),
    ]


def test_shedding_order_and_report() -> None:
    shedder = LoadShedder(limit_w=5000)
    report = shedder.update(NOW, Reading(5700.0, NOW), _loads())
    assert [(a.step, a.appliance_id) for a in report.shed] == [(ShedStep.AC_VACANT_OFF, "ac-study")]
    report = shedder.update(NOW, Reading(8000.0, NOW), _loads())
    steps = [(a.step, a.appliance_id) for a in report.shed]
    assert steps[:4] == [
        (ShedStep.AC_RELAX_1K, "ac-living"),
        (ShedStep.AC_RELAX_1K, "ac-bed"),
        (ShedStep.AC_RELAX_2K, "ac-living"),
        (ShedStep.AC_RELAX_2K, "ac-bed"),
    ]
    assert steps[4] == (ShedStep.DEFER_RUN, "dishwasher")
    assert all(a.appliance_id != "fridge" for a in report.active)
    assert "limit" in report.shed[0].reason
    assert [s for s, _ in steps] == sorted(s for s, _ in steps)


def test_restore_in_reverse_order_with_margin() -> None:
    shedder = LoadShedder(limit_w=5000, restore_margin_w=300)
    shedder.update(NOW, Reading(8000.0, NOW), _loads())
    shed = list(shedder.active)
    assert shedder.update(NOW, Reading(4900.0, NOW), _loads()).restored == ()  # inside margin
    restored: list[ShedAction] = []
    for _ in range(len(shed)):
        report = shedder.update(NOW, Reading(1000.0, NOW), _loads())
        restored.extend(report.restored)
    assert [a.step for a in restored] == sorted((a.step for a in shed), reverse=True)
    assert shedder.active == []


def test_grid_event_lowers_the_limit_and_missing_power_restores() -> None:
    shedder = LoadShedder(limit_w=8000)
    event = GridEvent(NOW - timedelta(minutes=5), NOW + timedelta(hours=1), 3000.0, "peak event")
    report = shedder.update(NOW, Reading(4000.0, NOW), _loads(), event)
    assert report.limit_w == 3000.0
    assert report.shed
    assert report.shed[0].reason.startswith("peak event")
    stale = shedder.update(NOW, Reading(4000.0, NOW - timedelta(minutes=10)), _loads(), event)
    assert stale.power_w is None
    assert stale.active == ()
    assert stale.restored
    assert stale.issues[0].code == "home_power_stale"


@pytest.mark.parametrize("power", [0.0, 4999.0])
def test_nothing_shed_under_the_limit(power: float) -> None:
    assert LoadShedder(limit_w=5000).update(NOW, Reading(power, NOW), _loads()).shed == ()
