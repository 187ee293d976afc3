"""A washer's or dishwasher's run as the hub predicts it: remaining time and energy.

Imports nothing from Home Assistant (``wet_cycle_runtime.py`` is the glue).
``WetCyclePredictor`` follows one appliance's reported values with a
``neural.wet_cycle.RunTracker`` and answers, for the run under way, a
``RunEstimate``: seconds and kWh left and where they came from.

Which remaining time wins:

* the appliance declares it runs the ``wet_cycle`` model itself
  (``models: [{id: wet_cycle, version}]`` in its declaration): its reported
  ``remaining_time`` is that model's answer with the machine's own sensors
  (inlet water, load, heater) behind it, better than anything the hub can see;
  the hub trusts it (source ``appliance``);
* otherwise the hub's model, when it is loaded and answers (source ``model``):
  real firmware without the model counts down its declared profile, which
  knows neither the options, the water, the load nor the mains voltage. A run
  the hub joined half way (a new hub, a restart too long to go on with the
  kept run) is answered too (``joined``, reason ``joined_run``): the declared
  countdown at the join gives the time elapsed, the run before it is taken as
  the model expects it at its settings and the power after it as seen;
* otherwise (no model, a ``ModelError``, a joined run whose countdown does not
  tell its elapsed time) what the appliance reports (source ``appliance``),
  with the remaining energy of its declared profile.

Nothing here raises for what an appliance reports: a value the model cannot
take becomes a fallback with a status (``status``/``reason``/``detail``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

import numpy as np

from .link.declaration import Declaration, Programme
from .link.errors import LinkError
from .link.model import OperationalState
from .neural import (
    CorruptModelError,
    Model,
    ModelError,
    ModelInputError,
    ModelOutputError,
    UnsupportedModelError,
)
from .neural.wet_cycle import (
    HEATER_ON_W,
    RunObservation,
    RunTracker,
    declared_remaining,
    joined_observation,
    run_features,
)

MODEL_ID: Final = "wet_cycle"
SOURCE_MODEL: Final = "model"
SOURCE_APPLIANCE: Final = "appliance"
STATUS_OK: Final = "ok"
STATUS_FALLBACK: Final = "fallback"
# The reason given with status "ok" when the hub answers a run it joined half way.
REASON_JOINED: Final = "joined_run"
# Liuzhou's cold mains water by month (°C, mid-month): last month's air, damped toward the
# annual mean (the simulators' climate.py gives the same; a test keeps the two in step).
# The appliance does not report its inlet water; the heating it shows corrects the guess.
MAINS_WATER_C: Final = (14.7, 13.2, 14.9, 17.7, 21.7, 24.8, 26.4, 27.4, 27.3, 26.0, 22.8, 18.8)
# The model re-answers at most this often on pushes alone (a countdown pushes every second);
# a change of state, phase, programme or option answers at once, the minute timer always.
PREDICT_EVERY_S: Final = 15.0
_UNDER_WAY: Final = frozenset({OperationalState.RUNNING, OperationalState.PAUSED})
# What answers at once when it changes (not the countdowns: a delayed start's wait counts
# down every second, and the model's answer counts down with the clock meanwhile).
_SETTINGS: Final = (
    "operational_state",
    "phase",
    "programme",
    "water_temperature",
    "spin_speed",
    "rinses",
)


# A run kept across a restart of the hub is taken up again only if the hub was away at
# most this long (s): the gap counts as run time, heating if the heater is on when the
# hub is back (as between any two pushes), so a long gap would be guessed too coarsely.
MAX_RESUME_GAP_S: Final = 900


@dataclass(frozen=True, slots=True)
class RunEstimate:
    """The run under way: ``remaining_s`` (s, a delayed start's wait included),
    ``remaining_kwh`` (kWh, None when unknown), ``source`` ("model" or "appliance") and
    ``joined`` (the hub did not see the run start: it joined it half way)."""

    remaining_s: int
    remaining_kwh: float | None
    source: str
    joined: bool = False


def mains_water_c(moment: datetime) -> float:
    """Estimated inlet water (°C) on ``moment``'s day: the monthly table, interpolated."""
    month = moment.month - 1 + (moment.day - 15) / 30.5
    low = int(np.floor(month)) % 12
    weight = month - np.floor(month)
    return float(MAINS_WATER_C[low] * (1 - weight) + MAINS_WATER_C[(low + 1) % 12] * weight)


def declared_models(declaration: Declaration) -> dict[str, str]:
    """Models the appliance declares it runs itself (PROTOCOL.md 7.6): id -> version."""
    return {model.id: model.version for model in declaration.models}


def run_settings(values: Mapping[str, Any], *, dishwasher: bool) -> tuple[str, float, str]:
    """(water temperature setting, final spin rpm, rinses) as the model row wants them.

    A dishwasher has neither (cold, 0, normal); a washer without one of the options
    takes the value of a cold, unspun, normal wash. Raises ``ValueError`` for a
    reported value that is no number.
    """
    if dishwasher:
        return "cold", 0.0, "normal"
    water = str(values.get("water_temperature") or "cold")
    spin = float(str(values.get("spin_speed") or 0))
    rinses = str(values.get("rinses") or "normal")
    return water, spin, rinses


def predicted_programme(programme: Programme, seconds: float, kwh: float) -> Programme:
    """The declared programme reshaped to last ``seconds`` and use ``kwh``.

    What differs between runs of one programme is mostly heating: the heater's
    segments (at least ``HEATER_ON_W``) are stretched or shrunk to take up the
    difference in time and their power is scaled to take up the difference in
    energy; the rest of the profile keeps its shape. Without heating segments
    (a cold wash) the whole profile is stretched and scaled. The result keeps the
    programme's id; its duration and energy are those of the reshaped profile
    (whole seconds, so within a second of ``seconds``; heating is never shrunk
    below a tenth). Raises ``ValueError`` for a non-positive or non-finite
    duration or a negative or non-finite energy.
    """
    if not (np.isfinite(seconds) and seconds > 0 and np.isfinite(kwh) and kwh >= 0):
        raise ValueError(f"a run of {seconds} s and {kwh} kWh is no run")
    profile = [(float(s), float(w)) for s, w in programme.profile if s > 0]
    heating = [w >= HEATER_ON_W for _, w in profile]
    if not any(heating) or sum(s for (s, _), h in zip(profile, heating, strict=True) if h) <= 0:
        heating = [True] * len(profile)
    fixed_s = sum(s for (s, _), h in zip(profile, heating, strict=True) if not h)
    heat_s = sum(s for (s, _), h in zip(profile, heating, strict=True) if h)
    # Never shrink heating below a tenth: the model's time is kept, the shape stays sane.
    stretch = max(seconds - fixed_s, 0.1 * heat_s) / heat_s
    shaped = [(s * stretch if h else s, w) for (s, w), h in zip(profile, heating, strict=True)]
    fixed_j = sum(s * w for (s, w), h in zip(shaped, heating, strict=True) if not h)
    heat_j = sum(s * w for (s, w), h in zip(shaped, heating, strict=True) if h)
    scale = max(kwh * 3.6e6 - fixed_j, 0.0) / heat_j if heat_j > 0 else 1.0
    segments = [
        (round(s), w * scale if h else w) for (s, w), h in zip(shaped, heating, strict=True)
    ]
    segments = [(s, w) for s, w in segments if s > 0]
    duration = sum(s for s, _ in segments)
    energy = sum(s * w for s, w in segments) / 3.6e6
    return replace(
        programme, duration_s=duration, energy_kwh=round(energy, 4), profile=tuple(segments)
    )


class WetCyclePredictor:
    """One washer's or dishwasher's run, followed push by push, and its estimate.

    ``model`` is None until loaded (or when it cannot be); ``set_model`` sets it or
    records why not. ``update(values, now_s, moment)`` takes each snapshot; the
    estimate (``estimate``) is refreshed then when due (``PREDICT_EVERY_S``) or
    when a setting changed, and by ``refresh`` (the minute timer).
    """

    def __init__(self, declaration: Declaration, *, dishwasher: bool) -> None:
        """No model yet; the declaration says whether the appliance runs the model itself."""
        self.declaration = declaration
        self.dishwasher = dishwasher
        self.tracker = RunTracker(dishwasher=dishwasher)
        self.model: Model | None = None
        self.appliance_runs_model = MODEL_ID in declared_models(declaration)
        self.status = STATUS_FALLBACK
        self.reason: str | None = "loading"
        self.detail: str | None = None
        self.estimate: RunEstimate | None = None
        self._values: Mapping[str, Any] = {}
        self._settings: tuple[Any, ...] = ()
        self._last_predict_s: float | None = None
        self._seen_start = False  # the tracker saw this run begin (not joined half way)
        self._joined_remaining: object = None  # the countdown reported when joined half way
        self._seen_any = False
        self._was_running = False
        self._predicted_at_s = 0.0
        self._predicted: RunEstimate | None = None

    # --- the model ------------------------------------------------------------------------

    def set_model(
        self, model: Model | None, error: ModelError | None = None, *, detail: str | None = None
    ) -> None:
        """The loaded model, or None with the error that kept it from loading (``detail``:
        its text for diagnostics, ``str(error)`` by default)."""
        self.model = model
        if model is None:
            text = detail if detail is not None else (str(error) if error else None)
            self._fallback(_reason(error) if error else "not_loaded", text)
        elif self.appliance_runs_model:
            self._fallback("appliance_runs_model", None)
        else:
            self.status, self.reason, self.detail = STATUS_OK, None, None

    def _fallback(self, reason: str, detail: str | None) -> None:
        self.status, self.reason, self.detail = STATUS_FALLBACK, reason, detail

    # --- a run kept across a restart of the hub ---------------------------------------------

    def kept_run(self, moment: datetime) -> dict[str, Any] | None:
        """The run followed from its start, as JSON to keep (None: nothing worth keeping)."""
        tracker = self.tracker.to_json()
        if not tracker or not self._seen_start:
            return None
        return {"tracker": tracker, "settings": list(self._settings), "at": moment.isoformat()}

    def resume(
        self, kept: Any, values: Mapping[str, Any], now_s: float, moment: datetime
    ) -> str | None:
        """Go on with a kept run if ``values`` (the first after a restart) are that run.

        Returns None when it was taken up, else why not (for the log). Before any
        ``update``; a kept run that does not read is never an exception.
        """
        if not isinstance(kept, dict):
            return "nothing kept"
        try:
            gap = (moment - datetime.fromisoformat(str(kept.get("at")))).total_seconds()
        except (ValueError, TypeError):
            return "no time kept"
        settings = tuple(values.get(key) for key in _SETTINGS)
        if not 0 <= gap <= MAX_RESUME_GAP_S:
            return f"the hub was away {gap:.0f} s"
        if settings[2:] != tuple(kept.get("settings") or ())[2:]:
            return "another programme or other options"
        if values.get("operational_state") not in _UNDER_WAY or values.get("phase") == "idle":
            return "no run under way"
        try:
            tracker = RunTracker.from_json(
                kept.get("tracker"), dishwasher=self.dishwasher, now_s=now_s - gap
            )
        except ValueError as err:
            return f"unreadable: {err}"
        energy = values.get("energy")
        if not isinstance(energy, int | float) or energy < tracker.to_json()["energy_kwh"]:
            return "the energy meter went back"
        self.tracker = tracker
        self._seen_start = self._seen_any = self._was_running = True
        self._joined_remaining = None
        return None

    # --- following the run ----------------------------------------------------------------

    def update(self, values: Mapping[str, Any], now_s: float, moment: datetime) -> bool:
        """Take one snapshot (``now_s``: monotonic seconds; ``moment``: the wall clock).

        Returns whether the estimate changed.
        """
        state = values.get("operational_state")
        running_now = state == OperationalState.RUNNING and values.get("phase") != "idle"
        if not self.tracker.under_way and running_now:
            # The tracker starts its run now; it saw the start only if the previous
            # snapshot was not already the same run going on.
            self._seen_start = self._seen_any and not self._was_running
            self._joined_remaining = None if self._seen_start else values.get("remaining_time")
        self._seen_any = True
        self._was_running = state in _UNDER_WAY and values.get("phase") != "idle"
        self.tracker.update(now_s, dict(values))
        self._values = values
        settings = tuple(values.get(key) for key in _SETTINGS)
        due = self._last_predict_s is None or now_s - self._last_predict_s >= PREDICT_EVERY_S
        if settings != self._settings or due or self.estimate is None:
            self._settings = settings
            return self.refresh(now_s, moment)
        # Between predictions the model's remaining time counts down with the clock; the
        # appliance's own countdown is taken as it comes.
        return self._follow_countdown(now_s)

    def refresh(self, now_s: float, moment: datetime) -> bool:
        """Estimate again from the last snapshot; returns whether the estimate changed."""
        before = self.estimate
        self._last_predict_s = self._predicted_at_s = now_s
        self.estimate = self._predicted = self._estimate(self._values, moment)
        return self.estimate != before

    def _follow_countdown(self, now_s: float) -> bool:
        before, predicted = self.estimate, self._predicted
        if before is None or predicted is None:
            return False
        if before.source == SOURCE_APPLIANCE:
            self.estimate = self._appliance_estimate(self._values)
        elif self._values.get("operational_state") == OperationalState.RUNNING:
            # The model's answer counts down with the clock until the next one.
            gone = round(now_s - self._predicted_at_s)
            self.estimate = replace(predicted, remaining_s=max(predicted.remaining_s - gone, 0))
        return self.estimate != before

    def _estimate(self, values: Mapping[str, Any], moment: datetime) -> RunEstimate | None:
        if values.get("operational_state") not in _UNDER_WAY:
            return None
        if self.model is None or self.appliance_runs_model:
            return self._appliance_estimate(values)
        try:
            programme = self.declaration.programme(str(values.get("programme")))
        except LinkError:
            return self._model_failed(values, "unknown_programme", None)
        delay = values.get("delay_remaining")
        wait = int(delay) if isinstance(delay, int | float) and not isinstance(delay, bool) else 0
        joined = False
        try:
            water, spin, rinses = run_settings(values, dishwasher=self.dishwasher)
            inlet = mains_water_c(moment)
            observation = self.tracker.observation(
                water_temperature=water, spin_rpm=spin, rinses=rinses, inlet_water_c=inlet
            )
            if observation is None:
                if values.get("phase") != "idle":
                    return self._model_failed(values, "run_not_followed", None)
                # A delayed start (or one about to begin): the whole run, before any of it.
                observation = _before_start(self.dishwasher, water, spin, rinses, inlet)
            elif not self._seen_start:
                joined_at = _joined_at_s(programme, self._joined_remaining)
                if joined_at is None:
                    return self._model_failed(values, "run_started_before_hub", None)
                whole = _before_start(self.dishwasher, water, spin, rinses, inlet)
                try:
                    observation = self._joined(programme, whole, observation, joined_at, values)
                except ValueError as err:
                    return self._model_failed(values, "run_started_before_hub", str(err))
                wait, joined = 0, True
            else:
                wait = 0
            row = run_features(programme, observation)
            remaining_h, remaining_kwh = (float(v) for v in self.model.predict(row)[0][:2])
        except ModelError as err:
            return self._model_failed(values, _reason(err), str(err))
        except ValueError as err:
            return self._model_failed(values, "unreadable_setting", str(err))
        self.status, self.reason, self.detail = STATUS_OK, REASON_JOINED if joined else None, None
        return RunEstimate(
            wait + max(round(remaining_h * 3600), 0),
            max(remaining_kwh, 0.0),
            SOURCE_MODEL,
            joined,
        )

    def _joined(
        self,
        programme: Programme,
        whole: RunObservation,
        since: RunObservation,
        joined_at_s: float,
        values: Mapping[str, Any],
    ) -> RunObservation:
        """A run joined ``joined_at_s`` into: before the join as the model expects a run
        of these settings (``whole``: none of it run; one more prediction), after it
        ``since``. Raises ``ModelError`` or ``ValueError`` as ``predict`` and
        ``predicted_programme`` do."""
        assert self.model is not None
        hours, kwh = (float(v) for v in self.model.predict(run_features(programme, whole))[0][:2])
        expected = predicted_programme(programme, hours * 3600, kwh)
        power = values.get("power")
        heater_on = isinstance(power, int | float) and power >= HEATER_ON_W
        return joined_observation(expected, programme, joined_at_s, since, heater_on_now=heater_on)

    def _model_failed(
        self, values: Mapping[str, Any], reason: str, detail: str | None
    ) -> RunEstimate | None:
        self._fallback(reason, detail)
        return self._appliance_estimate(values)

    def _appliance_estimate(self, values: Mapping[str, Any]) -> RunEstimate | None:
        """What the appliance reports, with its declared profile's remaining energy."""
        remaining = values.get("remaining_time")
        if (
            values.get("operational_state") not in _UNDER_WAY
            or isinstance(remaining, bool)
            or not isinstance(remaining, int)
        ):
            return None
        kwh: float | None = None
        try:
            programme = self.declaration.programme(str(values.get("programme")))
        except LinkError:
            programme = None
        if programme is not None:
            delay = values.get("delay_remaining")
            wait = delay if isinstance(delay, int) and not isinstance(delay, bool) else 0
            elapsed = max(programme.duration_s - (remaining - wait), 0)
            kwh = round(declared_remaining(programme, elapsed)[1], 4)
        joined = self.tracker.under_way and not self._seen_start
        return RunEstimate(remaining, kwh, SOURCE_APPLIANCE, joined)

    # --- planning --------------------------------------------------------------------------

    def planning_programme(
        self, programme: Programme, values: Mapping[str, Any], moment: datetime
    ) -> tuple[Programme, str]:
        """The programme to plan a run with: the model's (source "model") when it answers for
        a run of it at the present settings, else the declared one (source "declared")."""
        if self.model is None:
            return programme, "declared"
        try:
            water, spin, rinses = run_settings(values, dishwasher=self.dishwasher)
            observation = _before_start(self.dishwasher, water, spin, rinses, mains_water_c(moment))
            row = run_features(programme, observation)
            hours, kwh = (float(v) for v in self.model.predict(row)[0][:2])
            return predicted_programme(programme, hours * 3600, kwh), SOURCE_MODEL
        except (ModelError, ValueError):
            return programme, "declared"

    def diagnostics(self) -> dict[str, Any]:
        """Model name, version, runtime, status and why it falls back (no personal data)."""
        model = self.model
        return {
            "model": model.name if model else MODEL_ID,
            "version": model.version if model else None,
            "runtime": model.runtime if model else None,
            "status": self.status,
            "reason": self.reason,
            "detail": self.detail,
            "appliance_runs_model": declared_models(self.declaration).get(MODEL_ID),
            "source": self.estimate.source if self.estimate else None,
        }


def _joined_at_s(programme: Programme, remaining: object) -> float | None:
    """Seconds the run had gone when the hub joined it, from the countdown then reported
    (``remaining``): firmware without the model counts down the declared duration. None
    when it cannot tell: no whole number of seconds, nothing left, or more than declared."""
    if isinstance(remaining, bool) or not isinstance(remaining, int):
        return None
    if not 0 < remaining <= programme.duration_s:
        return None
    return float(programme.duration_s - remaining)


def _before_start(
    dishwasher: bool, water: str, spin: float, rinses: str, inlet: float
) -> RunObservation:
    """A run of these settings before any of it has run."""
    water_c = 0.0 if water == "cold" else float(water)
    return RunObservation(dishwasher, water_c, spin, rinses, inlet, 0.0, 0.0, 0.0, 0.0, False)


def _reason(error: ModelError) -> str:
    """A status code for a ``ModelError``."""
    for kind, code in (
        (CorruptModelError, "corrupt_model"),
        (UnsupportedModelError, "unsupported_model"),
        (ModelInputError, "input_rejected"),
        (ModelOutputError, "output_rejected"),
    ):
        if isinstance(error, kind):
            return code
    return "model_error"
