"""The voice panel's limits and the appliance side of it (PROTOCOL.md 7.5).

``PanelRelay`` is what an ``ApplianceServer`` holds for a model that declares
a voice panel: it numbers what the panel heard and pushes it to the
subscribed sessions (``hear``), keeps the unanswered utterances (at most
``MAX_UNANSWERED``, each forgotten after ``UTTERANCE_TIMEOUT_S``), and hands
the hub's replies and announcements to the panel (``VoicePanelBackend.say``)
once they are checked. It keeps no transcript: an utterance's text is pushed
and dropped; only its number and language wait for the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import logging
from typing import Final

from .backend import PanelSpeech, VoicePanelBackend
from .declaration import VoicePanel
from .errors import (
    BusyError,
    InvalidStateError,
    McuUnavailableError,
    OutOfRangeError,
)
from .messages import Announce, Utterance, VoiceReply

MAX_UTTERANCE_TEXT: Final = 500  # characters, after stripping
MAX_SPOKEN_TEXT: Final = 1000  # characters of a reply (0 allowed) or an announcement (1 at least)
MAX_CONVERSATION_ID: Final = 128  # characters
MAX_UNANSWERED: Final = 8  # utterances per appliance waiting for their reply
UTTERANCE_TIMEOUT_S: Final = 30.0  # an utterance unanswered this long is forgotten

_LOGGER: Final = logging.getLogger(__name__.rpartition(".")[0] + ".server")


@dataclass(slots=True)
class _Waiting:
    """An utterance waiting for its reply: its language and the timer that forgets it."""

    language: str
    timer: asyncio.TimerHandle


class PanelRelay:
    """Between the appliance's voice panel and the hubs' sessions.

    ``send`` queues an utterance on every subscribed session and returns how
    many it reached. ``speaker`` is the panel (None: declared but not
    connected, so replies and announcements get MCU_UNAVAILABLE).
    """

    def __init__(
        self,
        panel: VoicePanel,
        speaker: VoicePanelBackend | None,
        send: Callable[[Utterance], int],
        *,
        timeout: float = UTTERANCE_TIMEOUT_S,
        max_unanswered: int = MAX_UNANSWERED,
    ) -> None:
        self.panel = panel
        self.speaker = speaker
        self._send = send
        self.timeout = timeout
        self.max_unanswered = max_unanswered
        self._last = 0
        self._waiting: dict[int, _Waiting] = {}
        # The conversation the panel listens in after a reply with continue, until when.
        self._follow_up: tuple[str | None, float] | None = None

    @property
    def languages(self) -> tuple[str, ...]:
        """The declared languages, the default first."""
        return self.panel.languages

    @property
    def unanswered(self) -> int:
        """Utterances sent and waiting for their reply."""
        return len(self._waiting)

    def hear(self, text: str, language: str | None = None) -> int:
        """Push what the panel recognised; return the utterance's number.

        ``language`` defaults to the panel's first. Raises OutOfRangeError
        (empty or over 500 characters once stripped, or an undeclared
        language), BusyError (8 utterances unanswered: the panel says it is
        busy) or InvalidStateError (no hub subscribed: nobody would answer).
        A follow-up (the hub's last reply asked to listen again, less than
        ``timeout`` ago) carries that reply's conversation.
        """
        text = text.strip()
        if not 0 < len(text) <= MAX_UTTERANCE_TEXT:
            raise OutOfRangeError(f"an utterance is 1-{MAX_UTTERANCE_TEXT} characters")
        language = self.languages[0] if language is None else self._declared(language)
        if len(self._waiting) >= self.max_unanswered:
            raise BusyError(f"{self.max_unanswered} utterances are waiting for an answer")
        loop = asyncio.get_running_loop()
        conversation = None
        if self._follow_up is not None:
            conversation, until = self._follow_up
            if loop.time() > until:
                conversation = None
        number = self._last + 1
        if not self._send(Utterance(number, text, language, conversation)):
            raise InvalidStateError("no hub is listening to the panel")
        self._last = number
        self._follow_up = None
        self._waiting[number] = _Waiting(
            language, loop.call_later(self.timeout, self._forget, number)
        )
        return number

    def reply(self, request: VoiceReply) -> None:
        """Speak the hub's reply to an utterance.

        OutOfRangeError: text over 1000 or conversation over 128 characters;
        InvalidStateError: an utterance never sent, answered already or
        forgotten (unanswered for ``timeout``); what the panel raises.
        """
        if len(request.text) > MAX_SPOKEN_TEXT:
            raise OutOfRangeError(f"a reply is at most {MAX_SPOKEN_TEXT} characters")
        conversation = request.conversation
        if conversation is not None and not 0 < len(conversation) <= MAX_CONVERSATION_ID:
            raise OutOfRangeError(f"a conversation id is 1-{MAX_CONVERSATION_ID} characters")
        waiting = self._waiting.get(request.utterance)
        if waiting is None:
            raise InvalidStateError(
                f"utterance {request.utterance} is not waiting for an answer "
                "(never sent, answered or timed out)"
            )
        self._speak(
            PanelSpeech(
                request.text,
                waiting.language,
                request.utterance,
                request.continue_listening,
                conversation,
            )
        )
        del self._waiting[request.utterance]
        waiting.timer.cancel()
        if request.continue_listening:
            self._follow_up = (conversation, asyncio.get_running_loop().time() + self.timeout)
        else:
            self._follow_up = None

    def announce(self, request: Announce) -> None:
        """Speak an announcement; OutOfRangeError for text not 1-1000 characters or
        a language the panel does not declare; what the panel raises."""
        if not 0 < len(request.text) <= MAX_SPOKEN_TEXT:
            raise OutOfRangeError(f"an announcement is 1-{MAX_SPOKEN_TEXT} characters")
        self._speak(PanelSpeech(request.text, self._declared(request.language)))

    def close(self) -> None:
        """Forget every waiting utterance (the server stops); the panel is not told."""
        for waiting in self._waiting.values():
            waiting.timer.cancel()
        self._waiting.clear()
        self._follow_up = None

    def _declared(self, language: str) -> str:
        """The declared tag ``language`` names (tags compare ignoring case), or OUT_OF_RANGE."""
        folded = language.casefold()
        for tag in self.languages:
            if tag.casefold() == folded:
                return tag
        raise OutOfRangeError(
            f"the panel speaks {', '.join(self.languages)}, not {language[:40]!r}"
        )

    def _speak(self, speech: PanelSpeech) -> None:
        if self.speaker is None:
            raise McuUnavailableError("the voice panel is not connected")
        self.speaker.say(speech)

    def _forget(self, number: int) -> None:
        if self._waiting.pop(number, None) is None:  # pragma: no cover - the timer is cancelled
            return
        _LOGGER.debug("utterance %s unanswered for %g s, forgotten", number, self.timeout)
        if self.speaker is not None:
            try:
                self.speaker.unanswered(number)
            except Exception:
                _LOGGER.exception("the voice panel failed on an unanswered utterance")
