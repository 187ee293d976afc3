"""Physical faults of the fridge-freezer: what goes wrong in the machine, not a fault code.

Each ``PhysicalFault`` has a kind, a severity (0-1) and an onset (seconds on
the model's own clock, ``FridgeModel.clock_s``); before its onset it does
nothing. ``FaultEffects`` is what all active faults do to the physics at one
moment, and ``FridgeModel.advance`` applies it:

* ``door_seal``: a torn or hardened fridge-door gasket. Extra leak conductance
  of up to 1.6 W/K at severity 1 (three times the cabinet's own 0.55 W/K), and
  the damp kitchen air it lets in frosts the evaporator up to twice as fast.
* ``condenser``: dust and fluff on the condenser (or a fridge pushed against
  the wall). The condensing pressure rises: cooling capacity falls by up to
  30 % and compressor power rises by up to 35 %, so the compressor runs
  longer for less.
* ``compressor``: worn valves or a failing motor. Capacity falls from the
  onset by ``severity`` × 12 % a day (floor 25 % of the rating); the power
  drawn falls by a third of that (less gas pumped, the motor still turns).
* ``defrost``: the defrost heater or its thermal fuse fails. The heater gives
  ``1 - severity`` of its power and each defrost clears only that share of
  the frost, so the evaporator ices up and the capacity falls with run time
  (the frost curve of ``FridgeParameters``, floor 35 %).

All effects are deterministic given the fault list; the dataset draws kinds,
severities and onsets from its seeds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

type FaultKind = Literal["door_seal", "condenser", "compressor", "defrost"]

FAULT_KINDS: Final[tuple[FaultKind, ...]] = ("door_seal", "condenser", "compressor", "defrost")
DAY_S: Final = 86400.0
SEAL_LEAK_W_PER_K: Final = 1.6
SEAL_FROST_FACTOR: Final = 1.0  # extra frost growth at severity 1 (x2)
CONDENSER_CAPACITY_LOSS: Final = 0.30
CONDENSER_POWER_RISE: Final = 0.35
COMPRESSOR_LOSS_PER_DAY: Final = 0.12
COMPRESSOR_FLOOR: Final = 0.25
ICED_FLOOR: Final = 0.35


@dataclass(frozen=True, slots=True)
class PhysicalFault:
    """One fault: ``kind``, ``severity`` in (0, 1], active from ``onset_s`` (model clock, s).

    Raises ``ValueError`` for an unknown kind, a severity outside (0, 1] or a
    negative onset.
    """

    kind: FaultKind
    severity: float
    onset_s: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        if not 0.0 < self.severity <= 1.0:
            raise ValueError(f"severity must be in (0, 1], not {self.severity}")
        if self.onset_s < 0.0:
            raise ValueError(f"onset must be >= 0 s, not {self.onset_s}")


@dataclass(frozen=True, slots=True)
class FaultEffects:
    """Multipliers and additions the active faults apply at one moment (1 / 0: none)."""

    fridge_leak_extra_w_per_k: float = 0.0
    frost_rate: float = 1.0  # frost growth per run second, relative
    capacity: float = 1.0  # compressor cooling, relative (icing is separate)
    electric: float = 1.0  # compressor power, relative
    defrost_heater: float = 1.0  # share of the heater's power that works
    iced_floor: float | None = None  # lower frost floor while the defrost fails


NO_EFFECTS: Final = FaultEffects()


def effects_at(faults: Iterable[PhysicalFault], clock_s: float) -> FaultEffects:
    """The combined effect of ``faults`` at model time ``clock_s`` (s)."""
    leak, frost, capacity, electric, heater = 0.0, 1.0, 1.0, 1.0, 1.0
    floor: float | None = None
    active = False
    for fault in faults:
        if clock_s < fault.onset_s:
            continue
        active = True
        s = fault.severity
        if fault.kind == "door_seal":
            leak += SEAL_LEAK_W_PER_K * s
            frost *= 1.0 + SEAL_FROST_FACTOR * s
        elif fault.kind == "condenser":
            capacity *= 1.0 - CONDENSER_CAPACITY_LOSS * s
            electric *= 1.0 + CONDENSER_POWER_RISE * s
        elif fault.kind == "compressor":
            days = (clock_s - fault.onset_s) / DAY_S
            loss = min(1.0 - COMPRESSOR_FLOOR, COMPRESSOR_LOSS_PER_DAY * s * days)
            capacity *= 1.0 - loss
            electric *= 1.0 - loss / 3.0
        else:  # defrost
            heater *= 1.0 - s
            floor = ICED_FLOOR
    if not active:
        return NO_EFFECTS
    return FaultEffects(leak, frost, capacity, electric, heater, floor)
