"""Who is in charge of an AC under predictive control, and why.

``ControlMode`` (what the control-mode select offers), ``FallbackReason``
(why the controller in charge is) and ``PredictiveStatus`` (both, with the
per-room calibration and drift behind them): what
``ac_predictive.PredictiveAcController`` reports and the energy status,
diagnostics and the model status show. Imports nothing from Home Assistant.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ControlMode(StrEnum):
    """Which controller is in charge (what a control-mode select offers)."""

    FUZZY = "fuzzy"
    PREDICTIVE = "predictive"


class FallbackReason(StrEnum):
    """Why the controller in charge is in charge (``PREDICTING`` when it is the model)."""

    PREDICTING = "predicting"
    WARMING_UP = "warming_up"  # too little history to predict from or calibrate
    DRIFT = "drift"  # the model's recent predictions were off by more than the bound
    NO_MODEL = "no_model"
    MODEL_ERROR = "model_error"  # the model refused the row or failed (ModelError)
    INPUTS_MISSING = "inputs_missing"  # a reading the model needs is missing or stale
    INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True, slots=True)
class PredictiveStatus:
    """Who is in charge and why; the calibration and drift behind it.

    ``history_steps`` is how many calibrated steps there are, ``drift_k`` the
    running mean |temperature residual| per step (K), ``bias_k`` and
    ``power_gain`` the per-room calibration; ``detail`` a sentence for logs and
    diagnostics.
    """

    controller: ControlMode
    reason: FallbackReason
    detail: str = ""
    history_steps: int = 0
    drift_k: float | None = None
    bias_k: float = 0.0
    power_gain: float = 1.0
