"""Totals of a changing group of meters (a room's, a floor's, the property's appliances).

A group's total is the sum of what its members added while they were members,
not the sum of their counters: an appliance that joins a room brings none of
the energy it used elsewhere, one that leaves takes none away, and one that is
offline adds what it used meanwhile once it reports again. So a room's energy
never goes down and never jumps when appliances move between rooms.

``MemberTotals`` does this for one quantity; ``GroupTotals`` holds a group's
energy (kWh, with its cost at the price of the moment it was counted) and its
savings (currency, which may go down: a plan can cost more than it saves).
Stored data is read back by ``GroupTotals.from_dict``, which raises only
``GroupTotalsError``. Nothing here imports Home Assistant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
import math
from typing import Any


class GroupTotalsError(ValueError):
    """Stored group totals that cannot be read back (damaged or from another release)."""


@dataclass(slots=True)
class MemberTotals:
    """A running total built from the increments of its members' counters.

    ``monotonic``: a counter that goes back (a reset, a replaced controller)
    starts over from its new reading and adds nothing (energy); otherwise a
    decrease is subtracted (savings).
    """

    monotonic: bool
    total: float = 0.0
    # Each member's last reading; a member without one has not reported since it joined.
    readings: dict[str, float] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)

    def set_members(self, members: Iterable[str]) -> None:
        """Keep the members in ``members``, add new ones (from their next reading), drop others."""
        self.members = set(members)
        for gone in set(self.readings) - self.members:
            del self.readings[gone]

    def read(self, member: str, value: float | None) -> float:
        """Take a member's reading (None: offline or unknown); return what it added.

        The first reading of a member is its starting point and adds nothing.
        Readings of non-members and non-finite readings are ignored.
        """
        if member not in self.members or value is None or not math.isfinite(value):
            return 0.0
        last = self.readings.get(member)
        self.readings[member] = value
        if last is None or (self.monotonic and value < last):
            return 0.0
        added = value - last
        self.total += added
        return added

    def restore(self, total: float, readings: Mapping[str, float]) -> float:
        """Continue from a stored total and readings (after a restart).

        Members read since the start keep their new starting point and also get
        what they added between the stored reading and it (what they used while
        Home Assistant was down); the others start from the stored reading.
        Returns what those members added beyond the stored total.
        """
        self.total += total
        gap = 0.0
        for member in self.members:
            stored = readings.get(member)
            if stored is None:
                continue
            now = self.readings.get(member)
            if now is None:
                self.readings[member] = stored
            elif not self.monotonic or now >= stored:
                gap += now - stored
        self.total += gap
        return gap


@dataclass(slots=True)
class GroupTotals:
    """A group's energy (kWh), its cost and its savings (currency), from the members' counters."""

    energy: MemberTotals = field(default_factory=lambda: MemberTotals(monotonic=True))
    savings: MemberTotals = field(default_factory=lambda: MemberTotals(monotonic=False))
    cost: float = 0.0
    # Whether the stored totals were taken back (until then the group shows nothing).
    restored: bool = False

    def set_members(self, members: Iterable[str]) -> None:
        """The group's members now (appliance ids of any kind, the same for all quantities)."""
        kept = set(members)
        self.energy.set_members(kept)
        self.savings.set_members(kept)

    def read_energy(self, member: str, kwh: float | None, price: float | None) -> float:
        """A member's energy counter (kWh); the energy it added is costed at ``price``.

        Returns the kWh added. Without a price (a price feed that is down) the
        energy is counted and its cost is not.
        """
        added = self.energy.read(member, kwh)
        if added and price is not None and math.isfinite(price):
            self.cost += added * price
        return added

    def read_savings(self, member: str, amount: float | None) -> float:
        """A member's savings total (currency); returns what it added (may be negative)."""
        return self.savings.read(member, amount)

    def as_dict(self) -> dict[str, Any]:
        """JSON for the restore-state store."""
        return {
            "energy_kwh": self.energy.total,
            "cost": self.cost,
            "savings": self.savings.total,
            "energy_readings": dict(self.energy.readings),
            "savings_readings": dict(self.savings.readings),
        }

    def restore(self, data: Mapping[str, Any], price: float | None = None) -> None:
        """Continue from ``as_dict`` output; GroupTotalsError (nothing changed) if it is not one.

        Energy used while Home Assistant was down is costed at ``price`` (the price now).
        """
        energy, cost, savings, energy_readings, savings_readings = _parse(data)
        gap = self.energy.restore(energy, energy_readings)
        self.savings.restore(savings, savings_readings)
        self.cost += cost
        if gap and price is not None and math.isfinite(price):
            self.cost += gap * price


def _number(data: Mapping[str, Any], key: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise GroupTotalsError(f"{key}: {value!r} is not a finite number")
    return float(value)


def _readings(data: Mapping[str, Any], key: str) -> dict[str, float]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise GroupTotalsError(f"{key}: {value!r} is not a mapping")
    return {str(member): _number(value, member) for member in value}


def _parse(
    data: Mapping[str, Any],
) -> tuple[float, float, float, dict[str, float], dict[str, float]]:
    """The stored numbers, checked before anything is changed."""
    return (
        _number(data, "energy_kwh"),
        _number(data, "cost"),
        _number(data, "savings"),
        _readings(data, "energy_readings"),
        _readings(data, "savings_readings"),
    )
