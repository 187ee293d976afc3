"""Our intents as the tools an LLM conversation agent gets through Home Assistant's Assist API."""

from __future__ import annotations

import dataclasses
from typing import Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import llm
import voluptuous_openapi  # type: ignore[import-untyped]

from custom_components.liuzhou_appliances.voice.domains import HANDLERS
from custom_components.liuzhou_appliances.voice.handler import ApplianceIntentHandler
from tests.integration.conftest import wait_until
from tests.integration.energy_helpers import at_valley_night

from .conftest import Home

pytestmark = at_valley_night


async def _assist_api(hass: HomeAssistant) -> llm.APIInstance:
    wanted: dict[str, Any] = {
        "platform": "test",
        "context": Context(),
        "user_prompt": None,  # Home Assistant 2025 only
        "language": "en",
        "assistant": "conversation",
        "device_id": None,
    }
    names = {field.name for field in dataclasses.fields(llm.LLMContext)}
    context = llm.LLMContext(**{key: value for key, value in wanted.items() if key in names})
    return await llm.async_get_api(hass, llm.LLM_API_ASSIST, context)


async def test_every_intent_is_a_described_tool_with_a_json_schema(
    voice_hass: HomeAssistant, home: Home
) -> None:
    """Each handler is offered, with its description and parameters an LLM can read."""
    api = await _assist_api(voice_hass)
    tools = {tool.name: tool for tool in api.tools}
    for handler in HANDLERS:
        # The Assist API names a tool after its intent, case kept ("LiuzhouRunStart").
        tool = tools.get(handler.intent_type)
        assert tool is not None, f"{handler.intent_type} is not offered to LLM agents"
        assert tool.description, handler.intent_type
        schema = voluptuous_openapi.convert(
            tool.parameters, custom_serializer=api.custom_serializer
        )
        assert schema["type"] == "object"
        if isinstance(handler, ApplianceIntentHandler):  # household intents name no appliance
            assert "appliance_type" in schema["properties"], handler.intent_type


async def test_an_llm_tool_call_starts_the_washer(voice_hass: HomeAssistant, home: Home) -> None:
    """The tool call an agent would make acts on the appliance, like the sentence does."""
    api = await _assist_api(voice_hass)
    result = await api.async_call_tool(
        llm.ToolInput(
            tool_name="LiuzhouRunStart",
            tool_args={"appliance_type": "laundry_washer", "programme": "quick"},
        )
    )
    assert result["response_type"] == "action_done", result
    await wait_until(
        voice_hass,
        lambda: home.washer.simulator.values()["operational_state"] == "running",
    )
    assert home.washer.simulator.values()["programme"] == "quick"


async def test_an_llm_tool_call_may_leave_optional_slots_out(
    voice_hass: HomeAssistant, home: Home
) -> None:
    """The washer's status without a ``query``: answered (the state), not refused."""
    api = await _assist_api(voice_hass)
    result = await api.async_call_tool(
        llm.ToolInput(tool_name="LiuzhouRunStatus", tool_args={"appliance_type": "laundry_washer"})
    )
    assert result["response_type"] == "query_answer", result
    assert result["speech"]["plain"]["speech"], result  # type: ignore[index,call-overload]
