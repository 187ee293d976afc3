"""The wet-cycle predictor in Home Assistant: one model for the hub, one predictor per machine.

The model file ships in the integration (``models/wet_cycle.tflite``, a copy
of ``models/wet_cycle/wet_cycle.tflite`` that ``./scripts/train`` refreshes
and a test keeps identical). It is read and checked once per Home Assistant
run, in the executor (``load_model`` blocks); every washer and dishwasher
shares it. A file that cannot be loaded leaves each predictor on the
appliance's own countdown with the reason in diagnostics: never an exception
in the event loop.

``WetCycleRuntime`` feeds the appliance's pushes and a one-minute timer to its
``WetCyclePredictor`` (``wet_cycle_prediction.py``) and tells its listeners
(the finish-time and remaining-energy sensors) when the estimate changes.

The run followed from its start is kept in a Store per appliance entry (at
most a minute old, and written at Home Assistant's stop), so a restart of the
hub during a run goes on with the model instead of the appliance's countdown
when the same run is still under way (``WetCyclePredictor.resume``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import logging
import time
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .coordinator import LiuzhouCoordinator
from .link.declaration import Programme
from .link.model import ApplianceType
from .neural import Model, ModelError
from .shipped_models import MODELS_DIR, async_shipped_model
from .store_saves import SaveWithin
from .wet_cycle_prediction import RunEstimate, WetCyclePredictor

_LOGGER = logging.getLogger(__package__)

MODEL_FILE: Final = MODELS_DIR / "wet_cycle.tflite"
REFRESH_INTERVAL: Final = timedelta(minutes=1)
WET_KINDS: Final = frozenset({ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER})
SAVE_DELAY: Final = 60  # seconds; Home Assistant's stop writes a pending save at once
# One Store per appliance entry, shared across reloads so a reload reads a pending save.
DATA_RUN_STORES: HassKey[dict[str, Store[dict[str, Any]]]] = HassKey(f"{DOMAIN}_wet_run_stores")


def run_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """The Store of the run kept for the appliance entry ``entry_id``."""
    stores = hass.data.setdefault(DATA_RUN_STORES, {})
    if (store := stores.get(entry_id)) is None:
        store = stores[entry_id] = Store(hass, 1, f"{DOMAIN}.wet_cycle_run.{entry_id}")
    return store


async def async_remove_run(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the kept run of a removed appliance entry (nothing if it has none)."""
    await run_store(hass, entry_id).async_remove()
    hass.data.get(DATA_RUN_STORES, {}).pop(entry_id, None)


async def async_wet_cycle_model(hass: HomeAssistant) -> Model:
    """The wet-cycle model, loaded in the executor on first use; raises ``ModelError``."""
    return await async_shipped_model(hass, MODEL_FILE)


class WetCycleRuntime:
    """One washer's or dishwasher's predicted run, kept current while its entry is loaded.

    ``estimate`` is the run under way (None when none is); ``clock`` gives the
    monotonic seconds the run's elapsed time is counted in (a test may drive it).
    """

    def __init__(self, hass: HomeAssistant, coordinator: LiuzhouCoordinator) -> None:
        """A predictor without its model; ``async_start`` loads it and starts following."""
        self.hass = hass
        self.coordinator = coordinator
        self.predictor = WetCyclePredictor(
            coordinator.declaration,
            dishwasher=coordinator.declaration.type == ApplianceType.DISHWASHER,
        )
        self.clock: Callable[[], float] = time.monotonic
        self._listeners: list[CALLBACK_TYPE] = []
        self._failed = False
        self._store = run_store(hass, coordinator.config_entry.entry_id)
        self._kept: Any = None  # the kept run, until the first values decide about it
        self._keeping = False
        self._save = SaveWithin(hass, self._store, self._data, SAVE_DELAY)

    @property
    def estimate(self) -> RunEstimate | None:
        """The run under way as predicted, or None."""
        return self.predictor.estimate

    async def async_start(self) -> CALLBACK_TYPE:
        """Load the model (off the event loop), then follow pushes and the minute timer.

        Returns the callback that stops following.
        """
        try:
            model = await async_wet_cycle_model(self.hass)
        except ModelError as err:
            detail = str(err).replace(str(MODEL_FILE), MODEL_FILE.name)
            _LOGGER.warning(
                "%s: the wet-cycle model cannot be used (%s); finish times follow the "
                "appliance's own countdown",
                self.coordinator.config_entry.title,
                detail,
            )
            self.predictor.set_model(None, err, detail=detail)
        else:
            self.predictor.set_model(model)
        try:
            self._kept = ((await self._store.async_load()) or {}).get("run")
        except (HomeAssistantError, ValueError, AttributeError) as err:
            _LOGGER.warning("%s: kept run not read: %s", self.coordinator.config_entry.title, err)
        self._async_follow(refresh=True)
        unsubs = [
            self.coordinator.async_add_listener(self._async_pushed),
            async_track_time_interval(self.hass, self._async_timer, REFRESH_INTERVAL),
        ]

        @callback
        def stop() -> None:
            for unsub in unsubs:
                unsub()

        return stop

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``update`` when the estimate changes; returns the remover."""
        self._listeners.append(update)

        @callback
        def remove() -> None:
            if update in self._listeners:
                self._listeners.remove(update)

        return remove

    @callback
    def _async_pushed(self) -> None:
        self._async_follow(refresh=False)

    @callback
    def _async_timer(self, now: datetime) -> None:
        self._async_follow(refresh=True)

    @callback
    def _async_follow(self, *, refresh: bool) -> None:
        """Take the present values; never raises (the estimate falls back instead)."""
        values = self.coordinator.values
        if not values:
            return
        try:
            now_s, moment = self.clock(), dt_util.now()
            if self._kept is not None:
                why_not = self.predictor.resume(self._kept, values, now_s, moment)
                _LOGGER.debug(
                    "%s: kept run %s",
                    self.coordinator.config_entry.title,
                    "taken up" if why_not is None else f"not taken up ({why_not})",
                )
                self._kept = None
            changed = self.predictor.update(values, now_s, moment)
            under_way = self.predictor.tracker.under_way
            # The run's end is always asked for: that save forgets the run.
            ended = self._keeping and not under_way
            if under_way or ended:
                self._save.changed(now_too=ended)
            self._keeping = under_way
            if refresh:
                changed = self.predictor.refresh(now_s, moment) or changed
        except Exception:  # a prediction must never take the push path down
            if not self._failed:
                _LOGGER.exception(
                    "%s: wet-cycle prediction failed", self.coordinator.config_entry.title
                )
            self._failed = True
            self.predictor.set_model(None, ModelError("prediction failed"))
            changed = self.predictor.refresh(self.clock(), dt_util.now())
        if changed:
            for update in list(self._listeners):
                update()

    def _data(self) -> dict[str, Any]:
        return {"run": self.predictor.kept_run(dt_util.now())}

    def planning_programme(self, programme: Programme) -> tuple[Programme, str]:
        """The programme to plan with at the present settings: (programme, "model" or
        "declared"); see ``WetCyclePredictor.planning_programme``."""
        return self.predictor.planning_programme(programme, self.coordinator.values, dt_util.now())

    def diagnostics(self) -> dict[str, Any]:
        """Name, version, runtime, status and fallback reason of the model here."""
        return self.predictor.diagnostics()
