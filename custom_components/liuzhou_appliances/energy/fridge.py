"""Fridge pre-cooling: store coolness before dear hours, never leave food-safe bounds.

The controller only ever moves the targets *down* from the food-safe
targets (colder is always safe), ahead of a dearer tariff period, and goes
back to the safe targets once the dear period has begun, so the compressor
can rest while the price is high. The safe targets are derived from the
food-safety limits, the fridge's own thermostat swing and the defrost's
warming: with a ±0.7 K damper band and a 0.5 K margin for door openings
a 4 °C limit needs a fridge target of at most 2 °C; with a ±1 K band and
~1.5 K of defrost warming a -18 °C limit needs a freezer target of at most
-21 °C.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
import math

from .inputs import DecisionStatus, Issue, Reading, fresh_value
from .tariff import PriceUnavailableError, Tariff, price_signal

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FridgeDecision:
    """Targets to write, and why."""

    status: DecisionStatus
    fridge_target: float
    freezer_target: float | None
    precooling: bool
    issues: tuple[Issue, ...] = ()


@dataclass(slots=True)
class FridgePrecoolController:
    """Decides fridge and freezer targets; ``decide`` never raises."""

    tariff: Tariff | None = None
    fridge_limit_c: float = 4.0  # food safety: the fridge never above this
    freezer_limit_c: float = -18.0  # food safety: the freezer never above this
    fridge_swing_k: float = 0.7  # the appliance's thermostat band (half width)
    freezer_swing_k: float = 1.0
    # A defrost (heater on, compressor off) warms the freezer too: 180 W x 35 % x 20 min
    # into ~50 kJ/K is ~1.5 K on the simulated BCD-300W; keep that much in reserve.
    freezer_defrost_rise_k: float = 1.5
    # Fridge margin: dinner-time door openings in a 30 °C kitchen warm the food by up to
    # ~1 K above the damper band on the simulated BCD-300W (measured in the benchmark).
    fridge_margin_k: float = 0.5
    margin_k: float = 0.2
    precool_k: float = 1.0  # how much colder while pre-cooling
    fridge_step: float = 1.0  # target resolution (declaration step)
    fridge_min: float = 1.0
    freezer_min: float = -24.0
    lookahead: timedelta = timedelta(hours=2)
    stale_after: timedelta = timedelta(minutes=15)
    recovery_k: float = 0.3  # measured this far above the safe target: go colder now

    @property
    def safe_fridge_target(self) -> float:
        """Highest fridge target that keeps the compartment at or below its limit."""
        return self._floor(
            self.fridge_limit_c - self.fridge_swing_k - self.fridge_margin_k, self.fridge_min
        )

    @property
    def safe_freezer_target(self) -> float:
        """Highest freezer target that keeps it at or below its limit."""
        return self._floor(
            self.freezer_limit_c
            - self.freezer_swing_k
            - self.freezer_defrost_rise_k
            - self.margin_k,
            self.freezer_min,
        )

    def _floor(self, value: float, minimum: float) -> float:
        return max(minimum, math.floor(value / self.fridge_step + 1e-9) * self.fridge_step)

    def decide(
        self,
        now: datetime,
        fridge_temperature: Reading | None,
        freezer_temperature: Reading | None = None,
        *,
        has_freezer: bool = True,
    ) -> FridgeDecision:
        """Targets for now; missing sensors or prices give the safe targets."""
        issues: list[Issue] = []
        fridge_target = self.safe_fridge_target
        freezer_target: float | None = self.safe_freezer_target if has_freezer else None
        signal = 0.0
        if self.tariff is not None:
            try:
                signal = price_signal(self.tariff, now, lookahead=self.lookahead)
            except PriceUnavailableError as error:
                issues.append(Issue("price_unavailable", str(error)))
        precooling = signal < -0.2
        if precooling:
            fridge_target = max(self.fridge_min, fridge_target - self.precool_k)
            if freezer_target is not None:
                freezer_target = max(self.freezer_min, freezer_target - self.precool_k)
        fridge, fridge_issue = fresh_value(
            fridge_temperature, now, self.stale_after, "fridge_temperature"
        )
        if fridge_issue is not None:
            issues.append(fridge_issue)
        elif fridge is not None and fridge > self.fridge_limit_c - self.recovery_k:
            # A door opening or a warm load: pull down now, whatever the price.
            fridge_target = self.fridge_min
        if has_freezer:
            freezer, freezer_issue = fresh_value(
                freezer_temperature, now, self.stale_after, "freezer_temperature"
            )
            if freezer_issue is not None:
                issues.append(freezer_issue)
            elif freezer is not None and freezer > self.freezer_limit_c - self.recovery_k:
                freezer_target = self.freezer_min
        status = DecisionStatus.DEGRADED if issues else DecisionStatus.OK
        if issues:
            _LOGGER.info(
                "fridge controller degraded (safe targets kept): %s",
                "; ".join(i.message for i in issues),
            )
        return FridgeDecision(status, fridge_target, freezer_target, precooling, tuple(issues))
