"""Washer and dishwasher intents: start (programme, options), pause, resume, stop,
finish by a time (through the ``plan_run`` action), and how long / when done / state.

Values are checked against what the appliance declares (its programmes, its
options) before anything is written, so the answer can name what it has.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, intent
from homeassistant.util import dt as dt_util
import voluptuous as vol

from custom_components.liuzhou_appliances.const import DOMAIN, SERVICE_CANCEL_RUN, SERVICE_PLAN_RUN
from custom_components.liuzhou_appliances.link.declaration import Programme
from custom_components.liuzhou_appliances.link.model import ApplianceType, OperationalState
from custom_components.liuzhou_appliances.runtime_data import loaded_appliance

from .clock import DAY_PARTS, DAYS, clock_target, parse_time
from .errors import VoiceError
from .handler import KIND_NAMES, ApplianceIntentHandler, Call
from .speech import Language, Responses, clock, duration, join_names
from .targets import our_appliances
from .words import async_word

RUN_KINDS: Final = (ApplianceType.LAUNDRY_WASHER, ApplianceType.DISHWASHER)

# Option slots: the washer's enum settings, by the capability key they write.
OPTION_KEYS: Final = ("water_temperature", "spin_speed", "rinses")

# A spoken programme that is called differently by each type ("eco" is the
# washer's eco_40_60): the first one the appliance declares is used.
PROGRAMME_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {"eco": ("eco", "eco_40_60")}

RESPONSES: Responses = {
    "en": {
        "started": "Started the {kind} on {programme}; it will be done in {left}.",
        "paused": "Paused the {kind}.",
        "resumed": "The {kind} carries on; {left} left.",
        "stopped": "Stopped the {kind}.",
        "cancelled": "Cancelled the {kind}'s delayed start.",
        "planned": "OK, the {kind} will start at {start} and be done by {end}.",
        "planned_now": "OK, the {kind} starts now and will be done by {end}.",
        "plan_impossible": "The {kind} can't be done by {time}: {reasons}.",
        "no_household": "Set up household energy first, then I can plan the {kind}.",
        "already_running": "The {kind} is already running; {left} left.",
        "already_planned": "The {kind} is already set to start at {start}.",
        "is_paused": "The {kind} is paused. Say resume to carry on.",
        "not_running": "The {kind} is not running.",
        "not_paused": "The {kind} is not paused.",
        "has_fault": "The {kind} has a fault: {faults}.",
        "door_open": "The {kind}'s door is open; close it first.",
        "no_programme": "This {kind} has no {programme} programme. It has {programmes}.",
        "no_option": "This {kind} has no {option} setting.",
        "option_not_offered": "This {kind} does not offer {value}.",
        "bad_time": "I didn't understand the time {time}.",
        "left": "{left} left on the {kind}.",
        "done_at": "The {kind} will be done at {end}.",
        "waiting": "The {kind} starts at {start} and will be done at {end}.",
        "running_phase": "The {kind} is {phase}; {left} left, done at {end}.",
        "paused_state": "The {kind} is paused with {left} left.",
        "finished_state": "The {kind} has finished.",
        "stopped_state": "The {kind} is not running.",
    },
    "zh": {
        "started": "{kind}开始运行了，{programme}程序，{left}后完成。",
        "paused": "{kind}已暂停。",
        "resumed": "{kind}继续运行，还剩{left}。",
        "stopped": "{kind}已停止。",
        "cancelled": "已取消{kind}的预约。",
        "planned": "好的，{kind}将在{start}开始，{end}前完成。",
        "planned_now": "好的，{kind}现在开始，{end}前完成。",
        "plan_impossible": "{kind}没法在{time}前完成：{reasons}。",
        "no_household": "请先设置家庭能源，然后才能预约{kind}。",
        "already_running": "{kind}已经在运行了，还剩{left}。",
        "already_planned": "{kind}已经预约在{start}开始。",
        "is_paused": "{kind}暂停着，说“继续”就接着运行。",
        "not_running": "{kind}没有在运行。",
        "not_paused": "{kind}没有暂停。",
        "has_fault": "{kind}有故障：{faults}。",
        "door_open": "{kind}的门开着，请先关好门。",
        "no_programme": "这台{kind}没有{programme}程序，可选的有：{programmes}。",
        "no_option": "这台{kind}没有{option}这个设置。",
        "option_not_offered": "这台{kind}不支持{value}。",
        "bad_time": "没听懂时间{time}。",
        "left": "{kind}还剩{left}。",
        "done_at": "{kind}预计{end}完成。",
        "waiting": "{kind}将在{start}开始，{end}完成。",
        "running_phase": "{kind}正在{phase}，还剩{left}，预计{end}完成。",
        "paused_state": "{kind}暂停了，还剩{left}。",
        "finished_state": "{kind}已经完成了。",
        "stopped_state": "{kind}没有在运行。",
    },
}

# Keyed by ApplianceType | None so that an unknown kind (not loaded) looks up as None.
_KIND_KEY: Final[Mapping[ApplianceType | None, str]] = {
    ApplianceType.LAUNDRY_WASHER: "washer",
    ApplianceType.DISHWASHER: "dishwasher",
}


def _state(call: Call) -> tuple[str | None, Mapping[str, Any]]:
    assert call.appliance.coordinator is not None  # online (checked by the base)
    values = call.appliance.coordinator.values
    state = values.get("operational_state")
    return (str(state) if state is not None else None), values


def _seconds(values: Mapping[str, Any], key: str) -> int:
    value = values.get(key)
    return int(value) if isinstance(value, int | float) else 0


def _remaining_s(call: Call, values: Mapping[str, Any]) -> int:
    """Seconds until the run ends (a delayed start's wait included): what the finish-time
    sensor shows (the hub's model, or the appliance when it runs the model itself), else
    the appliance's own countdown."""
    runtime = loaded_appliance(call.appliance.entry)
    estimate = (
        None if runtime is None or runtime.prediction is None else runtime.prediction.estimate
    )
    return estimate.remaining_s if estimate is not None else _seconds(values, "remaining_time")


class _RunHandler(ApplianceIntentHandler):
    """Shared by the washer and dishwasher intents: the kind word, programme names."""

    kinds = RUN_KINDS
    responses = RESPONSES
    platforms = None

    def kind(self, call: Call) -> str:
        """How answers call the appliance: its type ("洗衣机") when it is the only one of
        its type, else its name."""
        kind = call.appliance.kind
        same = [a for a in our_appliances(call.hass) if a.kind is kind]
        if len(same) > 1 or kind is None:
            return call.appliance.name
        return KIND_NAMES[call.language][kind]

    async def programme_name(self, call: Call, programme: str) -> str:
        """A programme's name in the user's language (the programme selects' state names).

        The appliance's own type first: a programme it lacks may be the other type's.
        """
        own = _KIND_KEY.get(call.appliance.kind)
        for key in sorted(_KIND_KEY.values(), key=lambda key: key != own):
            name = await async_word(
                call.hass, call.language, "entity", f"select.{key}_programme.state.{programme}", ""
            )
            if name:
                return name
        return programme.replace("_", " ")

    async def faults_text(self, call: Call, faults: object) -> str:
        """The active fault codes as the faults sensor names them (or their codes)."""
        codes = [str(code) for code in faults] if isinstance(faults, list) else []
        kind = call.appliance.kind
        names = []
        for code in codes:
            # The repair issue's title names the fault: "{appliance}: no water supply".
            title = await async_word(
                call.hass, call.language, "issues", f"fault_{kind}_{code}.title", code
            )
            names.append(title.replace("{appliance}", "").lstrip("：: "))
        return join_names(names, call.language) if names else "?"

    async def check_can_start(self, call: Call) -> None:
        """VoiceError unless the appliance is stopped or finished with its door closed."""
        state, values = _state(call)
        kind = self.kind(call)
        now = dt_util.now()
        if state == OperationalState.RUNNING and _seconds(values, "delay_remaining"):
            start = now + timedelta(seconds=_seconds(values, "delay_remaining"))
            raise VoiceError(
                "already_planned", kind=kind, start=clock(start, call.language, now=now)
            )
        if state == OperationalState.RUNNING:
            left = duration(_remaining_s(call, values), call.language)
            raise VoiceError("already_running", kind=kind, left=left)
        if state == OperationalState.PAUSED:
            raise VoiceError("is_paused", kind=kind)
        if state == OperationalState.ERROR:
            raise VoiceError(
                "has_fault", kind=kind, faults=await self.faults_text(call, values.get("faults"))
            )
        if values.get("door_open") is True:
            raise VoiceError("door_open", kind=kind)

    async def chosen_programme(self, call: Call) -> Programme | None:
        """The declared programme the sentence names, None if it names none."""
        spoken = call.value("programme")
        if spoken is None:
            return None
        assert call.appliance.coordinator is not None
        declared = {p.id: p for p in call.appliance.coordinator.declaration.programmes}
        for candidate in PROGRAMME_ALIASES.get(spoken, (spoken,)):
            if candidate in declared:
                return declared[candidate]
        names = [await self.programme_name(call, p) for p in declared]
        raise VoiceError(
            "no_programme",
            kind=self.kind(call),
            programme=await self.programme_name(call, spoken),
            programmes=join_names(names, call.language),
        )


class RunStartHandler(_RunHandler):
    """Start now, with a programme and options if said."""

    intent_type = "LiuzhouRunStart"
    description = (
        "Starts a Liuzhou washing machine or dishwasher now, optionally with a programme "
        "(cotton, eco, synthetics, mixed, wool, delicates, quick, bedding, auto, intensive, "
        "glass, pre_rinse) and washer options."
    )
    extra_slots: ClassVar[Mapping[vol.Marker, Any]] = {
        vol.Optional("programme", description="Programme id"): cv.string,
        vol.Optional("water_temperature", description="cold, 20, 30, 40, 60 or 90"): cv.string,
        vol.Optional("spin_speed", description="0, 400, 800, 1000, 1200 or 1400"): cv.string,
        vol.Optional("rinses", description="none, normal, extra or max"): cv.string,
    }

    async def async_act(self, call: Call) -> str:
        """Check the state, write programme and options that differ, send ``start``."""
        await self.check_can_start(call)
        coordinator = call.appliance.coordinator
        assert coordinator is not None
        programme = await self.chosen_programme(call)
        writes: dict[str, Any] = {}
        if programme is not None and coordinator.values.get("programme") != programme.id:
            writes["programme"] = programme.id
        for key in OPTION_KEYS:
            wanted = call.value(key)
            if wanted is None:
                continue
            if key not in coordinator.declaration.capabilities:
                raise VoiceError("no_option", kind=self.kind(call), option=key.replace("_", " "))
            if wanted not in coordinator.declaration.capability(key).options:
                raise VoiceError("option_not_offered", kind=self.kind(call), value=wanted)
            if coordinator.values.get(key) != wanted:
                writes[key] = wanted
        if writes:
            await coordinator.async_write(writes)
        await coordinator.async_command("start")
        chosen = programme or _current_programme(call)
        left = chosen.duration_s if chosen is not None else 0
        return self.speak(
            call.language,
            "started",
            kind=self.kind(call),
            programme=await self.programme_name(call, chosen.id if chosen else "?"),
            left=duration(left, call.language),
        )


def _current_programme(call: Call) -> Programme | None:
    coordinator = call.appliance.coordinator
    assert coordinator is not None
    current = coordinator.values.get("programme")
    return next((p for p in coordinator.declaration.programmes if p.id == current), None)


class RunPauseHandler(_RunHandler):
    """Pause a running programme."""

    intent_type = "LiuzhouRunPause"
    description = "Pauses a running Liuzhou washing machine or dishwasher."

    async def async_act(self, call: Call) -> str:
        """Pause when running (not while waiting for a delayed start)."""
        state, values = _state(call)
        if state != OperationalState.RUNNING or _seconds(values, "delay_remaining"):
            raise VoiceError("not_running", kind=self.kind(call))
        assert call.appliance.coordinator is not None
        await call.appliance.coordinator.async_command("pause")
        return self.speak(call.language, "paused", kind=self.kind(call))


class RunResumeHandler(_RunHandler):
    """Resume a paused programme."""

    intent_type = "LiuzhouRunResume"
    description = "Resumes a paused Liuzhou washing machine or dishwasher."

    async def async_act(self, call: Call) -> str:
        """Resume when paused."""
        state, values = _state(call)
        if state != OperationalState.PAUSED:
            raise VoiceError("not_paused", kind=self.kind(call))
        if values.get("door_open") is True:
            raise VoiceError("door_open", kind=self.kind(call))
        assert call.appliance.coordinator is not None
        await call.appliance.coordinator.async_command("resume")
        left = duration(_remaining_s(call, values), call.language)
        return self.speak(call.language, "resumed", kind=self.kind(call), left=left)


class RunStopHandler(_RunHandler):
    """Stop a programme, or cancel a delayed start (through ``cancel_run``)."""

    intent_type = "LiuzhouRunStop"
    description = (
        "Stops a running or paused Liuzhou washing machine or dishwasher, or cancels its "
        "delayed start."
    )

    async def async_act(self, call: Call) -> str:
        """Cancel a waiting start with ``cancel_run`` (which forgets the plan), else ``stop``."""
        state, values = _state(call)
        kind = self.kind(call)
        if state == OperationalState.RUNNING and _seconds(values, "delay_remaining"):
            await call.hass.services.async_call(
                DOMAIN,
                SERVICE_CANCEL_RUN,
                {ATTR_DEVICE_ID: call.appliance.device.id},
                blocking=True,
            )
            return self.speak(call.language, "cancelled", kind=kind)
        if state not in {OperationalState.RUNNING, OperationalState.PAUSED}:
            raise VoiceError("not_running", kind=kind)
        assert call.appliance.coordinator is not None
        await call.appliance.coordinator.async_command("stop")
        return self.speak(call.language, "stopped", kind=kind)


class RunFinishByHandler(_RunHandler):
    """Be done by a time: the run planner picks the start (the ``plan_run`` action)."""

    intent_type = "LiuzhouRunFinishBy"
    description = (
        "Plans a Liuzhou washing machine or dishwasher run to finish by a time, starting "
        "when electricity is cheapest. Give time as HH:MM (24 h), or hour with day_part."
    )
    extra_slots: ClassVar[Mapping[vol.Marker, Any]] = {
        vol.Optional("programme", description="Programme id"): cv.string,
        vol.Optional("time", description="Finish time, HH:MM in 24 hours"): cv.string,
        vol.Optional("hour"): vol.Coerce(int),
        vol.Optional("minute"): vol.Coerce(int),
        vol.Optional("day_part"): vol.In(DAY_PARTS),
        vol.Optional("day"): vol.In(DAYS),
    }

    def finish_by(self, call: Call, now: datetime) -> datetime:
        """The finish time the slots say, after ``now``."""
        if (text := call.value("time")) is not None:
            hour, minute = parse_time(str(text))
            return clock_target(now, hour=hour, minute=minute, day=call.value("day"))
        hour = call.value("hour")
        if hour is None:
            raise VoiceError("bad_time", time="?")
        return clock_target(
            now,
            hour=int(hour),
            minute=int(call.value("minute") or 0),
            day_part=call.value("day_part"),
            day=call.value("day"),
        )

    async def async_act(self, call: Call) -> str:
        """Plan and start the run through ``plan_run``; say when it starts and ends."""
        await self.check_can_start(call)
        now = dt_util.now()
        finish_by = self.finish_by(call, now)
        programme = await self.chosen_programme(call)
        kind = self.kind(call)
        data: dict[str, Any] = {
            ATTR_DEVICE_ID: call.appliance.device.id,
            "finish_by": finish_by.isoformat(),
        }
        if programme is not None:
            data["programme"] = programme.id
        try:
            response = await call.hass.services.async_call(
                DOMAIN, SERVICE_PLAN_RUN, data, blocking=True, return_response=True
            )
        except ServiceValidationError as err:
            if err.translation_key == "household_not_configured":
                raise VoiceError("no_household", kind=kind) from err
            if err.translation_key == "plan_infeasible":
                reasons = (err.translation_placeholders or {}).get("reasons", "")
                raise VoiceError(
                    "plan_impossible",
                    kind=kind,
                    time=clock(finish_by, call.language, now=now),
                    reasons=reasons,
                ) from err
            raise
        assert isinstance(response, dict)
        start = dt_util.as_local(datetime.fromisoformat(str(response["start"])))
        end = dt_util.as_local(datetime.fromisoformat(str(response["end"])))
        delay = response.get("delay_s")
        key = "planned_now" if not isinstance(delay, int) or delay < 60 else "planned"
        return self.speak(
            call.language,
            key,
            kind=kind,
            start=clock(start, call.language, now=now),
            end=clock(end, call.language, now=now),
        )


STATUS_QUERIES: Final = ("remaining", "finish_time", "state")


class RunStatusHandler(_RunHandler):
    """How long is left, when it will be done, or what it is doing."""

    intent_type = "LiuzhouRunStatus"
    answers_question = True
    description = (
        "Tells how long a Liuzhou washing machine or dishwasher has left (query=remaining), "
        "when it will be done (finish_time) or what it is doing (state)."
    )
    extra_slots: ClassVar[Mapping[vol.Marker, Any]] = {
        # No default: Home Assistant validates a default as a slot of its own, so a call
        # without the slot would be refused; async_act reads a missing query as "state".
        vol.Optional("query"): vol.In(STATUS_QUERIES),
    }

    async def async_act(self, call: Call) -> str:
        """Answer from the pushed state (no request to the appliance)."""
        state, values = _state(call)
        kind = self.kind(call)
        language = call.language
        now = dt_util.now()
        left_s = _remaining_s(call, values)
        left = duration(left_s, language)
        end = clock(now + timedelta(seconds=left_s), language, now=now)
        if state == OperationalState.RUNNING and (delay := _seconds(values, "delay_remaining")):
            start = clock(now + timedelta(seconds=delay), language, now=now)
            return self.speak(language, "waiting", kind=kind, start=start, end=end)
        if state == OperationalState.RUNNING:
            query = call.value("query") or "state"
            if query == "remaining":
                return self.speak(language, "left", kind=kind, left=left)
            if query == "finish_time":
                return self.speak(language, "done_at", kind=kind, end=end)
            phase = await self.phase_name(call, values.get("phase"), language)
            return self.speak(language, "running_phase", kind=kind, phase=phase, left=left, end=end)
        if state == OperationalState.PAUSED:
            return self.speak(language, "paused_state", kind=kind, left=left)
        if state == OperationalState.FINISHED:
            return self.speak(language, "finished_state", kind=kind)
        if state == OperationalState.ERROR:
            faults = await self.faults_text(call, values.get("faults"))
            return self.speak(language, "has_fault", kind=kind, faults=faults)
        return self.speak(language, "stopped_state", kind=kind)

    async def phase_name(self, call: Call, phase: object, language: Language) -> str:
        """The phase as the phase sensor names it, lower-cased in English."""
        assert call.appliance.kind is not None
        text = await async_word(
            call.hass,
            language,
            "entity",
            f"sensor.{_KIND_KEY[call.appliance.kind]}_phase.state.{phase}",
            str(phase),
        )
        return text.lower() if language == "en" else text


HANDLERS: Final[tuple[intent.IntentHandler, ...]] = (
    RunStartHandler(),
    RunPauseHandler(),
    RunResumeHandler(),
    RunStopHandler(),
    RunFinishByHandler(),
    RunStatusHandler(),
)
