"""The hub's fridge fault detector: pushed state in, a repair issue out.

For a refrigerator, ``FridgeFaultMonitor`` loads ``fridge_fault.tflite`` in the
executor, feeds every push (and, on a timer, the unchanged state, so quiet
hours count as observed) into a ``FridgeObserver``, runs the model once an
hour on the last 48 hours and passes its scores to the ``AlarmRule``. While
the rule holds a suspicion, a repair issue names the suspected fault and what
to check; it is deleted when the rule lets go (a row below the threshold).

A fridge that declares ``fridge_fault`` (PROTOCOL.md 7.6) runs the detector
itself and reports ``suspected_<fault>`` in its ``faults``, which the normal
fault path shows (problem sensor, fault repair issue). For it the monitor
stays off (status ``off``, reason ``appliance_runs_model``): it loads no
model and raises nothing, so one fault never gives two notices.

The window is kept in a Store per appliance entry (saved within
``SAVE_DELAY`` of each new hour, and at shutdown), so a restart of Home
Assistant does not cost the 48 hours it takes to fill; a saved window that does
not read is logged and dropped.

Any ``ModelError`` (file missing or corrupt, an input out of the trained
range, a non-finite output) leaves the fridge without detection and says why
in ``status``/``cause`` (diagnostics); nothing is raised in the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .issues import (
    IssueOwner,
    async_clear_suspected_fault_issue,
    async_raise_suspected_fault_issue,
)
from .link.model import ApplianceType, Value
from .neural import Model, ModelError
from .neural.fridge_fault import HOUR_S, AlarmRule, FridgeObserver, FridgeSample
from .shipped_models import MODELS_DIR, async_shipped_model

if TYPE_CHECKING:
    from .coordinator import LiuzhouCoordinator

_LOGGER = logging.getLogger(__name__)

MODEL_PATH: Final = MODELS_DIR / "fridge_fault.tflite"
SAMPLE_EVERY: Final = timedelta(minutes=5)
STATUS_LOADING: Final = "loading"
STATUS_RUNNING: Final = "running"
STATUS_UNAVAILABLE: Final = "unavailable"
STATUS_OFF: Final = "off"
REASON_APPLIANCE_RUNS_MODEL: Final = "appliance_runs_model"
MODEL_ID: Final = "fridge_fault"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 600  # seconds; a restart loses at most this much of the window
# One Store per appliance entry, shared across reloads so a reload reads a pending save.
DATA_WINDOW_STORES: HassKey[dict[str, Store[dict[str, Any]]]] = HassKey(
    f"{DOMAIN}_fridge_window_stores"
)


def window_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """The Store of the fridge fault window of the appliance entry ``entry_id``."""
    stores = hass.data.setdefault(DATA_WINDOW_STORES, {})
    if (store := stores.get(entry_id)) is None:
        store = stores[entry_id] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.fridge_window.{entry_id}"
        )
    return store


async def async_remove_window(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the kept window of a removed appliance entry (nothing if it has none)."""
    await window_store(hass, entry_id).async_remove()
    hass.data.get(DATA_WINDOW_STORES, {}).pop(entry_id, None)


def _number(values: Mapping[str, Value], key: str) -> float | None:
    value = values.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def sample_from(values: Mapping[str, Value], time_s: float) -> FridgeSample | None:
    """A ``FridgeSample`` from a fridge's reported values, or None if one it needs is
    missing or not a number."""
    power, fridge = _number(values, "power"), _number(values, "fridge_temperature")
    target = _number(values, "fridge_target_temperature")
    if power is None or fridge is None or target is None:
        return None
    return FridgeSample(
        time_s=time_s,
        compressor_on=values.get("compressor_running") is True,
        power_w=power,
        fridge_c=fridge,
        fridge_target_c=target,
        freezer_c=_number(values, "freezer_temperature"),
        freezer_target_c=_number(values, "freezer_target_temperature"),
        door_open=values.get("door_open") is True,
        defrost_active=values.get("defrost_active") is True,
    )


class FridgeFaultMonitor:
    """One refrigerator's fault detector on the hub (see the module docstring)."""

    def __init__(
        self, hass: HomeAssistant, coordinator: LiuzhouCoordinator, model_path: Path = MODEL_PATH
    ) -> None:
        """Nothing runs before ``async_start``."""
        self._hass = hass
        self._coordinator = coordinator
        self._model_path = model_path
        self._model: Model | None = None
        self._observer = FridgeObserver()
        self._rule = AlarmRule()
        self._last_hour: int | None = None
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self.status = STATUS_LOADING
        self.reason: str | None = None
        self.cause: str | None = None
        self.suspected: str | None = None
        self.scores: list[float] | None = None

    @staticmethod
    def wanted(coordinator: LiuzhouCoordinator) -> bool:
        """Whether this appliance gets a monitor (refrigerators only)."""
        return coordinator.hello.type is ApplianceType.REFRIGERATOR

    def appliance_runs_model(self) -> str | None:
        """The ``fridge_fault`` version the appliance declares it runs, or ``None``."""
        for model in self._coordinator.declaration.models:
            if model.id == MODEL_ID:
                return model.version
        return None

    async def async_start(self) -> None:
        """Load the model in the executor and start listening; a ``ModelError`` leaves
        the monitor unavailable with its cause. Stays off for a fridge that runs the
        model itself (and removes a notice this monitor raised before it did)."""
        if self.appliance_runs_model() is not None:
            self.status, self.reason = STATUS_OFF, REASON_APPLIANCE_RUNS_MODEL
            async_clear_suspected_fault_issue(self._hass, self._coordinator.appliance_id)
            return
        try:
            self._model = await async_shipped_model(self._hass, self._model_path)
        except ModelError as err:
            self._fail(f"cannot load the model: {err}")
            return
        await self._async_restore()
        self.status = STATUS_RUNNING
        self._unsubscribe = [
            self._coordinator.async_add_listener(self._async_pushed),
            async_track_time_interval(self._hass, self._async_tick, SAMPLE_EVERY),
        ]
        self._async_pushed()

    def _store(self) -> Store[dict[str, Any]]:
        return window_store(self._hass, self._coordinator.config_entry.entry_id)

    async def _async_restore(self) -> None:
        """The window the last run kept, if it reads (else logged and dropped)."""
        kept = await self._store().async_load()
        if kept is None:
            return
        try:
            self._observer = FridgeObserver.from_json(kept)
        except ValueError as err:
            _LOGGER.warning(
                "%s: the kept fridge fault window is dropped: %s", self._owner().title, err
            )

    @callback
    def async_stop(self) -> None:
        """Stop listening (the entry unloads; its issues go with the coordinator's)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    @callback
    def _async_tick(self, _now: Any) -> None:
        self._async_pushed()

    @callback
    def _async_pushed(self) -> None:
        if self._model is None or not self._coordinator.connected:
            return
        now = dt_util.utcnow().timestamp()
        sample = sample_from(self._coordinator.values, now)
        if sample is None:
            return
        try:
            self._observer.add(sample)
        except ValueError:
            return  # a non-finite report; the next one continues
        hour = int(now // HOUR_S)
        if hour == self._last_hour:
            return
        self._last_hour = hour
        self._store().async_delay_save(self._observer.to_json, SAVE_DELAY)
        row = self._observer.features(now)
        if row is None:
            self._rule.reset()
            return
        self.evaluate(row)

    @callback
    def evaluate(self, row: Any) -> None:
        """Run the model on one window row and raise or clear the issue."""
        assert self._model is not None
        try:
            scores = self._model.predict(row)[0]
        except ModelError as err:
            self._fail(f"the model refused the fridge's data: {err}")
            return
        self.scores = [round(float(s), 4) for s in scores]
        suspected = self._rule.update(scores).fault
        if suspected == self.suspected:
            return
        self.suspected = suspected
        owner = self._owner()
        if suspected is None:
            async_clear_suspected_fault_issue(self._hass, owner.appliance_id)
        else:
            _LOGGER.info("%s: the fault detector suspects %s", owner.title, suspected)
            async_raise_suspected_fault_issue(self._hass, owner, fault=suspected)

    def _owner(self) -> IssueOwner:
        coordinator = self._coordinator
        return IssueOwner(
            coordinator.config_entry.entry_id,
            coordinator.appliance_id,
            coordinator.config_entry.title,
        )

    @callback
    def _fail(self, cause: str) -> None:
        """No detection from now on, and why (logged once)."""
        _LOGGER.warning("Fridge fault detection is off for %s: %s", self._owner().title, cause)
        self.status, self.cause, self._model = STATUS_UNAVAILABLE, cause, None
        if self.suspected is not None:
            self.suspected = None
            async_clear_suspected_fault_issue(self._hass, self._coordinator.appliance_id)
        self.async_stop()

    def diagnostics(self) -> dict[str, Any]:
        """Status, why it is off (``reason``: ``appliance_runs_model``), cause of a
        failure, the model's name, version and runtime, the version the appliance
        declares it runs, the last scores."""
        model = self._model
        return {
            "status": self.status,
            "reason": self.reason,
            "cause": self.cause,
            "appliance_runs_model": self.appliance_runs_model(),
            "model": None if model is None else model.name,
            "version": None if model is None else model.version,
            "runtime": None if model is None else model.runtime,
            "suspected": self.suspected,
            "scores": self.scores,
        }
