"""Notify: make an appliance's voice panel say something (``notify.send_message``)."""

from __future__ import annotations

from homeassistant.components.notify import NotifyEntity
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import LiuzhouCoordinator
from .entity import LiuzhouEntity
from .runtime_data import LiuzhouConfigEntry
from .voice_panel import VoicePanelBridge

# One announcement at a time per panel keeps them in the order they were sent.
PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LiuzhouConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the panel's notify entity if the appliance declares a voice panel."""
    if (panel := entry.runtime_data.panel) is not None:
        async_add_entities([LiuzhouPanelNotify(entry.runtime_data.coordinator, panel)])


class LiuzhouPanelNotify(LiuzhouEntity, NotifyEntity):
    """The appliance's voice panel as a notify entity: a message is spoken by the panel.

    The title, if any, is spoken first. Chinese text is spoken in the panel's
    Chinese language, anything else in Home Assistant's language if the panel
    has it (voice_panel.announcement_language).
    """

    _attr_translation_key = "voice_panel"

    def __init__(self, coordinator: LiuzhouCoordinator, panel: VoicePanelBridge) -> None:
        """The notify entity of ``panel``."""
        super().__init__(coordinator, "voice_panel")
        self._panel = panel

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Speak ``title`` then ``message``; ServiceValidationError for nothing to say."""
        text = " ".join(part.strip() for part in (title, message) if part and part.strip())
        if not text:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="announcement_empty"
            )
        await self._panel.async_announce(text)
