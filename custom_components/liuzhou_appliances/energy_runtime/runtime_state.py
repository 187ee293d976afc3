"""In-progress energy state kept in a Store, so reloads and restarts lose nothing.

Demand-response events, what is shed and planned runs survive reloading the
household entry (saving its options) and restarts. The Store is one for the
whole integration: ``{"household": ..., "appliances": {appliance id: ...}}``,
and entries not loaded now keep theirs in it until they are. It is the only
energy data in ``hass.data``, as it belongs to no single entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
import logging
from typing import Any, Final, Protocol

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from custom_components.liuzhou_appliances.const import DOMAIN
from custom_components.liuzhou_appliances.energy.shedding import ShedAction, ShedStep
from custom_components.liuzhou_appliances.link.model import Value

_LOGGER = logging.getLogger(__package__)

STORE_KEY: Final = f"{DOMAIN}.energy_runtime"
STORE_VERSION: Final = 1
STORE_SAVE_DELAY: Final = 10  # seconds; Home Assistant also writes it when it stops


class KeptRuntime(Protocol):
    """A runtime whose in-progress state is kept (the household's)."""

    def export_runtime(self) -> dict[str, Any]:
        """Its state as plain data."""


class KeptApplianceRuntime(KeptRuntime, Protocol):
    """An appliance's runtime whose in-progress state is kept."""

    @property
    def appliance_id(self) -> str:
        """The appliance's id."""


@dataclass
class RuntimeState:
    """The Store, the state as last kept (read once, at the first set-up), and where
    the set-up runtimes are found (given by the set-up: ``runtime_data``'s lookups)."""

    store: Store[dict[str, Any]]
    find_household: Callable[[], KeptRuntime | None]
    find_appliances: Callable[[], Iterable[KeptApplianceRuntime]]
    kept: dict[str, Any] = field(default_factory=dict)

    def household_holds(self, appliance_id: str) -> bool:
        """Whether the kept household state holds shed actions on this appliance."""
        household = self.kept.get("household") or {}
        return any(
            isinstance(raw, dict) and raw.get("appliance_id") == appliance_id
            for raw in household.get("shed") or ()
        )


DATA_RUNTIME_STATE: HassKey[RuntimeState] = HassKey(f"{DOMAIN}_energy_runtime_state")


async def async_load_runtime_state(
    hass: HomeAssistant,
    find_household: Callable[[], KeptRuntime | None],
    find_appliances: Callable[[], Iterable[KeptApplianceRuntime]],
) -> RuntimeState:
    """The runtime state kept by the last run (the Store is read once)."""
    if (state := hass.data.get(DATA_RUNTIME_STATE)) is not None:
        return state
    state = RuntimeState(Store(hass, STORE_VERSION, STORE_KEY), find_household, find_appliances)
    loaded = await state.store.async_load()
    if isinstance(loaded, dict):
        state.kept = loaded
    return hass.data.setdefault(DATA_RUNTIME_STATE, state)


def _snapshot(state: RuntimeState) -> dict[str, Any]:
    """The runtime state now: loaded entries' own, the others' as kept."""
    kept = state.kept
    appliances = dict(kept.get("appliances") or {})
    for energy in state.find_appliances():
        appliances[energy.appliance_id] = energy.export_runtime()
    household = state.find_household()
    return {
        "household": household.export_runtime() if household is not None else kept.get("household"),
        "appliances": appliances,
    }


@callback
def async_keep_runtime(hass: HomeAssistant) -> None:
    """Keep the runtime state now and save it soon if it changed (never raises)."""
    state = hass.data.get(DATA_RUNTIME_STATE)
    if state is None:
        return  # nothing set up yet (or the state was dropped): nothing to keep
    try:
        snapshot = _snapshot(state)
    except Exception:  # the energy features must never take the hub down
        _LOGGER.exception("Energy: cannot keep the runtime state")
        return
    if snapshot == state.kept:
        return
    state.kept = snapshot
    state.store.async_delay_save(lambda: state.kept, STORE_SAVE_DELAY)


def action_to_json(action: ShedAction) -> dict[str, Any]:
    """A shed action, JSON-ready."""
    return {
        "step": action.step.name.lower(),
        "appliance_id": action.appliance_id,
        "relief_w": action.relief_w,
        "reason": action.reason,
        "cause": action.cause,
    }


def action_from_json(raw: Any) -> ShedAction | None:
    """The kept shed action, or None if it is not one."""
    try:
        return ShedAction(
            ShedStep[str(raw["step"]).upper()],
            str(raw["appliance_id"]),
            float(raw["relief_w"]),
            str(raw["reason"]),
            str(raw["cause"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def time_from_json(raw: Any) -> datetime | None:
    """A kept moment (ISO 8601), or None."""
    return dt_util.parse_datetime(raw) if isinstance(raw, str) else None


def kept_values(kept: Mapping[str, Any], key: str) -> dict[str, Value]:
    """A kept mapping of capability values (empty if it is not one)."""
    raw = kept.get(key)
    return dict(raw) if isinstance(raw, Mapping) else {}
