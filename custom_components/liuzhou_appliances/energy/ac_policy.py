"""When the AC should run at all: occupied, or someone arrives within the lead time.

The fuzzy controller (``ac.py``) only moves the target inside the comfort
band; this policy decides whether the unit runs. It is shared by the energy
benchmark (which knows the arrival schedule) and the Home Assistant loop
(which knows presence only, so there ``next_arrival`` is None and the policy
reduces to "occupied").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

# Pre-conditioning lead before an arrival. A 2-hour lead whenever a dearer period was
# coming (cooling an empty room across the 17:00 peak start) measured 9.1 % saving
# against 10.3 % with this plain lead, at the same comfort: not worth it (docs/energy.md).
PRECONDITION_LEAD: Final = timedelta(minutes=30)


@dataclass(slots=True)
class PreconditionPolicy:
    """On when occupied or an arrival is within ``lead``; once begun, on until the arrival."""

    lead: timedelta = PRECONDITION_LEAD
    _preconditioning_for: datetime | None = field(default=None, init=False)

    def should_run(self, now: datetime, occupied: bool, next_arrival: datetime | None) -> bool:
        """Whether the AC runs now."""
        expected = next_arrival is not None and (
            next_arrival - now <= self.lead or next_arrival == self._preconditioning_for
        )
        # Once pre-conditioning for an arrival has begun, it runs until the arrival.
        self._preconditioning_for = next_arrival if expected and not occupied else None
        return occupied or expected
