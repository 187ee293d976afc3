"""Energy intents: energy and cost today or this week (an appliance or the home), what the
optimisation saved, whether electricity is expensive now, start or stop demand response.

Figures come from where the integration already keeps them: the statistics of each
appliance's energy meter (``energy_history.py``), each appliance's savings total
(``ApplianceEnergy.savings``, the savings sensor), the household's price and tariff
period (``HouseholdEnergy.price_now``/``tariff_period``, the household sensors) and
the ``demand_response`` action. "The home" is every Liuzhou appliance together.

Spoken style: kWh as "度电" and money as shops say it ("一块二毛钱") in Chinese;
"1.2 kWh" and "1.20 yuan" in English (speech.kwh / speech.money).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import intent
from homeassistant.util import dt as dt_util
import voluptuous as vol

from custom_components.liuzhou_appliances.const import DOMAIN, SERVICE_DEMAND_RESPONSE
from custom_components.liuzhou_appliances.energy.shedding import DEMAND_RESPONSE_LEVELS
from custom_components.liuzhou_appliances.link.model import ApplianceType
from custom_components.liuzhou_appliances.runtime_data import household_energy, loaded_appliance

from .energy_history import PERIODS, Usage, async_usage, energy_entity_id, recorder_running
from .errors import VoiceError
from .handler import ApplianceIntentHandler, Call, appliance_word
from .speech import (
    Language,
    Responses,
    kwh,
    money,
    spoken_language,
    zh_digit_number,
    zh_number,
)
from .targets import Appliance, our_appliances
from .words import async_word

ALL_KINDS: Final[tuple[ApplianceType, ...]] = tuple(kind for kind in ApplianceType)

RESPONSES: Responses = {
    "en": {
        "period_today": "today",
        "period_week": "this week",
        "the_home": "your appliances",
        "usage": "{Subject} used {energy} {period}, costing {cost}.",
        "usage_no_cost": "{Subject} used {energy} {period}. "
        "Set up household energy to hear what it cost.",
        "no_history": "I have no energy history: Home Assistant's recorder is not running.",
        "no_meter": "{Subject} has no energy meter.",
        "saved": "Energy optimisation has saved {amount} on {subject} so far.",
        "saved_nothing": "Energy optimisation has not saved anything on {subject} yet.",
        "cost_more": "Energy optimisation has cost {subject} {amount} more so far.",
        "no_household": "Household energy is not set up, so I don't know the electricity price. "
        "Add the household energy entry first.",
        "price_now": "Electricity is {expensive} now: {period} period, {price} per kWh.",
        "price_only": "Electricity costs {price} per kWh now.",
        "no_price": "The electricity price is not available now.",
        "expensive_yes": "expensive",
        "expensive_no": "cheap",
        "expensive_mid": "at the normal price",
        "dr_started": "Demand response started ({level}): your appliances use less power now.",
        "dr_stopped": "Demand response stopped; your appliances are back to normal.",
        "dr_none": "No demand response is running.",
        "level_moderate": "moderate",
        "level_critical": "critical",
    },
    "zh": {
        "period_today": "今天",
        "period_week": "这周",
        "the_home": "家里的电器",
        "usage": "{subject}{period}用了{energy}，花了{cost}。",
        "usage_no_cost": "{subject}{period}用了{energy}。设置家庭能源后才能算出花了多少钱。",
        "no_history": "没有用电记录：Home Assistant 的记录器（recorder）没有运行。",
        "no_meter": "{subject}没有电量计量。",
        "saved": "到目前为止，节能优化为{subject}省了{amount}。",
        "saved_nothing": "节能优化还没有为{subject}省下钱。",
        "cost_more": "到目前为止，节能优化让{subject}多花了{amount}。",
        "no_household": "还没有设置家庭能源，所以不知道电价。请先添加家庭能源。",
        "price_now": "现在是{period}时段，电价{expensive}，每度电{price}。",
        "price_only": "现在每度电{price}。",
        "no_price": "现在拿不到电价。",
        "expensive_yes": "贵",
        "expensive_no": "便宜",
        "expensive_mid": "一般",
        "dr_started": "已开始需求响应（{level}），电器会少用电。",
        "dr_stopped": "已结束需求响应，电器恢复正常。",
        "dr_none": "现在没有需求响应。",
        "level_moderate": "一般",
        "level_critical": "紧急",
    },
}

# Whether a tariff period counts as expensive when asked "is electricity expensive now".
_EXPENSIVE: Final[Mapping[str, str]] = {
    "valley": "expensive_no",
    "flat": "expensive_mid",
    "peak": "expensive_yes",
    "critical_peak": "expensive_yes",
}


def _say(language: Language, key: str, **values: object) -> str:
    return RESPONSES[language][key].format(**values)


def _targeted(slots: Mapping[str, Any]) -> bool:
    """Whether the sentence named an appliance (else it asks about the home)."""
    return any(slots.get(name, {}).get("value") for name in ("name", "area", "floor")) or bool(
        slots.get("appliance_type", {}).get("value")
    )


def _subject(call: Call) -> str:
    """The appliance as the subject of an answer: "空调" / "The air conditioner"."""
    word = appliance_word(call)
    same_kind_word = call.appliance.name != word
    if call.language == "en" and same_kind_word:
        return f"the {word}"
    return word


class _HomeOrApplianceHandler(ApplianceIntentHandler):
    """An appliance's figure when one is named, the home's otherwise."""

    kinds = ALL_KINDS
    responses = RESPONSES
    platforms = None
    needs_connection = False  # figures are kept by Home Assistant, not asked of the unit

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """The appliance path (the base class) or the home path."""
        slots = self.async_validate_slots(intent_obj.slots)
        if _targeted(slots):
            return await super().async_handle(intent_obj)
        language = spoken_language(intent_obj.language)
        response = intent_obj.create_response()
        try:
            speech = await self.async_act_home(intent_obj, slots, language)
        except VoiceError as err:
            response.async_set_error(err.code, self.speak(language, err.key, **err.values))
            return response
        response.async_set_speech(speech)
        return response

    async def async_act_home(
        self, intent_obj: intent.Intent, slots: Mapping[str, Any], language: Language
    ) -> str:
        """The answer for every appliance together."""
        raise NotImplementedError


class EnergyUsageHandler(_HomeOrApplianceHandler):
    """Energy and cost today or this week."""

    intent_type = "LiuzhouEnergyUsage"
    answers_question = True
    description = (
        "Tells how much energy (kWh) a Liuzhou appliance, or all of them, used today or this "
        "week (period=today or week) and what it cost (CNY)."
    )
    extra_slots: ClassVar[Mapping[vol.Marker, Any]] = {
        vol.Optional("period", description="today (the default) or week"): vol.In(PERIODS),
    }

    async def _answer(
        self,
        hass: HomeAssistant,
        appliances: list[Appliance],
        period: str,
        language: Language,
        subject: str,
    ) -> str:
        if not recorder_running(hass):
            raise VoiceError("no_history")
        ids = [i for a in appliances if (i := energy_entity_id(hass, a)) is not None]
        if not ids:
            raise VoiceError("no_meter", subject=subject, Subject=subject.capitalize())
        household = household_energy(hass)
        tariff = household.tariff if household is not None else None
        usage: Usage = await async_usage(hass, ids, "week" if period == "week" else "today", tariff)
        values = {
            "subject": subject,
            "Subject": subject[:1].upper() + subject[1:],
            "energy": kwh(usage.kwh, language),
            "period": _say(language, f"period_{period}"),
        }
        if usage.cost is None:
            return _say(language, "usage_no_cost", **values)
        return _say(language, "usage", cost=money(usage.cost, language), **values)

    async def async_act(self, call: Call) -> str:
        """One appliance's figures."""
        return await self._answer(
            call.hass,
            [call.appliance],
            str(call.value("period") or "today"),
            call.language,
            _subject(call),
        )

    async def async_act_home(
        self, intent_obj: intent.Intent, slots: Mapping[str, Any], language: Language
    ) -> str:
        """All appliances' figures, summed."""
        period = str(slots.get("period", {}).get("value") or "today")
        return await self._answer(
            intent_obj.hass,
            our_appliances(intent_obj.hass),
            period,
            language,
            _say(language, "the_home"),
        )


def _savings_total(appliance: Appliance) -> float:
    runtime = loaded_appliance(appliance.entry)
    return runtime.energy.savings.total if runtime is not None else 0.0


class EnergySavingsHandler(_HomeOrApplianceHandler):
    """What energy optimisation saved so far (the savings sensors' totals)."""

    intent_type = "LiuzhouEnergySavings"
    answers_question = True
    description = (
        "Tells how much money (CNY) Liuzhou energy optimisation saved so far, for one "
        "appliance or all of them."
    )

    def _answer(self, total: float, language: Language, subject: str) -> str:
        values = {"subject": subject, "Subject": subject[:1].upper() + subject[1:]}
        if round(total, 2) > 0:
            return _say(language, "saved", amount=money(total, language), **values)
        if round(total, 2) < 0:
            return _say(language, "cost_more", amount=money(-total, language), **values)
        return _say(language, "saved_nothing", **values)

    async def async_act(self, call: Call) -> str:
        """One appliance's savings."""
        return self._answer(_savings_total(call.appliance), call.language, _subject(call))

    async def async_act_home(
        self, intent_obj: intent.Intent, slots: Mapping[str, Any], language: Language
    ) -> str:
        """Every appliance's savings, summed."""
        total = sum(_savings_total(a) for a in our_appliances(intent_obj.hass))
        return self._answer(total, language, _say(language, "the_home"))


class _HouseholdHandler(intent.IntentHandler):
    """Hub-wide: needs the household energy entry."""

    platforms = None
    # A question (the price now): the response is a query answer, not an action.
    answers_question: ClassVar[bool] = False

    def reply(
        self, intent_obj: intent.Intent, key: str, *, error: bool = False, **values: object
    ) -> intent.IntentResponse:
        """An answer (or an error answer) in the spoken language."""
        response = intent_obj.create_response()
        text = _say(spoken_language(intent_obj.language), key, **values)
        if error:
            response.async_set_error(intent.IntentResponseErrorCode.FAILED_TO_HANDLE, text)
        else:
            response.async_set_speech(text)
            if self.answers_question:
                response.response_type = intent.IntentResponseType.QUERY_ANSWER
        return response


class EnergyPriceHandler(_HouseholdHandler):
    """The price now and whether it is expensive (the tariff period)."""

    intent_type = "LiuzhouEnergyPrice"
    answers_question = True
    description = (
        "Tells the electricity price now (CNY/kWh) and whether it is expensive (tariff period)."
    )

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Read the household's price and tariff period now."""
        hass = intent_obj.hass
        language = spoken_language(intent_obj.language)
        household = household_energy(hass)
        if household is None:
            return self.reply(intent_obj, "no_household", error=True)
        now = dt_util.now()
        price = household.price_now(now)
        if price is None:
            return self.reply(intent_obj, "no_price", error=True)
        spoken_price = money(price, language) if language == "en" else _zh_price(price)
        period = household.tariff_period(now)
        if period is None:
            return self.reply(intent_obj, "price_only", price=spoken_price)
        period_name = await async_word(
            hass, language, "entity", f"sensor.tariff_period.state.{period}", period
        )
        return self.reply(
            intent_obj,
            "price_now",
            period=period_name if language == "zh" else period_name.lower(),
            price=spoken_price,
            expensive=_say(language, _EXPENSIVE.get(period, "expensive_mid")),
        )


def _zh_price(price: float) -> str:
    """A price per kWh to the 分, as said: "三毛一", "一块零五分", "六毛"."""
    fen_total = round(price * 100)
    if fen_total <= 0:
        return "不到一分钱"
    yuan, rest = divmod(fen_total, 100)
    mao, fen = divmod(rest, 10)
    text = f"{zh_number(yuan)}块" if yuan else ""
    if mao:
        text += f"{zh_digit_number(mao)}毛" + (zh_digit_number(fen) if fen else "")
    elif fen:
        text += ("零" if yuan else "") + f"{zh_digit_number(fen)}分"
    return text


class DemandResponseHandler(_HouseholdHandler):
    """Start (moderate or critical) or stop demand response (the ``demand_response`` action)."""

    intent_type = "LiuzhouDemandResponse"
    description = (
        "Starts (action=start, level moderate or critical) or stops (action=stop) a Liuzhou "
        "demand-response event: appliances use less power."
    )

    @property
    def slot_schema(self) -> dict[vol.Marker, Any]:
        """The action and the level."""
        return {
            vol.Required("action"): vol.In(("start", "stop")),
            vol.Optional("level", description="moderate (the default) or critical"): vol.In(
                list(DEMAND_RESPONSE_LEVELS)
            ),
        }

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Call the action; say what it did, or why not."""
        hass = intent_obj.hass
        language = spoken_language(intent_obj.language)
        slots = self.async_validate_slots(intent_obj.slots)
        action = str(slots["action"]["value"])
        level = str(slots.get("level", {}).get("value") or "moderate")
        household = household_energy(hass)
        if household is None:
            return self.reply(intent_obj, "no_household", error=True)
        if action == "stop" and household.shedding.demand_response_now(dt_util.now()) is None:
            return self.reply(intent_obj, "dr_none")
        try:
            await hass.services.async_call(
                DOMAIN,
                SERVICE_DEMAND_RESPONSE,
                {"action": action, "level": level},
                blocking=True,
                return_response=True,
            )
        except ServiceValidationError as err:
            if err.translation_key == "household_not_configured":
                return self.reply(intent_obj, "no_household", error=True)
            raise
        if action == "stop":
            return self.reply(intent_obj, "dr_stopped")
        return self.reply(intent_obj, "dr_started", level=_say(language, f"level_{level}"))


HANDLERS: Final[tuple[intent.IntentHandler, ...]] = (
    EnergyUsageHandler(),
    EnergySavingsHandler(),
    EnergyPriceHandler(),
    DemandResponseHandler(),
)
