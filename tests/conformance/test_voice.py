"""The voice panel checks against the simulators' panels and panels with typical bugs."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from custom_components.liuzhou_appliances.link import server as link_server
from custom_components.liuzhou_appliances.link.backend import PanelSpeech
from custom_components.liuzhou_appliances.link.messages import Utterance
from custom_components.liuzhou_appliances.link.voice import PanelRelay
from firmware_bridge.bridge import SimulatedProduct, simulated_appliances
from firmware_bridge.conformance import CHECK_NAMES, CHECKS, Status, run_checks, run_conformance
from firmware_bridge.conformance.checks import UTTERANCE_CHECK
from firmware_bridge.conformance.runner import Check

from .conftest import explain, failed_checks, options_for

# What a run needs before the voice checks: a key and a hub session.
VOICE_RUN: list[Check] = [
    check
    for check in CHECKS
    if check.name in ("commissioning", "capability_declaration", "voice_panel")
]


class SpeakWhenPrompted:
    """The kit's prompt: the simulated panel hears a command a moment later."""

    def __init__(self, appliance: SimulatedProduct) -> None:
        self.appliance = appliance
        self.prompts: list[str] = []
        self.replies: list[asyncio.Future[PanelSpeech]] = []

    def __call__(self, text: str) -> None:
        self.prompts.append(text)
        asyncio.get_running_loop().call_later(0.05, self._speak)

    def _speak(self) -> None:
        assert self.appliance.panel is not None
        self.replies.append(self.appliance.panel.hear("开始洗"))


async def test_an_utterance_at_the_simulated_panel_passes() -> None:
    async with simulated_appliances(washer=1, seed=301, zeroconf=False) as (washer,):
        prompt = SpeakWhenPrompted(washer)
        options = options_for(washer, panel_utterance=True, utterance_timeout=5.0, prompt=prompt)
        results = await run_conformance(options, skip_discovery=True)
        assert [r.check for r in results] == [*CHECK_NAMES, "voice_utterance"]
        assert all(r.passed for r in results[1:]), explain(results)
        assert washer.panel is not None
        reply = await asyncio.wait_for(prompt.replies[0], 1)
    assert len(prompt.prompts) == 1
    assert washer.id in prompt.prompts[0]
    assert "zh-CN, en" in prompt.prompts[0]
    assert reply.text == "一致性测试"
    voice = next(r for r in results if r.check == "voice_panel")
    assert "announced in zh-CN, en" in voice.detail
    # The announcements reached the panel, in both languages.
    assert [(s.language, s.utterance) for s in washer.panel.said[:2]] == [
        ("zh-CN", None),
        ("en", None),
    ]


async def test_nobody_at_the_panel_fails_the_utterance_check_only() -> None:
    async with simulated_appliances(ac=1, seed=302, zeroconf=False) as (ac,):
        prompts: list[str] = []
        options = options_for(
            ac, panel_utterance=True, utterance_timeout=0.3, prompt=prompts.append
        )
        results = await run_conformance(options, skip_discovery=True)
    assert failed_checks(results) == {"discovery_record", "voice_utterance"}, explain(results)
    assert results[-1].detail == "no utterance within 0.3 s"
    assert len(prompts) == 1


async def test_a_model_without_a_panel_is_not_applicable() -> None:
    async with simulated_appliances(fridge=1, seed=303, zeroconf=False) as (fridge,):
        declaration = dataclasses.replace(fridge.simulator.declaration, voice_panel=None)
        await fridge.restart(declaration=declaration)
        options = options_for(fridge, panel_utterance=True, prompt=lambda _: None)
        results = await run_checks([*VOICE_RUN, UTTERANCE_CHECK], options)
    assert [r.status for r in results] == [
        Status.PASSED,
        Status.PASSED,
        Status.NOT_APPLICABLE,
        Status.NOT_APPLICABLE,
    ], explain(results)
    assert results[2].detail == "the declaration has no voice_panel"


# --- panels with typical bugs ----------------------------------------------------


class SpeaksAnyLanguage(PanelRelay):
    """Takes an announcement in any language and speaks it in its default one."""

    def _declared(self, language: str) -> str:
        return self.languages[0]


class AnswersAnyReply(PanelRelay):
    """Takes any reply, to utterances it never sent too."""

    def reply(self, request: object) -> None:
        return None


class SpeaksUndeclaredLanguage(PanelRelay):
    """Sends an undeclared language in its utterances (its recogniser's own code)."""

    def hear(self, text: str, language: str | None = None) -> int:
        self._last += 1
        self._send(Utterance(self._last, text, "cmn", None))
        return self._last


@pytest.mark.parametrize(
    ("relay", "utterance", "failed", "phrase"),
    [
        (
            SpeaksAnyLanguage,
            False,
            {"voice_panel"},
            "announce in the undeclared qtz: reply 'result', expected OUT_OF_RANGE",
        ),
        (
            AnswersAnyReply,
            False,
            {"voice_panel"},
            "reply to an unsent utterance: reply 'result', expected INVALID_STATE",
        ),
        (
            SpeaksUndeclaredLanguage,
            True,
            {"voice_utterance"},
            "utterance in 'cmn', not a declared language",
        ),
    ],
    ids=["speaks_any_language", "answers_any_reply", "undeclared_utterance_language"],
)
async def test_a_broken_panel_fails_exactly_its_check(
    monkeypatch: pytest.MonkeyPatch,
    relay: type[PanelRelay],
    utterance: bool,
    failed: set[str],
    phrase: str,
) -> None:
    monkeypatch.setattr(link_server, "PanelRelay", relay)
    async with simulated_appliances(washer=1, seed=310, zeroconf=False) as (washer,):
        options = options_for(
            washer,
            panel_utterance=utterance,
            utterance_timeout=3.0,
            prompt=SpeakWhenPrompted(washer),
        )
        results = await run_checks(
            [*VOICE_RUN, UTTERANCE_CHECK] if utterance else VOICE_RUN, options
        )
    assert failed_checks(results) == failed, explain(results)
    assert phrase in next(r for r in results if not r.passed).detail, explain(results)
