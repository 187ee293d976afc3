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

``intent: null`` means none of our intents may take the sentence (an unknown name,
mixed languages): Assist answers that it did not understand (or, on releases with
fuzzy matching, with a guess among its own intents) and no appliance changes.

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
    def intent(self) -> str | None:
        """The intent the sentence must be recognised as (None: none of ours or Home
        Assistant's; Assist answers that it did not understand)."""
        name = (self.test.get("intent") or {}).get("name")
        return None if name is None else str(name)

    @property
    def slots(self) -> Mapping[str, Any]:
        """Slot values the recognition must give (others may be there too)."""
        return dict((self.test.get("intent") or {}).get("slots") or {})


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


# The state every fridge and air-conditioner case starts from (``normal``).
NORMAL: dict[str, dict[str, Any]] = {
    "refrigerator": {
        "mode": "normal",
        "fridge_target_temperature": 4,
        "freezer_target_temperature": -18,
    },
    "room_air_conditioner": {
        "on": True,
        "mode": "cool",
        "target_temperature": 26,
        "fan_speed": "medium",
        "swing": "off",
        "eco": False,
        "sleep": False,
    },
}


async def _set_online(hass: HomeAssistant, machine: PairedAppliance, online: bool) -> None:
    """Power the simulated appliance off or on again and wait until Home Assistant knows."""
    if machine.coordinator.connected == online:
        return
    if online:
        await machine.appliance.restart()
        machine.coordinator.async_wake_reconnect()
    else:
        await machine.appliance.stop()
    await wait_until(hass, lambda: machine.coordinator.connected == online)


async def prepare(hass: HomeAssistant, machine: PairedAppliance, given: str) -> None:
    """Put the simulated appliance in state ``given`` and wait until Home Assistant has it.

    Washers and dishwashers: ``stopped`` (its first programme, default options, door
    closed), ``running``, ``paused``, ``delayed`` (starts in an hour), ``door_open``
    (stopped, door open). Fridges and air conditioners: ``normal`` (``NORMAL``),
    ``door_open`` (fridge), ``off`` (air conditioner), a mode name (fridge: ``vacation``,
    ``quick_freeze``; air conditioner: ``heat`` ...), ``fan_high``, ``fan_low``, ``sleep``.
    Any kind: ``offline`` (powered off).
    """
    await _set_online(hass, machine, given != "offline")
    if given == "offline":
        return
    kind = str(machine.coordinator.hello.type)
    if kind in NORMAL:
        await _prepare_comfort(hass, machine, kind, given)
        return
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


async def _prepare_comfort(
    hass: HomeAssistant, machine: PairedAppliance, kind: str, given: str
) -> None:
    simulator = machine.simulator
    wanted = dict(NORMAL[kind])
    if given == "off":
        wanted["on"] = False
    elif given in {"fan_high", "fan_low"}:
        wanted["fan_speed"] = given.removeprefix("fan_")
    elif given in {"sleep", "eco"}:
        wanted[given] = True
    elif given not in {"normal", "door_open"}:
        wanted["mode"] = given
    if kind == "refrigerator":
        simulator.random_door_openings = False  # only the case opens the door
        # Setpoints first: quick freeze and vacation refuse setpoint changes.
        simulator.write("mode", "normal")
        if given == "door_open" and not simulator.door_open:
            simulator.open_door()
        elif given != "door_open" and simulator.door_open:
            simulator.close_door()
    for key, value in sorted(wanted.items(), key=lambda item: item[0] == "mode"):
        if simulator.values()[key] != value:
            simulator.write(key, value)
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
