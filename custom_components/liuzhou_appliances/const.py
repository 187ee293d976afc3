"""Constants of the Liuzhou Appliances integration."""

from __future__ import annotations

from typing import Final

from homeassistant.const import Platform

DOMAIN: Final = "liuzhou_appliances"
MANUFACTURER: Final = "Liuzhou"

# Every platform the entity layer provides; setup forwards the entry to all of them.
PLATFORMS: Final[list[Platform]] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CLIMATE,
    Platform.NOTIFY,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

# The household energy entry has a device of its own with these platforms only.
HOUSEHOLD_PLATFORMS: Final[list[Platform]] = [Platform.SELECT, Platform.SENSOR]

# Config entry data keys. The pairing code is never stored.
CONF_APPLIANCE_ID: Final = "appliance_id"
CONF_KEY: Final = "key"
CONF_PAIRING_CODE: Final = "pairing_code"
CONF_HUB_ID: Final = "hub_id"
# A BLE appliance's Bluetooth address. An entry has host and port, this, or both;
# the LAN is used when it has host and port.
CONF_ADDRESS: Final = "address"
# The area chosen when pairing; applied to the new device at its first set-up, then dropped.
CONF_AREA_ID: Final = "area_id"

# Options.
CONF_KEEPALIVE_INTERVAL: Final = "keepalive_interval"
CONF_OFFLINE_REPAIR_MINUTES: Final = "offline_repair_minutes"
DEFAULT_KEEPALIVE_INTERVAL: Final = 20
MIN_KEEPALIVE_INTERVAL: Final = 5
MAX_KEEPALIVE_INTERVAL: Final = 300
DEFAULT_OFFLINE_REPAIR_MINUTES: Final = 30
# Keep the last exchanges with the appliance's voice panel (voice_log.py); off by default.
CONF_VOICE_LOG: Final = "voice_log"
MIN_OFFLINE_REPAIR_MINUTES: Final = 1
MAX_OFFLINE_REPAIR_MINUTES: Final = 1440

PAIRING_CODE_LENGTH: Final = 8

# Household energy: one single-instance config entry shared by all appliances.
HOUSEHOLD_UNIQUE_ID: Final = "household_energy"
# The tariff's options (CONF_TARIFF and the TARIFF_* kinds) are energy/tariff_options.py's.
CONF_HOME_POWER_ENTITY: Final = "home_power_entity"
CONF_POWER_LIMIT_KW: Final = "power_limit_kw"
CONF_SOLAR_SURPLUS_ENTITY: Final = "solar_surplus_entity"
CONF_POWER_CAP_KW: Final = "power_cap_kw"
CONF_OCCUPANCY_ENTITY: Final = "occupancy_entity"
CONF_NEXT_ARRIVAL_ENTITY: Final = "next_arrival_entity"
CONF_OUTDOOR_TEMPERATURE_ENTITY: Final = "outdoor_temperature_entity"
CONF_OUTDOOR_HUMIDITY_ENTITY: Final = "outdoor_humidity_entity"
CONF_GRID_EVENT_ENTITY: Final = "grid_event_entity"
CONF_GRID_EVENT_LEVEL: Final = "grid_event_level"
DEFAULT_DEMAND_RESPONSE_LEVEL: Final = "moderate"
# The estate's MQTT topic tree (docs/estate.md): both set, or neither (nothing published).
CONF_ESTATE_ID: Final = "estate_id"
CONF_BUILDING_ID: Final = "building_id"
# Selector labels shared by the household form and the demand_response action.
DEMAND_RESPONSE_LEVEL_SELECTOR: Final = "demand_response_level"

# Service actions.
SERVICE_PLAN_RUN: Final = "plan_run"
SERVICE_CANCEL_RUN: Final = "cancel_run"
SERVICE_DEMAND_RESPONSE: Final = "demand_response"
SERVICE_VOICE_LOG: Final = "voice_log"
SERVICE_ERASE_VOICE_LOG: Final = "erase_voice_log"

# Fired on the bus whenever load shedding sheds or restores something (docs/energy.md).
EVENT_LOAD_SHED: Final = f"{DOMAIN}_load_shed"
