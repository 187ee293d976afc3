"""Controllers on bad input: invalid readings, failing tariffs, clipped inputs, grid events."""

from __future__ import annotations

from datetime import datetime, timedelta
import logging

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.liuzhou_appliances.energy.ac import (
    AcComfortController,
    AcInputs,
    comfort_price_signal,
)
from custom_components.liuzhou_appliances.energy.fridge import FridgePrecoolController
from custom_components.liuzhou_appliances.energy.inputs import DecisionStatus, Reading, fresh_value
from custom_components.liuzhou_appliances.energy.shedding import (
    DEMAND_RESPONSE_LEVELS,
    GridEvent,
    LoadShedder,
    LoadState,
    ShedStep,
)
from custom_components.liuzhou_appliances.energy.tariff import (
    PriceUnavailableError,
    TimeOfUseTariff,
    TouPeriod,
)
from custom_components.liuzhou_appliances.energy.tariff_presets import guangxi_commercial_tou

type FloatArray = NDArray[np.float64]

NOW = datetime(2026, 7, 15, 19)


class _Tariff:
    """A time-varying tariff whose price series fails with ``error``."""

    name, time_varying = "failing", True

    def __init__(self, error: Exception) -> None:
        self.error = error

    def price_at(self, when: datetime) -> float:
        raise self.error

    def prices(self, start: datetime, step_s: int, count: int) -> FloatArray:
        raise self.error


def _ac_inputs(**changes: object) -> AcInputs:
    fields: dict[str, object] = {
        "now": NOW,
        "mode": "cool",
        "setpoint": 26.0,
        "room_temperature": Reading(26.2, NOW),
        "outdoor_temperature": Reading(31.0, NOW),
        "humidity": Reading(60.0, NOW),
        "occupancy": 1.0,
    }
    fields.update(changes)
    return AcInputs(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "26.0", True])
def test_unusable_reading_is_invalid_with_its_value(value: object) -> None:
    result, issue = fresh_value(Reading(value, NOW), NOW, timedelta(minutes=5), "room_temperature")  # type: ignore[arg-type]
    assert result is None
    assert issue is not None
    assert issue.code == "room_temperature_invalid"
    assert issue.message == f"room temperature is {value!r}"


def test_ac_invalid_setpoint_leaves_the_ac_to_itself() -> None:
    decision = AcComfortController().decide(_ac_inputs(setpoint=float("nan")))
    assert decision.status is DecisionStatus.FALLBACK
    assert decision.fan_speed == "auto"
    assert decision.issues[0].code == "setpoint_invalid"
    assert "nan" in decision.issues[0].message


def test_ac_unexpected_error_hands_back_control(caplog: pytest.LogCaptureFixture) -> None:
    controller = AcComfortController(tariff=_Tariff(ZeroDivisionError("bad table")))
    with caplog.at_level(logging.ERROR):
        decision = controller.decide(_ac_inputs())
    assert "AC controller failed" in caplog.text
    assert decision.status is DecisionStatus.FALLBACK
    assert (decision.target_temperature, decision.fan_speed) == (26.0, "auto")
    assert decision.issues[0].code == "internal_error"
    assert "bad table" in decision.issues[0].message


def test_ac_input_outside_its_range_is_clipped_and_reported() -> None:
    decision = AcComfortController().decide(_ac_inputs(outdoor_temperature=Reading(60.0, NOW)))
    clipped = [i for i in decision.issues if i.code == "input_clipped"]
    assert [i.message for i in clipped] == ["outdoor_load 34.00 outside its range, used 20.0"]
    assert 25.0 <= decision.target_temperature <= 27.0


def test_comfort_signal_is_zero_for_a_time_varying_tariff_with_one_price() -> None:
    same = TimeOfUseTariff(
        (TouPeriod("00:00", "12:00", "a"), TouPeriod("12:00", "00:00", "b")), {"a": 0.5, "b": 0.5}
    )
    assert comfort_price_signal(same, NOW) == 0.0


def test_fridge_without_a_price_keeps_safe_targets() -> None:
    controller = FridgePrecoolController(tariff=_Tariff(PriceUnavailableError("sensor offline")))
    decision = controller.decide(NOW, Reading(3.0, NOW), Reading(-20.0, NOW))
    assert [(i.code, i.message) for i in decision.issues] == [
        ("price_unavailable", "sensor offline")
    ]
    assert not decision.precooling
    assert decision.fridge_target == controller.safe_fridge_target
    assert decision.freezer_target == controller.safe_freezer_target
    healthy = FridgePrecoolController(tariff=guangxi_commercial_tou())
    assert healthy.decide(NOW, Reading(3.0, NOW), Reading(-20.0, NOW)).issues == ()


def _loads() -> list[LoadState]:
    return [
        LoadState("fridge", "fridge", 90.0),
        LoadState("ac-bed", "ac", 1000.0, occupied=True),
        LoadState("ac-study", "ac", 800.0, occupied=False),
        LoadState("washer", "washer", 2000.0, running=True),
        LoadState("dishwasher", "dishwasher", 0.0, pending_start=True, expected_w=1800.0),
    ]


def test_demand_response_sheds_to_its_depth_and_holds_without_a_reading() -> None:
    event = GridEvent(
        NOW - timedelta(minutes=5),
        NOW + timedelta(hours=1),
        limit_w=6000,
        reason="grid peak event",
        depth=DEMAND_RESPONSE_LEVELS["moderate"],
    )
    shedder = LoadShedder(limit_w=8000)
    # Power is well under the limit: the event's depth sheds anyway, for its reason.
    report = shedder.update(NOW, Reading(2000.0, NOW), _loads(), event)
    assert report.limit_w == 6000
    assert [(a.step, a.appliance_id) for a in report.shed] == [
        (ShedStep.AC_VACANT_OFF, "ac-study"),
        (ShedStep.AC_RELAX_1K, "ac-bed"),
        (ShedStep.AC_RELAX_2K, "ac-bed"),
        (ShedStep.DEFER_RUN, "dishwasher"),
    ]
    assert {a.reason for a in report.shed} == {"grid peak event"}
    assert report.level("ac-bed") is ShedStep.AC_RELAX_2K
    assert report.level("fridge") is None
    # Power rises above the event limit: steps beyond the depth are shed too.
    report = shedder.update(NOW, Reading(7000.0, NOW), _loads(), event)
    assert [a.step for a in report.shed] == [ShedStep.PAUSE_RUN]
    # The reading goes missing: the event's steps are held, the others handed back.
    report = shedder.update(NOW, None, _loads(), event)
    assert [a.step for a in report.restored] == [ShedStep.PAUSE_RUN]
    assert max(a.step for a in report.active) == ShedStep.DEFER_RUN
    assert report.issues[0].code == "home_power_missing"


def test_everything_shed_and_still_above_the_limit_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shedder = LoadShedder(limit_w=1000)
    with caplog.at_level(logging.WARNING):
        report = shedder.update(NOW, Reading(20000.0, NOW), _loads())
    assert "still above the limit with everything sheddable shed" in caplog.text
    assert ShedStep.AC_FAN_ONLY in {a.step for a in report.shed}
    assert all(a.appliance_id != "fridge" for a in report.active)
