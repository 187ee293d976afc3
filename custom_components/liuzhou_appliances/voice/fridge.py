"""Fridge intents: a compartment's setpoint (below zero, halves), the mode, the door.

Setpoints are checked against the bounds and step the fridge declares before
anything is written, so the answer can say what the compartment accepts. A
freezer value said without "minus"/"零下" is taken as below zero when the
freezer declares only setpoints below zero (people say "冷冻室调到十八度").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import intent
import voluptuous as vol

from custom_components.liuzhou_appliances.link.model import ApplianceType

from .errors import VoiceError
from .handler import ApplianceIntentHandler, Call, appliance_word
from .speech import Responses, number, temperature
from .words import async_word

FRIDGE_KINDS: Final = (ApplianceType.REFRIGERATOR,)

# Compartment slot -> the capability keys of its setpoint and its measured temperature.
SETPOINT_KEYS: Final[Mapping[str, str]] = {
    "fridge": "fridge_target_temperature",
    "freezer": "freezer_target_temperature",
}
MEASURED_KEYS: Final[Mapping[str, str]] = {
    "fridge": "fridge_temperature",
    "freezer": "freezer_temperature",
}
FRIDGE_MODES: Final = ("normal", "eco", "quick_freeze", "vacation")

RESPONSES: Responses = {
    "en": {
        "compartment_fridge": "fridge compartment",
        "compartment_freezer": "freezer",
        "set": "The {compartment} is set to {value}.",
        "already_set": "The {compartment} is already set to {value}.",
        "out_of_range": "The {compartment} can be set from {low} to {high}, not {value}.",
        "not_step": "The {compartment} is set in steps of {step} °C; {value} is not possible.",
        "no_compartment": "This {kind} has no {compartment}.",
        "held_by_mode": "The {kind} did not change the {compartment}: it is in {mode} mode. "
        "Leave {mode} mode first.",
        "mode_set": "The {kind} is in {mode} mode now.",
        "mode_already": "The {kind} is already in {mode} mode.",
        "mode_off": "{mode} is off; the {kind} is back in {normal} mode.",
        "mode_not_on": "{mode} mode is not on.",
        "no_mode": "This {kind} has no {mode} mode.",
        "door_open": "The {kind}'s door is open.",
        "door_closed": "The {kind}'s door is closed.",
        "temperatures": "The fridge compartment is at {fridge} (set to {fridge_set}){freezer}.",
        "freezer_part": ", the freezer at {freezer} (set to {freezer_set})",
        "door_note": " The door is open.",
    },
    "zh": {
        "compartment_fridge": "冷藏室",
        "compartment_freezer": "冷冻室",
        "set": "{compartment}已调到{value}。",
        "already_set": "{compartment}已经是{value}了。",
        "out_of_range": "{compartment}只能设在{low}到{high}之间，不能设为{value}。",
        "not_step": "{compartment}只能按{step}度调，不能设为{value}。",
        "no_compartment": "这台{kind}没有{compartment}。",
        "held_by_mode": "{kind}正在{mode}模式，{compartment}温度没有改。请先退出{mode}模式。",
        "mode_set": "{kind}已切换到{mode}模式。",
        "mode_already": "{kind}已经是{mode}模式了。",
        "mode_off": "已关闭{mode}，{kind}回到{normal}模式。",
        "mode_not_on": "{mode}模式没有开着。",
        "no_mode": "这台{kind}没有{mode}模式。",
        "door_open": "{kind}门开着。",
        "door_closed": "{kind}门关好了。",
        "temperatures": "冷藏室现在{fridge}，设定{fridge_set}{freezer}。",
        "freezer_part": "；冷冻室现在{freezer}，设定{freezer_set}",
        "door_note": "另外，门还开着。",
    },
}


async def mode_name(call: Call, mode: str) -> str:
    """The mode as the mode select names it ("速冻", "Quick freeze")."""
    return await async_word(
        call.hass,
        call.language,
        "entity",
        f"select.fridge_mode.state.{mode}",
        mode.replace("_", " "),
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


class _FridgeHandler(ApplianceIntentHandler):
    kinds = FRIDGE_KINDS
    responses = RESPONSES
    platforms = None

    def door_note(self, call: Call) -> str:
        """ " The door is open." when it is (said after what was done)."""
        assert call.appliance.coordinator is not None
        if call.appliance.coordinator.values.get("door_open") is True:
            return self.speak(call.language, "door_note")
        return ""


class FridgeSetTemperatureHandler(_FridgeHandler):
    """Set the fridge or the freezer compartment to a temperature."""

    intent_type = "LiuzhouFridgeSetTemperature"
    description = (
        "Sets the target temperature (°C) of a Liuzhou fridge's fridge or freezer compartment."
    )
    extra_slots: ClassVar[Mapping[vol.Marker, Any]] = {
        vol.Required("compartment", description="fridge or freezer"): vol.In(SETPOINT_KEYS),
        vol.Required("temperature", description="Degrees Celsius"): vol.Coerce(float),
        vol.Optional("sign", description="'minus' for below zero"): vol.In(("minus",)),
        vol.Optional("half", description="0.5 for a half degree"): vol.Coerce(float),
    }

    def wanted(self, call: Call, high: float) -> float:
        """The temperature said, with its sign and half degree."""
        said = float(call.value("temperature"))
        value = abs(said) + float(call.value("half") or 0)
        below_zero = call.value("sign") == "minus" or said < 0 or high < 0
        return -value if below_zero else value

    async def async_act(self, call: Call) -> str:
        """Check the declared bounds and step, then write the setpoint."""
        coordinator = call.appliance.coordinator
        assert coordinator is not None
        language = call.language
        compartment = str(call.value("compartment"))
        key = SETPOINT_KEYS[compartment]
        compartment_word = self.speak(language, f"compartment_{compartment}")
        if key not in coordinator.declaration.capabilities:
            raise VoiceError(
                "no_compartment", kind=appliance_word(call), compartment=compartment_word
            )
        capability = coordinator.declaration.capability(key)
        low = capability.minimum if capability.minimum is not None else -50.0
        high = capability.maximum if capability.maximum is not None else 50.0
        value = self.wanted(call, high)
        said = temperature(value, language)
        if not low <= value <= high:
            raise VoiceError(
                "out_of_range",
                compartment=compartment_word,
                low=temperature(low, language),
                high=temperature(high, language),
                value=said,
            )
        step = capability.step
        if step and abs((value - low) / step - round((value - low) / step)) > 1e-6:
            raise VoiceError(
                "not_step", compartment=compartment_word, step=number(step, language), value=said
            )
        if _number(coordinator.values.get(key)) == value:
            return self.speak(language, "already_set", compartment=compartment_word, value=said)
        try:
            await coordinator.async_write({key: int(value) if value.is_integer() else value})
        except HomeAssistantError as err:
            # Quick freeze and vacation hold their own temperatures: say which mode to leave.
            mode = coordinator.values.get("mode")
            if err.translation_key == "write_rejected" and mode in {"quick_freeze", "vacation"}:
                raise VoiceError(
                    "held_by_mode",
                    kind=appliance_word(call),
                    compartment=compartment_word,
                    mode=await mode_name(call, str(mode)),
                ) from err
            raise
        return self.speak(language, "set", compartment=compartment_word, value=said)


class FridgeModeHandler(_FridgeHandler):
    """Switch a mode on (quick freeze, eco, vacation, normal) or a special mode off."""

    intent_type = "LiuzhouFridgeMode"
    description = (
        "Puts a Liuzhou fridge in a mode (normal, eco, quick_freeze, vacation); "
        "state 'off' leaves that mode for normal."
    )
    extra_slots: ClassVar[Mapping[vol.Marker, Any]] = {
        vol.Required("mode", description="normal, eco, quick_freeze or vacation"): vol.In(
            FRIDGE_MODES
        ),
        vol.Optional("state", description="on (the default) or off"): vol.In(("on", "off")),
    }

    async def async_act(self, call: Call) -> str:
        """Write the mode if the fridge declares it; "off" goes back to normal."""
        coordinator = call.appliance.coordinator
        assert coordinator is not None
        language = call.language
        kind = appliance_word(call)
        wanted = str(call.value("mode"))
        spoken = await mode_name(call, wanted)
        declared = coordinator.declaration.capability("mode").options
        if wanted not in declared:
            raise VoiceError("no_mode", kind=kind, mode=spoken)
        current = coordinator.values.get("mode")
        if call.value("state") == "off":
            if current != wanted or wanted == "normal":
                raise VoiceError("mode_not_on", mode=spoken)
            await coordinator.async_write({"mode": "normal"})
            normal = await mode_name(call, "normal")
            return self.speak(language, "mode_off", kind=kind, mode=spoken, normal=normal)
        if current == wanted:
            return self.speak(language, "mode_already", kind=kind, mode=spoken)
        await coordinator.async_write({"mode": wanted})
        return self.speak(language, "mode_set", kind=kind, mode=spoken) + self.door_note(call)


class FridgeStatusHandler(_FridgeHandler):
    """Is the door open; what temperature the compartments are at."""

    intent_type = "LiuzhouFridgeStatus"
    answers_question = True
    description = (
        "Tells whether a Liuzhou fridge's door is open (query=door) or the compartments' "
        "temperatures (query=temperature)."
    )
    extra_slots: ClassVar[Mapping[vol.Marker, Any]] = {
        vol.Optional("query", description="door (the default) or temperature"): vol.In(
            ("door", "temperature")
        ),
    }

    async def async_act(self, call: Call) -> str:
        """Answer from the pushed state."""
        assert call.appliance.coordinator is not None
        values = call.appliance.coordinator.values
        language = call.language
        kind = appliance_word(call)
        if call.value("query") == "temperature":
            freezer = ""
            measured = _number(values.get(MEASURED_KEYS["freezer"]))
            setpoint = _number(values.get(SETPOINT_KEYS["freezer"]))
            if measured is not None and setpoint is not None:
                freezer = self.speak(
                    language,
                    "freezer_part",
                    freezer=temperature(round(measured), language),
                    freezer_set=temperature(setpoint, language),
                )
            return self.speak(
                language,
                "temperatures",
                fridge=temperature(round(_number(values.get("fridge_temperature")) or 0), language),
                fridge_set=temperature(_number(values.get(SETPOINT_KEYS["fridge"])) or 0, language),
                freezer=freezer,
            )
        key = "door_open" if values.get("door_open") is True else "door_closed"
        return self.speak(language, key, kind=kind)


HANDLERS: Final[tuple[intent.IntentHandler, ...]] = (
    FridgeSetTemperatureHandler(),
    FridgeModeHandler(),
    FridgeStatusHandler(),
)
