"""The neural models the declaration lists behave as declared (declared_models, CONFORMANCE.md 13).

Each entry must be well formed (the hub's parser, ``link/declared_models.py``);
an id this kit knows must fit the appliance's type, its version must be the
version of a file shipped in ``models/<id>/`` (``firmware_bridge.models.
shipped_versions``: wet_cycle ``1``, the float file a Linux-class module runs,
or ``1-int8``, the int8 file an MCU-class module runs), and the appliance must
behave as that model says (PROTOCOL.md 7.6). Ids the kit does not know are
listed, not checked: a hub ignores them too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from custom_components.liuzhou_appliances.link.codec import MessageType
from custom_components.liuzhou_appliances.link.declaration import Programme
from custom_components.liuzhou_appliances.link.declared_models import DeclaredModel, parse_models
from custom_components.liuzhou_appliances.link.errors import LinkError
from custom_components.liuzhou_appliances.link.model import ApplianceType, OperationalState
from custom_components.liuzhou_appliances.neural import ModelError
from custom_components.liuzhou_appliances.neural.fridge_fault import FAULTS
from custom_components.liuzhou_appliances.neural.wet_cycle import RunObservation, run_features
from custom_components.liuzhou_appliances.wet_cycle_prediction import run_settings
from firmware_bridge.conformance.runner import CheckFailed, Context, describe_error
from firmware_bridge.models import (
    FRIDGE_FAULT,
    WET_CYCLE,
    appliance_model,
    model_path,
    shipped_versions,
)

from .common import fail_if, request, restore, result_of, stop_programme

# The model ids this kit knows and the appliance types they fit.
KNOWN: Final = {
    WET_CYCLE: frozenset({ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER}),
    FRIDGE_FAULT: frozenset({ApplianceType.REFRIGERATOR}),
}
# The fault codes fridge_fault reports while it suspects a fault (PROTOCOL.md 7.6).
SUSPECTED_PREFIX: Final = "suspected_"
SUSPECTED_CODES: Final = frozenset(SUSPECTED_PREFIX + fault for fault in FAULTS)
# A remaining time under a quarter or over three times the declared programme is not
# an estimate of that programme (the declared profile is for default options).
PLAUSIBLE: Final = (0.25, 3.0)
# While it runs, an estimate may be revised, but the countdown must not climb by more.
MAX_RISE_S: Final = 60
MAX_WAIT_S: Final = 10.0  # between the two readings (the idle period, within the check's bound)
# How far the first reading of a run may be from the declared model's answer before the run
# (or the declared profile's, where the model cannot answer): the seconds the run ran before
# it was read, and one output step of an int8 runtime that rounds otherwise (0.0145 h, 52 s).
ANSWER_TOLERANCE_S: Final = 120
INLET: Final = "inlet_water_temperature"  # the model input the kit cannot see: all it accepts


async def check_declared_models(context: Context) -> str:
    """The describe's ``models`` parse; known ids fit the type and behave as declared."""
    declaration = context.declaration  # also: the hub session is up
    channel = await context.open_channel()
    try:
        described = result_of(
            await request(channel, 1, MessageType.DESCRIBE, context.options.timeout), 1, "describe"
        )
    finally:
        await channel.close()
    raw = described.get("declaration", {}).get("models", [])
    try:
        declared = parse_models(raw)
    except ValueError as err:
        raise CheckFailed(f"models: {err}") from None
    if not declared:
        if declaration.type is ApplianceType.REFRIGERATOR:
            # Suspected faults come only from a declared detector.
            fail_if(_suspected_problems(await _suspected(context), declared=False))
        return "the declaration lists no models"
    problems: list[str] = []
    done: list[str] = []
    for model in declared:
        types = KNOWN.get(model.id)
        if types is None:
            done.append(f"{model.id} {model.version}: not known to this kit, not checked")
        elif declaration.type not in types:
            problems.append(
                f"{model.id} is for {', '.join(sorted(types))}, not a {declaration.type}"
            )
        elif (problem := _unshipped(model)) is not None:
            problems.append(problem)
    wet_cycle = next((model for model in declared if model.id == WET_CYCLE), None)
    if wet_cycle is not None and not problems:
        try:
            done.append(await _wet_cycle(context, wet_cycle))
        except LinkError as err:
            problems.append(f"wet_cycle: {describe_error(err)}")
        except CheckFailed as err:
            problems.append(f"wet_cycle: {err}")
    if declaration.type is ApplianceType.REFRIGERATOR and not problems:
        runs = any(model.id == FRIDGE_FAULT for model in declared)
        try:
            suspected = await _suspected(context)
        except LinkError as err:
            problems.append(f"faults: {describe_error(err)}")
        else:
            problems += _suspected_problems(suspected, declared=runs)
            if runs and not problems:
                listed = ", ".join(suspected) or "none"
                done.append(f"fridge_fault: suspected faults reported now: {listed}")
    fail_if(problems)
    return "; ".join(done)


def _unshipped(model: DeclaredModel) -> str | None:
    """Why a known model's declared version is none this kit can check, if it is not."""
    versions = shipped_versions(model.id)
    if model.version in versions:
        return None
    shipped = ", ".join(sorted(versions)) or "none"
    return (
        f"{model.id} version {model.version!r} matches no shipped {model.id} file "
        f"(shipped versions: {shipped}); declare the version in the spec of the file it runs"
    )


async def _suspected(context: Context) -> list[str]:
    """The ``suspected_*`` codes in the fridge's ``faults`` now."""
    faults = (await context.require_client().read(["faults"])).get("faults")
    if not isinstance(faults, list):
        raise CheckFailed(f"faults is {faults!r}, not a list of fault codes")
    return [code for code in faults if isinstance(code, str) and code.startswith(SUSPECTED_PREFIX)]


def _suspected_problems(suspected: list[str], *, declared: bool) -> list[str]:
    """Suspected codes reported without ``fridge_fault`` declared, or not among its codes."""
    if suspected and not declared:
        return [f"reports {', '.join(suspected)} but does not declare fridge_fault"]
    unknown = [code for code in suspected if code not in SUSPECTED_CODES]
    if unknown:
        return [
            f"reports {', '.join(unknown)}, not a fridge_fault code "
            f"({', '.join(sorted(SUSPECTED_CODES))})"
        ]
    return []


async def _wet_cycle(context: Context, model: DeclaredModel) -> str:
    """A run reports a positive, plausible remaining_time that counts down (the same for
    every shipped version of ``model``)."""
    client = context.require_client()
    declaration = context.declaration
    original = await context.settings()
    await stop_programme(context)
    programme = declaration.programme(str((await client.read(["programme"]))["programme"]))
    problems: list[str] = []
    await client.command("start")
    try:
        state = await context.wait_for_state(OperationalState.RUNNING)
        if state != OperationalState.RUNNING:
            raise CheckFailed(f"start: operational_state {state!r}, expected running")
        first = await _remaining(context)
        low, high = (programme.duration_s * share for share in PLAUSIBLE)
        if not low <= first <= high:
            problems.append(
                f"remaining_time {first} s at the start of {programme.id}, declared "
                f"{programme.duration_s} s (plausible: {low:.0f}-{high:.0f} s)"
            )
        else:
            answers = _answers(model, programme, original, declaration.type)
            problems += _unlike(first, answers, model, programme)
        await asyncio.sleep(min(context.options.idle, MAX_WAIT_S))
        second = await _remaining(context)
        if second > first + MAX_RISE_S:
            problems.append(f"remaining_time rose from {first} s to {second} s while running")
    finally:
        await stop_programme(context)
        await restore(context, original, problems)
    fail_if(problems)
    module = shipped_versions(WET_CYCLE)[model.version]
    return (
        f"wet_cycle {model.version} ({model_path(WET_CYCLE, module).name}, {module} module): "
        f"{programme.id} runs with remaining_time {first} s then {second} s "
        f"(declared {programme.duration_s} s)"
    )


def _answers(
    model: DeclaredModel, programme: Programme, settings: Mapping[str, Any], kind: ApplianceType
) -> tuple[float, float] | None:
    """The declared model file's answers (s) for a run of ``programme`` at ``settings``
    before it starts, lowest and highest over every inlet water it accepts; None where
    it cannot answer (the firmware then counts down the declared profile)."""
    dishwasher = kind is ApplianceType.DISHWASHER
    try:
        loaded = appliance_model(WET_CYCLE, shipped_versions(WET_CYCLE)[model.version])
        water, spin, rinses = run_settings(settings, dishwasher=dishwasher)
        inlet = next(f for f in loaded.inputs if f.name == INLET)
        rows = [
            run_features(
                programme,
                RunObservation(
                    dishwasher,
                    0.0 if water == "cold" else float(water),
                    spin,
                    rinses,
                    float(inlet_c),
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    False,
                ),
            )
            for inlet_c in np.linspace(inlet.minimum, inlet.maximum, 34)
        ]
        hours = loaded.predict(np.array(rows))[:, 0]
    except (ModelError, ValueError, StopIteration):
        return None
    return float(hours.min()) * 3600, float(hours.max()) * 3600


def _unlike(
    first: int, answers: tuple[float, float] | None, model: DeclaredModel, programme: Programme
) -> list[str]:
    """Why a run's first remaining_time is neither the model's answer nor the profile's."""
    tolerance = ANSWER_TOLERANCE_S
    if answers is not None and answers[0] - tolerance <= first <= answers[1] + tolerance:
        return []
    if abs(first - programme.duration_s) <= tolerance:
        return []  # the declared profile: the model could not answer (inlet water, say)
    said = "cannot answer" if answers is None else f"answers {answers[0]:.0f}-{answers[1]:.0f} s"
    return [
        f"remaining_time {first} s at the start of {programme.id} is not {WET_CYCLE} "
        f"{model.version}'s answer for it ({said} over the inlet water it accepts, "
        f"± {tolerance} s) nor the declared profile's ({programme.duration_s} s)"
    ]


async def _remaining(context: Context) -> int:
    value = await context.wait_for(
        "remaining_time", lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0
    )
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise CheckFailed(f"remaining_time {value!r} while a programme runs")
    return value
