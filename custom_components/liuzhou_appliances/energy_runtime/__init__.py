"""Energy features in Home Assistant: the household runtime and each appliance's controllers.

One job a file (docs/architecture.md, "Energy in Home Assistant"):
``household`` (tariff, inputs), ``shedding`` (demand response and load
shedding), ``appliance`` (one appliance's switch, preset and status),
``ac_loop``, ``fridge_loop``, ``planned_runs``, ``appliance_shedding``,
``savings``, ``runtime_state`` (the Store), ``status`` (status and reasons),
``reported`` (typed views of reported values), ``listeners``, ``views``
(what the parts use of their owners, so imports go one way). The decisions
themselves are the HA-free ``energy`` package's.
"""

from __future__ import annotations

from .appliance import ApplianceEnergy
from .household import HouseholdEnergy
from .planned_runs import china_aware
from .runtime_state import async_keep_runtime, async_load_runtime_state
from .status import REASONS, UNEXPECTED_REASON, EnergyStatus, reason_codes

__all__ = [
    "REASONS",
    "UNEXPECTED_REASON",
    "ApplianceEnergy",
    "EnergyStatus",
    "HouseholdEnergy",
    "async_keep_runtime",
    "async_load_runtime_state",
    "china_aware",
    "reason_codes",
]
