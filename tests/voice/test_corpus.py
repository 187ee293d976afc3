"""Every corpus sentence through Home Assistant's default conversation agent, against
simulated appliances: the recognised intent and slots, the spoken answer and the
appliances' state afterwards.

Writes the recognition rate and the median sentence-to-action time per language to
the log (and to ``VOICE_REPORT`` when that environment variable names a file).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import json
import logging
import os
from pathlib import Path
import statistics
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, intent
import pytest

from custom_components.liuzhou_appliances.voice.speech import duration, spoken_language
from tests.integration.energy_helpers import add_household, at_valley_night

from .conftest import Converse, Home, Timing, device_of
from .corpus_runner import LANGUAGES, cases, check_after, prepare, recognised

_LOGGER = logging.getLogger(__name__)

# "Now" is 02:00 China time, so the spoken clock times are fixed.
pytestmark = at_valley_night

# The names the household gave its appliances, per language of the corpus.
NAMES = {"en": ("Swan", "Fotile", "Haier", "Gree"), "zh-cn": ("小天鹅", "方太", "海尔", "格力")}


def _append_line(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")


# Energy needs the recorder's statistics: test_energy_corpus.py runs it.
RECORDER_DOMAINS = frozenset({"energy"})


def _expected(test: Mapping[str, Any], home: Home, language: str) -> str:
    """The case's response, ``{washer_left}`` filled in with the time left that the washer's
    finish-time sensor shows (the appliance's own model's, as it declares it runs one), in the
    spoken form."""
    response = str(test["response"])
    if "{washer_left}" in response:
        prediction = home.washer.entry.runtime_data.prediction
        assert prediction is not None
        estimate = prediction.estimate
        assert estimate is not None
        left = duration(estimate.remaining_s, spoken_language(language))
        response = response.replace("{washer_left}", left)
    return response


@pytest.mark.parametrize("language", LANGUAGES)
async def test_corpus(
    voice_hass: HomeAssistant, home: Home, converse: Converse, timing: Timing, language: str
) -> None:
    await add_household(voice_hass)
    await check_corpus(
        voice_hass,
        home,
        converse,
        timing,
        language,
        lambda domain: domain not in RECORDER_DOMAINS,
    )


async def check_corpus(
    hass: HomeAssistant,
    home: Home,
    converse: Converse,
    timing: Timing,
    language: str,
    domains: Callable[[str], bool],
) -> None:
    """Run the corpus files of ``language`` whose domain ``domains`` accepts; report, assert."""
    registry = dr.async_get(hass)
    for machine, own_name in zip(
        (home.washer, home.dishwasher, home.fridge, home.ac), NAMES[language], strict=True
    ):
        registry.async_update_device(device_of(hass, machine).id, name_by_user=own_name)
    await hass.async_block_till_done()
    corpus = [case for case in cases(language) if domains(case.domain)]
    assert len(corpus) >= 1
    problems: list[str] = []
    recognised_right = 0
    for case in corpus:
        for key, state in {
            "washer": "stopped",
            "dishwasher": "stopped",
            "fridge": "normal",
            "ac": "normal",
            **case.test.get("given", {}),
        }.items():
            await prepare(hass, home.by_key(key), state)
        device_id = (
            device_of(hass, home.by_key(case.test["device"])).id if "device" in case.test else None
        )
        name, slots = await recognised(hass, case.sentence, language, device_id)
        wrong_slots = {k: v for k, v in case.slots.items() if slots.get(k) != v}
        # Not understood: none of ours. Home Assistant 2026's fuzzy matching may still
        # guess one of its own intents (a timer's status); that changes no appliance.
        not_ours = case.intent is None and not (name or "").startswith("Liuzhou")
        if (name == case.intent or not_ours) and not wrong_slots:
            recognised_right += 1
        else:
            problems.append(
                f"{case.sentence!r}: recognised {name} {slots}, expected {case.intent} {case.slots}"
            )
            continue
        response = await converse(case.sentence, language, device_id=device_id)
        speech = response.speech.get("plain", {}).get("speech", "")
        is_error = response.response_type is intent.IntentResponseType.ERROR
        _LOGGER.info("%s -> %s", case.sentence, speech)
        if is_error != bool(case.test.get("error", name is None)):
            problems.append(f"{case.sentence!r}: answered {speech!r} (error={is_error})")
        if "response" in case.test and speech != (expected := _expected(case.test, home, language)):
            problems.append(f"{case.sentence!r}: answered {speech!r}, expected {expected!r}")
        problems.extend(
            f"{case.sentence!r}: {problem}"
            for problem in await check_after(hass, home, case.test.get("after", {}))
        )
    rate = recognised_right / len(corpus)
    median_ms = statistics.median(timing.samples) * 1000 if timing.samples else float("nan")
    report = {
        "language": language,
        "domains": sorted({case.domain for case in corpus}),
        "sentences": len(corpus),
        "recognised": recognised_right,
        "recognition_rate": round(rate, 4),
        "median_sentence_to_action_ms": round(median_ms, 1),
        "p90_sentence_to_action_ms": round(statistics.quantiles(timing.samples, n=10)[-1] * 1000, 1)
        if len(timing.samples) >= 10
        else None,
    }
    _LOGGER.warning("Assist corpus: %s", report)
    if path := os.environ.get("VOICE_REPORT"):
        await hass.async_add_executor_job(_append_line, Path(path), json.dumps(report))
    assert not problems, "\n".join(problems)
