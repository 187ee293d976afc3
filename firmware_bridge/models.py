"""Neural models on the appliance: the same ``.tflite`` files the hub runs.

What the network module can run decides which file of ``models/`` it runs
(``ModuleClass``, PROTOCOL.md 7.6):

* ``linux``, a Linux-class module (the default): the float file
  ``models/<id>/<id>.tflite`` through ``neural.load_model``, LiteRT when it
  imports, the numpy interpreter otherwise;
* ``mcu``, an MCU-class module (an ESP32-C3 Wi-Fi module, say): the
  full-integer file ``models/<id>/<id>_int8.tflite``, always on the numpy
  interpreter, the stand-in for TensorFlow Lite Micro (no LiteRT on an MCU;
  pinned so the simulated appliance answers the same on every host). LiteRT
  runs the int8 file too and gives the same outputs (tests/neural/test_int8.py);
  only ``wet_cycle`` has an int8 file so far.

``model_path`` is the one place that names the file of each variant. A
declaration lists the models an appliance runs (``"models": [{"id",
"version"}]``); ``declared_model`` builds that entry from the file itself, so
the version declared is the version run (``1`` or ``1-int8``), and
``shipped_versions`` lists the versions of every shipped variant (what the
conformance kit accepts).

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
from dataclasses import replace
from enum import StrEnum
from functools import cache
import logging
from pathlib import Path
from typing import Final

from custom_components.liuzhou_appliances.link.declaration import Declaration, Programme
from custom_components.liuzhou_appliances.link.declared_models import DeclaredModel
from custom_components.liuzhou_appliances.link.model import Value
from custom_components.liuzhou_appliances.neural import Model, ModelError, load_model
from custom_components.liuzhou_appliances.neural.fridge_fault import (
    HOUR_S,
    AlarmRule,
    FridgeObserver,
    FridgeSample,
)
from custom_components.liuzhou_appliances.neural.model import Prefer
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


class ModuleClass(StrEnum):
    """What kind of network module the appliance has, so which model files it runs."""

    LINUX = "linux"  # a Linux-class module: the float file, LiteRT or numpy
    MCU = "mcu"  # an MCU-class module: the int8 file, numpy standing in for TFLite Micro


# The file name's ending for each module class: models/<id>/<id><ending>.tflite.
_FILE_ENDING: Final = {ModuleClass.LINUX: "", ModuleClass.MCU: "_int8"}
_RUNTIME: Final[dict[ModuleClass, Prefer]] = {ModuleClass.LINUX: "auto", ModuleClass.MCU: "numpy"}


def model_path(model_id: str, module: ModuleClass | str = ModuleClass.LINUX) -> Path:
    """The shipped file of ``model_id`` that a ``module`` class runs:
    ``models/<id>/<id>.tflite`` (linux) or ``models/<id>/<id>_int8.tflite`` (mcu).

    Raises ``ValueError`` for a module class that is neither.
    """
    ending = _FILE_ENDING[_module_class(module)]
    return MODELS_DIR / model_id / f"{model_id}{ending}.tflite"


@cache
def appliance_model(model_id: str, module: ModuleClass = ModuleClass.LINUX) -> Model:
    """``model_id``'s file for ``module``, loaded once per process (linux: LiteRT when it
    imports, else numpy; mcu: numpy).

    Blocking (reads and checks the file). Raises ``ModelError`` naming the cause (no
    such file for an mcu module, say); a failure is not cached, so a repaired file
    loads on the next call.
    """
    return load_model(model_path(model_id, module), _RUNTIME[module])


def declared_model(model_id: str, module: ModuleClass | str = ModuleClass.LINUX) -> dict[str, str]:
    """The declaration entry of ``model_id`` as a ``module`` class runs it:
    ``{"id", "version"}`` from that file's spec (``"1"``, ``"1-int8"`` ...).

    Raises ``ModelError`` if the file cannot be loaded or its spec names another model,
    ``ValueError`` for an unknown module class.
    """
    module = _module_class(module)
    model = appliance_model(model_id, module)
    if model.name != model_id or not model.version:
        raise ModelError(
            f"{model_path(model_id, module)} is {model.name!r} version {model.version!r}, "
            f"not a versioned {model_id}"
        )
    return {"id": model_id, "version": model.version}


def shipped_versions(model_id: str) -> dict[str, ModuleClass]:
    """The versions of ``model_id`` shipped in ``models/``, each with the module class that
    runs it (``{"1": linux, "1-int8": mcu}`` for wet_cycle); empty if none loads."""
    versions: dict[str, ModuleClass] = {}
    for module in ModuleClass:
        if model_path(model_id, module).is_file():
            try:
                versions[declared_model(model_id, module)["version"]] = module
            except ModelError as err:
                _LOGGER.warning("%s is not usable: %s", model_path(model_id, module), err)
    return versions


def _module_class(module: ModuleClass | str) -> ModuleClass:
    try:
        return ModuleClass(module)
    except ValueError:
        raise ValueError(
            f"unknown network module class {module!r}; one of {', '.join(ModuleClass)}"
        ) from None


class RemainingSource(StrEnum):
    """Where a washer's or dishwasher's reported ``remaining_time`` comes from."""

    MODEL = "model"  # wet_cycle on the observed run; the declared profile when it cannot answer
    DECLARED = "declared"  # the declared profile: what a firmware without a model reports
    PHYSICS = "physics"  # the simulator's exact physics (an oracle; no appliance knows it)


class WetCyclePredictor:
    """The appliance's own remaining time of a washer or dishwasher run.

    Feed ``observe`` with the appliance's state after each physics step (its
    clock in seconds and ``operational_state``, ``phase``, ``power`` W,
    ``energy`` kWh); ask ``remaining_s`` for the seconds left (from the file its
    ``module`` class runs, ``model_path``). ``source``
    says what answered last (``"model"`` or ``"declared"``) and ``error`` why
    the model did not, if it did not.
    """

    def __init__(
        self,
        *,
        dishwasher: bool,
        use_model: bool = True,
        module: ModuleClass | str = ModuleClass.LINUX,
    ) -> None:
        """Load the model now if ``use_model``: the file the ``module`` class runs (a
        failure is logged once and leaves the declared profile in charge). Raises
        ``ValueError`` for an unknown module class."""
        self.tracker = RunTracker(dishwasher=dishwasher)
        self.module = _module_class(module)
        self.model: Model | None = None
        self.source = RemainingSource.DECLARED
        self.error: str | None = None
        self._cache: tuple[tuple[object, ...], float] | None = None
        if use_model:
            try:
                self.model = appliance_model(WET_CYCLE, self.module)
            except ModelError as err:
                self.error = str(err)
                _LOGGER.warning("%s not loaded, using the declared profile: %s", WET_CYCLE, err)

    def declared_as_run(self, declaration: Declaration) -> Declaration:
        """``declaration`` with its wet_cycle entry as this firmware runs it (PROTOCOL.md 7.6).

        Without the model (``use_model=False``) the entry goes: the hub trusts the
        remaining time of an appliance that declares wet_cycle. With the model loaded, a
        declared entry carries the version of the file the module class runs (``1`` on a
        Linux-class module, ``1-int8`` on an MCU-class one). A file that did not load
        leaves the entry as it is (the firmware means to run it and falls back to the
        declared profile meanwhile).
        """
        if not any(m.id == WET_CYCLE for m in declaration.models):
            return declaration
        if self.model is None:
            if self.error is not None:
                return declaration
            kept = tuple(m for m in declaration.models if m.id != WET_CYCLE)
            return replace(declaration, models=kept)
        version = declared_model(WET_CYCLE, self.module)["version"]
        models = tuple(
            DeclaredModel(m.id, version) if m.id == WET_CYCLE else m for m in declaration.models
        )
        return replace(declaration, models=models)

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
