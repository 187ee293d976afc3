"""An appliance's voice panel in Home Assistant: what it heard goes to Assist, the answer back.

PROTOCOL.md 7.5. The appliance is the conversation's device, so its area is
the conversation's area and "开始洗" said at the washer means this washer. The
agent is the household's preferred Assist pipeline's (Settings → Voice
assistants), Home Assistant's own agent where Assist pipelines are not set up.
Every utterance gets an answer: Assist's, or a translated apology when Assist
fails or takes longer than ``ANSWER_TIMEOUT_S``, within the 30 s the panel waits.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
import logging
import re
from typing import Any, Final

from homeassistant.components import conversation
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, translation

from .const import DOMAIN
from .coordinator import LiuzhouCoordinator
from .link.client import ApplianceClient
from .link.messages import Utterance
from .voice_log import VoiceLog

_LOGGER = logging.getLogger(__name__)

# Below the 30 s an appliance waits for an answer (PROTOCOL.md 7.5), so a slow
# agent still gets an apology to the panel rather than the panel's own timeout.
ANSWER_TIMEOUT_S: Final = 20.0
# Announcements and answers are at most this long on the wire (PROTOCOL.md 7.5).
MAX_SPOKEN_CHARS: Final = 1000

_CJK: Final = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(slots=True)
class PanelStats:
    """Counts for diagnostics: utterances heard, answered by Assist, apologised for."""

    utterances: int = 0
    answered: int = 0
    failed: int = 0
    undelivered: int = 0
    announcements: int = 0


def conversation_language(tag: str) -> str:
    """A panel's BCP 47 tag as Home Assistant's conversation language ("zh-CN" -> "zh-cn")."""
    return tag.lower()


def translation_language(tag: str) -> str:
    """A panel's BCP 47 tag as Home Assistant's translation language ("zh-CN" -> "zh-Hans")."""
    lowered = tag.lower()
    if lowered.startswith("zh"):
        return "zh-Hant" if lowered in ("zh-tw", "zh-hk", "zh-hant", "zh-mo") else "zh-Hans"
    return lowered.split("-")[0]


def announcement_language(languages: tuple[str, ...], text: str, home: str) -> str:
    """The declared language an announcement is spoken in.

    Text with Chinese characters is spoken in the panel's Chinese; text without
    them in Home Assistant's language (``home``) if the panel has it and it is
    not Chinese, else in English, else in the panel's first language.
    """
    chinese = [tag for tag in languages if _base(tag) == "zh"]
    if _CJK.search(text):
        return chinese[0] if chinese else languages[0]
    for wanted in (_base(home), "en"):
        if wanted != "zh" and (found := [tag for tag in languages if _base(tag) == wanted]):
            return found[0]
    return languages[0]


def _base(tag: str) -> str:
    return tag.lower().split("-")[0]


def spoken_text(text: str) -> str:
    """``text`` cut to what a panel accepts (whole characters, an ellipsis when cut)."""
    text = text.strip()
    return text if len(text) <= MAX_SPOKEN_CHARS else text[: MAX_SPOKEN_CHARS - 1] + "…"


class VoicePanelBridge:
    """One appliance's panel: utterances to Assist, answers and announcements to the panel."""

    def __init__(self, hass: HomeAssistant, coordinator: LiuzhouCoordinator, log: VoiceLog) -> None:
        """Bridge the panel ``coordinator``'s appliance declares; ``async_start`` listens."""
        assert coordinator.declaration.voice_panel is not None
        self.hass = hass
        self.coordinator = coordinator
        self.languages: tuple[str, ...] = coordinator.declaration.voice_panel.languages
        self.log = log
        self.stats = PanelStats()
        self._tasks: set[asyncio.Task[None]] = set()

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Listen to every connection's utterances; the returned callback stops it."""

        def attach(client: ApplianceClient) -> CALLBACK_TYPE:
            return client.add_utterance_listener(self._on_utterance)

        stop_hook = self.coordinator.async_add_client_hook(attach)

        def stop() -> None:
            stop_hook()
            for task in self._tasks:
                task.cancel()

        return stop

    @callback
    def _on_utterance(self, utterance: Utterance) -> None:
        self.stats.utterances += 1
        task = self.coordinator.config_entry.async_create_background_task(
            self.hass,
            self._async_answer(utterance),
            f"{DOMAIN} voice panel {self.coordinator.appliance_id}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _async_answer(self, utterance: Utterance) -> None:
        """Run the utterance through Assist and send what it says back to the panel."""
        keep_listening = False
        conversation_id: str | None = None
        if "conversation" not in self.hass.config.components:
            answer = await self._apology(utterance.language, "voice_panel_no_assist")
            self.stats.failed += 1
        else:
            answer, keep_listening, conversation_id = await self._async_converse(utterance)
        self.log.add(utterance.language, utterance.text, answer)
        try:
            await self.coordinator.async_panel_request(
                lambda client: client.voice_reply(
                    utterance.utterance,
                    spoken_text(answer),
                    continue_listening=keep_listening,
                    conversation=conversation_id if keep_listening else None,
                )
            )
        except HomeAssistantError as err:
            # Gone or the panel stopped waiting: it says so itself (PROTOCOL.md 7.5).
            self.stats.undelivered += 1
            _LOGGER.debug("%s: answer not delivered to its voice panel: %s", self._name, err)

    async def _async_converse(self, utterance: Utterance) -> tuple[str, bool, str | None]:
        """Assist's answer, whether to keep listening and the conversation id to continue."""
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                result = await conversation.async_converse(
                    self.hass,
                    utterance.text,
                    utterance.conversation,
                    Context(),
                    language=conversation_language(utterance.language),
                    agent_id=self._agent_id(),
                    device_id=self._device_id(),
                )
        except (TimeoutError, HomeAssistantError, ValueError) as err:
            # ValueError: the chosen agent is gone. The panel hears why, in its language.
            _LOGGER.warning("%s: Assist did not answer its voice panel: %r", self._name, err)
            self.stats.failed += 1
            key = "voice_panel_timeout" if isinstance(err, TimeoutError) else "voice_panel_failed"
            return await self._apology(utterance.language, key), False, None
        self.stats.answered += 1
        speech = result.response.speech.get("plain", {}).get("speech", "")
        return str(speech), result.continue_conversation, result.conversation_id

    async def async_announce(self, text: str) -> None:
        """Have the panel say ``text``; HomeAssistantError if the appliance cannot."""
        text = spoken_text(text)
        language = announcement_language(self.languages, text, self.hass.config.language)
        await self.coordinator.async_panel_request(lambda client: client.announce(text, language))
        self.stats.announcements += 1

    def diagnostics(self) -> dict[str, Any]:
        """Languages, counts and the log's size; never anything said."""
        return {
            "languages": list(self.languages),
            **asdict(self.stats),
            "log": self.log.summary(),
        }

    @property
    def _name(self) -> str:
        return self.coordinator.config_entry.title

    def _device_id(self) -> str | None:
        device = dr.async_get(self.hass).async_get_device(
            identifiers={(DOMAIN, self.coordinator.appliance_id)}
        )
        return device.id if device else None

    def _agent_id(self) -> str | None:
        """The preferred Assist pipeline's agent, or None (Home Assistant's own)."""
        if "assist_pipeline" not in self.hass.config.components:
            return None
        # Imported here: its requirements come with Assist, which may not be set up.
        from homeassistant.components.assist_pipeline.pipeline import (
            async_get_pipeline,
        )

        try:
            return async_get_pipeline(self.hass).conversation_engine
        except HomeAssistantError:
            return None

    async def _apology(self, language: str, key: str) -> str:
        """The translated exception ``key`` in the panel's language (English if missing)."""
        lang = translation_language(language)
        texts = await translation.async_get_translations(self.hass, lang, "exceptions", [DOMAIN])
        text = texts.get(f"component.{DOMAIN}.exceptions.{key}.message")
        if text is None and lang != "en":
            return await self._apology("en", key)
        return text or key
