"""Predictive AC control in Home Assistant: the room thermal model and one controller per AC.

The model file ships in the integration (``models/room_thermal.tflite``, a
copy of ``models/room_thermal/room_thermal.tflite`` that ``./scripts/train``
refreshes and a test keeps identical). It is read and checked once per Home
Assistant run, in the executor (``load_model`` blocks), when the first AC
switches to predictive control; every AC shares it. A file that cannot be
loaded leaves the AC on the fuzzy controller (``no_model``) with the load
error in diagnostics: never an exception in the event loop.

``PredictiveAc`` holds one AC's ``PredictiveAcController`` (``energy/
ac_predictive.py``); the AC loop asks it for decisions while the control-mode
select says ``predictive``.
"""

from __future__ import annotations

from dataclasses import replace
import logging
from typing import Any, Final

from homeassistant.core import HomeAssistant

from custom_components.liuzhou_appliances.energy.ac import ComfortPreset
from custom_components.liuzhou_appliances.energy.ac_predictive import (
    PredictiveAcController,
    PredictiveDecision,
    PredictiveInputs,
)
from custom_components.liuzhou_appliances.energy.ac_predictive_status import (
    ControlMode,
    FallbackReason,
    PredictiveStatus,
)
from custom_components.liuzhou_appliances.energy.tariff import Tariff
from custom_components.liuzhou_appliances.neural import Model, ModelError
from custom_components.liuzhou_appliances.shipped_models import (
    MODELS_DIR,
    async_shipped_model,
)

_LOGGER = logging.getLogger(__package__)

MODEL_ID: Final = "room_thermal"
MODEL_FILE: Final = MODELS_DIR / "room_thermal.tflite"


async def async_room_thermal_model(hass: HomeAssistant) -> Model:
    """The room thermal model, loaded in the executor on first use; raises ``ModelError``."""
    return await async_shipped_model(hass, MODEL_FILE)


class PredictiveAc:
    """One AC's predictive controller; ``controller`` is None until ``async_prepare``."""

    def __init__(self, hass: HomeAssistant, title: str) -> None:
        """Nothing loaded yet (the select may never ask for predictive control)."""
        self.hass = hass
        self.title = title
        self.controller: PredictiveAcController | None = None
        self.model: Model | None = None
        self.load_error: str | None = None

    def reset(self) -> None:
        """A new preset or mode: a new controller (and calibration) at the next loop."""
        self.controller = None

    async def async_prepare(self, preset: ComfortPreset, tariff: Tariff) -> None:
        """Load the shared model (executor) and build this AC's controller; never raises.

        Without a usable model the controller runs without one: the fuzzy
        controller decides and the status says ``no_model``.
        """
        try:
            self.model = await async_room_thermal_model(self.hass)
            self.load_error = None
        except ModelError as err:
            self.model = None
            self.load_error = str(err).replace(str(MODEL_FILE), MODEL_FILE.name)
            _LOGGER.warning(
                "%s: the room thermal model cannot be used (%s); the fuzzy controller decides",
                self.title,
                self.load_error,
            )
        self.controller = PredictiveAcController(self.model, tariff, preset=preset)

    def decide(self, inputs: PredictiveInputs, tariff: Tariff) -> PredictiveDecision | None:
        """The controller's decision (None before ``async_prepare``); never raises."""
        if self.controller is None:
            return None
        self.controller.tariff = tariff
        return self.controller.decide(inputs)

    @property
    def status(self) -> PredictiveStatus | None:
        """Who is in charge and why (None before the controller exists).

        A model that could not be loaded is the reason whatever else is missing:
        ``no_model``, with the load error as detail.
        """
        if self.controller is None:
            return None
        status = self.controller.status
        if self.model is None:
            return replace(status, reason=FallbackReason.NO_MODEL, detail=self.load_error or "")
        return status

    def attributes(self) -> dict[str, Any]:
        """For the energy status sensor: ``controller`` in charge and ``controller_reason``."""
        status = self.status
        if status is None:
            return {"controller": str(ControlMode.FUZZY), "controller_reason": None}
        return {"controller": str(status.controller), "controller_reason": str(status.reason)}

    def diagnostics(self) -> dict[str, Any]:
        """Name, version, runtime, status, reason and detail (no readings of the room)."""
        model, status = self.model, self.status
        return {
            "model": model.name if model else MODEL_ID,
            "version": model.version if model else None,
            "runtime": model.runtime if model else None,
            "status": str(status.controller) if status else None,
            "reason": str(status.reason) if status else None,
            "detail": status.detail if status else "",
            "history_steps": status.history_steps if status else 0,
            "drift_k": status.drift_k if status else None,
        }
