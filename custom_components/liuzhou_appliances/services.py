"""Service actions: plan or cancel a washer/dishwasher run; start or stop demand response;
read or erase the voice panels' opt-in log.

Registered once in ``async_setup`` (quality-scale rule action-setup); every
failure is a translated ServiceValidationError (the caller's input) or
HomeAssistantError (the appliance refused).
"""

from __future__ import annotations

from datetime import datetime, timedelta
import logging
import math
import time
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import (
    CONF_APPLIANCE_ID,
    DEFAULT_DEMAND_RESPONSE_LEVEL,
    DOMAIN,
    SERVICE_CANCEL_RUN,
    SERVICE_DEMAND_RESPONSE,
    SERVICE_ERASE_VOICE_LOG,
    SERVICE_PLAN_RUN,
    SERVICE_VOICE_LOG,
)
from .energy.planner import PlanResult
from .energy.shedding import DEMAND_RESPONSE_LEVELS
from .energy_runtime import ApplianceEnergy, china_aware
from .link.errors import OutOfRangeError
from .link.model import ApplianceType
from .naming import async_plan_issue_text
from .provisioning import async_setup_provisioning
from .room_services import async_setup_room_services
from .runtime_data import household_energy, loaded_appliance
from .service_error import service_error
from .voice_log import VoiceLog

_LOGGER = logging.getLogger(__package__)

ATTR_DEVICE_ID: Final = "device_id"
ATTR_PROGRAMME: Final = "programme"
ATTR_EARLIEST_START: Final = "earliest_start"
ATTR_FINISH_BY: Final = "finish_by"
ATTR_ONLY_WHEN_CHEAP: Final = "only_when_cheap"
ATTR_ONLY_ON_SOLAR_SURPLUS: Final = "only_on_solar_surplus"
ATTR_ACTION: Final = "action"
ATTR_DURATION: Final = "duration"
ATTR_LEVEL: Final = "level"
DEMAND_RESPONSE_ACTIONS: Final = ("start", "stop")

_RUN_APPLIANCES: Final = frozenset({ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER})

PLAN_RUN_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_PROGRAMME): cv.string,
        vol.Optional(ATTR_EARLIEST_START): cv.datetime,
        vol.Required(ATTR_FINISH_BY): cv.datetime,
        vol.Optional(ATTR_ONLY_WHEN_CHEAP, default=False): cv.boolean,
        vol.Optional(ATTR_ONLY_ON_SOLAR_SURPLUS, default=False): cv.boolean,
    }
)
CANCEL_RUN_SCHEMA: Final = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
# Without a device: every appliance with a voice panel.
VOICE_LOG_SCHEMA: Final = vol.Schema({vol.Optional(ATTR_DEVICE_ID): cv.string})
# Action, level and the sign of the duration are checked by the handler, so a wrong
# value gets this integration's translated error rather than a bare schema message.
DEMAND_RESPONSE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_ACTION): cv.string,
        vol.Optional(ATTR_DURATION): cv.time_period,
        vol.Optional(ATTR_LEVEL, default=DEFAULT_DEMAND_RESPONSE_LEVEL): cv.string,
    }
)


def async_setup_services(hass: HomeAssistant) -> None:
    """Register plan_run, cancel_run, demand_response, voice_log and erase_voice_log."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_PLAN_RUN,
        _async_plan_run,
        schema=PLAN_RUN_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_CANCEL_RUN, _async_cancel_run, schema=CANCEL_RUN_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_DEMAND_RESPONSE,
        _async_demand_response,
        schema=DEMAND_RESPONSE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_VOICE_LOG,
        _async_voice_log,
        schema=VOICE_LOG_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_ERASE_VOICE_LOG,
        _async_erase_voice_log,
        schema=VOICE_LOG_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_setup_provisioning(hass)
    async_setup_room_services(hass)


def _run_appliance(hass: HomeAssistant, device_id: str) -> ApplianceEnergy:
    """The loaded washer or dishwasher of a device; ServiceValidationError otherwise."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise service_error("unknown_device", device_id=device_id)
    # Matched by the device's identifier, not DeviceEntry.config_entries (deprecated
    # from Home Assistant 2026.10, gone in 2027.10): the same on every release.
    for entry in hass.config_entries.async_entries(DOMAIN):
        appliance_id = entry.data.get(CONF_APPLIANCE_ID)
        if appliance_id is None or (DOMAIN, appliance_id) not in device.identifiers:
            continue
        runtime = loaded_appliance(entry)
        if entry.state is not ConfigEntryState.LOADED or runtime is None:
            raise service_error("device_not_loaded", device=device.name or device_id)
        energy = runtime.energy
        if energy.kind not in _RUN_APPLIANCES:
            raise service_error("not_a_run_appliance", device=device.name or device_id)
        return energy
    raise service_error("unknown_device", device_id=device_id)


def _local(when: datetime) -> datetime:
    return dt_util.as_local(china_aware(when))


async def _async_plan_run(call: ServiceCall) -> ServiceResponse:
    """Plan the run, write the programme and send ``start`` with the planned delay."""
    hass = call.hass
    started = time.perf_counter()
    energy = _run_appliance(hass, call.data[ATTR_DEVICE_ID])
    if energy.household is None:
        raise service_error("household_not_configured")
    try:
        programme = energy.runs.programme(call.data.get(ATTR_PROGRAMME))
    except OutOfRangeError:
        declared = ", ".join(p.id for p in energy.coordinator.declaration.programmes)
        raise service_error(
            "unknown_programme",
            programme=str(call.data.get(ATTR_PROGRAMME)),
            programmes=declared,
        ) from None
    now = dt_util.utcnow()
    # Local times, so the planner's reasons show the user's clock.
    earliest = dt_util.as_local(dt_util.as_utc(call.data.get(ATTR_EARLIEST_START, now)))
    finish_by = dt_util.as_local(dt_util.as_utc(call.data[ATTR_FINISH_BY]))
    result, at_once = energy.runs.plan_run(
        programme,
        earliest,
        finish_by,
        only_cheap=call.data[ATTR_ONLY_WHEN_CHEAP],
        only_surplus=call.data[ATTR_ONLY_ON_SOLAR_SURPLUS],
    )
    if not result.feasible:
        reason = "; ".join(issue.message for issue in result.issues)
        nearest = _describe_nearest(result)
        _LOGGER.info("plan_run for %s not executed: %s", energy.appliance_id, reason)
        start, end = _nearest_times(result)
        raise service_error(
            "plan_infeasible",
            reasons=await async_plan_issue_text(hass, [issue.code for issue in result.issues]),
            start=start,
            end=end,
            # The planner's own words, for logs and traces; the message uses the above.
            reason=reason,
            code=", ".join(str(issue.code) for issue in result.issues),
            nearest=nearest,
        )
    plan = result.plans[0]
    if energy.coordinator.data.get("programme") != programme.id:
        await energy.coordinator.async_write({"programme": programme.id})
    await energy.coordinator.async_command("start", plan.command_args)
    energy.runs.record_plan(programme.id, plan, at_once)
    recorded = energy.runs.plan
    assert recorded is not None
    _LOGGER.debug(
        "plan_run for %s: start %s (delay %s s) in %.1f ms",
        energy.appliance_id,
        plan.start,
        plan.delay_s,
        (time.perf_counter() - started) * 1000,
    )
    response: dict[str, Any] = {
        "programme": programme.id,
        "start": _local(plan.start).isoformat(),
        "end": _local(plan.end).isoformat(),
        "delay_s": plan.delay_s,
        "expected_cost": round(recorded.cost, 4),
        "savings": round(recorded.savings, 4),
        "energy_kwh": round(plan.energy_kwh, 3),
        # The profile planned on: the wet-cycle model's ("model") or the declared one.
        "profile": energy.runs.profile_source,
    }
    return response


def _nearest_times(result: PlanResult) -> tuple[str, str]:
    """Start and end of the nearest feasible plan in local time, or dashes if there is none."""
    if not result.plans:
        return "—", "—"
    plan = result.plans[0]
    return f"{_local(plan.start):%Y-%m-%d %H:%M}", f"{_local(plan.end):%H:%M}"


def _describe_nearest(result: PlanResult) -> str:
    """The nearest feasible plan in words (not executed), or that there is none."""
    if not result.plans:
        return "none"
    plan = result.plans[0]
    cost = f", about {plan.cost:.2f} CNY" if math.isfinite(plan.cost) else ""
    relaxed = f" ({'; '.join(result.relaxed)})" if result.relaxed else ""
    start, end = _nearest_times(result)
    return f"start {start}, done {end}{cost}{relaxed}"


async def _async_cancel_run(call: ServiceCall) -> None:
    """Stop a delayed start that has not begun (a running programme is left alone)."""
    energy = _run_appliance(call.hass, call.data[ATTR_DEVICE_ID])
    data = energy.coordinator.values
    if not data.get("delay_remaining"):
        raise service_error("nothing_to_cancel", device=energy.coordinator.config_entry.title)
    await energy.coordinator.async_command("stop")
    energy.runs.forget_plan()


async def _async_demand_response(call: ServiceCall) -> ServiceResponse:
    """Start or stop a demand-response event; return what load shedding holds now."""
    household = household_energy(call.hass)
    if household is None:
        raise service_error("household_not_configured")
    action = call.data[ATTR_ACTION]
    if action not in DEMAND_RESPONSE_ACTIONS:
        raise service_error("unknown_demand_response_action", action=action)
    level = call.data[ATTR_LEVEL]
    if level not in DEMAND_RESPONSE_LEVELS:
        raise service_error(
            "unknown_demand_response_level", level=level, levels=", ".join(DEMAND_RESPONSE_LEVELS)
        )
    duration: timedelta | None = call.data.get(ATTR_DURATION)
    if duration is not None and duration <= timedelta(0):
        raise service_error("invalid_demand_response_duration", duration=str(duration))
    if action == "start":
        await household.shedding.async_start_demand_response(level, duration)
    else:
        await household.shedding.async_stop_demand_response()
    report = household.shedding.last_report
    return {
        "shed": [
            {"appliance_id": a.appliance_id, "action": a.action, "reason": a.reason}
            for a in (report.active if report is not None else ())
        ]
    }


async def _async_voice_log(call: ServiceCall) -> ServiceResponse:
    """What the named panels' logs hold (voice_log.py), oldest first."""
    return {
        "appliances": [
            {
                "device_id": device_id,
                "entries": [
                    {"at": e.at, "language": e.language, "heard": e.heard, "answer": e.answer}
                    for e in log.entries()
                ],
            }
            for device_id, log in _voice_logs(call)
        ]
    }


async def _async_erase_voice_log(call: ServiceCall) -> ServiceResponse:
    """Erase the named panels' logs; answers how many entries went."""
    return {"erased": sum(log.erase() for _device_id, log in _voice_logs(call))}


def _voice_logs(call: ServiceCall) -> list[tuple[str, VoiceLog]]:
    """The logs of the loaded panels the call names: its device's, or all without one."""
    registry = dr.async_get(call.hass)
    wanted = call.data.get(ATTR_DEVICE_ID)
    device = None if wanted is None else registry.async_get(wanted)
    if wanted is not None and device is None:
        raise service_error("unknown_device", device_id=wanted)
    found: list[tuple[str, VoiceLog]] = []
    for entry in call.hass.config_entries.async_entries(DOMAIN):
        if (runtime := loaded_appliance(entry)) is None or runtime.panel is None:
            continue
        own = registry.async_get_device(identifiers={(DOMAIN, entry.data[CONF_APPLIANCE_ID])})
        if own is not None and wanted in (None, own.id):
            found.append((own.id, runtime.panel.log))
    if device is not None and not found:
        raise service_error("no_voice_panel", device=device.name or device.id)
    return found
