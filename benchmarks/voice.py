"""Voice benchmark: a sentence through Assist to the appliance, and a voice panel's round trip.

``./scripts/bench voice [--rounds N]`` runs a test Home Assistant (conversation,
intent, this integration) and a real simulated washer on 127.0.0.1 in one
process and measures, in English and Chinese, side by side:

* sentence to action: ``conversation.async_converse`` of "start the washer" /
  "stop the washer" (and 启动洗衣机 / 停止洗衣机) until the appliance acknowledged
  the command (the intent handler awaits it), against pressing the same
  start/stop buttons through ``button.press``: the ratio is what understanding
  the sentence costs over the action itself;
* panel round trip: the washer's voice panel hears the same sentences
  (``SimulatedPanel.hear``) until the hub's answer is back at the panel, against
  the same sentence through ``async_converse`` alone: the ratio is what
  carrying it over the protocol both ways adds.

Each language is warmed up with one unmeasured start and stop (the first
sentence loads its intents). Prints a table and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import json
import logging
from pathlib import Path
import tempfile
import time
from typing import Any

from homeassistant import loader
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    async_test_home_assistant,
)

from benchmarks.integration import paired_entry, timing_summary
from firmware_bridge.bridge import SimulatedProduct, simulated_appliances

# (start, stop) sentences per conversation language, and the panel's tag for it.
SENTENCES = {
    "en": ("start the washer", "stop the washer", "en"),
    "zh-cn": ("启动洗衣机", "停止洗衣机", "zh-CN"),
}
STATE_WITHIN_S = 5.0


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(STATE_WITHIN_S):
        while not condition():  # noqa: ASYNC110 - polling every loop turn is the measurement
            await asyncio.sleep(0)


async def _timed(action: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


async def run(rounds: int) -> dict[str, Any]:
    """Measure everything; return the results."""
    with tempfile.TemporaryDirectory(prefix="liuzhou-bench-voice-") as config_dir:
        return await _run_in(config_dir, rounds)


async def _run_in(config_dir: str, rounds: int) -> dict[str, Any]:
    async with async_test_home_assistant(config_dir=config_dir) as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # load this repository's integration
        hass.config.components.add("zeroconf")  # no multicast: discovery is not measured
        (Path(config_dir) / "configuration.yaml").write_text("", encoding="utf-8")
        await hass.config.async_set_time_zone("Asia/Shanghai")
        for component in ("homeassistant", "conversation", "intent"):
            assert await async_setup_component(hass, component, {})
        async with simulated_appliances(washer=1, speed=0.0, zeroconf=False) as fleet:
            washer = fleet[0]
            entry = await paired_entry(hass, washer)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()  # the sentences are installed and loaded
            buttons = {
                e.unique_id.rsplit("_", 1)[-1]: e.entity_id
                for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
                if e.domain == "button"
            }
            results: dict[str, Any] = {"rounds": rounds}
            for language, (start, stop, tag) in SENTENCES.items():
                results[language] = await _measure(
                    hass, washer, buttons, (language, start, stop, tag), rounds
                )
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
    return results


async def _measure(
    hass: HomeAssistant,
    washer: SimulatedProduct,
    buttons: dict[str, str],
    sentences: tuple[str, str, str, str],
    rounds: int,
) -> dict[str, Any]:
    language, start, stop, tag = sentences
    panel = washer.panel
    assert panel is not None

    def running() -> bool:
        return washer.simulator.values()["operational_state"] == "running"

    async def say(text: str) -> None:
        result = await conversation.async_converse(hass, text, None, Context(), language=language)
        speech = result.response.speech.get("plain", {}).get("speech", "")
        if result.response.error_code is not None:
            raise RuntimeError(f"{text!r} not done: {speech}")

    async def press(command: str) -> None:
        await hass.services.async_call(
            "button", "press", {"entity_id": buttons[command]}, blocking=True
        )

    async def hear(text: str) -> None:
        reply = await panel.hear(text, tag)
        if not reply.text:
            raise RuntimeError(f"the panel got no answer to {text!r}")

    # Warm-up: the first sentence of a language loads its intents and sentences.
    await say(start)
    await _until(running)
    await say(stop)
    await _until(lambda: not running())
    samples: dict[str, list[float]] = {"assist": [], "button": [], "panel": [], "direct": []}
    for _ in range(rounds):
        # Each pair leaves the washer stopped, so every start is a real start.
        for name, do_start, do_stop in (
            ("assist", lambda: say(start), lambda: say(stop)),
            ("button", lambda: press("start"), lambda: press("stop")),
            ("panel", lambda: hear(start), lambda: hear(stop)),
            ("direct", lambda: say(start), lambda: say(stop)),
        ):
            samples[name].append(await _timed(do_start))
            await _until(running)
            samples[name].append(await _timed(do_stop))
            await _until(lambda: not running())
    stats = {name: timing_summary(values) for name, values in samples.items()}
    return {
        **stats,
        "assist_to_button": round(stats["assist"]["median_ms"] / stats["button"]["median_ms"], 2),
        "panel_to_assist": round(stats["panel"]["median_ms"] / stats["direct"]["median_ms"], 2),
    }


def main() -> None:
    """Run and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results = asyncio.run(run(args.rounds))
    for language in SENTENCES:
        numbers = results[language]
        print(f"{language} ({results['rounds']} rounds of start + stop):")
        for name, title in (
            ("assist", "sentence through Assist"),
            ("button", "the same by button.press"),
            ("panel", "panel heard -> answer back"),
            ("direct", "the same sentence, Assist only"),
        ):
            median, p90 = numbers[name]["median_ms"], numbers[name]["p90_ms"]
            print(f"  {title:32} median {median:8.2f} ms   p90 {p90:8.2f} ms")
        print(f"  ratio Assist / button: {numbers['assist_to_button']}")
        print(f"  ratio panel / Assist only: {numbers['panel_to_assist']}")
    flat = {
        "rounds": results["rounds"],
        **{
            f"{language}_{key}": value
            for language in SENTENCES
            for key, value in (
                ("assist_median_ms", results[language]["assist"]["median_ms"]),
                ("button_median_ms", results[language]["button"]["median_ms"]),
                ("panel_median_ms", results[language]["panel"]["median_ms"]),
                ("panel_p90_ms", results[language]["panel"]["p90_ms"]),
                ("assist_to_button", results[language]["assist_to_button"]),
                ("panel_to_assist", results[language]["panel_to_assist"]),
            )
        },
    }
    print(json.dumps(flat))


if __name__ == "__main__":
    main()
