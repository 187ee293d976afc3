"""Air-conditioner intents Home Assistant's own climate intents lack: mode, fan speed
(set, one step up or down), swing, eco and sleep.

On/off and the setpoint stay with Home Assistant's ``HassTurnOn``/``HassTurnOff`` and
``HassClimateSetTemperature`` on our climate entity; these sentences never say them.
Every value is checked against what the unit declares (its modes, fan speeds, swing
settings, whether it has eco or sleep) before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

from homeassistant.helpers import intent
import voluptuous as vol

from custom_components.liuzhou_appliances.link.model import ApplianceType, Value

from .errors import VoiceError
from .handler import ApplianceIntentHandler, Call, appliance_word
from .speech import Language, Responses

AC_KINDS: Final = (ApplianceType.ROOM_AIR_CONDITIONER,)

AC_MODES: Final = ("cool", "heat", "dry", "fan_only", "auto")
FAN_SPEEDS: Final = ("auto", "low", "medium", "high")
# The fixed speeds from slow to fast; a step from "auto" starts at medium.
FAN_ORDER: Final = ("low", "medium", "high")
SWINGS: Final = ("off", "vertical", "horizontal", "both")
FEATURES: Final = ("eco", "sleep")

# Spoken values; the entities' own names ("Fan only") read badly inside a sentence.
WORDS: Final[Mapping[Language, Mapping[str, str]]] = {
    "en": {
        "mode_cool": "cool",
        "mode_heat": "heat",
        "mode_dry": "dry",
        "mode_fan_only": "fan only",
        "mode_auto": "auto",
        "fan_auto": "automatic",
        "fan_low": "low",
        "fan_medium": "medium",
        "fan_high": "high",
        "swing_vertical": "up and down",
        "swing_horizontal": "left and right",
        "swing_both": "in all directions",
        "feature_eco": "Eco mode",
        "feature_sleep": "Sleep mode",
    },
    "zh": {
        "mode_cool": "制冷",
        "mode_heat": "制热",
        "mode_dry": "除湿",
        "mode_fan_only": "送风",
        "mode_auto": "自动",
        "fan_auto": "自动风",
        "fan_low": "低风",
        "fan_medium": "中风",
        "fan_high": "高风",
        "swing_vertical": "上下扫风",
        "swing_horizontal": "左右扫风",
        "swing_both": "上下左右扫风",
        "feature_eco": "节能模式",
        "feature_sleep": "睡眠模式",
    },
}

RESPONSES: Responses = {
    "en": {
        "mode_set": "The {kind} is on in {mode} mode.",
        "mode_already": "The {kind} is already in {mode} mode.",
        "no_mode": "This {kind} has no {mode} mode.",
        "fan_set": "The {kind}'s fan is on {speed} now.",
        "fan_already": "The {kind}'s fan is already on {speed}.",
        "fan_top": "The {kind}'s fan is already at its highest speed.",
        "fan_bottom": "The {kind}'s fan is already at its lowest speed.",
        "no_fan_speed": "This {kind} has no {speed} fan speed.",
        "swing_on": "The {kind} swings {swing} now.",
        "swing_off": "The {kind} has stopped swinging.",
        "swing_already_off": "The {kind} is not swinging.",
        "no_swing": "This {kind} cannot swing {swing}.",
        "feature_on": "{feature} is on.",
        "feature_off": "{feature} is off.",
        "feature_already_on": "{feature} is already on.",
        "feature_already_off": "{feature} is already off.",
        "no_feature": "This {kind} has no {feature}.",
        "is_off_note": " The {kind} itself is off; it applies when you switch it on.",
    },
    "zh": {
        "mode_set": "{kind}已开启，{mode}模式。",
        "mode_already": "{kind}已经是{mode}模式了。",
        "no_mode": "这台{kind}没有{mode}模式。",
        "fan_set": "{kind}已调到{speed}。",
        "fan_already": "{kind}已经是{speed}了。",
        "fan_top": "{kind}已经是最大风了。",
        "fan_bottom": "{kind}已经是最小风了。",
        "no_fan_speed": "这台{kind}没有{speed}。",
        "swing_on": "{kind}已开启{swing}。",
        "swing_off": "{kind}已关闭扫风。",
        "swing_already_off": "{kind}没有在扫风。",
        "no_swing": "这台{kind}不支持{swing}。",
        "feature_on": "已开启{feature}。",
        "feature_off": "已关闭{feature}。",
        "feature_already_on": "{feature}已经开着了。",
        "feature_already_off": "{feature}本来就是关着的。",
        "no_feature": "这台{kind}没有{feature}。",
        "is_off_note": "{kind}现在是关着的，开机后生效。",
    },
}


def word(language: Language, key: str) -> str:
    """A spoken value of ``WORDS``."""
    return WORDS[language][key]


class _AcHandler(ApplianceIntentHandler):
    kinds = AC_KINDS
    responses = RESPONSES
    platforms = None

    def options(self, call: Call, key: str) -> tuple[str, ...]:
        """The options the unit declares for ``key`` (none if it lacks the capability)."""
        assert call.appliance.coordinator is not None
        declaration = call.appliance.coordinator.declaration
        if key not in declaration.capabilities:
            return ()
        return declaration.capability(key).options

    def declares(self, call: Call, key: str) -> bool:
        """Whether the unit has capability ``key``."""
        assert call.appliance.coordinator is not None
        return key in call.appliance.coordinator.declaration.capabilities

    def values(self, call: Call) -> Mapping[str, Value]:
        """The unit's pushed values."""
        assert call.appliance.coordinator is not None
        return call.appliance.coordinator.values

    async def write(self, call: Call, values: Mapping[str, Value]) -> None:
        """Write what differs from the unit's values (nothing if all are as wanted)."""
        assert call.appliance.coordinator is not None
        current = self.values(call)
        changes = {key: value for key, value in values.items() if current.get(key) != value}
        if changes:
            await call.appliance.coordinator.async_write(changes)

    def off_note(self, call: Call) -> str:
        """Said after a change that waits for the unit to be switched on."""
        if self.values(call).get("on") is False:
            return self.speak(call.language, "is_off_note", kind=appliance_word(call))
        return ""


class AcModeHandler(_AcHandler):
    """Switch on in a mode: cooling, heating, drying, fan only, automatic."""

    intent_type = "LiuzhouAcMode"
    description = (
        "Switches a Liuzhou air conditioner on in a mode: cool, heat, dry, fan_only or auto."
    )
    extra_slots: ClassVar[Mapping[vol.Marker, Any]] = {
        vol.Required("mode", description="cool, heat, dry, fan_only or auto"): vol.In(AC_MODES),
    }

    async def async_act(self, call: Call) -> str:
        """Write on and the mode in one write (both or neither happen)."""
        language, kind = call.language, appliance_word(call)
        mode = str(call.value("mode"))
        spoken = word(language, f"mode_{mode}")
        if mode not in self.options(call, "mode"):
            raise VoiceError("no_mode", kind=kind, mode=spoken)
        values = self.values(call)
        if values.get("on") is True and values.get("mode") == mode:
            return self.speak(language, "mode_already", kind=kind, mode=spoken)
        await self.write(call, {"on": True, "mode": mode})
        return self.speak(language, "mode_set", kind=kind, mode=spoken)


class AcFanHandler(_AcHandler):
    """Set the fan speed, or one step up or down."""

    intent_type = "LiuzhouAcFan"
    description = (
        "Sets a Liuzhou air conditioner's fan speed (auto, low, medium, high) or moves it "
        "one step (step=up or down)."
    )
    extra_slots: ClassVar[Mapping[vol.Marker, Any]] = {
        vol.Optional("speed", description="auto, low, medium or high"): vol.In(FAN_SPEEDS),
        vol.Optional("step", description="up or down"): vol.In(("up", "down")),
    }

    def stepped(self, call: Call, step: str, declared: tuple[str, ...]) -> str:
        """The next declared fixed speed up or down from the present one."""
        kind = appliance_word(call)
        order = [speed for speed in FAN_ORDER if speed in declared]
        current = str(self.values(call).get("fan_speed"))
        if current not in order:  # automatic: a step starts from the middle
            index = len(order) // 2
            return order[index]
        index = order.index(current) + (1 if step == "up" else -1)
        if index >= len(order):
            raise VoiceError("fan_top", kind=kind)
        if index < 0:
            raise VoiceError("fan_bottom", kind=kind)
        return order[index]

    async def async_act(self, call: Call) -> str:
        """Check the speed is declared, write it, say it (and that the unit is off)."""
        language, kind = call.language, appliance_word(call)
        declared = self.options(call, "fan_speed")
        step = call.value("step")
        speed = self.stepped(call, str(step), declared) if step else str(call.value("speed"))
        spoken = word(language, f"fan_{speed}") if speed in FAN_SPEEDS else speed
        if speed not in declared:
            raise VoiceError("no_fan_speed", kind=kind, speed=spoken)
        if self.values(call).get("fan_speed") == speed:
            return self.speak(language, "fan_already", kind=kind, speed=spoken)
        await self.write(call, {"fan_speed": speed})
        return self.speak(language, "fan_set", kind=kind, speed=spoken) + self.off_note(call)


class AcSwingHandler(_AcHandler):
    """Swing on (a direction, or all the unit has), or off."""

    intent_type = "LiuzhouAcSwing"
    description = (
        "Turns a Liuzhou air conditioner's louvre swing on (swing=vertical, horizontal, both) "
        "or off (swing=off)."
    )
    extra_slots: ClassVar[Mapping[vol.Marker, Any]] = {
        vol.Required("swing", description="off, vertical, horizontal or both"): vol.In(SWINGS),
    }

    async def async_act(self, call: Call) -> str:
        """Check the unit declares the swing asked for, then write it."""
        language, kind = call.language, appliance_word(call)
        swing = str(call.value("swing"))
        declared = self.options(call, "swing")
        if swing == "off":
            if self.values(call).get("swing") in {None, "off"}:
                return self.speak(language, "swing_already_off", kind=kind)
            await self.write(call, {"swing": "off"})
            return self.speak(language, "swing_off", kind=kind)
        if swing == "both" and swing not in declared and "vertical" in declared:
            swing = "vertical"  # "swing on": the one direction a simpler unit has
        spoken = word(language, f"swing_{swing}")
        if swing not in declared:
            raise VoiceError("no_swing", kind=kind, swing=spoken)
        await self.write(call, {"swing": swing})
        return self.speak(language, "swing_on", kind=kind, swing=spoken) + self.off_note(call)


class AcFeatureHandler(_AcHandler):
    """Eco or sleep mode on or off."""

    intent_type = "LiuzhouAcFeature"
    description = "Turns a Liuzhou air conditioner's eco or sleep mode on or off."
    extra_slots: ClassVar[Mapping[vol.Marker, Any]] = {
        vol.Required("feature", description="eco or sleep"): vol.In(FEATURES),
        vol.Optional("state", description="on (the default) or off"): vol.In(("on", "off")),
    }

    async def async_act(self, call: Call) -> str:
        """Write the feature's switch if the unit has it."""
        language, kind = call.language, appliance_word(call)
        feature = str(call.value("feature"))
        spoken = word(language, f"feature_{feature}")
        if not self.declares(call, feature):
            raise VoiceError("no_feature", kind=kind, feature=spoken)
        wanted = call.value("state") != "off"
        state = "on" if wanted else "off"
        if self.values(call).get(feature) is wanted:
            return self.speak(language, f"feature_already_{state}", feature=spoken)
        await self.write(call, {feature: wanted})
        answer = self.speak(language, f"feature_{state}", feature=spoken)
        return answer + (self.off_note(call) if wanted else "")


HANDLERS: Final[tuple[intent.IntentHandler, ...]] = (
    AcModeHandler(),
    AcFanHandler(),
    AcSwingHandler(),
    AcFeatureHandler(),
)
