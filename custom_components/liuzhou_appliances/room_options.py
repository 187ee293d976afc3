"""The household options' second step: the house defaults rooms return to, and the webhook.

``HouseDefaultsStep`` is mixed into the household options flow: after the
energy form, this form sets the house defaults (``room_occupancy.HouseDefaults``)
and shows the property-management webhook's address and token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components import webhook
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers import selector
from homeassistant.helpers.network import NoURLAvailableError
import voluptuous as vol

from .room_occupancy import (
    AC_FANS,
    AC_MODES,
    AC_TARGET_RANGE,
    FREEZER_TARGET_RANGE,
    FRIDGE_TARGET_RANGE,
    OPT_AC_FAN,
    OPT_AC_MODE,
    OPT_AC_TARGET,
    OPT_FREEZER_TARGET,
    OPT_FRIDGE_TARGET,
    OPT_SETBACK_TARGET,
    OPT_VACANT_AC,
    VACANT_AC_CHOICES,
    HouseDefaults,
)
from .room_webhook import async_webhook_credentials


def _temperature(bounds: tuple[float, float]) -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=bounds[0],
            max=bounds[1],
            step=0.5,
            unit_of_measurement="°C",
            mode=selector.NumberSelectorMode.BOX,
        )
    )


def _choice(options: tuple[str, ...], key: str) -> selector.SelectSelector:
    return selector.SelectSelector(
        selector.SelectSelectorConfig(options=list(options), translation_key=key)
    )


def house_defaults_schema(current: Mapping[str, Any]) -> vol.Schema:
    """The house defaults form, pre-filled with ``current`` (the defaults where unset)."""
    base = HouseDefaults()

    def required(key: str, default: object) -> vol.Required:
        return vol.Required(key, default=current.get(key, default))

    return vol.Schema(
        {
            required(OPT_AC_MODE, base.ac_mode): _choice(AC_MODES, OPT_AC_MODE),
            required(OPT_AC_TARGET, base.ac_target): _temperature(AC_TARGET_RANGE),
            required(OPT_AC_FAN, base.ac_fan): _choice(AC_FANS, OPT_AC_FAN),
            required(OPT_VACANT_AC, base.vacant_ac): _choice(VACANT_AC_CHOICES, OPT_VACANT_AC),
            required(OPT_SETBACK_TARGET, base.setback_target): _temperature(AC_TARGET_RANGE),
            required(OPT_FRIDGE_TARGET, base.fridge_target): _temperature(FRIDGE_TARGET_RANGE),
            required(OPT_FREEZER_TARGET, base.freezer_target): _temperature(FREEZER_TARGET_RANGE),
        }
    )


class HouseDefaultsStep(OptionsFlow):
    """The ``house_defaults`` step; the energy step's answers are in ``_energy_options``."""

    _energy_options: dict[str, Any]

    async def async_step_house_defaults(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The house defaults; saving both steps' answers reloads the household entry."""
        if user_input is not None:
            return self.async_create_entry(data={**self._energy_options, **user_input})
        webhook_id, token = async_webhook_credentials(self.hass, self.config_entry)
        try:
            url = webhook.async_generate_url(self.hass, webhook_id)
        except NoURLAvailableError:
            url = webhook.async_generate_path(webhook_id)
        return self.async_show_form(
            step_id="house_defaults",
            data_schema=house_defaults_schema(self.config_entry.options),
            description_placeholders={"webhook_url": url, "token": token},
        )
