"""The household energy entry's form (set-up and options): tariff, sensors, limits, the
estate's ids, then the house defaults (room_options.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .compat import OptionsFlowWithReload
from .const import (
    CONF_BUILDING_ID,
    CONF_ESTATE_ID,
    CONF_GRID_EVENT_ENTITY,
    CONF_GRID_EVENT_LEVEL,
    CONF_HOME_POWER_ENTITY,
    CONF_NEXT_ARRIVAL_ENTITY,
    CONF_OCCUPANCY_ENTITY,
    CONF_OUTDOOR_HUMIDITY_ENTITY,
    CONF_OUTDOOR_TEMPERATURE_ENTITY,
    CONF_POWER_CAP_KW,
    CONF_POWER_LIMIT_KW,
    CONF_SOLAR_SURPLUS_ENTITY,
    DEFAULT_DEMAND_RESPONSE_LEVEL,
    DEMAND_RESPONSE_LEVEL_SELECTOR,
)
from .energy.shedding import DEMAND_RESPONSE_LEVELS
from .energy.tariff import TariffError
from .energy.tariff_options import (
    CONF_COMMERCIAL_FLAT_PRICE,
    CONF_CUSTOM_TABLE,
    CONF_PRICE_ENTITY,
    CONF_TARIFF,
    TARIFF_CUSTOM,
    TARIFF_KINDS,
    TARIFF_RESIDENTIAL,
    TARIFF_SENSOR,
    build_tariff,
)
from .estate_topics import EstateTopicError, check_building, check_segment
from .naming import (
    async_tariff_problem_text,
)
from .room_options import HouseDefaultsStep

_KW = vol.All(vol.Coerce(float), vol.Range(min=0.1, max=1000))
_POWER_SENSOR = selector.EntitySelector(
    selector.EntitySelectorConfig(domain="sensor", device_class="power")
)


def household_schema(current: Mapping[str, Any]) -> vol.Schema:
    """The household energy form, pre-filled with ``current``."""

    def optional(key: str) -> vol.Optional:
        value = current.get(key)
        return vol.Optional(key, description={"suggested_value": value} if value else None)

    return vol.Schema(
        {
            vol.Required(CONF_TARIFF, default=current.get(CONF_TARIFF, TARIFF_RESIDENTIAL)): (
                selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=list(TARIFF_KINDS), translation_key=CONF_TARIFF
                    )
                )
            ),
            vol.Optional(
                CONF_COMMERCIAL_FLAT_PRICE,
                default=current.get(CONF_COMMERCIAL_FLAT_PRICE, 0.65),
            ): vol.All(vol.Coerce(float), vol.Range(min=0, max=10)),
            optional(CONF_CUSTOM_TABLE): selector.TextSelector(
                selector.TextSelectorConfig(multiline=True)
            ),
            optional(CONF_PRICE_ENTITY): selector.EntitySelector(
                selector.EntitySelectorConfig(domain=["sensor", "input_number"])
            ),
            optional(CONF_HOME_POWER_ENTITY): _POWER_SENSOR,
            optional(CONF_POWER_LIMIT_KW): _KW,
            optional(CONF_SOLAR_SURPLUS_ENTITY): _POWER_SENSOR,
            optional(CONF_POWER_CAP_KW): _KW,
            optional(CONF_OCCUPANCY_ENTITY): selector.EntitySelector(
                selector.EntitySelectorConfig(
                    domain=["binary_sensor", "person", "device_tracker", "input_boolean"]
                )
            ),
            optional(CONF_NEXT_ARRIVAL_ENTITY): selector.EntitySelector(
                selector.EntitySelectorConfig(
                    filter=[
                        selector.EntityFilterSelectorConfig(domain="input_datetime"),
                        selector.EntityFilterSelectorConfig(
                            domain="sensor", device_class="timestamp"
                        ),
                    ]
                )
            ),
            optional(CONF_OUTDOOR_TEMPERATURE_ENTITY): selector.EntitySelector(
                selector.EntitySelectorConfig(domain="sensor", device_class="temperature")
            ),
            optional(CONF_OUTDOOR_HUMIDITY_ENTITY): selector.EntitySelector(
                selector.EntitySelectorConfig(domain="sensor", device_class="humidity")
            ),
            optional(CONF_GRID_EVENT_ENTITY): selector.EntitySelector(
                selector.EntitySelectorConfig(domain=["binary_sensor", "input_boolean"])
            ),
            vol.Optional(
                CONF_GRID_EVENT_LEVEL,
                default=current.get(CONF_GRID_EVENT_LEVEL, DEFAULT_DEMAND_RESPONSE_LEVEL),
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=list(DEMAND_RESPONSE_LEVELS),
                    translation_key=DEMAND_RESPONSE_LEVEL_SELECTOR,
                )
            ),
            optional(CONF_ESTATE_ID): str,
            optional(CONF_BUILDING_ID): str,
        }
    )


async def async_validate_household(
    hass: HomeAssistant, options: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """Form errors for settings that do not fit together (the tariff is built to check).

    A mistake in a typed time-of-use table is described in the server's language.
    """
    kind = options.get(CONF_TARIFF)
    if kind == TARIFF_SENSOR and not options.get(CONF_PRICE_ENTITY):
        return {CONF_PRICE_ENTITY: "price_entity_required"}, {}
    if kind == TARIFF_CUSTOM and not str(options.get(CONF_CUSTOM_TABLE, "")).strip():
        return {CONF_CUSTOM_TABLE: "custom_table_required"}, {}
    if bool(options.get(CONF_HOME_POWER_ENTITY)) != bool(options.get(CONF_POWER_LIMIT_KW)):
        return {"base": "shedding_needs_sensor_and_limit"}, {}
    if (estate_errors := _estate_errors(options)) is not None:
        return estate_errors, {}
    try:
        build_tariff(options, time_zone=dt_util.get_default_time_zone())
    except TariffError as err:
        detail = await async_tariff_problem_text(hass, err)
        return {CONF_CUSTOM_TABLE: "custom_table_invalid"}, {"detail": detail}
    return {}, {}


def _estate_errors(options: Mapping[str, Any]) -> dict[str, str] | None:
    """Estate and building ids: both or neither, each one topic segment (docs/estate.md)."""
    estate, building = options.get(CONF_ESTATE_ID), options.get(CONF_BUILDING_ID)
    if not estate and not building:
        return None
    if not estate or not building:
        return {"base": "estate_needs_both_ids"}
    try:
        check_segment(estate, "estate")
    except EstateTopicError:
        return {CONF_ESTATE_ID: "estate_id_invalid"}
    try:
        check_building(building)
    except EstateTopicError:
        return {CONF_BUILDING_ID: "estate_id_invalid"}
    return None


class HouseholdOptionsFlow(HouseDefaultsStep, OptionsFlowWithReload):
    """Change the household energy settings, then the house defaults; the entry reloads."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Its own step id: the appliance options flow's "init" has other texts."""
        return await self.async_step_household()

    async def async_step_household(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form, validated like the set-up step."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors, placeholders = await async_validate_household(self.hass, user_input)
            if not errors:
                self._energy_options = user_input
                return await self.async_step_house_defaults()
        return self.async_show_form(
            step_id="household",
            data_schema=household_schema(user_input or self.config_entry.options),
            errors=errors,
            description_placeholders=placeholders,
        )
