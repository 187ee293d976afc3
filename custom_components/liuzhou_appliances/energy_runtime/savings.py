"""Savings bookkeeping of one appliance: the AC's steady-state estimate and planned runs.

The total (CNY) is kept by the savings sensor across restarts. The AC adds,
each loop, what its power would have cost at the user's setpoint minus what it
costs at the controller's target (power scales with the outdoor-to-target gap,
docs/energy.md); a planned run adds, when it starts, what starting at once
would have cost minus what it costs as planned.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from custom_components.liuzhou_appliances.energy.inputs import Reading, fresh_value

from .reported import AcState

# Below this outdoor-to-target gap the steady-state ratio is meaningless.
MIN_SAVINGS_GAP_K: Final = 1.0
MAX_SAVINGS_STEP: Final = timedelta(minutes=5)


class Savings:
    """The savings total so far, and the moment the AC estimate last counted up to."""

    def __init__(self) -> None:
        """Nothing saved yet (the savings sensor restores the total)."""
        self.total = 0.0
        self.last_tick: datetime | None = None

    def credit(self, amount: float) -> None:
        """Add a planned run's savings (negative if the plan costs more)."""
        self.total += amount

    def accrue_ac(
        self,
        now: datetime,
        ac: AcState,
        outdoor: Reading | None,
        setpoint: float,
        price: float | None,
    ) -> bool:
        """Add the AC's steady-state savings since the last loop; True if the total changed."""
        last, self.last_tick = self.last_tick, now
        if last is None:
            return False
        step = min(now - last, MAX_SAVINGS_STEP).total_seconds()
        outside, _ = fresh_value(outdoor, now, timedelta(hours=2), "outdoor_temperature")
        power, target = ac.power_w, ac.target_temperature
        if outside is None or price is None:
            return False
        if power is None or target is None or power <= 0:
            return False
        direction = 1.0 if ac.mode == "cool" else -1.0
        gap_setpoint = direction * (outside - setpoint)
        gap_target = direction * (outside - target)
        if gap_target < MIN_SAVINGS_GAP_K or gap_setpoint <= 0:
            return False
        baseline_w = power * gap_setpoint / gap_target
        delta = (baseline_w - power) * step / 3.6e6 * price
        if delta:
            self.total += delta
            return True
        return False
