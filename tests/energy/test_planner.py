"""Run planner: optimality vs brute force, MILP vs enumeration, reasons and nearest plans."""

from __future__ import annotations

from datetime import datetime, timedelta
import itertools
import math

from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.liuzhou_appliances.energy.planner import (
    PlanIssue,
    PlanningContext,
    PlanResult,
    RunPlanner,
    RunRequest,
    SurplusForecast,
)
from custom_components.liuzhou_appliances.energy.tariff import TimeOfUseTariff, TouPeriod
from custom_components.liuzhou_appliances.energy.tariff_presets import (
    guangxi_commercial_tou,
    guangxi_residential,
)
from custom_components.liuzhou_appliances.link.declaration import Programme

NOW = datetime(2026, 7, 15, 18, 7, 20)


def _programme(profile: list[tuple[int, float]], name: str = "eco") -> Programme:
    duration = sum(s for s, _ in profile)
    return Programme(name, duration, sum(s * w for s, w in profile) / 3.6e6, tuple(profile))


def _hourly_tariff(prices: list[float]) -> TimeOfUseTariff:
    periods = tuple(TouPeriod(f"{h:02d}:00", f"{h + 1:02d}:00", f"h{h}") for h in range(24))
    return TimeOfUseTariff(periods, {f"h{h}": p for h, p in enumerate(prices)})


def _brute_cost(tariff: TimeOfUseTariff, programme: Programme, start: datetime) -> float:
    """Per-segment integration of price x power, minute by minute (no binning)."""
    cost = 0.0
    t = start
    for seconds, watts in programme.profile:
        end = t + timedelta(seconds=seconds)
        while t < end:
            minute_end = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
            piece = min(end, minute_end)
            cost += tariff.price_at(t) * watts * (piece - t).total_seconds() / 3.6e6
            t = piece
    return cost


def _grid_starts(
    now: datetime, earliest: datetime, finish: datetime, duration: int, step: int
) -> list[datetime]:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first = midnight + timedelta(seconds=math.ceil((now - midnight).total_seconds() / step) * step)
    out, t = [], first
    while t + timedelta(seconds=duration) <= finish:
        if t >= earliest:
            out.append(t)
        t += timedelta(seconds=step)
    return out


profiles = st.lists(st.tuples(st.integers(1, 2400), st.floats(0, 2500)), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    profile=profiles,
    prices=st.lists(st.floats(0.0, 2.0), min_size=24, max_size=24),
    earliest_min=st.integers(-60, 300),
    window_min=st.integers(30, 600),
    step=st.sampled_from([300, 900]),
)
def test_single_run_is_the_brute_force_optimum(
    profile: list[tuple[int, float]],
    prices: list[float],
    earliest_min: int,
    window_min: int,
    step: int,
) -> None:
    programme = _programme(profile)
    tariff = _hourly_tariff(prices)
    earliest = NOW + timedelta(minutes=earliest_min)
    finish = max(NOW, earliest) + timedelta(minutes=window_min)
    result = RunPlanner(PlanningContext(NOW, tariff, step_s=step)).plan(
        [RunRequest("w", programme, earliest, finish)]
    )
    starts = _grid_starts(NOW, earliest, finish, programme.duration_s, step)
    if not starts:
        assert not result.feasible
        assert result.issues[0].code is PlanIssue.WINDOW_TOO_SHORT
        return
    assert result.feasible
    best = min(_brute_cost(tariff, programme, s) for s in starts)
    plan = result.plans[0]
    assert plan.cost == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert _brute_cost(tariff, programme, plan.start) == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert plan.start == NOW + timedelta(seconds=plan.delay_s)
    assert plan.start >= earliest
    assert plan.end <= finish


def test_flat_tariff_starts_at_once() -> None:
    programme = _programme([(600, 2000), (3000, 150)])
    result = RunPlanner(PlanningContext(NOW, guangxi_residential())).plan(
        [RunRequest("w", programme, NOW, NOW + timedelta(hours=10))]
    )
    assert result.feasible
    assert result.plans[0].delay_s < 300


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    count=st.integers(2, 3),
    cap=st.floats(1500, 5000),
    prices=st.lists(st.floats(0.1, 2.0), min_size=24, max_size=24),
)
def test_several_runs_under_a_cap_match_enumeration(
    data: st.DataObject, count: int, cap: float, prices: list[float]
) -> None:
    tariff = _hourly_tariff(prices)
    requests = []
    for n in range(count):
        # Whole minutes, so the per-minute cap check equals the per-second one.
        profile = data.draw(
            st.lists(
                st.tuples(st.integers(1, 30).map(lambda m: 60 * m), st.floats(100, 2000)),
                min_size=1,
                max_size=3,
            )
        )
        window = data.draw(st.integers(1, 4))
        programme = _programme(profile, f"p{n}")
        requests.append(
            RunRequest(
                f"a{n}", programme, NOW, NOW + timedelta(seconds=programme.duration_s, hours=window)
            )
        )
    step = 1800
    result = RunPlanner(PlanningContext(NOW, tariff, power_cap_w=cap, step_s=step)).plan(requests)
    options = [_grid_starts(NOW, NOW, r.finish_by, r.programme.duration_s, step) for r in requests]
    best = math.inf
    for combo in itertools.product(*options):
        if _peak(requests, combo) <= cap + 1e-9:
            best = min(
                best,
                sum(
                    _brute_cost(tariff, r.programme, s)
                    for r, s in zip(requests, combo, strict=True)
                ),
            )
    if any(r.programme.profile and max(w for _, w in r.programme.profile) > cap for r in requests):
        assert not result.feasible
        assert any(i.code is PlanIssue.CAP_BELOW_APPLIANCE for i in result.issues)
        return
    if math.isinf(best):
        assert not result.feasible
        assert any(i.code is PlanIssue.CAP_TOO_LOW_TOGETHER for i in result.issues)
        return
    assert result.feasible
    assert result.method == "milp"
    assert result.cost == pytest.approx(best, rel=1e-7, abs=1e-9)
    assert _peak(requests, [p.start for p in result.plans]) <= cap + 1e-9


def _peak(requests: list[RunRequest], starts: tuple[datetime, ...] | list[datetime]) -> float:
    horizon = max(
        s + timedelta(seconds=r.programme.duration_s) for r, s in zip(requests, starts, strict=True)
    )
    seconds = int((horizon - NOW).total_seconds()) + 1
    total = np.zeros(seconds)
    for request, start in zip(requests, starts, strict=True):
        t = int((start - NOW).total_seconds())
        for length, watts in request.programme.profile:
            total[t : t + length] += watts
            t += length
    return float(total.max())


WASH = _programme([(900, 2100), (3300, 130), (600, 400)], "cotton")


def _plan(*requests: RunRequest, **context: object) -> PlanResult:
    return RunPlanner(PlanningContext(NOW, guangxi_commercial_tou(), **context)).plan(requests)  # type: ignore[arg-type]


def test_deadline_in_the_past_gives_reason_and_nearest_plan() -> None:
    result = _plan(RunRequest("w", WASH, NOW - timedelta(hours=3), NOW - timedelta(hours=1)))
    assert not result.feasible
    assert result.issues[0].code is PlanIssue.DEADLINE_PASSED
    plan = result.plans[0]
    assert plan.delay_s < 300
    assert result.relaxed


def test_window_shorter_than_programme() -> None:
    result = _plan(RunRequest("w", WASH, NOW, NOW + timedelta(minutes=30)))
    assert result.issues[0].code is PlanIssue.WINDOW_TOO_SHORT
    assert "80 min" in result.issues[0].message
    assert len(result.plans) == 1


def test_cap_below_a_single_appliance() -> None:
    result = _plan(RunRequest("w", WASH, NOW, NOW + timedelta(hours=12)), power_cap_w=1500)
    issue = result.issues[0]
    assert issue.code is PlanIssue.CAP_BELOW_APPLIANCE
    assert "2100 W" in issue.message
    assert result.plans[0].start.hour >= 23  # still cheapest


def test_no_cheap_slot_then_cheapest_in_window() -> None:
    result = _plan(RunRequest("w", WASH, NOW, NOW + timedelta(hours=4), only_cheap=True))
    assert result.issues[0].code is PlanIssue.NO_CHEAP_SLOT
    cheap = _plan(RunRequest("w", WASH, NOW, NOW + timedelta(hours=12), only_cheap=True))
    assert cheap.feasible
    assert cheap.plans[0].start.hour == 23


def test_only_on_surplus() -> None:
    morning = NOW.replace(hour=8, minute=0, second=0)
    sun = SurplusForecast(morning, 3600, (0, 500, 1500, 2500, 2500, 2500, 1000, 0))
    planner = RunPlanner(PlanningContext(morning, guangxi_residential(), surplus=sun))
    result = planner.plan(
        [RunRequest("w", WASH, morning, morning + timedelta(hours=9), only_surplus=True)]
    )
    assert result.feasible
    assert 11 <= result.plans[0].start.hour <= 13
    assert result.plans[0].grid_kwh < 0.1 * result.plans[0].energy_kwh
    none = RunPlanner(PlanningContext(morning, guangxi_residential())).plan(
        [RunRequest("w", WASH, morning, morning + timedelta(hours=9), only_surplus=True)]
    )
    assert none.issues[0].code is PlanIssue.NO_SURPLUS


def test_delay_beyond_the_appliance_limit() -> None:
    result = _plan(
        RunRequest("w", WASH, NOW + timedelta(hours=5), NOW + timedelta(hours=9), max_delay_s=3600)
    )
    assert result.issues[0].code is PlanIssue.DELAY_TOO_LONG
    assert result.plans[0].delay_s <= 3600


def test_runs_that_cannot_fit_together_get_later_deadlines() -> None:
    requests = [RunRequest(f"w{n}", WASH, NOW, NOW + timedelta(minutes=90)) for n in range(2)]
    result = _plan(*requests, power_cap_w=3000)
    assert any(i.code is PlanIssue.CAP_TOO_LOW_TOGETHER for i in result.issues)
    assert len(result.plans) == 2
    assert result.relaxed
    assert _peak(requests, [p.start for p in result.plans]) <= 3000


def test_price_failure_falls_back_to_starting_at_once() -> None:
    class Offline:
        name, time_varying = "offline", True

        def price_at(self, when: datetime) -> float:
            from custom_components.liuzhou_appliances.energy.tariff import PriceUnavailableError

            raise PriceUnavailableError("no price")

        def prices(self, start: datetime, step_s: int, count: int) -> NDArray[np.float64]:
            return np.full(count, self.price_at(start))

    result = RunPlanner(PlanningContext(NOW, Offline())).plan(
        [RunRequest("w", WASH, NOW, NOW + timedelta(hours=8))]
    )
    assert result.issues[0].code is PlanIssue.PRICE_UNAVAILABLE
    assert result.plans[0].delay_s == 0
    assert result.method == "fallback"
