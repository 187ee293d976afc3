"""Run planner for washers and dishwashers: when to start, given prices, solar surplus and a cap.

Each programme is a power profile (``Programme.profile``). The planner
chooses start times on a grid (``step_s``, aligned to the clock) and answers
with the ``delay_s`` to send with the appliance's ``start`` command.

* One appliance: every start on the grid is costed and the cheapest kept, so
  the answer is the exact optimum on the grid (ties go to the earliest start).
* Several appliances sharing a household power cap: a mixed-integer program
  (one binary per appliance and start, ``scipy.optimize.milp`` / HiGHS)
  with the cap on every time bin; exact as well.

Energy is accounted on ``resolution_s`` bins (default one minute): a bin's
energy is exact, its power is the bin's average for costs and the bin's
highest segment for the cap. Solar surplus that covers a bin's power is free.

Times: aware datetimes are moments (the answer's are naive China Standard
Time, the planner's axis, which has no daylight saving); naive ones are taken
as China time. The tariff reads each moment on its own clock.

Nothing here raises on bad requests: ``PlanResult`` says whether the request
is feasible, why not (``Infeasibility`` with a code), and carries the nearest
feasible plan with what it had to relax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import logging
import math
from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from custom_components.liuzhou_appliances.link.declaration import Programme

from .tariff import CHINA_TZ, PriceUnavailableError, Tariff, to_local

_LOGGER = logging.getLogger(__name__)

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


# --- profiles on the bin grid ------------------------------------------------------


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


# --- the planner --------------------------------------------------------------------


@dataclass(slots=True)
class _Candidates:
    """One request's allowed starts (bin offsets from the origin) with their costs."""

    request: RunRequest
    profile: BinnedProfile
    offsets: NDArray[np.int64]  # allowed starts
    costs: FloatArray
    all_offsets: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    issues: list[Infeasibility] = field(default_factory=list)
    relaxed: list[str] = field(default_factory=list)


class RunPlanner:
    """Plans one or several runs; ``plan`` never raises."""

    def __init__(self, context: PlanningContext) -> None:
        self.context = context

    def plan(self, requests: Sequence[RunRequest]) -> PlanResult:
        """The cheapest feasible starts, or the reasons and the nearest feasible plan."""
        try:
            return self._plan(list(requests))
        except PriceUnavailableError as error:
            return self._fallback(requests, PlanIssue.PRICE_UNAVAILABLE, str(error))
        except Exception as error:  # the planner must never take the hub down
            _LOGGER.exception("run planner failed; starting runs without a plan")
            return self._fallback(requests, PlanIssue.INVALID_REQUEST, repr(error))

    # --- set-up --------------------------------------------------------------------

    def _origin(self) -> datetime:
        now = to_local(self.context.now)
        resolution = self.context.resolution_s
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        seconds = (now - midnight).total_seconds()
        return midnight + timedelta(seconds=math.floor(seconds / resolution) * resolution)

    def _fallback(
        self, requests: Sequence[RunRequest], code: PlanIssue, message: str
    ) -> PlanResult:
        """Start each run as early as allowed: what the appliance would do on its own."""
        _LOGGER.warning("run planner: %s; runs start as soon as allowed", message)
        now = to_local(self.context.now)
        plans = []
        for request in requests:
            start = max(now, to_local(request.earliest_start))
            delay = min(max(0, math.ceil((start - now).total_seconds())), request.max_delay_s)
            start = now + timedelta(seconds=delay)
            energy = request.programme.energy_kwh
            plans.append(
                RunPlan(
                    request.appliance_id,
                    start,
                    delay,
                    start + timedelta(seconds=request.programme.duration_s),
                    math.nan,
                    energy,
                    energy,
                )
            )
        return PlanResult(
            False,
            tuple(plans),
            (Infeasibility(code, message),),
            ("planned without prices: start as soon as allowed",),
            "fallback",
            False,
        )

    def _plan(self, requests: list[RunRequest]) -> PlanResult:
        context = self.context
        if not requests:
            return PlanResult(True, (), method="none")
        problems = self._check_requests(requests)
        if problems:
            return PlanResult(False, (), tuple(problems), method="none", optimal=False)
        now = to_local(context.now)
        origin = self._origin()
        latest = max(to_local(r.finish_by) for r in requests)
        longest = max(r.programme.duration_s for r in requests)
        horizon_end = max(latest, now + timedelta(seconds=longest)) + MAX_EXTENSION
        count = math.ceil((horizon_end - origin).total_seconds() / context.resolution_s) + 1
        # The planner's axis is naive China time; the tariff gets the real moment
        # and reads it on its own clock (a custom table: the household's zone).
        prices = context.tariff.prices(origin.replace(tzinfo=CHINA_TZ), context.resolution_s, count)
        surplus: FloatArray = np.zeros(count)
        if context.surplus is not None:
            surplus = np.clip(
                context.surplus.sample(origin, context.resolution_s, count) - context.base_load_w,
                0.0,
                None,
            )
        candidates = [self._candidates(r, origin, prices, surplus) for r in requests]
        issues = [issue for c in candidates for issue in c.issues]
        relaxed = [text for c in candidates for text in c.relaxed]
        if len(candidates) == 1:
            plans: tuple[RunPlan, ...] = (
                self._best_single(candidates[0], origin, prices, surplus),
            )
            method = "exhaustive"
        else:
            joint = self._joint(candidates, origin, prices, surplus)
            if joint is None:
                cap = context.power_cap_w
                issues.append(
                    Infeasibility(
                        PlanIssue.CAP_TOO_LOW_TOGETHER,
                        f"the runs cannot all fit their windows under the {cap:.0f} W cap",
                    )
                )
                joint, extension = self._extend_until_feasible(candidates, origin, prices, surplus)
                if joint is None:
                    return PlanResult(False, (), tuple(issues), tuple(relaxed), "milp", False)
                relaxed.append(f"deadlines moved {extension / 60:.0f} min later to fit the cap")
            plans = joint
            method = "milp"
        feasible = not issues
        if issues:
            for issue in issues:
                _LOGGER.info("run planner: %s", issue.message)
        return PlanResult(feasible, plans, tuple(issues), tuple(relaxed), method, True)

    def _check_requests(self, requests: list[RunRequest]) -> list[Infeasibility]:
        problems = []
        ids = [r.appliance_id for r in requests]
        if len(set(ids)) != len(ids):
            problems.append(
                Infeasibility(PlanIssue.INVALID_REQUEST, "an appliance appears twice in one plan")
            )
        context = self.context
        if (
            context.step_s <= 0
            or context.resolution_s <= 0
            or context.step_s % context.resolution_s
        ):
            problems.append(
                Infeasibility(
                    PlanIssue.INVALID_REQUEST,
                    f"step_s ({context.step_s}) must be a positive multiple of resolution_s "
                    f"({context.resolution_s})",
                )
            )
        if context.power_cap_w is not None and not (
            math.isfinite(context.power_cap_w) and context.power_cap_w > 0
        ):
            problems.append(
                Infeasibility(
                    PlanIssue.INVALID_REQUEST, f"power cap {context.power_cap_w} W is not usable"
                )
            )
        for request in requests:
            if not request.programme.profile or request.programme.duration_s <= 0:
                problems.append(
                    Infeasibility(
                        PlanIssue.INVALID_REQUEST,
                        "programme has no power profile",
                        request.appliance_id,
                    )
                )
            if request.max_delay_s < 0:
                problems.append(
                    Infeasibility(
                        PlanIssue.INVALID_REQUEST, "max_delay_s is negative", request.appliance_id
                    )
                )
        return problems

    # --- one request's candidates ------------------------------------------------------

    def _candidates(
        self, request: RunRequest, origin: datetime, prices: FloatArray, surplus: FloatArray
    ) -> _Candidates:
        context = self.context
        resolution, step = context.resolution_s, context.step_s
        profile = bin_profile(request.programme, resolution)
        length = profile.mean_w.size
        now = to_local(context.now)
        name = request.appliance_id
        issues: list[Infeasibility] = []
        relaxed: list[str] = []
        # Starts on the clock-aligned step grid, not before now.
        midnight = origin.replace(hour=0, minute=0, second=0, microsecond=0)
        first = math.ceil(((now - midnight).total_seconds()) / step) * step
        first_offset = (first - (origin - midnight).total_seconds()) / resolution
        max_offset = prices.size - length
        all_offsets = np.arange(
            int(first_offset), max_offset + 1, step // resolution, dtype=np.int64
        )
        starts_s = (origin - now).total_seconds() + all_offsets * resolution  # delay of each
        ends_s = starts_s + profile.duration_s
        earliest_s = max(0.0, (to_local(request.earliest_start) - now).total_seconds())
        finish_s = (to_local(request.finish_by) - now).total_seconds()
        duration = profile.duration_s

        costs_all, share_all, price_max_all = self._costs(profile, all_offsets, prices, surplus)

        window = (starts_s >= earliest_s - 1e-6) & (ends_s <= finish_s + 1e-6)
        delay_ok = starts_s <= request.max_delay_s + 1e-6
        if finish_s <= 0:
            issues.append(
                Infeasibility(
                    PlanIssue.DEADLINE_PASSED,
                    f"{name}: the finish-by time {request.finish_by:%Y-%m-%d %H:%M} has passed",
                    name,
                )
            )
        elif finish_s - earliest_s < duration:
            issues.append(
                Infeasibility(
                    PlanIssue.WINDOW_TOO_SHORT,
                    f"{name}: the window is {(finish_s - earliest_s) / 60:.0f} min but "
                    f"{request.programme.id} takes {duration / 60:.0f} min",
                    name,
                )
            )
        elif not np.any(window):
            issues.append(
                Infeasibility(
                    PlanIssue.WINDOW_TOO_SHORT,
                    f"{name}: no {step // 60}-min start slot lets {request.programme.id} "
                    f"({duration / 60:.0f} min) finish by {request.finish_by:%H:%M}",
                    name,
                )
            )
        elif not np.any(window & delay_ok):
            issues.append(
                Infeasibility(
                    PlanIssue.DELAY_TOO_LONG,
                    f"{name}: the window starts {earliest_s / 3600:.1f} h from now, beyond the "
                    f"appliance's {request.max_delay_s / 3600:.1f} h delayed-start limit",
                    name,
                )
            )
        allowed = window & delay_ok
        if issues:
            # Nearest plan: finish as early as possible within the delay limit.
            allowed = delay_ok & (starts_s >= min(earliest_s, request.max_delay_s) - 1e-6)
            soonest = int(np.argmax(allowed)) if np.any(allowed) else 0
            allowed = np.zeros_like(allowed)
            allowed[soonest] = True
            relaxed.append(f"{name}: start at the first possible moment instead")

        cap = context.power_cap_w
        peak = float(profile.peak_w.max()) + context.base_load_w
        if cap is not None and peak > cap:
            base_text = (
                f" on top of {context.base_load_w:.0f} W base load" if context.base_load_w else ""
            )
            issues.append(
                Infeasibility(
                    PlanIssue.CAP_BELOW_APPLIANCE,
                    f"{name}: {request.programme.id} draws up to {profile.peak_w.max():.0f} W"
                    f"{base_text}"
                    f", above the {cap:.0f} W cap",
                    name,
                )
            )
            relaxed.append(f"{name}: planned as if the cap were {math.ceil(peak)} W")

        if request.only_cheap and not issues:
            in_window = price_max_all[allowed]
            threshold = context.cheap_price
            if threshold is None:
                # Cheap = the tariff's lowest price over the coming day, not the window's.
                day = int(86400 // resolution)
                threshold = float(prices[: day + 1].min())
            cheap = allowed & (price_max_all <= threshold + 1e-9)
            if np.any(cheap):
                allowed = cheap
            else:
                issues.append(
                    Infeasibility(
                        PlanIssue.NO_CHEAP_SLOT,
                        f"{name}: no start lets the whole run stay at or below "
                        f"{threshold:.4f} CNY/kWh (the best start still draws at "
                        f"{float(in_window.min()):.4f} CNY/kWh)",
                        name,
                    )
                )
                relaxed.append(f"{name}: cheapest start in the window, not only cheap hours")
        if request.only_surplus and not issues:
            if context.surplus is None:
                issues.append(
                    Infeasibility(PlanIssue.NO_SURPLUS, f"{name}: no solar surplus forecast", name)
                )
                relaxed.append(f"{name}: cheapest start in the window, not only solar")
            else:
                sunny = allowed & (share_all >= context.min_surplus_share - 1e-9)
                if np.any(sunny):
                    allowed = sunny
                else:
                    issues.append(
                        Infeasibility(
                            PlanIssue.NO_SURPLUS,
                            f"{name}: forecast surplus covers at most "
                            f"{100 * float(share_all[allowed].max()):.0f} % of the run, "
                            f"{100 * context.min_surplus_share:.0f} % needed",
                            name,
                        )
                    )
                    relaxed.append(f"{name}: cheapest start in the window, not only solar")
        return _Candidates(
            request, profile, all_offsets[allowed], costs_all[allowed], all_offsets, issues, relaxed
        )

    def _costs(
        self,
        profile: BinnedProfile,
        offsets: NDArray[np.int64],
        prices: FloatArray,
        surplus: FloatArray,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Cost, surplus-covered energy share and highest price while drawing, per start."""
        length = profile.mean_w.size
        hours = self.context.resolution_s / 3600.0
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

    # --- one appliance --------------------------------------------------------------------

    def _best_single(
        self, candidates: _Candidates, origin: datetime, prices: FloatArray, surplus: FloatArray
    ) -> RunPlan:
        costs = candidates.costs
        best = float(costs.min())
        # Ties (a flat tariff) go to the earliest start: never delay for nothing.
        index = int(np.flatnonzero(costs <= best + 1e-9 * max(1.0, abs(best)))[0])
        return self._run_plan(candidates, int(candidates.offsets[index]), origin, prices, surplus)

    def _run_plan(
        self,
        candidates: _Candidates,
        offset: int,
        origin: datetime,
        prices: FloatArray,
        surplus: FloatArray,
    ) -> RunPlan:
        context = self.context
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

    # --- several appliances -------------------------------------------------------------------

    def _joint(
        self,
        candidates: list[_Candidates],
        origin: datetime,
        prices: FloatArray,
        surplus: FloatArray,
    ) -> tuple[RunPlan, ...] | None:
        from scipy.optimize import Bounds, LinearConstraint, milp
        from scipy.sparse import coo_array

        context = self.context
        cap_issue = any(
            i.code is PlanIssue.CAP_BELOW_APPLIANCE for c in candidates for i in c.issues
        )
        cap = None if context.power_cap_w is None or cap_issue else context.power_cap_w
        shared_surplus = context.surplus is not None and bool(np.any(surplus > 0))
        columns = [c.offsets.size for c in candidates]
        n_x = sum(columns)
        if any(n == 0 for n in columns):
            return None
        bins = prices.size
        rows: list[NDArray[np.int64]] = []
        cols: list[NDArray[np.int64]] = []
        peak_vals: list[FloatArray] = []
        mean_vals: list[FloatArray] = []
        column = 0
        for c in candidates:
            length = c.profile.mean_w.size
            for offset in c.offsets:
                rows.append(np.arange(offset, offset + length, dtype=np.int64))
                cols.append(np.full(length, column, dtype=np.int64))
                peak_vals.append(c.profile.peak_w)
                mean_vals.append(c.profile.mean_w)
                column += 1
        row_index = np.concatenate(rows)
        col_index = np.concatenate(cols)
        n_vars = n_x + (bins if shared_surplus else 0)
        objective = np.zeros(n_vars)
        hours = context.resolution_s / 3600.0
        if shared_surplus:
            objective[n_x:] = prices * hours / 1000.0
        else:
            objective[:n_x] = np.concatenate([c.costs for c in candidates])
        constraints = []
        assignment = np.zeros((len(candidates), n_vars))
        start = 0
        for row, n in enumerate(columns):
            assignment[row, start : start + n] = 1.0
            start += n
        constraints.append(LinearConstraint(assignment, 1.0, 1.0))
        if cap is not None:
            peak = coo_array(
                (np.concatenate(peak_vals), (row_index, col_index)), shape=(bins, n_vars)
            ).tocsr()
            limit = cap - context.base_load_w
            busy = np.flatnonzero(np.asarray(peak.sum(axis=1)).ravel() > limit)
            if busy.size:  # only bins where the cap could bind
                constraints.append(LinearConstraint(peak[busy], -np.inf, limit))
        if shared_surplus:
            # grid_t >= sum of powers - surplus_t, grid_t >= 0 (its bound)
            power = coo_array(
                (np.concatenate(mean_vals), (row_index, col_index)), shape=(bins, n_vars)
            ).tolil()
            for t in range(bins):
                power[t, n_x + t] = -1.0
            constraints.append(LinearConstraint(power.tocsr(), -np.inf, surplus))
        integrality = np.zeros(n_vars)
        integrality[:n_x] = 1
        upper = np.full(n_vars, np.inf)
        upper[:n_x] = 1.0
        result = milp(
            objective,
            constraints=constraints,
            integrality=integrality,
            bounds=Bounds(np.zeros(n_vars), upper),
            options={"time_limit": 30.0, "mip_rel_gap": 0.0},
        )
        if result.x is None or result.status not in (0, 1):
            return None
        chosen = result.x[:n_x]
        plans = []
        start = 0
        for c, n in zip(candidates, columns, strict=True):
            index = int(np.argmax(chosen[start : start + n]))
            plans.append(self._run_plan(c, int(c.offsets[index]), origin, prices, surplus))
            start += n
        if shared_surplus:
            plans = self._shared_costs(plans, candidates, origin, prices, surplus)
        return tuple(plans)

    def _shared_costs(
        self,
        plans: list[RunPlan],
        candidates: list[_Candidates],
        origin: datetime,
        prices: FloatArray,
        surplus: FloatArray,
    ) -> list[RunPlan]:
        """Split the grid import of runs sharing surplus in proportion to their power."""
        resolution = self.context.resolution_s
        power = np.zeros((len(plans), prices.size))
        for row, (plan, c) in enumerate(zip(plans, candidates, strict=True)):
            offset = round((plan.start - origin).total_seconds() / resolution)
            power[row, offset : offset + c.profile.mean_w.size] = c.profile.mean_w
        total = power.sum(axis=0)
        grid = np.clip(total - surplus, 0.0, None)
        share = np.divide(power, total, out=np.zeros_like(power), where=total > 0)
        hours = resolution / 3600.0
        out = []
        for row, plan in enumerate(plans):
            grid_w = share[row] * grid
            out.append(
                RunPlan(
                    plan.appliance_id,
                    plan.start,
                    plan.delay_s,
                    plan.end,
                    float((grid_w * prices).sum() * hours / 1000.0),
                    plan.energy_kwh,
                    float(grid_w.sum() * hours / 1000.0),
                )
            )
        return out

    def _extend_until_feasible(
        self,
        candidates: list[_Candidates],
        origin: datetime,
        prices: FloatArray,
        surplus: FloatArray,
    ) -> tuple[tuple[RunPlan, ...] | None, float]:
        """The smallest common deadline extension (in steps) that fits the cap."""
        step = self.context.step_s
        now = to_local(self.context.now)

        def extended(by_s: float) -> list[_Candidates]:
            out = []
            for c in candidates:
                request = c.request
                finish_s = (to_local(request.finish_by) - now).total_seconds() + by_s
                earliest_s = max(0.0, (to_local(request.earliest_start) - now).total_seconds())
                starts = (origin - now).total_seconds() + c.all_offsets * self.context.resolution_s
                keep = (
                    (starts >= earliest_s - 1e-6)
                    & (starts + c.profile.duration_s <= finish_s + 1e-6)
                    & (starts <= request.max_delay_s + 1e-6)
                )
                costs, _, _ = self._costs(c.profile, c.all_offsets[keep], prices, surplus)
                out.append(
                    _Candidates(request, c.profile, c.all_offsets[keep], costs, c.all_offsets)
                )
            return out

        low, high = 0, math.ceil(MAX_EXTENSION.total_seconds() / step)
        best = self._joint(extended(high * step), origin, prices, surplus)
        if best is None:
            return None, 0.0
        while high - low > 1:
            middle = (low + high) // 2
            attempt = self._joint(extended(middle * step), origin, prices, surplus)
            if attempt is None:
                low = middle
            else:
                high, best = middle, attempt
        return best, float(high * step)
