"""Config flow: discover or enter an appliance, pair it with its code, keep it paired.

The pairing code is used once to run SPAKE2 with the appliance and is never
stored; the entry keeps the long-term key the appliance hands over.

Here: the menu, manual entry, the household energy entry, the provision step,
naming, reauthentication and reconfiguration. Appliances found by zeroconf or
Bluetooth: flow_discovery.py. Pairing and its form errors: flow_pairing.py.
The options flows: options_flow.py and household_flow.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    SOURCE_ZEROCONF,
    ConfigEntry,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.core import callback
from homeassistant.helpers import selector
import voluptuous as vol

from .const import (
    CONF_ADDRESS,
    CONF_APPLIANCE_ID,
    CONF_AREA_ID,
    CONF_HUB_ID,
    CONF_KEY,
    CONF_PAIRING_CODE,
    DOMAIN,
    HOUSEHOLD_UNIQUE_ID,
)
from .flow_discovery import DiscoverySteps
from .flow_pairing import (
    CODE_SCHEMA,
    PairingFailed,
    async_get_hub_id,
    async_identify,
    async_pair,
    entry_data,
    link_error_key as _link_error_key,
)
from .household_flow import HouseholdOptionsFlow, async_validate_household, household_schema
from .link.ble_advertisement import BleAdvertisement
from .link.client import PairingResult
from .link.discovery import DEFAULT_PORT
from .naming import (
    async_default_name,
    async_household_title,
    async_type_name,
)
from .options_flow import LiuzhouOptionsFlow

# Imported from here by the tests, the benchmarks and the fleet tools.
__all__ = ["LiuzhouConfigFlow", "_link_error_key", "async_get_hub_id"]

_PORT = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))


class LiuzhouConfigFlow(DiscoverySteps, domain=DOMAIN):
    """Add a Liuzhou appliance."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Start with nothing known."""
        self._host: str | None = None
        self._port: int = DEFAULT_PORT
        self._name: str = ""
        # A BLE appliance found by Home Assistant's Bluetooth: its address and advertisement.
        self._address: str | None = None
        self._advertisement: BleAdvertisement | None = None
        # Paired, waiting for the user's name and area: where it is, result, hub id.
        self._paired: tuple[dict[str, Any], PairingResult, str] | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Keepalive and offline-repair settings, or the household energy settings."""
        if config_entry.unique_id == HOUSEHOLD_UNIQUE_ID:
            return HouseholdOptionsFlow()
        return LiuzhouOptionsFlow()

    # --- manual entry ------------------------------------------------------

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add an appliance, or set up the household's energy settings."""
        return self.async_show_menu(
            step_id="user", menu_options=["appliance", "nearby", "household_energy"]
        )

    async def async_step_household_energy(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The single household energy entry: tariff, sensors, limits."""
        if self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, HOUSEHOLD_UNIQUE_ID):
            return self.async_abort(reason="household_already_configured")
        await self.async_set_unique_id(HOUSEHOLD_UNIQUE_ID)
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors, placeholders = await async_validate_household(self.hass, user_input)
            if not errors:
                return self.async_create_entry(
                    title=await async_household_title(self.hass), data={}, options=user_input
                )
        return self.async_show_form(
            step_id="household_energy",
            data_schema=household_schema(user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_appliance(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Host, port and pairing code typed by the user."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            port = user_input[CONF_PORT]
            try:
                result, hub_id = await async_pair(
                    self.hass, {CONF_HOST: host, CONF_PORT: port}, user_input[CONF_PAIRING_CODE]
                )
            except PairingFailed as failed:
                failed.show(errors, placeholders)
            else:
                # The user paired by hand; a discovery flow for the same appliance
                # still waiting for its code is superseded, not a reason to abort.
                await self.async_set_unique_id(result.hello.appliance_id, raise_on_progress=False)
                # Pairing again replaced the appliance's key: keep the entry's in step.
                self._abort_if_unique_id_configured(
                    updates={CONF_HOST: host, CONF_PORT: port, CONF_KEY: result.key.hex()}
                )
                self._paired = ({CONF_HOST: host, CONF_PORT: port}, result, hub_id)
                return await self.async_step_name()
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST, default=(user_input or {}).get(CONF_HOST, "")): str,
                vol.Required(CONF_PORT, default=(user_input or {}).get(CONF_PORT, DEFAULT_PORT)): (
                    _PORT
                ),
                vol.Required(CONF_PAIRING_CODE): str,
            }
        )
        return self.async_show_form(
            step_id="appliance",
            data_schema=schema,
            errors=errors,
            description_placeholders=placeholders,
        )

    # --- provisioning from a roster (provisioning.py) -------------------------

    async def async_step_provision(self, info: Mapping[str, Any]) -> ConfigFlowResult:
        """Pair one roster row's appliance and create its entry, with no form.

        ``info``: CONF_HOST and CONF_PORT, CONF_ADDRESS (Bluetooth) or
        CONF_APPLIANCE_ID (its address taken from a zeroconf discovery of it in
        progress), CONF_PAIRING_CODE, optional CONF_NAME. Ends in the entry, or
        aborts: "provision_failed" with the pairing error's key in the
        ``error`` placeholder (wrong_code, cannot_connect, ...), "not_discovered",
        "different_appliance", or "already_configured" (key and address updated
        as when pairing by hand).
        """
        where = self._provision_where(info)
        if where is None:
            return self.async_abort(
                reason="not_discovered",
                description_placeholders={"appliance_id": str(info.get(CONF_APPLIANCE_ID))},
            )
        try:
            result, hub_id = await async_pair(self.hass, where, info[CONF_PAIRING_CODE])
        except PairingFailed as failed:
            return self.async_abort(
                reason="provision_failed",
                description_placeholders={"error": failed.error, **failed.placeholders},
            )
        appliance_id = result.hello.appliance_id
        if info.get(CONF_APPLIANCE_ID) not in (None, appliance_id):
            return self.async_abort(reason="different_appliance")
        await self.async_set_unique_id(appliance_id, raise_on_progress=False)
        self._abort_if_unique_id_configured(updates={**where, CONF_KEY: result.key.hex()})
        name = str(info.get(CONF_NAME) or "").strip()
        return self.async_create_entry(
            title=name or await async_default_name(self.hass, result.hello.type),
            data=entry_data(where, result, hub_id),
        )

    def _provision_where(self, info: Mapping[str, Any]) -> dict[str, Any] | None:
        """Where to pair a roster row's appliance; None if its id was not discovered."""
        if info.get(CONF_HOST):
            return {CONF_HOST: info[CONF_HOST], CONF_PORT: info.get(CONF_PORT, DEFAULT_PORT)}
        if info.get(CONF_ADDRESS):
            return {CONF_ADDRESS: info[CONF_ADDRESS]}
        for flow in self._async_in_progress():
            context = flow["context"]
            found = context.get("title_placeholders") or {}
            if (
                context.get("source") == SOURCE_ZEROCONF
                and context.get("unique_id") == info.get(CONF_APPLIANCE_ID)
                and "host" in found
            ):
                return {CONF_HOST: found["host"], CONF_PORT: int(found["port"])}
        return None

    # --- name and area, once paired -------------------------------------------

    async def async_step_name(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Name the paired appliance (its type by default) and choose its area."""
        assert self._paired is not None
        where, result, hub_id = self._paired
        hello = result.hello
        default = await async_default_name(self.hass, hello.type)
        if user_input is not None:
            data = entry_data(where, result, hub_id)
            if area_id := user_input.get(CONF_AREA_ID):
                data[CONF_AREA_ID] = area_id
            name = str(user_input.get(CONF_NAME, "")).strip() or default
            return self.async_create_entry(title=name, data=data)
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME, default=default): str,
                vol.Optional(CONF_AREA_ID): selector.AreaSelector(),
            }
        )
        return self.async_show_form(
            step_id="name",
            data_schema=schema,
            description_placeholders={
                "type": await async_type_name(self.hass, hello.type),
                "model": hello.model,
                "appliance_id": hello.appliance_id,
            },
        )

    # --- reauthentication --------------------------------------------------

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The appliance rejected the stored key (factory reset or re-paired elsewhere)."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the pairing code and pair again."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"name": entry.title}
        if user_input is not None:
            try:
                result, hub_id = await async_pair(
                    self.hass, entry.data, user_input[CONF_PAIRING_CODE]
                )
            except PairingFailed as failed:
                failed.show(errors, placeholders)
            else:
                await self.async_set_unique_id(result.hello.appliance_id)
                self._abort_if_unique_id_mismatch(reason="different_appliance")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_KEY: result.key.hex(), CONF_HUB_ID: hub_id}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=CODE_SCHEMA,
            errors=errors,
            description_placeholders=placeholders,
        )

    # --- reconfigure -------------------------------------------------------

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new host or port for the same appliance, checked with the stored key.

        An appliance reached over Bluetooth only has nothing to change: it is
        connected through whichever adapter or proxy hears its advertisements,
        and its Bluetooth address is its own. The flow says so and ends.
        """
        entry = self._get_reconfigure_entry()
        if not entry.data.get(CONF_HOST):
            return self.async_abort(
                reason="reconfigure_ble",
                description_placeholders={
                    "name": entry.title,
                    "address": entry.data[CONF_ADDRESS],
                },
            )
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"name": entry.title}
        if user_input is not None:
            host = user_input[CONF_HOST].strip()
            port = user_input[CONF_PORT]
            try:
                hello = await async_identify(host, port, entry)
            except PairingFailed as failed:
                errors["base"] = failed.error
                placeholders.update(failed.placeholders)
            else:
                if hello.appliance_id != entry.unique_id:
                    errors["base"] = "different_appliance"
                    placeholders["found"] = hello.appliance_id
                else:
                    return self.async_update_reload_and_abort(
                        entry, data_updates={CONF_HOST: host, CONF_PORT: port}
                    )
        current = user_input or entry.data
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST, default=current.get(CONF_HOST, "")): str,
                vol.Required(CONF_PORT, default=current.get(CONF_PORT, DEFAULT_PORT)): _PORT,
            }
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=schema,
            errors=errors,
            description_placeholders=placeholders,
        )
