"""Assist intents of Liuzhou appliances (the handlers live in ``voice/``)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent

from .voice.domains import HANDLERS


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register every voice domain's intent handlers (Home Assistant's intent platform)."""
    for handler in HANDLERS:
        intent.async_register(hass, handler)
