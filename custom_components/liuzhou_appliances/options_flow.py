"""The options of a paired appliance: keepalive, offline repair delay, voice log."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigFlowResult,
)
from homeassistant.helpers import selector
import voluptuous as vol

from .compat import OptionsFlowWithReload
from .const import (
    CONF_KEEPALIVE_INTERVAL,
    CONF_OFFLINE_REPAIR_MINUTES,
    CONF_VOICE_LOG,
    DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_OFFLINE_REPAIR_MINUTES,
    MAX_KEEPALIVE_INTERVAL,
    MAX_OFFLINE_REPAIR_MINUTES,
    MIN_KEEPALIVE_INTERVAL,
    MIN_OFFLINE_REPAIR_MINUTES,
)
from .runtime_data import loaded_appliance


class LiuzhouOptionsFlow(OptionsFlowWithReload):
    """Keepalive interval, when an offline appliance becomes a repair issue, the voice log."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form; voluptuous ranges reject out-of-range values."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        options = self.config_entry.options
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_KEEPALIVE_INTERVAL,
                    default=options.get(CONF_KEEPALIVE_INTERVAL, DEFAULT_KEEPALIVE_INTERVAL),
                ): vol.All(
                    vol.Coerce(int),
                    vol.Range(min=MIN_KEEPALIVE_INTERVAL, max=MAX_KEEPALIVE_INTERVAL),
                ),
                vol.Required(
                    CONF_OFFLINE_REPAIR_MINUTES,
                    default=options.get(
                        CONF_OFFLINE_REPAIR_MINUTES, DEFAULT_OFFLINE_REPAIR_MINUTES
                    ),
                ): vol.All(
                    vol.Coerce(int),
                    vol.Range(min=MIN_OFFLINE_REPAIR_MINUTES, max=MAX_OFFLINE_REPAIR_MINUTES),
                ),
            }
        )
        runtime = loaded_appliance(self.config_entry)
        if runtime is not None and runtime.panel is not None:
            # Only an appliance with a voice panel has anything to log (voice_log.py).
            schema = schema.extend(
                {
                    vol.Required(
                        CONF_VOICE_LOG, default=options.get(CONF_VOICE_LOG, False)
                    ): selector.BooleanSelector()
                }
            )
        return self.async_show_form(step_id="init", data_schema=schema)
