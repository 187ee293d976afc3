"""A simulated voice panel (PROTOCOL.md 7.5), and the typed lines that stand in for speech.

``SimulatedPanel`` is the panel of one simulated appliance that declares
one: ``hear(text, language)`` is the panel recognising a command (it
returns a future of the hub's reply), ``said`` lists everything the panel
spoke (replies and announcements) and ``on_speech`` hears each as it is
spoken. ``simulate --panel`` feeds it lines typed on stdin (``PanelConsole``):

    开始洗                     the panel's first language, the only panel
    en: start the wash         a language of the panel
    washer-1> zh-CN: 开始洗    one appliance among several

and prints what each panel says, with the appliance's name. The panel sits
on the network module's side: nothing of it crosses the MCU serial link
(SERIAL.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
import re
from typing import Final, TextIO

from custom_components.liuzhou_appliances.link.backend import PanelSpeech
from custom_components.liuzhou_appliances.link.errors import LinkError, TimedOutError
from custom_components.liuzhou_appliances.link.voice import PanelRelay

# "washer-1> " naming the appliance, then "en: " naming the language, both optional.
_LINE: Final = re.compile(
    r"\s*(?:(?P<name>[a-z0-9-]+)>\s*)?(?:(?P<language>[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*):\s*)?"
    r"(?P<text>.*)",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class PanelEvent:
    """What a panel did: ``said`` (a reply or an announcement) or ``unanswered`` (its number)."""

    speech: PanelSpeech | None = None
    unanswered: int | None = None


class SimulatedPanel:
    """The voice panel of one simulated appliance (a ``VoicePanelBackend``).

    ``attach`` connects it to the server's ``PanelRelay`` (again after a
    restart). ``hear`` raises what the relay raises: OutOfRangeError, BusyError
    (8 unanswered), InvalidStateError (no hub subscribed).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.said: list[PanelSpeech] = []
        self.on_event: Callable[[SimulatedPanel, PanelEvent], None] | None = None
        self._relay: PanelRelay | None = None
        self._replies: dict[int, asyncio.Future[PanelSpeech]] = {}

    def attach(self, relay: PanelRelay) -> None:
        """Speak for (and listen through) this server's relay."""
        self._relay = relay

    @property
    def languages(self) -> tuple[str, ...]:
        """The panel's languages, the default first."""
        return self._attached().languages

    def hear(self, text: str, language: str | None = None) -> asyncio.Future[PanelSpeech]:
        """The panel recognised ``text``: push it; the future gets the hub's reply.

        The future fails with TimedOutError when the hub leaves it unanswered
        (30 s); the reply's ``listening`` says whether the panel listens again.
        """
        number = self._attached().hear(text, language)
        future: asyncio.Future[PanelSpeech] = asyncio.get_running_loop().create_future()
        self._replies[number] = future
        return future

    def say(self, speech: PanelSpeech) -> None:
        """VoicePanelBackend: speak a reply or an announcement."""
        self.said.append(speech)
        if speech.utterance is not None:
            future = self._replies.pop(speech.utterance, None)
            if future is not None and not future.done():
                future.set_result(speech)
        self._tell(PanelEvent(speech=speech))

    def unanswered(self, utterance: int) -> None:
        """VoicePanelBackend: the hub did not answer in time; the panel says so."""
        future = self._replies.pop(utterance, None)
        if future is not None and not future.done():
            future.set_exception(TimedOutError(f"no answer to utterance {utterance}"))
            future.exception()  # retrieved: a caller may have stopped waiting
        self._tell(PanelEvent(unanswered=utterance))

    def _tell(self, event: PanelEvent) -> None:
        if self.on_event is not None:
            self.on_event(self, event)

    def _attached(self) -> PanelRelay:
        if self._relay is None:
            raise RuntimeError(f"{self.name}: the panel is not attached to a server")
        return self._relay


class PanelConsole:
    """Typed lines in, what the panels say out (``simulate --panel``)."""

    def __init__(self, panels: Mapping[str, SimulatedPanel], out: TextIO) -> None:
        self.panels = dict(panels)
        self._out = out
        for panel in self.panels.values():
            panel.on_event = self._print_event

    def line(self, text: str) -> None:
        """Act on one typed line: the panel hears it, or the line says why not."""
        match = _LINE.fullmatch(text.rstrip("\r\n"))
        assert match is not None  # the pattern matches any line
        name, language, spoken = match["name"], match["language"], match["text"].strip()
        if not spoken and language is None and name is None:
            return  # an empty line
        try:
            panel = self._panel(name)
        except ValueError as error:
            self._print(str(error))
            return
        try:
            panel.hear(spoken, language)
        except LinkError as error:
            self._print(f"{panel.name} panel: {error.message}")

    def _panel(self, name: str | None) -> SimulatedPanel:
        if name is not None:
            if name not in self.panels:
                raise ValueError(f"no panel named {name}; panels: {', '.join(self.panels)}")
            return self.panels[name]
        if len(self.panels) != 1:
            raise ValueError(
                f"several panels: start the line with one of {', '.join(self.panels)} "
                f"(e.g. {next(iter(self.panels))}> text)"
            )
        return next(iter(self.panels.values()))

    def _print_event(self, panel: SimulatedPanel, event: PanelEvent) -> None:
        if event.speech is not None:
            speech = event.speech
            if speech.utterance is None:
                what = "announces"
            elif speech.listening:
                what = "replies (listening)"
            else:
                what = "replies"
            self._print(f"{panel.name} {what} [{speech.language}]: {speech.text}")
        else:
            self._print(f"{panel.name} panel: no answer to utterance {event.unanswered}")

    def _print(self, text: str) -> None:
        print(text, file=self._out, flush=True)


async def read_lines(console: PanelConsole, stream: TextIO) -> None:
    """Feed each line of ``stream`` (stdin: a pipe or a terminal) to ``console`` until EOF."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), stream
    )
    try:
        while line := await reader.readline():
            console.line(line.decode("utf-8", "replace"))
    finally:
        transport.close()
