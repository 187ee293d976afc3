"""The run planner's requests and answers, and a programme's power on the bin grid.

``RunRequest`` and ``PlanningContext`` are what the planner is asked,
``PlanResult`` (with ``RunPlan`` and ``Infeasibility``) what it answers.
``bin_profile``, ``start_costs`` and ``run_plan`` cost a run on the planner's
bins; the single-run search (planner.py) and the joint program for several
runs (planner_milp.py) both use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import math
from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from custom_components.liuzhou_appliances.link.declaration import Programme

from .tariff import Tariff, to_local

type FloatArray = NDArray[np.float64]

MAX_EXTENSION: Final = timedelta(hours=24)  # how far the nearest plan may push a deadline


class PlanIssue(StrEnum):
    """Why a request cannot be planned as asked."""

    DEADLINE_PASSED = "deadline_passed"
    WINDOW_TOO_SHORT = "window_shorter_than_programme"
    DELAY_TOO_LONG = "delay_beyond_appliance_limit"
    CAP_BELOW_APPLIANCE = "cap_below_appliance_power"
    CAP_TOO_LOW_TOGETHER = "cap_too_low_for_all_runs"
    NO_CHEAP_SLOT = "no_cheap_slot"
    NO_SURPLUS = "no_solar_surplus"
    PRICE_UNAVAILABLE = "price_unavailable"
    INVALID_REQUEST = "invalid_request"
    # The optimiser stopped at its time limit before it found any plan (a slow or busy
    # hub), which says nothing about whether the runs fit.
    PLANNER_TIME_LIMIT = "planner_time_limit"


@dataclass(frozen=True, slots=True)
class Infeasibility:
    """One reason, in words and as a code."""

    code: PlanIssue
    message: str
    appliance_id: str | None = None


@dataclass(frozen=True, slots=True)
class RunRequest:
    """A run the user asked for: which programme, not before / done by, and preferences."""

    appliance_id: str
    programme: Programme
    earliest_start: datetime
    finish_by: datetime
    only_cheap: bool = False
    only_surplus: bool = False
    max_delay_s: int = 86400  # the appliance's delayed-start limit (Declaration.max_delay_s)


@dataclass(frozen=True, slots=True)
class SurplusForecast:
    """Forecast solar surplus (W) in steps of ``step_s`` from ``start``; zero outside."""

    start: datetime
    step_s: int
    watts: tuple[float, ...]

    def sample(self, origin: datetime, resolution_s: int, count: int) -> FloatArray:
        """Surplus at the middle of each bin (held constant within a forecast step)."""
        offset = (to_local(origin) - to_local(self.start)).total_seconds()
        middles = offset + resolution_s * (np.arange(count) + 0.5)
        index = np.floor(middles / self.step_s).astype(np.int64)
        values = np.asarray(self.watts, dtype=np.float64)
        inside = (index >= 0) & (index < values.size)
        out = np.zeros(count)
        out[inside] = np.clip(values[index[inside]], 0.0, None)
        return out


@dataclass(frozen=True, slots=True)
class PlanningContext:
    """Everything the planner knows besides the requests."""

    now: datetime
    tariff: Tariff
    power_cap_w: float | None = None
    base_load_w: float = 0.0  # the rest of the household, counted against cap and surplus
    surplus: SurplusForecast | None = None
    step_s: int = 300
    resolution_s: int = 60
    cheap_price: float | None = None  # "cheap" = at most this; default: lowest in the next 24 h
    min_surplus_share: float = 0.9  # "only on solar surplus": this share of the run's energy


@dataclass(frozen=True, slots=True)
class RunPlan:
    """When one appliance runs and what it costs."""

    appliance_id: str
    start: datetime
    delay_s: int
    end: datetime
    cost: float
    energy_kwh: float
    grid_kwh: float

    @property
    def command_args(self) -> dict[str, int]:
        """Arguments for the appliance's ``start`` command."""
        return {"delay_s": self.delay_s}


@dataclass(frozen=True, slots=True)
class PlanResult:
    """The plan, or why there is none as asked plus the nearest feasible plan."""

    feasible: bool
    plans: tuple[RunPlan, ...]
    issues: tuple[Infeasibility, ...] = ()
    relaxed: tuple[str, ...] = ()  # what the nearest plan gave up, in words
    method: str = "exhaustive"
    optimal: bool = True

    @property
    def cost(self) -> float:
        """Total cost of the plans."""
        return sum(plan.cost for plan in self.plans)

    def plan_for(self, appliance_id: str) -> RunPlan | None:
        """The plan of one appliance, if any."""
        return next((p for p in self.plans if p.appliance_id == appliance_id), None)


# --- profiles and costs on the bin grid ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BinnedProfile:
    """A programme's power profile on bins of ``resolution_s`` seconds."""

    mean_w: FloatArray  # average power per bin (energy-exact)
    peak_w: FloatArray  # highest power within the bin (for the cap)
    duration_s: int


def bin_profile(programme: Programme, resolution_s: int) -> BinnedProfile:
    """Average and peak power per bin; the last bin is averaged over its full length."""
    duration = sum(seconds for seconds, _ in programme.profile)
    count = max(1, math.ceil(duration / resolution_s))
    energy = np.zeros(count)
    peak = np.zeros(count)
    position = 0
    for seconds, watts in programme.profile:
        end = position + seconds
        first, last = position // resolution_s, (end - 1) // resolution_s
        for index in range(first, last + 1):
            overlap = min(end, (index + 1) * resolution_s) - max(position, index * resolution_s)
            energy[index] += overlap * watts
            peak[index] = max(peak[index], watts)
        position = end
    return BinnedProfile(energy / resolution_s, peak, duration)


@dataclass(slots=True)
class Candidates:
    """One request's allowed starts (bin offsets from the origin) with their costs."""

    request: RunRequest
    profile: BinnedProfile
    offsets: NDArray[np.int64]  # allowed starts
    costs: FloatArray
    all_offsets: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    issues: list[Infeasibility] = field(default_factory=list)
    relaxed: list[str] = field(default_factory=list)


def start_costs(
    context: PlanningContext,
    profile: BinnedProfile,
    offsets: NDArray[np.int64],
    prices: FloatArray,
    surplus: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Cost, surplus-covered energy share and highest price while drawing, per start."""
    length = profile.mean_w.size
    hours = context.resolution_s / 3600.0
    if offsets.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    price_windows = sliding_window_view(prices, length)[offsets]
    surplus_windows = sliding_window_view(surplus, length)[offsets]
    grid_w = np.clip(profile.mean_w - surplus_windows, 0.0, None)
    costs = (price_windows * grid_w).sum(axis=1) * hours / 1000.0
    total = profile.mean_w.sum()
    share = 1.0 - grid_w.sum(axis=1) / total if total > 0 else np.ones(offsets.size)
    drawing = profile.mean_w > 0
    price_max = np.where(drawing, price_windows, -np.inf).max(axis=1)
    return np.asarray(costs), np.asarray(share), np.asarray(price_max)


def run_plan(
    context: PlanningContext,
    candidates: Candidates,
    offset: int,
    origin: datetime,
    prices: FloatArray,
    surplus: FloatArray,
) -> RunPlan:
    """The plan of one start (bin ``offset`` from ``origin``) with its cost and energy."""
    profile = candidates.profile
    start = origin + timedelta(seconds=offset * context.resolution_s)
    delay = max(0, round((start - to_local(context.now)).total_seconds()))
    length = profile.mean_w.size
    hours = context.resolution_s / 3600.0
    grid_w = np.clip(profile.mean_w - surplus[offset : offset + length], 0.0, None)
    cost = float((prices[offset : offset + length] * grid_w).sum() * hours / 1000.0)
    return RunPlan(
        candidates.request.appliance_id,
        start,
        delay,
        start + timedelta(seconds=profile.duration_s),
        cost,
        float(profile.mean_w.sum() * hours / 1000.0),
        float(grid_w.sum() * hours / 1000.0),
    )
