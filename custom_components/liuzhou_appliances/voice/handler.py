"""The base of every intent handler of this integration: find the appliance, act, answer.

A handler subclass sets ``intent_type``, ``description``, ``kinds`` (the
appliance types it serves), ``responses`` (its answers, see speech.py) and
``extra_slots`` (its own slots, voluptuous validators), and implements
``async_act(call)`` returning the spoken answer. Everything that goes wrong is
a ``VoiceError`` (or a translated ``HomeAssistantError`` from the coordinator)
and becomes a spoken error answer; nothing is raised to Assist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import logging
from typing import Any, ClassVar

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv, intent
import voluptuous as vol

from custom_components.liuzhou_appliances.link.model import ApplianceType

from .errors import VoiceError
from .speech import Language, Responses, join_names, say, spoken_language
from .targets import Appliance, our_appliances, resolve, wanted_from_slots
from .words import async_error_reason

_LOGGER = logging.getLogger(__package__)

# The target slots every appliance intent takes (the sentences fill them from
# the generated name list and Home Assistant's area and floor lists).
TARGET_SLOTS: Mapping[vol.Marker, Any] = {
    vol.Optional("name", description="The appliance's name, as the user calls it"): cv.string,
    vol.Optional("area", description="The area the appliance is in"): cv.string,
    vol.Optional("floor", description="The floor the appliance is on"): cv.string,
}

KIND_NAMES: Mapping[Language, Mapping[ApplianceType, str]] = {
    "en": {
        ApplianceType.LAUNDRY_WASHER: "washer",
        ApplianceType.DISHWASHER: "dishwasher",
        ApplianceType.REFRIGERATOR: "fridge",
        ApplianceType.ROOM_AIR_CONDITIONER: "air conditioner",
    },
    "zh": {
        ApplianceType.LAUNDRY_WASHER: "洗衣机",
        ApplianceType.DISHWASHER: "洗碗机",
        ApplianceType.REFRIGERATOR: "冰箱",
        ApplianceType.ROOM_AIR_CONDITIONER: "空调",
    },
}

# Answers every domain shares: finding the appliance and the coordinator's refusals.
COMMON_RESPONSES: Responses = {
    "en": {
        "not_found": "I can't find {what}.",
        "which_one": "Which {kind} do you mean: {names}?",
        "wrong_kind": "That is not something I can do with that appliance.",
        "offline": "{name} is offline, so I couldn't do that. Check that it is switched on.",
        "refused": "{name} refused: {reason}.",
        "value_refused": "{name} did not accept that value: {reason}.",
        "failed": "Sorry, that did not work: {reason}.",
    },
    "zh": {
        "not_found": "找不到{what}。",
        "which_one": "您说的是哪一台{kind}：{names}？",
        "wrong_kind": "这台电器不能这样操作。",
        "offline": "{name}离线了，没法操作。请确认它已通电。",
        "refused": "{name}拒绝了：{reason}。",
        "value_refused": "{name}不接受这个值：{reason}。",
        "failed": "抱歉，没有成功：{reason}。",
    },
}


def kind_words(kinds: tuple[ApplianceType, ...], language: Language) -> str:
    """The types spoken: "washer", "washer or dishwasher" / "洗衣机", "洗衣机或洗碗机"."""
    names = [KIND_NAMES[language][kind] for kind in kinds]
    return ("或" if language == "zh" else " or ").join(names)


def _what(values: Mapping[str, Any], language: Language) -> str:
    """ "a washer named X in the kitchen" / "厨房里名叫X的洗衣机"."""
    kind = kind_words(values["kinds"], language)
    name, area, floor = values.get("name"), values.get("area"), values.get("floor")
    if language == "zh":
        place = f"{area}的" if area else (f"{floor}的" if floor else "")
        called = f"名叫{name}的" if name else ""
        return f"{place}{called}{kind}"
    article = "an" if kind[0] in "aeiou" else "a"
    text = f"{article} {kind}"
    if name:
        text += f" named {name}"
    if area:
        text += f" in {area}"
    elif floor:
        text += f" on {floor}"
    return text


@dataclass(slots=True)
class Call:
    """One handled sentence: the appliance, the slot values, the language to answer in."""

    hass: HomeAssistant
    intent: intent.Intent
    appliance: Appliance
    slots: Mapping[str, Any]
    language: Language

    def value(self, slot: str) -> Any:
        """A slot's value, or None when the sentence did not fill it."""
        return self.slots.get(slot, {}).get("value")


def appliance_word(call: Call) -> str:
    """How answers call the appliance: its type ("空调", "the air conditioner" without the
    article) when it is the only one of its type, else its name."""
    kind = call.appliance.kind
    same = [a for a in our_appliances(call.hass) if a.kind is kind]
    if len(same) > 1 or kind is None:
        return call.appliance.name
    return KIND_NAMES[call.language][kind]


class ApplianceIntentHandler(intent.IntentHandler):
    """Resolves the target appliance and turns every failure into a spoken answer."""

    kinds: ClassVar[tuple[ApplianceType, ...]]
    responses: ClassVar[Responses]
    extra_slots: ClassVar[Mapping[vol.Marker, Any]] = {}
    # Answers that need the appliance connected (the others read the kept state).
    needs_connection: ClassVar[bool] = True
    # A question (how long, is the door open): the response is a query answer, not an action.
    answers_question: ClassVar[bool] = False

    @property
    def slot_schema(self) -> dict[vol.Marker, Any]:
        """Target slots, the appliance type among ``kinds``, and the intent's own slots."""
        return {
            vol.Optional("appliance_type", description="Which kind of appliance"): vol.In(
                [kind.value for kind in self.kinds]
            ),
            **TARGET_SLOTS,
            **self.extra_slots,
        }

    def speak(self, language: Language, key: str, **values: object) -> str:
        """The answer ``key``: this handler's table first, then the common one."""
        table = self.responses if key in self.responses[language] else COMMON_RESPONSES
        return say(table, language, key, **values)

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Resolve the appliance, act, and answer in the user's language."""
        language = spoken_language(intent_obj.language)
        response = intent_obj.create_response()
        slots = self.async_validate_slots(intent_obj.slots)
        appliance: Appliance | None = None
        try:
            wanted = wanted_from_slots(slots, self.kinds)
            appliance = resolve(intent_obj.hass, intent_obj, wanted)
            if self.needs_connection and not appliance.online:
                raise VoiceError("offline", name=appliance.name)
            speech = await self.async_act(
                Call(intent_obj.hass, intent_obj, appliance, slots, language)
            )
        except VoiceError as err:
            response.async_set_error(err.code, self._error_text(err, language, slots))
            return response
        except HomeAssistantError as err:
            _LOGGER.debug("%s failed: %s", self.intent_type, err)
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                await self._async_refusal_text(
                    intent_obj.hass, err, language, appliance.name if appliance else ""
                ),
            )
            return response
        response.async_set_speech(speech)
        if self.answers_question:
            response.response_type = intent.IntentResponseType.QUERY_ANSWER
        return response

    async def async_act(self, call: Call) -> str:
        """Do what the sentence asks of ``call.appliance``; return the answer."""
        raise NotImplementedError

    def _error_text(self, err: VoiceError, language: Language, slots: Any) -> str:
        values: dict[str, Any] = dict(err.values)
        if err.key == "not_found":
            return self.speak(language, "not_found", what=_what(values, language))
        if err.key == "which_one":
            return self.speak(
                language,
                "which_one",
                kind=kind_words(values["kinds"], language),
                names=join_names(values["names"], language, question=True),
            )
        return self.speak(language, err.key, **values)

    async def _async_refusal_text(
        self, hass: HomeAssistant, err: HomeAssistantError, language: Language, name: str
    ) -> str:
        """The coordinator's translated errors, said in the user's language."""
        placeholders = err.translation_placeholders or {}
        if err.translation_key == "appliance_unavailable":
            return self.speak(language, "offline", name=name)
        if code := placeholders.get("error"):
            reason = await async_error_reason(hass, language, code)
        else:
            reason = placeholders.get("reason") or str(err)
        if err.translation_key in {"value_out_of_range", "write_rejected"}:
            return self.speak(language, "value_refused", name=name, reason=reason)
        if err.translation_key == "command_rejected":
            return self.speak(language, "refused", name=name, reason=reason)
        return self.speak(language, "failed", reason=str(err))
