"""Config flow: discover or enter an appliance, pair it with its code, keep it paired.

The pairing code is used once to run SPAKE2 with the appliance and is never
stored; the entry keeps the long-term key the appliance hands over.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.components.bluetooth import BluetoothServiceInfoBleak
from homeassistant.config_entries import (
    SOURCE_ZEROCONF,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import selector
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import voluptuous as vol

from .bluetooth import appliance_advertisement, async_nearby_appliances
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
from .flow_pairing import (
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
from .link.codec import SUPPORTED_VERSIONS
from .link.discovery import DEFAULT_PORT, parse_txt
from .naming import (
    async_default_name,
    async_household_title,
    async_type_name,
)
from .options_flow import LiuzhouOptionsFlow

# Imported from here by the tests, the benchmarks and the fleet tools.
__all__ = ["LiuzhouConfigFlow", "_link_error_key", "async_get_hub_id"]

_LOGGER = logging.getLogger(__package__)

_PORT = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))
_CODE_SCHEMA = vol.Schema({vol.Required(CONF_PAIRING_CODE): str})


@callback
def _async_wake_entry(hass: HomeAssistant, entry: ConfigEntry, *, lan: bool = False) -> None:
    """A configured appliance was seen (``lan``: by zeroconf): reconnect now, not later."""
    if entry.state is ConfigEntryState.LOADED:
        entry.runtime_data.coordinator.async_wake_reconnect(lan=lan)
    elif entry.state is ConfigEntryState.SETUP_RETRY:
        hass.config_entries.async_schedule_reload(entry.entry_id)


class LiuzhouConfigFlow(ConfigFlow, domain=DOMAIN):
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
                errors["base" if failed.error != "invalid_code_format" else CONF_PAIRING_CODE] = (
                    failed.error
                )
                placeholders.update(failed.placeholders)
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

    # --- zeroconf ----------------------------------------------------------

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """An appliance announced itself; known ones get their address updated."""
        try:
            txt = parse_txt(discovery_info.properties)
        except ValueError as err:
            _LOGGER.debug("Ignoring %s: %s", discovery_info.name, err)
            return self.async_abort(reason="invalid_discovery_info")
        host = discovery_info.host
        port = discovery_info.port or DEFAULT_PORT
        await self.async_set_unique_id(txt.appliance_id)
        if not any(
            txt.supports(v) for v in range(SUPPORTED_VERSIONS[0], SUPPORTED_VERSIONS[1] + 1)
        ):
            return self.async_abort(reason="unsupported_version")
        self._async_wake_known_appliance(txt.appliance_id, host, port)
        self._abort_if_unique_id_configured(updates={CONF_HOST: host, CONF_PORT: port})
        self._host, self._port = host, port
        self._name = f"{await async_type_name(self.hass, txt.type)} {txt.model} ({host})"
        # host and port also let provisioning by appliance id find this discovery.
        self.context["title_placeholders"] = {"name": self._name, "host": host, "port": str(port)}
        return await self.async_step_zeroconf_confirm()

    @callback
    def _async_wake_known_appliance(self, appliance_id: str, host: str, port: int) -> None:
        """Zeroconf sees a configured appliance: reconnect now instead of after the backoff."""
        entry = self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, appliance_id)
        if entry is None or (entry.data.get(CONF_HOST), entry.data.get(CONF_PORT)) != (host, port):
            return  # unknown, or moved: the address update reloads the entry
        _async_wake_entry(self.hass, entry, lan=True)

    # --- Bluetooth -----------------------------------------------------------

    async def async_step_bluetooth(
        self, discovery_info: BluetoothServiceInfoBleak
    ) -> ConfigFlowResult:
        """Home Assistant's Bluetooth heard an appliance; a known one is woken up."""
        advertisement = appliance_advertisement(discovery_info)
        if advertisement is None:
            return self.async_abort(reason="invalid_discovery_info")
        address = discovery_info.address
        for entry in self._async_current_entries(include_ignore=False):
            if entry.unique_id and advertisement.is_for(entry.unique_id):
                if entry.data.get(CONF_ADDRESS) != address:
                    # A second link (links.py): the LAN stays in use while it answers.
                    # The reload starts following the advertisements (and the RSSI sensor).
                    self.hass.config_entries.async_update_entry(
                        entry, data={**entry.data, CONF_ADDRESS: address}
                    )
                    self.hass.config_entries.async_schedule_reload(entry.entry_id)
                    return self.async_abort(reason="already_configured")
                _async_wake_entry(self.hass, entry)
                return self.async_abort(reason="already_configured")
        # The id is in the scan response (active scanning); else the address stands in
        # until the appliance's HELLO names it.
        name = discovery_info.name
        await self.async_set_unique_id(name if advertisement.is_for(name) else address)
        self._abort_if_unique_id_configured()
        self._address, self._advertisement = address, advertisement
        self._name = f"{await async_type_name(self.hass, advertisement.type)} ({address})"
        self.context["title_placeholders"] = {"name": self._name}
        return await self.async_step_bluetooth_confirm()

    async def async_step_bluetooth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The user confirms the appliance heard over Bluetooth and types its pairing code."""
        assert self._address is not None
        assert self._advertisement is not None
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"name": self._name}
        if user_input is not None:
            try:
                return await self._async_pair_ble(
                    self._address, self._advertisement, user_input[CONF_PAIRING_CODE]
                )
            except PairingFailed as failed:
                errors["base" if failed.error != "invalid_code_format" else CONF_PAIRING_CODE] = (
                    failed.error
                )
                placeholders.update(failed.placeholders)
        return self.async_show_form(
            step_id="bluetooth_confirm",
            data_schema=_CODE_SCHEMA,
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_nearby(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick an appliance Home Assistant's Bluetooth hears, and type its pairing code."""
        configured = [
            entry.unique_id
            for entry in self._async_current_entries(include_ignore=False)
            if entry.unique_id
        ]
        nearby = {
            found.address: found
            for found in async_nearby_appliances(self.hass)
            if not any(found.advertisement.is_for(known) for known in configured)
        }
        if not nearby:
            return self.async_abort(reason="no_nearby_appliances")
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None and (found := nearby.get(user_input[CONF_ADDRESS])):
            try:
                return await self._async_pair_ble(
                    found.address, found.advertisement, user_input[CONF_PAIRING_CODE]
                )
            except PairingFailed as failed:
                errors["base" if failed.error != "invalid_code_format" else CONF_PAIRING_CODE] = (
                    failed.error
                )
                placeholders.update(failed.placeholders)
        options = [
            selector.SelectOptionDict(
                value=found.address,
                label=f"{await async_type_name(self.hass, found.advertisement.type)} "
                f"({found.address}, {found.rssi} dBm)",
            )
            for found in nearby.values()
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_ADDRESS): selector.SelectSelector(
                    selector.SelectSelectorConfig(options=options)
                ),
                vol.Required(CONF_PAIRING_CODE): str,
            }
        )
        return self.async_show_form(
            step_id="nearby",
            data_schema=self.add_suggested_values_to_schema(
                schema, {CONF_ADDRESS: (user_input or {}).get(CONF_ADDRESS)}
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_pair_ble(
        self, address: str, advertisement: BleAdvertisement, code: str
    ) -> ConfigFlowResult:
        """Pair over BLE; on to naming, or abort if it is configured or not what was heard."""
        result, hub_id = await async_pair(self.hass, {CONF_ADDRESS: address}, code)
        appliance_id = result.hello.appliance_id
        if not advertisement.is_for(appliance_id):
            return self.async_abort(reason="different_appliance")
        await self.async_set_unique_id(appliance_id, raise_on_progress=False)
        # Pairing again replaced the appliance's key: keep the entry's in step.
        self._abort_if_unique_id_configured(
            updates={CONF_ADDRESS: address, CONF_KEY: result.key.hex()}
        )
        self._paired = ({CONF_ADDRESS: address}, result, hub_id)
        return await self.async_step_name()

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The user confirms the discovered appliance and types its pairing code."""
        assert self._host is not None
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"name": self._name}
        if user_input is not None:
            try:
                result, hub_id = await async_pair(
                    self.hass,
                    {CONF_HOST: self._host, CONF_PORT: self._port},
                    user_input[CONF_PAIRING_CODE],
                )
            except PairingFailed as failed:
                errors["base" if failed.error != "invalid_code_format" else CONF_PAIRING_CODE] = (
                    failed.error
                )
                placeholders.update(failed.placeholders)
            else:
                if result.hello.appliance_id != self.unique_id:
                    return self.async_abort(reason="different_appliance")
                self._paired = ({CONF_HOST: self._host, CONF_PORT: self._port}, result, hub_id)
                return await self.async_step_name()
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=_CODE_SCHEMA,
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
                errors["base" if failed.error != "invalid_code_format" else CONF_PAIRING_CODE] = (
                    failed.error
                )
                placeholders.update(failed.placeholders)
            else:
                await self.async_set_unique_id(result.hello.appliance_id)
                self._abort_if_unique_id_mismatch(reason="different_appliance")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_KEY: result.key.hex(), CONF_HUB_ID: hub_id}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=_CODE_SCHEMA,
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
