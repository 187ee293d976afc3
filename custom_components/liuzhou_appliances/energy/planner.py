"""Run planner for washers and dishwashers: when to start, given prices, solar surplus and a cap.

Each programme is a power profile (``Programme.profile``). The planner
chooses start times on a grid (``step_s``, aligned to the clock) and answers
with the ``delay_s`` to send with the appliance's ``start`` command.

* One appliance: every start on the grid is costed and the cheapest kept, so
  the answer is the exact optimum on the grid (ties go to the earliest start).
* Several appliances sharing a household power cap: a mixed-integer program
  (one binary per appliance and start, ``scipy.optimize.milp`` / HiGHS)
  with the cap on every time bin; exact as well (planner_milp.py).

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
from datetime import datetime, timedelta
import logging
import math
from typing import Final

import numpy as np

from .planner_milp import SolverTimeLimit, extend_until_feasible, joint_plans
from .planner_model import (
    MAX_EXTENSION,
    BinnedProfile,
    Candidates,
    FloatArray,
    Infeasibility,
    PlanIssue,
    PlanningContext,
    PlanResult,
    RunPlan,
    RunRequest,
    SurplusForecast,
    bin_profile,
    run_plan,
    start_costs,
)
from .tariff import CHINA_TZ, PriceUnavailableError, to_local

# The request and answer types are defined in planner_model.py; callers import them from here.
__all__ = [
    "MAX_EXTENSION",
    "BinnedProfile",
    "Infeasibility",
    "PlanIssue",
    "PlanResult",
    "PlanningContext",
    "RunPlan",
    "RunPlanner",
    "RunRequest",
    "SurplusForecast",
    "bin_profile",
]

_LOGGER = logging.getLogger(__name__)
# What a fallback plan was made without, by the issue that forced it.
_WITHOUT: Final = {
    PlanIssue.PRICE_UNAVAILABLE: "planned without prices",
    PlanIssue.PLANNER_TIME_LIMIT: "planned without the optimiser",
    PlanIssue.INVALID_REQUEST: "not planned",
}


# --- the planner --------------------------------------------------------------------


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
        except SolverTimeLimit as error:
            return self._fallback(requests, PlanIssue.PLANNER_TIME_LIMIT, str(error))
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
            (f"{_WITHOUT[code]}: start as soon as allowed",),
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
            joint = joint_plans(context, candidates, origin, prices, surplus)
            if joint is None:
                cap = context.power_cap_w
                issues.append(
                    Infeasibility(
                        PlanIssue.CAP_TOO_LOW_TOGETHER,
                        f"the runs cannot all fit their windows under the {cap:.0f} W cap",
                    )
                )
                joint, extension = extend_until_feasible(
                    context, candidates, origin, prices, surplus
                )
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
    ) -> Candidates:
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

        costs_all, share_all, price_max_all = start_costs(
            context, profile, all_offsets, prices, surplus
        )

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
        return Candidates(
            request, profile, all_offsets[allowed], costs_all[allowed], all_offsets, issues, relaxed
        )

    # --- one appliance --------------------------------------------------------------------

    def _best_single(
        self, candidates: Candidates, origin: datetime, prices: FloatArray, surplus: FloatArray
    ) -> RunPlan:
        costs = candidates.costs
        best = float(costs.min())
        # Ties (a flat tariff) go to the earliest start: never delay for nothing.
        index = int(np.flatnonzero(costs <= best + 1e-9 * max(1.0, abs(best)))[0])
        return run_plan(
            self.context, candidates, int(candidates.offsets[index]), origin, prices, surplus
        )
