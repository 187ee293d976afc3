"""Planned washer and dishwasher runs: plan one, remember it, credit its savings when it starts.

The plan_run action plans a run with the household's tariff, cap and solar
surplus (``plan_run``) and records the plan it executed (``record_plan``).
The appliance's reported state then tells whether the run started (its
savings are credited once) or was stopped before starting (forgotten).

A run is planned on the wet-cycle model's profile of the programme at the
present settings when the model answers (``profile_for``, set by the entry's
set-up from its ``WetCycleRuntime``), else on the declared profile;
``profile_source`` says which ("model" or "declared").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
import math
from typing import Any

from homeassistant.util import dt as dt_util

from custom_components.liuzhou_appliances.energy.planner import (
    PlanResult,
    RunPlan,
    RunPlanner,
    RunRequest,
)
from custom_components.liuzhou_appliances.energy.tariff import CHINA_TZ
from custom_components.liuzhou_appliances.link.declaration import Programme
from custom_components.liuzhou_appliances.link.model import OperationalState

from .runtime_state import time_from_json
from .status import EnergyStatus
from .views import ApplianceView

_LOGGER = logging.getLogger(__package__)


def china_aware(when: datetime) -> datetime:
    """The planner works in naive China Standard Time; Home Assistant needs aware times."""
    return when.replace(tzinfo=CHINA_TZ) if when.tzinfo is None else when


@dataclass
class PlannedRun:
    """A run planned through the plan_run action."""

    programme: str
    start: datetime
    delay_s: int
    cost: float  # CNY at the planned time
    cost_at_once: float  # CNY if started at the earliest allowed moment
    started: bool = False

    @property
    def savings(self) -> float:
        """Cost at once minus cost as planned (negative if the plan costs more)."""
        return self.cost_at_once - self.cost

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, for the kept runtime state."""
        return {
            "programme": self.programme,
            "start": self.start.isoformat(),
            "delay_s": self.delay_s,
            "cost": self.cost,
            "cost_at_once": self.cost_at_once,
            "started": self.started,
        }

    @classmethod
    def from_json(cls, raw: Any) -> PlannedRun | None:
        """The kept plan, or None if it is not one."""
        try:
            start = time_from_json(raw["start"])
            if start is None:
                return None
            return cls(
                str(raw["programme"]),
                start,
                int(raw["delay_s"]),
                float(raw["cost"]),
                float(raw["cost_at_once"]),
                bool(raw["started"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


class PlannedRuns:
    """The planned run of one washer or dishwasher."""

    def __init__(self, energy: ApplianceView) -> None:
        """No run planned."""
        self.energy = energy
        self.coordinator = energy.coordinator
        self.plan: PlannedRun | None = None
        # The programme to plan with and its source; the declared one unless set-up
        # gives the predictor's (washers and dishwashers).
        self.profile_for: Callable[[Programme], tuple[Programme, str]] = _declared
        self.profile_source = "declared"

    def programme(self, programme_id: str | None) -> Programme:
        """The declared programme (the selected one by default); LinkError if unknown."""
        wanted = programme_id or str(self.coordinator.data.get("programme"))
        return self.coordinator.declaration.programme(wanted)

    def planned(self) -> bool:
        """A planned run is waiting or under way (not once it has finished)."""
        if self.plan is None:
            return False
        finished = self.coordinator.values.get("operational_state") == (OperationalState.FINISHED)
        return not (self.plan.started and finished)

    def plan_run(
        self,
        programme: Programme,
        earliest_start: datetime,
        finish_by: datetime,
        *,
        only_cheap: bool,
        only_surplus: bool,
    ) -> tuple[PlanResult, RunPlan | None]:
        """The plan and the run as it would be if started at once (for the savings).

        Planned on ``profile_for(programme)``: the model's profile when it answers.
        """
        household = self.energy.household
        assert household is not None
        programme, self.profile_source = self.profile_for(programme)
        now = dt_util.utcnow()
        power = self.coordinator.data.get("power")
        context = household.planning_context(
            now, float(power) if isinstance(power, int | float) else 0.0
        )
        appliance_id = self.energy.appliance_id
        max_delay = self.coordinator.declaration.max_delay_s
        request = RunRequest(
            appliance_id,
            programme,
            earliest_start,
            finish_by,
            only_cheap=only_cheap,
            only_surplus=only_surplus,
            max_delay_s=max_delay,
        )
        result = RunPlanner(context).plan([request])
        earliest = max(now, earliest_start)
        at_once = RunPlanner(context).plan(
            [
                RunRequest(
                    appliance_id,
                    programme,
                    earliest,
                    earliest + timedelta(seconds=programme.duration_s + context.step_s),
                    max_delay_s=max_delay,
                )
            ]
        )
        return result, at_once.plan_for(appliance_id) if at_once.feasible else None

    def record_plan(self, programme: str, plan: RunPlan, at_once: RunPlan | None) -> None:
        """Remember the executed plan for the sensors."""
        cost = plan.cost if math.isfinite(plan.cost) else 0.0
        cost_at_once = at_once.cost if at_once is not None else cost
        self.plan = PlannedRun(programme, china_aware(plan.start), plan.delay_s, cost, cost_at_once)
        self.energy.set_status(EnergyStatus.ACTIVE)
        self.energy.async_notify()

    def forget_plan(self) -> None:
        """The run was cancelled."""
        self.plan = None
        self.energy.async_notify()

    def follow_state(self) -> None:
        """Credit a planned run's savings when it starts; forget it when it is stopped."""
        if self.plan is None or not self.coordinator.data:
            return
        data = self.coordinator.data
        state = data.get("operational_state")
        delay = data.get("delay_remaining") or 0
        if state == OperationalState.RUNNING and not delay and not self.plan.started:
            self.plan.started = True
            self.energy.savings.credit(self.plan.savings)
            self.energy.async_notify()
        elif state in (OperationalState.STOPPED, OperationalState.FINISHED) and not (
            self.plan.started and state == OperationalState.FINISHED
        ):
            if not self.plan.started:
                _LOGGER.info("%s: planned run cancelled", self.coordinator.config_entry.title)
            self.plan = None
            self.energy.async_notify()

    def export_runtime(self) -> dict[str, Any] | None:
        """The plan, JSON-ready (None: no plan)."""
        return None if self.plan is None else self.plan.to_json()

    def restore_runtime(self, kept: Mapping[str, Any]) -> None:
        """Take the kept plan."""
        self.plan = PlannedRun.from_json(kept.get("plan")) if kept.get("plan") else None


def _declared(programme: Programme) -> tuple[Programme, str]:
    return programme, "declared"
