"""Neural models on the appliance: the same ``.tflite`` files the hub runs.

The network module of a simulated product (a Linux-class module) runs the
models of ``models/`` through ``neural.load_model``: LiteRT when it imports,
the numpy interpreter otherwise. A declaration lists the models an appliance
runs (``"models": [{"id", "version"}]``, PROTOCOL.md 7.6); ``declared_model``
builds that entry from the file itself, so the version declared is the
version run.

``WetCyclePredictor`` is the washer's and dishwasher's own remaining time:
the ``wet_cycle`` model on the run the appliance has observed so far (a
``RunTracker`` fed with its own power and energy meter), falling back to the
declared profile whenever the model cannot answer (no file, a damaged file,
inputs outside the trained range). A real firmware without a model reports
the declared profile; the simulators used to report the exact physics,
which no appliance can know (the load, the supply voltage).

``FridgeFaultDetector`` is the refrigerator's own fault detector: the
``fridge_fault`` model on the same ``FridgeObserver`` window and
``AlarmRule`` the hub uses, fed with the fridge's own readings (each
simulated minute and on each door change), run once an hour. While the rule
suspects a fault the fridge reports ``suspected_<fault>`` in its ``faults``;
if the model cannot be loaded or answer, it reports none (logged once).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cache
import logging
from pathlib import Path
from typing import Final

from custom_components.liuzhou_appliances.link.declaration import Programme
from custom_components.liuzhou_appliances.link.model import Value
from custom_components.liuzhou_appliances.neural import Model, ModelError, load_model
from custom_components.liuzhou_appliances.neural.fridge_fault import (
    HOUR_S,
    AlarmRule,
    FridgeObserver,
    FridgeSample,
)
from custom_components.liuzhou_appliances.neural.wet_cycle import (
    RunObservation,
    RunTracker,
    declared_remaining,
    run_features,
)

_LOGGER = logging.getLogger(__name__)

MODELS_DIR: Final = Path(__file__).resolve().parent.parent / "models"
WET_CYCLE: Final = "wet_cycle"
FRIDGE_FAULT: Final = "fridge_fault"
SUSPECTED_PREFIX: Final = "suspected_"  # + a fridge_fault fault: the reported fault code


def model_path(model_id: str) -> Path:
    """The shipped file of ``model_id``: ``models/<id>/<id>.tflite``."""
    return MODELS_DIR / model_id / f"{model_id}.tflite"


@cache
def appliance_model(model_id: str) -> Model:
    """``model_id``'s file, loaded once per process (LiteRT when it imports, else numpy).

    Blocking (reads and checks the file). Raises ``ModelError`` naming the cause;
    a failure is not cached, so a repaired file loads on the next call.
    """
    return load_model(model_path(model_id))


def declared_model(model_id: str) -> dict[str, str]:
    """The declaration entry of ``model_id``: ``{"id", "version"}`` from the file's spec.

    Raises ``ModelError`` if the file cannot be loaded or its spec names another model.
    """
    model = appliance_model(model_id)
    if model.name != model_id or not model.version:
        raise ModelError(
            f"{model_path(model_id)} is {model.name!r} version {model.version!r}, "
            f"not a versioned {model_id}"
        )
    return {"id": model_id, "version": model.version}


class RemainingSource(StrEnum):
    """Where a washer's or dishwasher's reported ``remaining_time`` comes from."""

    MODEL = "model"  # wet_cycle on the observed run; the declared profile when it cannot answer
    DECLARED = "declared"  # the declared profile: what a firmware without a model reports
    PHYSICS = "physics"  # the simulator's exact physics (an oracle; no appliance knows it)


class WetCyclePredictor:
    """The appliance's own remaining time of a washer or dishwasher run.

    Feed ``observe`` with the appliance's state after each physics step (its
    clock in seconds and ``operational_state``, ``phase``, ``power`` W,
    ``energy`` kWh); ask ``remaining_s`` for the seconds left. ``source``
    says what answered last (``"model"`` or ``"declared"``) and ``error`` why
    the model did not, if it did not.
    """

    def __init__(self, *, dishwasher: bool, use_model: bool = True) -> None:
        """Load the model now if ``use_model`` (a failure is logged once and leaves the
        declared profile in charge)."""
        self.tracker = RunTracker(dishwasher=dishwasher)
        self.model: Model | None = None
        self.source = RemainingSource.DECLARED
        self.error: str | None = None
        self._cache: tuple[tuple[object, ...], float] | None = None
        if use_model:
            try:
                self.model = appliance_model(WET_CYCLE)
            except ModelError as err:
                self.error = str(err)
                _LOGGER.warning("%s not loaded, using the declared profile: %s", WET_CYCLE, err)

    def observe(self, now_s: float, values: Mapping[str, Value]) -> None:
        """One snapshot of the appliance's own values at ``now_s`` (its clock, seconds)."""
        self.tracker.update(now_s, dict(values))
        self._cache = None

    def remaining_s(
        self,
        programme: Programme,
        *,
        water_temperature: str,
        spin_rpm: float,
        rinses: str,
        inlet_water_c: float,
    ) -> float:
        """Seconds left of the run under way, or the whole run if none is (a delayed or a
        not yet started run: what the model expects from these settings)."""
        key = (programme.id, water_temperature, spin_rpm, rinses, round(inlet_water_c, 1))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        observation = self.tracker.observation(
            water_temperature=water_temperature,
            spin_rpm=spin_rpm,
            rinses=rinses,
            inlet_water_c=inlet_water_c,
        ) or RunObservation(
            dishwasher=self.tracker.dishwasher,
            water_temperature_c=0.0 if water_temperature == "cold" else float(water_temperature),
            spin_rpm=spin_rpm,
            rinses=rinses,
            inlet_water_c=inlet_water_c,
            elapsed_s=0.0,
            energy_kwh=0.0,
            heater_s=0.0,
            heater_mean_w=0.0,
            heater_on=False,
        )
        seconds = self._predict(programme, observation)
        self._cache = (key, seconds)
        return seconds

    def _predict(self, programme: Programme, observation: RunObservation) -> float:
        if self.model is not None:
            try:
                row = run_features(programme, observation)
                hours = float(self.model.predict(row)[0, 0])
            except (ModelError, ValueError) as err:
                if self.error != str(err):
                    _LOGGER.debug("%s cannot answer, declared profile used: %s", WET_CYCLE, err)
                self.error = str(err)
            else:
                self.source, self.error = RemainingSource.MODEL, None
                return max(hours * 3600.0, 0.0)
        self.source = RemainingSource.DECLARED
        return declared_remaining(programme, observation.elapsed_s)[0]


class FridgeFaultDetector:
    """A refrigerator's own fault detector (the ``fridge_fault`` model).

    Feed ``observe`` with the fridge's readings in time order (a ``FridgeSample``
    on its own clock, seconds); the model runs on the first reading of each new
    hour. ``code`` is the suspected fault code (``"suspected_condenser"`` ...) or
    ``None``; ``scores`` the last outputs (``OUTPUTS`` order), ``error`` why the
    model is off, if it is.
    """

    def __init__(self) -> None:
        """Load the model now; a ``ModelError`` is logged once and leaves it off."""
        self.observer = FridgeObserver()
        self.rule = AlarmRule()
        self.model: Model | None = None
        self.error: str | None = None
        self.suspected: str | None = None
        self.scores: tuple[float, ...] | None = None
        self._hour: int | None = None
        try:
            self.model = appliance_model(FRIDGE_FAULT)
        except ModelError as err:
            self._off(f"not loaded: {err}")

    @property
    def code(self) -> str | None:
        """The fault code the fridge reports while a fault is suspected, else ``None``."""
        return None if self.suspected is None else SUSPECTED_PREFIX + self.suspected

    def observe(self, sample: FridgeSample) -> None:
        """Take one reading; on a new hour, run the model on the last 48 hours.

        A reading with a non-finite number is skipped (the next one continues).
        """
        if self.model is None:
            return
        try:
            self.observer.add(sample)
        except ValueError:
            return
        hour = int(sample.time_s // HOUR_S)
        if hour == self._hour:
            return
        self._hour = hour
        row = self.observer.features(sample.time_s)
        if row is None:
            self.rule.reset()  # too little known: start counting again
            return
        try:
            scores = self.model.predict(row)[0]
        except ModelError as err:
            self._off(f"cannot answer: {err}")
            return
        self.scores = tuple(round(float(s), 4) for s in scores)
        self.suspected = self.rule.update(scores).fault

    def _off(self, cause: str) -> None:
        """No detection from now on, and no suspected code (logged once)."""
        _LOGGER.warning("%s %s; no suspected faults reported", FRIDGE_FAULT, cause)
        self.model, self.error, self.suspected = None, cause, None
