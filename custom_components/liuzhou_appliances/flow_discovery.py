"""The config flow's steps for appliances that were found, not typed in.

Zeroconf announces an appliance on the LAN; Home Assistant's Bluetooth hears
one advertise (or the user picks one it hears: the ``nearby`` step). A known
appliance is woken up (or its address updated) and the flow aborts; a new one
is confirmed with its pairing code and named (config_flow.py's ``name`` step).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from homeassistant.components.bluetooth import BluetoothServiceInfoBleak
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import selector
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import voluptuous as vol

from .bluetooth import appliance_advertisement, async_nearby_appliances
from .const import CONF_ADDRESS, CONF_KEY, CONF_PAIRING_CODE, DOMAIN
from .flow_pairing import CODE_SCHEMA, PairingFailed, async_pair
from .link.ble_advertisement import BleAdvertisement
from .link.client import PairingResult
from .link.codec import SUPPORTED_VERSIONS
from .link.discovery import DEFAULT_PORT, parse_txt
from .naming import async_type_name

_LOGGER = logging.getLogger(__package__)


@callback
def _async_wake_entry(hass: HomeAssistant, entry: ConfigEntry, *, lan: bool = False) -> None:
    """A configured appliance was seen (``lan``: by zeroconf): reconnect now, not later."""
    if entry.state is ConfigEntryState.LOADED:
        entry.runtime_data.coordinator.async_wake_reconnect(lan=lan)
    elif entry.state is ConfigEntryState.SETUP_RETRY:
        hass.config_entries.async_schedule_reload(entry.entry_id)


class DiscoverySteps(ConfigFlow):
    """The zeroconf, Bluetooth and nearby steps of the config flow (config_flow.py)."""

    # Set by the flow's __init__ (config_flow.py).
    _host: str | None
    _port: int
    _name: str
    _address: str | None
    _advertisement: BleAdvertisement | None
    _paired: tuple[dict[str, Any], PairingResult, str] | None

    if TYPE_CHECKING:

        async def async_step_name(
            self, user_input: dict[str, Any] | None = None
        ) -> ConfigFlowResult:
            """Name the paired appliance (config_flow.py)."""

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
                failed.show(errors, placeholders)
        return self.async_show_form(
            step_id="bluetooth_confirm",
            data_schema=CODE_SCHEMA,
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
                failed.show(errors, placeholders)
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
                failed.show(errors, placeholders)
            else:
                if result.hello.appliance_id != self.unique_id:
                    return self.async_abort(reason="different_appliance")
                self._paired = ({CONF_HOST: self._host, CONF_PORT: self._port}, result, hub_id)
                return await self.async_step_name()
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=CODE_SCHEMA,
            errors=errors,
            description_placeholders=placeholders,
        )
