"""When the AC should run at all: occupied, or someone arrives within the preset's lead.

The fuzzy controller (``ac.py``) only moves the target inside the comfort
band; this policy decides whether the unit runs. It is shared by the energy
benchmark (which knows the arrival schedule) and the Home Assistant loop
(presence, plus the household's optional next-arrival entity; without it
``next_arrival`` is None and the policy reduces to "occupied").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from .ac import ComfortPreset

# Pre-conditioning lead before an arrival, per preset: the comfort/cost knob. A longer
# lead reaches the band before the guest does (less violation) and costs more
# (docs/energy.md, "The pre-conditioning lead per preset"). A 2-hour lead whenever a
# dearer period was coming measured less saving at the same comfort, so none is used.
COMFORT_LEAD: Final = timedelta(minutes=30)
BALANCED_LEAD: Final = timedelta(minutes=15)
ECO_LEAD: Final = timedelta(minutes=5)
PRECONDITION_LEADS: Final[Mapping[ComfortPreset, timedelta]] = {
    ComfortPreset.COMFORT: COMFORT_LEAD,
    ComfortPreset.BALANCED: BALANCED_LEAD,
    ComfortPreset.ECO: ECO_LEAD,
}
# The default preset's lead (what ``PreconditionPolicy()`` uses).
PRECONDITION_LEAD: Final = PRECONDITION_LEADS[ComfortPreset.BALANCED]


def precondition_lead(preset: ComfortPreset | str) -> timedelta:
    """The pre-conditioning lead of ``preset`` (ValueError naming it if unknown)."""
    try:
        return PRECONDITION_LEADS[ComfortPreset(preset)]
    except ValueError:
        known = ", ".join(str(p) for p in ComfortPreset)
        raise ValueError(f"unknown comfort preset {preset!r} (known: {known})") from None


@dataclass(slots=True)
class PreconditionPolicy:
    """On when occupied or an arrival is within ``lead``; once begun, on until the arrival."""

    lead: timedelta = PRECONDITION_LEAD
    _preconditioning_for: datetime | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.lead < timedelta(0):
            raise ValueError(f"pre-conditioning lead must not be negative, got {self.lead}")

    @classmethod
    def for_preset(cls, preset: ComfortPreset | str) -> PreconditionPolicy:
        """The policy with ``preset``'s lead (comfort 30, balanced 15, eco 5 min)."""
        return cls(lead=precondition_lead(preset))

    def should_run(self, now: datetime, occupied: bool, next_arrival: datetime | None) -> bool:
        """Whether the AC runs now."""
        expected = next_arrival is not None and (
            next_arrival - now <= self.lead or next_arrival == self._preconditioning_for
        )
        # Once pre-conditioning for an arrival has begun, it runs until the arrival.
        self._preconditioning_for = next_arrival if expected and not occupied else None
        return occupied or expected
