"""The sentence corpus: files, preparing the appliances' state, checking each case.

Layout of ``corpus/<language>/<domain>.yaml`` (home-assistant-intents' test
layout, plus what an appliance test needs)::

    language: zh-cn
    tests:
      - sentences: [洗衣机开始洗, ...]
        intent:
          name: LiuzhouRunStart
          slots: {appliance_type: laundry_washer}   # recognised slot values (a subset)
        response: 洗衣机开始运行了，…                  # the spoken answer, when it is fixed
        given: {washer: running}     # optional: state before (stopped by default)
        device: washer               # optional: said on this appliance's own panel
        after: {washer: {operational_state: running}}   # appliance values afterwards
        error: true                  # optional: the answer is an error answer

An ``after`` value ``">0"`` means a positive number.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from homeassistant.components.conversation import ConversationInput
from homeassistant.components.conversation.agent_manager import async_get_agent
from homeassistant.components.conversation.default_agent import DefaultAgent
from homeassistant.core import Context, HomeAssistant
import yaml

from tests.integration.conftest import PairedAppliance, wait_until

from .conftest import Home

CORPUS = Path(__file__).parent / "corpus"
LANGUAGES = ("en", "zh-cn")


@dataclass(frozen=True)
class Case:
    """One sentence of the corpus with what it must do."""

    domain: str
    sentence: str
    test: Mapping[str, Any]

    @property
    def intent(self) -> str:
        """The intent the sentence must be recognised as."""
        return str(self.test["intent"]["name"])

    @property
    def slots(self) -> Mapping[str, Any]:
        """Slot values the recognition must give (others may be there too)."""
        return dict(self.test["intent"].get("slots") or {})


def cases(language: str) -> Iterator[Case]:
    """Every sentence of every corpus file of ``language``."""
    for path in sorted((CORPUS / language).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["language"] == language, path
        for test in data["tests"]:
            for sentence in test["sentences"]:
                yield Case(path.stem, sentence, test)


def conversation_input(text: str, language: str, device_id: str | None = None) -> ConversationInput:
    """A ConversationInput on every supported release (2026 adds ``satellite_id``)."""
    arguments: dict[str, Any] = {
        "text": text,
        "context": Context(),
        "conversation_id": None,
        "device_id": device_id,
        "language": language,
        "agent_id": "conversation.home_assistant",
    }
    if "satellite_id" in {field.name for field in fields(ConversationInput)}:
        arguments["satellite_id"] = None
    return ConversationInput(**arguments)


async def recognised(
    hass: HomeAssistant, text: str, language: str, device_id: str | None = None
) -> tuple[str | None, dict[str, Any]]:
    """The intent and slot values the default agent recognises (nothing is done)."""
    agent = async_get_agent(hass)  # the default agent, on every supported release
    assert isinstance(agent, DefaultAgent)
    result = await agent.async_recognize_intent(conversation_input(text, language, device_id))
    if result is None or result.unmatched_entities:
        return None, {}  # nothing, or only a guess with words that fit no list
    return result.intent.name, {name: entity.value for name, entity in result.entities.items()}


async def prepare(hass: HomeAssistant, machine: PairedAppliance, given: str) -> None:
    """Put the simulated appliance in state ``given`` and wait until Home Assistant has it.

    ``stopped`` (its first programme, default options, door closed), ``running``,
    ``paused``, ``delayed`` (starts in an hour), ``door_open`` (stopped, door open).
    """
    simulator = machine.simulator
    values = simulator.values()
    if values["operational_state"] in {"running", "paused"}:
        simulator.command("stop", {})
    if values.get("door_open"):
        simulator.close_door()
    defaults = {"programme": machine.coordinator.declaration.programmes[0].id}
    for key, value in {"water_temperature": "40", "spin_speed": "1200", "rinses": "normal"}.items():
        if key in values:
            defaults[key] = value
    for key, value in defaults.items():
        if simulator.values()[key] != value:
            simulator.write(key, value)
    if given in {"running", "paused"}:
        simulator.command("start", {})
    if given == "paused":
        simulator.command("pause", {})
    if given == "delayed":
        simulator.command("start", {"delay_s": 3600})
    if given == "door_open":
        simulator.open_door()
    await machine.push()
    expected = simulator.values()
    await wait_until(
        hass,
        lambda: all(machine.coordinator.values.get(k) == v for k, v in expected.items()),
    )


def matches(expected: object, actual: object) -> bool:
    """``expected`` from the corpus against an appliance value (``">0"``: positive)."""
    if expected == ">0":
        return isinstance(actual, int | float) and actual > 0
    return expected == actual


async def check_after(hass: HomeAssistant, home: Home, after: Mapping[str, Any]) -> list[str]:
    """Differences between ``after`` and the simulated appliances' values now."""
    problems = []
    for key, wanted in after.items():
        values = home.by_key(key).simulator.values()
        for name, value in wanted.items():
            if not matches(value, values.get(name)):
                problems.append(f"{key}.{name} = {values.get(name)!r}, expected {value!r}")
    return problems
