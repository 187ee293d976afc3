"""Several runs under one household power cap: a mixed-integer program.

One binary per appliance and allowed start (``scipy.optimize.milp`` / HiGHS),
exactly one start per appliance, the cap on every time bin where it could
bind; with a shared solar surplus, one grid-import variable per bin. When the
runs cannot all fit, the smallest common deadline extension that fits is
searched by bisection. HiGHS runs under a wall-clock limit; stopping there
without any plan raises ``SolverTimeLimit`` (not "does not fit").
"""

from __future__ import annotations

from datetime import datetime
import math
from typing import Final

import numpy as np
from numpy.typing import NDArray

from .planner_model import (
    MAX_EXTENSION,
    Candidates,
    FloatArray,
    PlanIssue,
    PlanningContext,
    RunPlan,
    run_plan,
    start_costs,
)
from .tariff import to_local

# Seconds HiGHS may search one program. A few runs take well under a second; the limit
# keeps a hub that is slow or busy from planning for minutes.
TIME_LIMIT_S: Final = 30.0


class SolverTimeLimit(Exception):
    """HiGHS reached ``TIME_LIMIT_S`` before it found a start for every run."""


def joint_plans(
    context: PlanningContext,
    candidates: list[Candidates],
    origin: datetime,
    prices: FloatArray,
    surplus: FloatArray,
) -> tuple[RunPlan, ...] | None:
    """The cheapest starts of all runs together under the cap; None if none fit.

    Raises SolverTimeLimit when HiGHS stops at its time limit without any plan.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    cap_issue = any(i.code is PlanIssue.CAP_BELOW_APPLIANCE for c in candidates for i in c.issues)
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
        options={"time_limit": TIME_LIMIT_S, "mip_rel_gap": 0.0},
    )
    if result.x is None and result.status == 1:  # 1: iteration or time limit reached
        raise SolverTimeLimit(f"the planner found no plan within its {TIME_LIMIT_S:g} s time limit")
    if result.x is None or result.status not in (0, 1):
        return None
    chosen = result.x[:n_x]
    plans = []
    start = 0
    for c, n in zip(candidates, columns, strict=True):
        index = int(np.argmax(chosen[start : start + n]))
        plans.append(run_plan(context, c, int(c.offsets[index]), origin, prices, surplus))
        start += n
    if shared_surplus:
        plans = _shared_costs(context, plans, candidates, origin, prices, surplus)
    return tuple(plans)


def _shared_costs(
    context: PlanningContext,
    plans: list[RunPlan],
    candidates: list[Candidates],
    origin: datetime,
    prices: FloatArray,
    surplus: FloatArray,
) -> list[RunPlan]:
    """Split the grid import of runs sharing surplus in proportion to their power."""
    resolution = context.resolution_s
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


def extend_until_feasible(
    context: PlanningContext,
    candidates: list[Candidates],
    origin: datetime,
    prices: FloatArray,
    surplus: FloatArray,
) -> tuple[tuple[RunPlan, ...] | None, float]:
    """The smallest common deadline extension (in steps) that fits the cap."""
    step = context.step_s
    now = to_local(context.now)

    def extended(by_s: float) -> list[Candidates]:
        out = []
        for c in candidates:
            request = c.request
            finish_s = (to_local(request.finish_by) - now).total_seconds() + by_s
            earliest_s = max(0.0, (to_local(request.earliest_start) - now).total_seconds())
            starts = (origin - now).total_seconds() + c.all_offsets * context.resolution_s
            keep = (
                (starts >= earliest_s - 1e-6)
                & (starts + c.profile.duration_s <= finish_s + 1e-6)
                & (starts <= request.max_delay_s + 1e-6)
            )
            costs, _, _ = start_costs(context, c.profile, c.all_offsets[keep], prices, surplus)
            out.append(Candidates(request, c.profile, c.all_offsets[keep], costs, c.all_offsets))
        return out

    low, high = 0, math.ceil(MAX_EXTENSION.total_seconds() / step)
    best = joint_plans(context, extended(high * step), origin, prices, surplus)
    if best is None:
        return None, 0.0
    while high - low > 1:
        middle = (low + high) // 2
        attempt = joint_plans(context, extended(middle * step), origin, prices, surplus)
        if attempt is None:
            low = middle
        else:
            high, best = middle, attempt
    return best, float(high * step)
