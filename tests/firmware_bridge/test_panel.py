"""The simulated voice panels: their Python API, the typed lines, ``simulate --panel``."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
from pathlib import Path
import sys

from custom_components.liuzhou_appliances.link.backend import PanelSpeech
from custom_components.liuzhou_appliances.link.client import ApplianceClient, pair
from custom_components.liuzhou_appliances.link.errors import (
    InvalidStateError,
    OutOfRangeError,
)
from custom_components.liuzhou_appliances.link.messages import Utterance
from firmware_bridge.bridge import SimulatedProduct, simulated_appliances
from firmware_bridge.panel import PanelConsole, SimulatedPanel

from .test_cli import ROOT, _stop

HUB = "hub-panel-test"


async def _hub(product: SimulatedProduct) -> ApplianceClient:
    result = await pair(product.host, product.port, product.code, hub_id=HUB)
    client = ApplianceClient(product.host, product.port, result.key, hub_id=HUB)
    await client.connect()
    return client


def _answer_every_utterance(client: ApplianceClient, heard: list[Utterance]) -> None:
    """A hub that answers each utterance with its text, upper-cased, and keeps listening."""

    def reply(utterance: Utterance) -> None:
        heard.append(utterance)
        asyncio.get_running_loop().create_task(
            client.voice_reply(
                utterance.utterance,
                utterance.text.upper(),
                continue_listening=True,
                conversation=f"conv-{utterance.utterance}",
            )
        )

    client.add_utterance_listener(reply)


async def test_every_simulated_appliance_has_a_panel_driven_from_python(tmp_path: Path) -> None:
    async with simulated_appliances(
        washer=1, ac=1, fridge=1, dishwasher=1, speed=0, state_dir=tmp_path, zeroconf=False
    ) as fleet:
        names = sorted(product.name for product in fleet)
        assert names == ["ac-1", "dishwasher-1", "fridge-1", "washer-1"]
        washer = next(product for product in fleet if product.name == "washer-1")
        assert washer.panel is not None
        assert washer.panel.languages == ("zh-CN", "en")
        client = await _hub(washer)
        try:
            assert client.declaration is not None
            assert client.declaration.voice_panel is not None
            heard: list[Utterance] = []
            _answer_every_utterance(client, heard)
            reply = await asyncio.wait_for(washer.panel.hear("start the wash", "en"), 3)
            assert reply == PanelSpeech("START THE WASH", "en", heard[0].utterance, True, "conv-1")
            follow_up = await asyncio.wait_for(washer.panel.hear("用快洗"), 3)
            assert heard[1].conversation == "conv-1"  # the panel was listening
            assert follow_up.language == "zh-CN"
            await client.announce("洗衣完成", "zh-CN")
            assert washer.panel.said[-1] == PanelSpeech("洗衣完成", "zh-CN")
            assert len(washer.panel.said) == 3
        finally:
            await client.disconnect()


async def test_the_panel_refuses_what_nobody_could_answer_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    async with simulated_appliances(washer=1, speed=0, state_dir=tmp_path, zeroconf=False) as (
        washer,
    ):
        panel = washer.panel
        assert panel is not None
        try:
            panel.hear("开始洗")
            raise AssertionError("heard with no hub listening")
        except InvalidStateError:
            pass
        await washer.restart()
        assert washer.panel is panel  # the same panel, attached to the new server
        client = await _hub(washer)
        try:
            heard: list[Utterance] = []
            _answer_every_utterance(client, heard)
            with_hub = await asyncio.wait_for(panel.hear("again", "en"), 3)
            assert with_hub.text == "AGAIN"
            try:
                panel.hear("hallo", "de")
                raise AssertionError("an undeclared language was heard")
            except OutOfRangeError:
                pass
        finally:
            await client.disconnect()


class _FakeRelay:
    """A relay that numbers what it hears, for the console's parsing."""

    languages = ("zh-CN", "en")

    def __init__(self) -> None:
        self.heard: list[tuple[str, str | None]] = []

    def hear(self, text: str, language: str | None = None) -> int:
        if language is not None and language not in self.languages:
            raise OutOfRangeError(f"not {language}")
        self.heard.append((text, language))
        return len(self.heard)


async def test_the_console_reads_names_languages_and_text() -> None:
    relays = {"washer-1": _FakeRelay(), "ac-1": _FakeRelay()}
    panels = {}
    for name, relay in relays.items():
        panels[name] = SimulatedPanel(name)
        panels[name].attach(relay)  # type: ignore[arg-type]
    out = io.StringIO()
    console = PanelConsole(panels, out)
    console.line("washer-1> 开始洗\n")
    console.line("ac-1>en: cooler please\n")
    console.line("washer-1> zh-CN:  用快洗 ")
    console.line("\n")
    console.line("start\n")
    console.line("dryer-1> start\n")
    console.line("ac-1> de: kälter\n")
    assert relays["washer-1"].heard == [("开始洗", None), ("用快洗", "zh-CN")]
    assert relays["ac-1"].heard == [("cooler please", "en")]
    printed = out.getvalue().splitlines()
    assert printed[0].startswith("several panels: start the line with one of washer-1, ac-1")
    assert printed[1] == "no panel named dryer-1; panels: washer-1, ac-1"
    assert printed[2] == "ac-1 panel: not de"
    panels["washer-1"].say(PanelSpeech("好的", "zh-CN", 1, True, "c"))
    panels["ac-1"].say(PanelSpeech("Done", "en"))
    panels["ac-1"].unanswered(1)
    assert out.getvalue().splitlines()[3:] == [
        "washer-1 replies (listening) [zh-CN]: 好的",
        "ac-1 announces [en]: Done",
        "ac-1 panel: no answer to utterance 1",
    ]


async def _read_until(stream: asyncio.StreamReader, *wanted: str) -> list[str]:
    """Read lines until each of ``wanted`` is in one of them (in any order)."""
    lines: list[str] = []
    while not all(any(w in line for line in lines) for w in wanted):
        lines.append((await asyncio.wait_for(stream.readline(), 10)).decode().rstrip("\n"))
        if not lines[-1] and stream.at_eof():
            raise AssertionError(f"{wanted!r} never printed: {lines}")
    return lines


async def test_simulate_panel_reads_stdin_and_prints_what_the_panels_say(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "firmware_bridge", "simulate", "--washer", "1", "--ac", "1",
        "--panel", "--json", "--no-zeroconf", "--state-dir", str(tmp_path),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    client: ApplianceClient | None = None
    try:
        records = [json.loads(await asyncio.wait_for(process.stdout.readline(), 20))]
        records.append(json.loads(await asyncio.wait_for(process.stdout.readline(), 20)))
        await _read_until(process.stdout, "Panels: ac-1, washer-1")
        washer = next(r for r in records if r["type"] == "laundry_washer")
        process.stdin.write(b"washer-1> en: start the wash\n")
        await process.stdin.drain()
        await _read_until(process.stdout, "washer-1 panel: no hub is listening to the panel")
        result = await pair(washer["host"], washer["port"], washer["code"], hub_id=HUB)
        client = ApplianceClient(washer["host"], washer["port"], result.key, hub_id=HUB)
        await client.connect()
        heard: list[Utterance] = []
        _answer_every_utterance(client, heard)
        process.stdin.write(b"washer-1> en: start the wash\nstart\n")
        await process.stdin.drain()
        await _read_until(
            process.stdout, "washer-1 replies (listening) [en]: START THE WASH", "several panels"
        )
        process.stdin.write("washer-1> 开始洗\n".encode())
        await process.stdin.drain()
        await _read_until(process.stdout, "washer-1 replies (listening) [zh-CN]: 开始洗")
        assert [(u.text, u.conversation) for u in heard] == [
            ("start the wash", None),
            ("开始洗", "conv-1"),
        ]
        await client.announce("洗衣完成", "zh-CN")
        await _read_until(process.stdout, "washer-1 announces [zh-CN]: 洗衣完成")
        process.stdin.close()  # the end of input leaves the appliances serving
        assert await client.ping() >= 0
    finally:
        if client is not None:
            await client.disconnect()
        code = await _stop(process)
    stderr = (await process.stderr.read()).decode()
    assert code == 0, stderr


async def test_firmware_without_a_panel_drops_it(tmp_path: Path) -> None:
    """A firmware update to a declaration without a panel leaves the product without one."""
    async with simulated_appliances(fridge=1, speed=0, state_dir=tmp_path, zeroconf=False) as (
        fridge,
    ):
        assert fridge.panel is not None
        declaration = dataclasses.replace(fridge.simulator.declaration, voice_panel=None)
        await fridge.restart(firmware="sim-0.9.0", declaration=declaration)
        assert fridge.panel is None
        assert fridge.module.server.voice_panel is None
